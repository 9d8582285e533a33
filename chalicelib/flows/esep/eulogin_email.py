"""An eTwinning member's e-mail is the one EU Login vouches for.

esep's realm rule ``email_change = "eulogin"`` sends a person who wants another address
to their EU Login account (SPEC §2.10: "esep through EU Login only"). For that to mean
anything, Mitroo takes the new address at the person's next sign-in: the account's
e-mail guard moves in one transaction with its audit entry (``AccountRepository.
change_email``), and the member record, which project invitations and decisions are
mailed to, follows. An address another account already holds is not taken over: the
stored one stays (and the sign-in goes on), so nobody can claim someone else's account
address through an identity provider's profile.

A sign-in whose address did not change costs nothing more than before.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from chalicelib.domain.accounts import Account, normalise_email
from chalicelib.domain.audit import audit
from chalicelib.errors import DuplicateValue, StaleRecord
from chalicelib.ports import AccountRepository, EsepRepository

log = logging.getLogger(__name__)

ACTOR = "eulogin"


def follow_eulogin_email(
    accounts: AccountRepository, esep: EsepRepository, account: Account, email: str, now: datetime
) -> Account:
    """``account`` with the address EU Login gave at this sign-in (stored when it
    differs and is free); the account as it was otherwise."""
    wanted = normalise_email(email) if email else ""
    if not wanted or wanted == normalise_email(account.email):
        return account
    entry = audit(account.realm, account.account_id, "email_changed", actor=ACTOR, at=now, source=ACTOR)
    try:
        changed = accounts.change_email(account, wanted, move_username=False, now=now, audit=entry)
    except DuplicateValue:
        log.warning("the address EU Login gave belongs to another account: the stored one is kept")
        return account
    except LookupError:  # changed meanwhile: the next sign-in tries again
        return account
    _follow_member(esep, account.account_id, wanted, now)
    return changed


def _follow_member(esep: EsepRepository, account_id: str, email: str, now: datetime) -> None:
    for _ in range(3):
        member = esep.get_member(account_id)
        if member is None or member.email == email:
            return
        try:
            esep.save_member(dataclasses.replace(member, email=email, updated_at=now))
            return
        except StaleRecord:
            continue
    log.warning("the member record kept its old address (changed concurrently three times)")
