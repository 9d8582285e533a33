"""Accounts, uniqueness guards and login records in DynamoDB (one transaction per change)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.aws_errors import is_transient
from chalicelib.adapters.dynamodb.audit import audit_item
from chalicelib.adapters.dynamodb.common import (
    conditional_failed,
    day,
    failed_positions,
    identity_from,
    identity_map,
    load,
    plain_map,
    store,
    transact,
)
from chalicelib.adapters.dynamodb.directory import directory_entries, entry_count, role_entry, search_entry
from chalicelib.adapters.dynamodb.models import BoundModels, account_pk
from chalicelib.domain.accounts import REGISTRY_LINK, Account, AccountStatus, LoginRecord, UniqueKind
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.directory import role_keys, search_keys
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.mfa import FactorCopy, TotpKey
from chalicelib.domain.registry import RegistryStatus
from chalicelib.domain.secrets import fingerprint
from chalicelib.errors import DuplicateValue, FlowAlreadyUsed

TRANSACTION_ITEMS = 100
"""DynamoDB's limit of items in one TransactWriteItems."""


def guard_key(realm: str, kind: UniqueKind | str, value: str) -> tuple[str, str]:
    """PK and SK of the guard that holds ``value`` (for the username: the login record)."""
    return f"UNIQUE#{realm}#{kind}#{fingerprint(value)}", "UNIQUE"


def _guard_pk(realm: str, kind: UniqueKind | str, value: str) -> str:
    return guard_key(realm, kind, value)[0]


def expiry_index_key(realm: str, expires_on: date, account_id: str) -> tuple[str, str]:
    """GSI1 keys that file an account under its expiry month, sorted by day: a range of
    days is one query per month, and reads only the accounts expiring in it."""
    return f"EXPIRY#{realm}#{expires_on:%Y-%m}", f"{expires_on.isoformat()}#{account_id}"


def registry_key(realm: str, registry_number: str) -> tuple[str, str]:
    """PK and SK of a student-registry entry."""
    return f"REGISTRY#{realm}#{registry_number}", "REGISTRY"


def creation_puts(account: Account) -> int:
    """Puts the creation of ``account`` sends (:meth:`DynamoAccountRepository.stage_create`):
    the account, its guards, its audit entry and its directory entries."""
    return 2 + len(account.unique_values()) + entry_count(account)


def _items_of(account: Account) -> int:
    """Items the creation of ``account`` puts in a transaction: its puts, and an
    undergraduate's registry link."""
    return creation_puts(account) + (1 if account.undergraduate_registry_number() else 0)


def login_record(realm: str, guard: Any | None) -> LoginRecord | None:
    """The login record a username guard carries (None for other guards or none)."""
    if guard is None or guard.status is None:
        return None
    return LoginRecord(
        realm=realm,
        account_id=guard.account_id,
        password_hash=guard.password_hash,
        status=AccountStatus(guard.status),
        roles=tuple(guard.roles or ()),
        gsis_verified=guard.gsis_verified is not False,
        expires_on=day(guard.expires_on),
        second_factors=int(guard.second_factors or 0),
        factors=stored_factor_copy(guard),
    )


def stored_factor_copy(guard: Any) -> FactorCopy | None:
    """The login record's copy of the second factors, if it has one (``totp_keys``,
    present, even empty, once a factor change has written it)."""
    if guard.totp_keys is None:
        return None
    keys = guard.totp_keys.as_dict() if hasattr(guard.totp_keys, "as_dict") else dict(guard.totp_keys)
    totp = tuple(TotpKey(factor_id, str(sealed)) for factor_id, sealed in sorted(keys.items()))
    return FactorCopy(totp, max(int(guard.recovery_codes or 0), 0))


