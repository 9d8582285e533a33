"""Arranging the consoles' cast: staff with a live session, and the people they look after."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from typing import Any

from chalicelib.container import services
from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.identity import GsisIdentity
from chalicelib.realms import get_realm
from tests.fakes import arranged

_numbers = itertools.count(random.randrange(10**6, 9 * 10**6))
PASSPHRASE = "correct horse battery staple, administered"


def tag(prefix: str = "p") -> str:
    """A short unique word (the test table is shared by every test of the process)."""
    return f"{prefix}{next(_numbers)}"


def person(realm: str, *, surname: str = "Παπαδόπουλος", roles: tuple[str, ...] = (), **changes: Any) -> Account:
    """An active account of ``realm`` with a password, stored as the app stores them."""
    ports = services().ports
    now = datetime.now(UTC)
    name = changes.pop("username", None) or tag("u")
    values: dict[str, Any] = {
        "account_id": ports.secrets.identifier(),
        "realm": realm,
        "username": name,
        "email": f"{name}@example.gr",
        "status": AccountStatus.ACTIVE,
        "created_at": now,
        "updated_at": now,
        "password_hash": ports.hasher.hash(PASSPHRASE),
        "identity": GsisIdentity("", surname, "Γιώργος", "", "", ""),
        "gsis_verified": True,
        "roles": roles,
        "activated_at": now,
        "language": "el",
    }
    values.update(changes)
    account = Account(**values)
    ports.accounts.create(account, audit=arranged(realm, account.account_id))
    return account


def signed_in(account: Account) -> str:
    """An access token of a new session of ``account`` (as a sign-in would open)."""
    pair = services().flows.sessions.open(get_realm(account.realm), account.account_id, account.roles)
    return pair.access_token


def staff(realm: str, *roles: str, second_factor: bool = True, **changes: Any) -> tuple[Account, dict[str, str]]:
    """A member of staff of ``realm`` and the headers of their API requests; their session
    has passed a second factor (SPEC §2.9), as a sign-in's second step would record,
    unless ``second_factor`` is False."""
    from tests.support.arrange import second_factor_passed

    account = person(realm, roles=roles, **changes)
    token = signed_in(account)
    if second_factor:
        second_factor_passed(token)
    return account, {"Authorization": f"Bearer {token}"}
