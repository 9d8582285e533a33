"""The door between a sign-in's first step and its second (SPEC §2.9).

A first step (a right password, or an EU Login sign-in) for an account with a second
factor opens no session: it earns an ``mfa_token`` — 256 random bits, only its hash
stored, five minutes, spent by the one second step that succeeds — which names the
account, how the first step was made, and what that step's success settles. The token
is bound to the browser that made the first step (the hash of its binding cookie, when
it has one): a token carried to another browser is refused. The account's login record
says whether it has a factor (``second_factors``), so accounts without one pay nothing
here.

The first step reads no factor list when the login record carries its copy of the
factors (:class:`~chalicelib.domain.mfa.FactorCopy`, written by every factor change), and
reads it otherwise (a record from before the copy). The token's ticket carries what the
second step needs of it: the proofs offered, and the confirmed TOTP factors' ids with their
secrets *still sealed* (the ticket lives five minutes and is deleted when spent). The
second step then reads no factor list — one DynamoDB call fewer on the TOTP sign-in's
hot path. It accepts the factors the account had when the password was given: a code
spends its factor's step by a conditional write that refuses a factor removed since, and
a factor confirmed since is asked for at the next sign-in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.domain.mfa import MFA_TOKEN_LIFETIME, FactorCopy, TotpKey, offered_proofs, totp_keys
from chalicelib.domain.secrets import fingerprint
from chalicelib.domain.tickets import Ticket, TicketKind
from chalicelib.errors import MfaRequired
from chalicelib.flows.tickets import Tickets
from chalicelib.ports import FactorRepository
from chalicelib.realms import RealmConfig

SEPARATOR = "\n"
OFFERED, TOTP_KEYS = "offered", "totp_keys"
"""The ticket's copies of what the first step read of the factor list."""


@dataclass(frozen=True)
class FirstStep:
    """What the first step of a sign-in proved."""

    account_id: str
    roles: tuple[str, ...]
    method: str
    """RFC 8176: ``pwd`` (a password) or ``fed`` (EU Login)."""
    username: str = ""
    device: str | None = None
    """The browser's device id for this account, to renew its device cookie afterwards."""
    settle: tuple[str, ...] = ()
    """Attempt keys the first step's success clears (the username's back-off…)."""
    factors: FactorCopy | None = None
    """The login record's copy of the factors (:class:`FactorCopy`), when it has one."""
    second_factors: int = 0
    """The login record's count of confirmed factors, read with the copy."""
    subject: str = ""
    """An EU Login first step's subject: the key of the account's login record, as the
    username is a password step's (the record's count of recovery codes follows a spend)."""


@dataclass(frozen=True)
class SecondStepGate:
    tickets: Tickets
    factors: FactorRepository

    def demand(self, realm: RealmConfig, first: FirstStep, browser: str | None) -> MfaRequired:
        """The ``mfa_required`` answer to a first step: a fresh ``mfa_token`` and the
        kinds of proof this account can give."""
        if first.factors is not None:  # the login record's copy: no factor list to read
            offered, keys = first.factors.offered(first.second_factors), first.factors.totp_keys
        else:
            factors, codes = self.factors.overview(realm.id, first.account_id)
            offered, keys = offered_proofs(factors, codes), totp_keys(factors)
        data = {
            "account_id": first.account_id,
            "roles": SEPARATOR.join(first.roles),
            "method": first.method,
            "username": first.username,
            "subject": first.subject,
            "device": first.device or "",
            "browser": fingerprint(browser) if browser else "",
            OFFERED: SEPARATOR.join(offered),
            TOTP_KEYS: json.dumps([[key.factor_id, key.sealed_secret] for key in keys]),
        }
        # The first step was right: its attempts are settled in the token's own write (an
        # abandoned second step is no wrong password); wrong codes count on the account's
        # second-factor back-off instead.
        token = self.tickets.issue(realm.id, TicketKind.MFA, MFA_TOKEN_LIFETIME, data, clear_attempts=first.settle)
        return MfaRequired(extra={"mfa_token": token, "factors": offered})

    def offered(self, realm: RealmConfig, ticket: Ticket) -> list[str]:
        """The proofs the holder of ``ticket`` (an ``mfa_token``'s) may give."""
        # A token issued before its ticket carried the copies (a deploy's first five
        # minutes) is served from the factor list, as it was then.
        if OFFERED in ticket.data:
            return [proof for proof in ticket.data[OFFERED].split(SEPARATOR) if proof]
        return offered_proofs(*self.factors.overview(realm.id, ticket.data["account_id"]))  # before the copies

    def totp_keys(self, realm: RealmConfig, ticket: Ticket) -> tuple[TotpKey, ...]:
        """The TOTP factors the holder of ``ticket`` may give a code of."""
        if TOTP_KEYS in ticket.data:
            return tuple(TotpKey(factor_id, sealed) for factor_id, sealed in json.loads(ticket.data[TOTP_KEYS]))
        factors, _ = self.factors.overview(realm.id, ticket.data["account_id"])  # before the copies
        return totp_keys(factors)