class DynamoAccountRepository:
    """Accounts, their uniqueness guards, and the login record.

    The username guard doubles as the login record: it carries a copy of the password
    hash, status, roles and GSIS-verified mark, so a login costs one read before the hash
    check. Every write of those fields updates the account and the guard in one
    transaction.
    """

    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def create(
        self, account: Account, *, audit: AuditEntry, consume_flow: str | None = None, now: datetime | None = None
    ) -> None:
        guards = sorted(account.unique_values().items())

        def build(transaction: TransactWrite) -> None:
            self.stage_create(transaction, account, guards, audit=audit, consume_flow=consume_flow, now=now)

        try:
            transact(self._m, build)
        except TransactWriteError as exc:
            self.explain_create(exc, account, guards, consume_flow)
            raise

    def stage_create(
        self,
        transaction: TransactWrite,
        account: Account,
        guards: list[tuple[UniqueKind, str]],
        *,
        audit: AuditEntry,
        consume_flow: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Add the creation of ``account`` to ``transaction``: the account and its guards
        (``guards`` = its sorted unique values) as conditional puts, then its audit entry
        and its directory entries, in that order (:func:`creation_puts` of them), the
        update that marks ``consume_flow`` used, and for an undergraduate the registry
        link (:meth:`stage_registry_link`).

        pynamodb sends condition checks, then deletes, then puts, then updates; a caller
        that adds items of its own passes the resulting positions to :meth:`explain_create`.
        """
        m = self._m
        transaction.save(self._to_item(account), condition=m.Item.pk.does_not_exist())
        for guard in self._guard_items(account, guards):
            transaction.save(guard, condition=m.Item.pk.does_not_exist())
        transaction.save(audit_item(m, audit))
        for entry in directory_entries(m, account):
            transaction.save(entry)
        if consume_flow is not None:
            flow = m.FlowItem(f"FLOW#{consume_flow}", "FLOW")
            transaction.update(
                flow,
                actions=[m.FlowItem.used_at.set(now or account.created_at)],
                condition=m.Item.pk.exists() & m.FlowItem.used_at.does_not_exist(),
            )
        self.stage_registry_link(transaction, account)

    def stage_registry_link(self, transaction: TransactWrite, account: Account) -> bool:
        """For an undergraduate, link the registry entry of its number to it (creating the
        entry, enrolled, if there is none), on condition that the entry links no other
        account and has not graduated: the registry-number guard. True if staged."""
        number = account.undergraduate_registry_number()
        if number is None:
            return False
        m = self._m
        entry = m.RegistryItem
        transaction.update(
            entry(*registry_key(account.realm, number)),
            actions=[
                entry.realm.set(account.realm),
                entry.registry_number.set(number),
                entry.level.set(entry.level | "undergraduate"),
                entry.status.set(entry.status | str(RegistryStatus.ENROLLED)),
                entry.account_id.set(account.account_id),
                entry.updated_at.set(account.created_at),
                m.Item.kind.set(entry),
            ],
            condition=(entry.account_id.does_not_exist() | (entry.account_id == account.account_id))
            & (entry.status.does_not_exist() | (entry.status != str(RegistryStatus.GRADUATED))),
        )
        return True

    def _guard_items(self, account: Account, guards: list[tuple[UniqueKind, str]]) -> list[Any]:
        items = []
        for kind, value in guards:
            guard = self._m.Guard(_guard_pk(account.realm, kind, value), "UNIQUE")
            guard.account_id = account.account_id
            guard.unique_kind = str(kind)
            if (kind, value) == account.login_key:  # the login record
                guard.password_hash = account.password_hash
                guard.status = str(account.status)
                guard.roles = list(account.roles)
                guard.gsis_verified = account.gsis_verified
                guard.expires_on = account.expires_on.isoformat() if account.expires_on else None
            items.append(guard)
        return items

    def create_many(self, accounts: Sequence[Account], audits: Sequence[AuditEntry]) -> dict[str, str]:
        """Accounts in transactions of up to 100 items (account + guards + audit entry each).

        A transaction is all or nothing, so when one account's guard is taken the
        cancellation reasons name it; that account is left out and the rest go again.
        Without reasons (some emulators) the group falls back to one create each. A
        transaction DynamoDB throttled or kept conflicting refuses nobody: the error
        propagates and the caller (a job's chunk) is retried.
        """
        m = self._m
        if len(audits) != len(accounts):
            raise ValueError("one audit entry per account")
        audit_of = {account.account_id: audit for account, audit in zip(accounts, audits, strict=True)}
        refused: dict[str, str] = {}
        pending = list(accounts)
        while pending:
            group, size = [], 0
            while pending and size + _items_of(pending[0]) <= TRANSACTION_ITEMS:
                account = pending.pop(0)
                group.append(account)
                size += _items_of(account)
            if not group:  # cannot happen with a sane number of guards
                raise ValueError("an account with more guards than a transaction holds")
            while group:
                positions: list[tuple[Account, str]] = []
                items: list[Any] = []
                for account in group:
                    guards = sorted(account.unique_values().items())
                    items.append(self._to_item(account))
                    positions.append((account, "account"))
                    for guard in self._guard_items(account, guards):
                        items.append(guard)
                        positions.append((account, guard.unique_kind))
                    items.append(audit_item(m, audit_of[account.account_id]))
                    positions.append((account, "audit"))
                    for entry in directory_entries(m, account):
                        items.append(entry)
                        positions.append((account, "directory"))
                # The registry links are updates: DynamoDB gets them after every put.
                linked = [account for account in group if account.undergraduate_registry_number()]
                positions += [(account, REGISTRY_LINK) for account in linked]

                def build(transaction: TransactWrite, items: list[Any] = items, linked: list[Account] = linked) -> None:
                    for item in items:
                        # A directory entry is keyed by the account id: new with its account.
                        transaction.save(item, condition=m.Item.pk.does_not_exist())
                    for account in linked:
                        self.stage_registry_link(transaction, account)

                try:
                    transact(m, build)
                    group = []
                except TransactWriteError as exc:
                    if is_transient(exc):  # throttled, or conflicts beyond the retries: undecided
                        raise
                    failed = failed_positions(exc)
                    if not failed:
                        refused.update(self._create_each(group, audit_of))
                        group = []
                        continue
                    losers: dict[str, str] = {}
                    for position in sorted(failed):
                        account, kind = positions[position]
                        losers.setdefault(account.account_id, kind)
                    refused.update(losers)
                    group = [account for account in group if account.account_id not in losers]
        return refused

    def _create_each(self, accounts: Sequence[Account], audit_of: dict[str, AuditEntry]) -> dict[str, str]:
        refused = {}
        for account in accounts:
            try:
                self.create(account, audit=audit_of[account.account_id])
            except DuplicateValue as exc:
                refused[account.account_id] = exc.kind
            except TransactWriteError as exc:
                if is_transient(exc):
                    raise
                refused[account.account_id] = "account"
        return refused

    def holders(self, realm: str, values: Sequence[tuple[UniqueKind, str]]) -> dict[tuple[UniqueKind, str], str]:
        keys = {guard_key(realm, kind, value): (kind, value) for kind, value in values}
        found: dict[tuple[UniqueKind, str], str] = {}
        for item in self._m.Guard.batch_get(list(keys), consistent_read=True):
            found[keys[(item.pk, item.sk)]] = item.account_id
        return found

    def find_logins(self, realm: str, usernames: Sequence[str]) -> dict[str, LoginRecord]:
        keys = {guard_key(realm, UniqueKind.USERNAME, name): name for name in usernames}
        found: dict[str, LoginRecord] = {}
        for item in self._m.Guard.batch_get(list(keys), consistent_read=True):
            record = login_record(realm, item)
            if record is not None:
                found[keys[(item.pk, item.sk)]] = record
        return found

    def explain_create(
        self,
        exc: TransactWriteError,
        account: Account,
        guards: list[tuple[UniqueKind, str]],
        consume_flow: str | None,
        *,
        account_position: int = 0,
        flow_position: int | None = None,
    ) -> None:
        """Raise the domain error a cancelled create means; return if it means none.

        ``account_position`` is where the account's put sat in the transaction (its guards
        follow it), ``flow_position`` where the flow's update sat (default: right after
        the creation's puts, as :meth:`create` sends them); the registry link, if any,
        follows it.
        """
        if is_transient(exc):
            return  # throttled, or conflicts beyond the retries: nothing was decided
        failed = failed_positions(exc)
        if flow_position is None:
            flow_position = account_position + creation_puts(account)  # after the guards, audit, entries
        registry_position = flow_position + (1 if consume_flow is not None else 0)
        if consume_flow is not None and flow_position in failed:
            raise FlowAlreadyUsed() from None  # a used flow explains every other conflict
        if failed:
            for position, (kind, _) in enumerate(guards, start=account_position + 1):
                if position in failed:
                    raise DuplicateValue(str(kind)) from None
            if account.undergraduate_registry_number() and registry_position in failed:
                raise DuplicateValue(REGISTRY_LINK) from None
            return
        # No reasons came back (some emulators): look at what the transaction checked.
        if consume_flow is not None and self._flow_spent(consume_flow):
            raise FlowAlreadyUsed() from None
        for kind, value in guards:
            if self._guard(account.realm, kind, value) is not None:
                raise DuplicateValue(str(kind)) from None
        if self._registry_refuses(account):
            raise DuplicateValue(REGISTRY_LINK) from None

    def _registry_refuses(self, account: Account) -> bool:
        number = account.undergraduate_registry_number()
        if number is None:
            return False
        try:
            entry = self._m.RegistryItem.get(*registry_key(account.realm, number), consistent_read=True)
        except DoesNotExist:
            return False
        linked = entry.account_id not in (None, account.account_id)
        return linked or entry.status == str(RegistryStatus.GRADUATED)

    def _flow_spent(self, flow_hash: str) -> bool:
        try:
            flow = self._m.FlowItem.get(f"FLOW#{flow_hash}", "FLOW", consistent_read=True)
        except DoesNotExist:
            return True
        return flow.used_at is not None

    def _guard(self, realm: str, kind: UniqueKind, value: str) -> Any | None:
        try:
            return self._m.Guard.get(_guard_pk(realm, kind, value), "UNIQUE", consistent_read=True)
        except DoesNotExist:
            return None

    def get(self, realm: str, account_id: str) -> Account | None:
        try:
            item = self._m.Account.get(account_pk(realm, account_id), "PROFILE", consistent_read=True)
        except DoesNotExist:
            return None
        return self._from_item(item)

    def find_by_unique(self, realm: str, kind: UniqueKind, value: str) -> Account | None:
        guard = self._guard(realm, kind, value)
        return self.get(realm, guard.account_id) if guard is not None else None

    def find_login(self, realm: str, username: str) -> LoginRecord | None:
        return login_record(realm, self._guard(realm, UniqueKind.USERNAME, username))

    def set_status(
        self,
        realm: str,
        account_id: str,
        status: AccountStatus,
        *,
        expected: AccountStatus,
        now: datetime,
        audit: AuditEntry,
        username: str | None = None,
    ) -> bool:
        m = self._m
        actions = [m.Account.status.set(str(status)), m.Account.updated_at.set(now)]
        if status is AccountStatus.ACTIVE:
            actions.append(m.Account.activated_at.set(now))
        try:
            self._update_with_login(
                realm,
                account_id,
                actions,
                [m.Guard.status.set(str(status))],
                m.Account.status == str(expected),
                username=username,
                puts=[audit_item(m, audit)],
            )
        except DoesNotExist:
            return False
        except TransactWriteError as exc:
            if is_transient(exc):  # throttled or conflicting: nothing was decided
                raise
            return False
        return True

    def set_password_hash(
        self, realm: str, account_id: str, password_hash: str, now: datetime, *, audit: AuditEntry
    ) -> None:
        m = self._m
        self._update_with_login(
            realm,
            account_id,
            [m.Account.password_hash.set(password_hash), m.Account.updated_at.set(now)],
            [m.Guard.password_hash.set(password_hash)],
            m.Item.pk.exists(),
            puts=[audit_item(m, audit)],
        )

    def change_email(
        self, account: Account, email: str, *, move_username: bool, now: datetime, audit: AuditEntry
    ) -> Account:
        from chalicelib.adapters.dynamodb.email_move import move_email

        return move_email(self._m, self._from_item, account, email, move_username=move_username, now=now, audit=audit)

    def grant_roles(
        self,
        realm: str,
        account_id: str,
        roles: Sequence[str],
        extra: dict[str, str],
        now: datetime,
        *,
        audit: AuditEntry,
    ) -> None:
        m = self._m
        try:
            stored = self._from_item(m.Account.get(account_pk(realm, account_id), "PROFILE", consistent_read=True))
        except DoesNotExist:
            raise LookupError(f"no account {account_id} in {realm}") from None
        # The role listings follow (directory): the roles dropped are taken out, the new put in.
        before, after = role_keys(stored), role_keys(replace(stored, roles=tuple(roles)))
        listed = [role_entry(m, realm, account_id, role, key) for role, key in after.items() if role not in before]
        unlisted = [role_entry(m, realm, account_id, role, key) for role, key in before.items() if role not in after]
        actions = [m.Account.roles.set(list(roles)), m.Account.updated_at.set(now)]
        actions += [m.Account.extra[name].set(value) for name, value in extra.items()]
        try:
            self._update_with_login(
                realm,
                account_id,
                actions,
                [m.Guard.roles.set(list(roles))],
                m.Item.pk.exists(),
                puts=[audit_item(m, audit), *listed],
                deletes=unlisted,
                stored=stored,
            )
        except DoesNotExist:
            raise LookupError(f"no account {account_id} in {realm}") from None

    def accounts_expiring_between(self, realm: str, first: date, last: date) -> list[Account]:
        found: list[Account] = []
        month = first.replace(day=1)
        while month <= last:
            gsi1pk = expiry_index_key(realm, month, "")[0]
            # Sort keys start with the ISO day; "~" sorts after "#<account id>".
            condition = self._m.Account.gsi1sk.between(first.isoformat(), last.isoformat() + "~")
            found += [self._from_item(item) for item in self._m.Account.by_expiry.query(gsi1pk, condition)]
            month = (month + timedelta(days=32)).replace(day=1)
        return found

    def set_expiry(
        self,
        realm: str,
        account_id: str,
        expires_on: date,
        now: datetime,
        *,
        affiliation: str | None = None,
        reactivate: bool = False,
        audit: AuditEntry | None = None,
    ) -> bool:
        m = self._m
        gsi1pk, gsi1sk = expiry_index_key(realm, expires_on, account_id)
        account_actions = [
            m.Account.expires_on.set(expires_on.isoformat()),
            m.Account.gsi1pk.set(gsi1pk),
            m.Account.gsi1sk.set(gsi1sk),
            m.Account.updated_at.set(now),
        ]
        login_actions = [m.Guard.expires_on.set(expires_on.isoformat())]
        if affiliation is not None:
            account_actions.append(m.Account.affiliation.set(affiliation))
        if reactivate:
            account_actions.append(m.Account.status.set(str(AccountStatus.ACTIVE)))
            login_actions.append(m.Guard.status.set(str(AccountStatus.ACTIVE)))
        also = [audit_item(m, audit)] if audit is not None else []
        try:
            self._update_with_login(realm, account_id, account_actions, login_actions, m.Item.pk.exists(), puts=also)
        except DoesNotExist:
            return False
        except TransactWriteError as exc:
            if is_transient(exc):
                raise
            return False
        return True

    def mark_expiry_warning(self, realm: str, account_id: str, marker: str) -> bool:
        m = self._m
        warnings = m.Account.expiry_warnings
        try:
            m.Account(account_pk(realm, account_id), "PROFILE").update(
                actions=[warnings.set((warnings | []).append([marker]))],
                condition=m.Item.pk.exists() & (warnings.does_not_exist() | ~warnings.contains(marker)),
            )
        except UpdateError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def expiry_cursor(self, realm: str) -> date | None:
        try:
            item = self._m.CursorItem.get(f"CURSOR#{realm}#expiry", "CURSOR", consistent_read=True)
        except DoesNotExist:
            return None
        return day(item.value)

    def set_expiry_cursor(self, realm: str, value: date) -> None:
        item = self._m.CursorItem(f"CURSOR#{realm}#expiry", "CURSOR")
        item.value = value.isoformat()
        item.save()

    def certify(
        self,
        realm: str,
        account_id: str,
        identity: GsisIdentity,
        *,
        consume_flow: str,
        now: datetime,
        audit: AuditEntry,
    ) -> None:
        m = self._m
        current = m.Account.get(account_pk(realm, account_id), "PROFILE", consistent_read=True)
        had_afm = bool(current.identity and current.identity.afm)
        # GSIS's names replace the registry's: the directory follows (new keys in, old out).
        stored = self._from_item(current)
        before, after = search_keys(stored), search_keys(replace(stored, identity=identity))
        filed = [search_entry(m, realm, account_id, key, fields) for key, fields in after.items() if key not in before]
        unfiled = [search_entry(m, realm, account_id, key, ()) for key in before if key not in after]
        account = m.Account(account_pk(realm, account_id), "PROFILE")
        login = m.Guard(_guard_pk(realm, UniqueKind.USERNAME, current.username.casefold()), "UNIQUE")
        afm_guard = m.Guard(_guard_pk(realm, UniqueKind.AFM, identity.afm), "UNIQUE")
        afm_guard.account_id, afm_guard.unique_kind = account_id, str(UniqueKind.AFM)

        def build(transaction: TransactWrite) -> None:
            # Order as pynamodb sends them: deletes, puts, then updates (positions matter below).
            for entry in unfiled:
                transaction.delete(entry)
            if not had_afm:
                transaction.save(afm_guard, condition=m.Item.pk.does_not_exist())
            transaction.save(audit_item(m, audit))
            for entry in filed:
                transaction.save(entry)
            transaction.update(
                account,
                actions=[
                    m.Account.identity.set(identity_map(identity)),
                    m.Account.gsis_verified.set(True),
                    m.Account.updated_at.set(now),
                ],
                condition=m.Account.gsis_verified == False,  # noqa: E712 - a DynamoDB condition, not a comparison
            )
            transaction.update(
                login, actions=[m.Guard.gsis_verified.set(True)], condition=m.Guard.account_id == account_id
            )
            transaction.update(
                m.FlowItem(f"FLOW#{consume_flow}", "FLOW"),
                actions=[m.FlowItem.used_at.set(now)],
                condition=m.Item.pk.exists() & m.FlowItem.used_at.does_not_exist(),
            )

        try:
            transact(m, build)
        except TransactWriteError as exc:
            failed = failed_positions(exc)
            if not had_afm and len(unfiled) in failed:  # the AFM guard follows the deletes
                raise DuplicateValue(str(UniqueKind.AFM)) from None
            if failed:
                raise FlowAlreadyUsed() from None  # the flow, or the account, was certified already
            raise

    def _update_with_login(
        self,
        realm: str,
        account_id: str,
        account_actions: list[Any],
        login_actions: list[Any],
        condition: Any,
        *,
        username: str | None = None,
        puts: Sequence[Any] = (),
        deletes: Sequence[Any] = (),
        stored: Account | None = None,
    ) -> None:
        """Update the account and its login record together, or neither (and write the
        items of ``puts``, delete those of ``deletes``, in the same transaction).

        Without ``username`` or the ``stored`` account the account is read first to find
        its login record (the username's guard, or an EU Login account's subject guard).
        A wrong ``username`` changes nothing: the login record's condition names the
        account.

        Raises ``DoesNotExist`` for an unknown account and ``TransactWriteError`` when
        ``condition`` (on the account) does not hold.
        """
        m = self._m
        if username is not None:
            kind, value = UniqueKind.USERNAME, username.casefold()
        elif stored is not None:
            kind, value = stored.login_key
        else:
            stored = self._from_item(m.Account.get(account_pk(realm, account_id), "PROFILE", consistent_read=True))
            kind, value = stored.login_key
        login = m.Guard(_guard_pk(realm, kind, value), "UNIQUE")
        account = m.Account(account_pk(realm, account_id), "PROFILE")

        def build(transaction: TransactWrite) -> None:
            transaction.update(account, actions=account_actions, condition=condition)
            transaction.update(login, actions=login_actions, condition=m.Guard.account_id == account_id)
            for item in puts:
                transaction.save(item)
            for item in deletes:
                transaction.delete(item)

        transact(m, build)

    def _to_item(self, account: Account) -> Any:
        item = store(self._m.Account(account_pk(account.realm, account.account_id), "PROFILE"), account)
        if account.expires_on is not None:
            item.gsi1pk, item.gsi1sk = expiry_index_key(account.realm, account.expires_on, account.account_id)
        return item

    @staticmethod
    def _from_item(item: Any) -> Account:
        return load(
            Account,
            item,
            status=AccountStatus(item.status),
            identity=identity_from(item.identity) if item.identity else None,
            gsis_verified=bool(item.gsis_verified),
            roles=tuple(item.roles or ()),
            expires_on=day(item.expires_on),
            extra=plain_map(item.extra),
            second_factors=int(item.second_factors or 0),
            deletion_due=day(item.deletion_due),
        )
