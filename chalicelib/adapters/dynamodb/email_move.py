"""Moving an account to a new e-mail address in one DynamoDB transaction (SPEC §2.10, §3).

The e-mail guard is what keeps an address to one account per realm, so a change is a
move of that guard: the old one deleted (the address is free for anyone after), the new
one put on condition that nobody holds it, which is the check that decides a race with
a registration or another change. Where the username is the e-mail (e-IEP), the username
guard moves too, and it is the login record: the new one carries a copy of the old one's
fields, on condition that they are still what was read. The account, the directory
entries filed under its e-mail and username, and the audit entry are written in the
same transaction: all of it happens, or none.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.aws_errors import is_transient
from chalicelib.adapters.dynamodb.audit import audit_item
from chalicelib.adapters.dynamodb.common import failed_positions, transact
from chalicelib.adapters.dynamodb.directory import role_entry, search_entry
from chalicelib.adapters.dynamodb.models import BoundModels, account_pk
from chalicelib.domain.accounts import Account, UniqueKind, normalise_email
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.directory import role_keys, search_keys
from chalicelib.domain.secrets import fingerprint
from chalicelib.errors import DuplicateValue

ATTEMPTS = 3
"""Reads and writes again when the account or its login record changed in between."""

_LOGIN_FIELDS = (
    "password_hash",
    "status",
    "gsis_verified",
    "expires_on",
    "second_factors",
    "totp_keys",
    "recovery_codes",
)
"""Login-record fields compared when the record moves (roles follow ``updated_at``)."""


class _Stale(Exception):
    """The account or its login record changed between the read and the write."""


def _guard_pk(realm: str, kind: UniqueKind, value: str) -> str:
    return f"UNIQUE#{realm}#{kind}#{fingerprint(value)}"


def move_email(
    models: BoundModels,
    read: Any,
    account: Account,
    email: str,
    *,
    move_username: bool,
    now: datetime,
    audit: AuditEntry,
) -> Account:
    """See :meth:`chalicelib.ports.AccountRepository.change_email`; ``read`` loads an
    account item as the domain object."""
    for _ in range(ATTEMPTS):
        try:
            stored = read(
                models.Account.get(account_pk(account.realm, account.account_id), "PROFILE", consistent_read=True)
            )
        except DoesNotExist:
            raise LookupError(f"no account {account.account_id} in {account.realm}") from None
        if stored.email != account.email:
            raise LookupError("the e-mail changed meanwhile")
        try:
            return _write(models, stored, email, move_username=move_username, now=now, audit=audit)
        except _Stale:
            continue
    raise LookupError("the account kept changing")


def _write(
    models: BoundModels, stored: Account, email: str, *, move_username: bool, now: datetime, audit: AuditEntry
) -> Account:
    m = models
    realm, account_id = stored.realm, stored.account_id
    username = email.casefold() if move_username else stored.username
    changed = dataclasses.replace(stored, email=email, username=username, updated_at=now)

    old_email = m.Guard(_guard_pk(realm, UniqueKind.EMAIL, normalise_email(stored.email)), "UNIQUE")
    new_email = m.Guard(_guard_pk(realm, UniqueKind.EMAIL, normalise_email(email)), "UNIQUE")
    new_email.account_id, new_email.unique_kind = account_id, str(UniqueKind.EMAIL)

    old_login: Any = None
    new_login: Any = None
    if move_username:
        try:
            old_login = m.Guard.get(
                _guard_pk(realm, UniqueKind.USERNAME, stored.username.casefold()), "UNIQUE", consistent_read=True
            )
        except DoesNotExist:
            raise _Stale() from None
        if old_login.account_id != account_id:
            raise _Stale()
        new_login = m.Guard(_guard_pk(realm, UniqueKind.USERNAME, username), "UNIQUE")
        new_login.account_id, new_login.unique_kind = account_id, str(UniqueKind.USERNAME)
        new_login.roles = list(old_login.roles) if old_login.roles is not None else None
        for name in _LOGIN_FIELDS:
            setattr(new_login, name, getattr(old_login, name))

    # The directory follows: entries under keys that go are deleted, new or renamed ones put.
    before, after = search_keys(stored), search_keys(changed)
    unfiled = [search_entry(m, realm, account_id, key, ()) for key in before if key not in after]
    filed = [
        search_entry(m, realm, account_id, key, fields) for key, fields in after.items() if before.get(key) != fields
    ]
    roles_before, roles_after = role_keys(stored), role_keys(changed)
    unfiled += [
        role_entry(m, realm, account_id, role, key)
        for role, key in roles_before.items()
        if roles_after.get(role) != key
    ]
    filed += [
        role_entry(m, realm, account_id, role, key)
        for role, key in roles_after.items()
        if roles_before.get(role) != key
    ]

    item = m.Account(account_pk(realm, account_id), "PROFILE")
    actions = [m.Account.email.set(email), m.Account.updated_at.set(now)]
    if move_username:
        actions.append(m.Account.username.set(username))

    def build(transaction: TransactWrite) -> None:
        # pynamodb sends deletes, then puts, then updates: the positions below rely on it.
        transaction.delete(old_email, condition=m.Guard.account_id == account_id)
        if old_login is not None:
            condition = m.Guard.account_id == account_id
            for name in _LOGIN_FIELDS:
                value = getattr(old_login, name)
                attribute = getattr(m.Guard, name)
                condition &= attribute.does_not_exist() if value is None else attribute == value
            transaction.delete(m.Guard(old_login.pk, "UNIQUE"), condition=condition)
        for entry in unfiled:
            transaction.delete(entry)
        transaction.save(new_email, condition=m.Item.pk.does_not_exist())
        if new_login is not None:
            transaction.save(new_login, condition=m.Item.pk.does_not_exist())
        transaction.save(audit_item(m, audit))
        for entry in filed:
            transaction.save(entry)
        transaction.update(
            item,
            actions=actions,
            condition=(m.Account.email == stored.email) & (m.Account.updated_at == stored.updated_at),
        )

    try:
        transact(m, build)
    except TransactWriteError as exc:
        if is_transient(exc):
            raise
        deletes = 1 + (1 if old_login is not None else 0) + len(unfiled)
        taken = {deletes, deletes + 1} if new_login is not None else {deletes}
        failed = failed_positions(exc)
        if failed & taken:
            raise DuplicateValue(str(UniqueKind.EMAIL)) from None
        if not failed and _held_by_another(m, [new_email, *([new_login] if new_login is not None else [])], account_id):
            raise DuplicateValue(str(UniqueKind.EMAIL)) from None  # no reasons came back (some emulators)
        raise _Stale() from None
    return changed


def _held_by_another(models: BoundModels, guards: list[Any], account_id: str) -> bool:
    for guard in guards:
        try:
            held = models.Guard.get(guard.pk, "UNIQUE", consistent_read=True)
        except DoesNotExist:
            continue
        if held.account_id != account_id:
            return True
    return False
