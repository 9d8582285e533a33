"""Second factors and recovery codes in DynamoDB (``models.py`` documents the keys).

Each change is one transaction: the factor item, the ``second_factors`` count on the
account and on its login record (the username or EU Login subject guard, conditioned on naming this
account), the login record's copy of the factors (:class:`~chalicelib.domain.mfa.FactorCopy`:
``totp_keys`` by factor id, ``recovery_codes`` left), and the audit entry. A login record
from before the copy gets it, from the factor list, before the change's transaction
(:meth:`DynamoFactorRepository._ensure_copy`). Single use is a condition each time: a TOTP step moves
only forward (``last_step < :step``), a recovery code leaves its set only if it is in it
(``contains``), a WebAuthn counter moves only from the value the verifier saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.aws_errors import is_transient
from chalicelib.adapters.dynamodb.accounts import guard_key
from chalicelib.adapters.dynamodb.audit import audit_item
from chalicelib.adapters.dynamodb.common import conditional_failed, failed_positions, transact
from chalicelib.adapters.dynamodb.models import BoundModels, account_pk
from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.mfa import Factor, FactorKind, RecoveryCodes, RecoveryCodeUse, TotpStep, factor_copy
from chalicelib.domain.secrets import fingerprint
from chalicelib.errors import DuplicateValue

PREFIX = "MFA#"
RECOVERY_SK = "MFA#RECOVERY"


def factor_sk(factor_id: str) -> str:
    return f"MFA#FACTOR#{factor_id}"


def credential_pk(credential_id: str) -> str:
    return f"WEBAUTHN#{fingerprint(credential_id)}"


def totp_step_write(m: BoundModels, step: TotpStep) -> tuple[Any, list[Any], Any]:
    """The conditional update that spends ``step`` on its factor — item, actions,
    condition — alone or in a sign-in's transaction: only a later step than the last,
    on a factor still there and confirmed."""
    item = m.FactorItem(account_pk(step.realm, step.account_id), factor_sk(step.factor_id))
    actions = [m.FactorItem.last_step.set(step.step), m.FactorItem.last_used_at.set(step.at)]
    condition = m.Item.pk.exists() & (m.FactorItem.confirmed == True) & (m.FactorItem.last_step < step.step)  # noqa: E712
    return item, actions, condition


def recovery_code_write(m: BoundModels, use: RecoveryCodeUse) -> tuple[Any, list[Any], Any]:
    """The conditional update that spends a recovery code — item, actions, condition —
    in a sign-in's transaction (``DynamoSessionRepository.start``): its fingerprint leaves
    the set only if it is in it. The caller writes ``use.audit`` in the same transaction."""
    item = m.RecoveryCodesItem(account_pk(use.realm, use.account_id), RECOVERY_SK)
    hashes = m.RecoveryCodesItem.hashes
    return item, [hashes.delete({use.code_hash})], hashes.contains(use.code_hash)


def recovery_count_write(m: BoundModels, use: RecoveryCodeUse) -> tuple[Any, list[Any], Any]:
    """The update that lowers the login record's count of recovery codes left (its copy
    of the factors) with a code's use, on condition that the record still names the
    account; the caller writes it beside :func:`recovery_code_write`."""
    assert use.login_key is not None
    item = m.Guard(*guard_key(use.realm, *use.login_key))
    return item, [m.Guard.recovery_codes.add(-1)], m.Guard.account_id == use.account_id


class DynamoFactorRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    # -- reads ------------------------------------------------------------------------------
    def overview(self, realm: str, account_id: str) -> tuple[list[Factor], RecoveryCodes | None]:
        m = self._m
        factors: list[Factor] = []
        recovery: RecoveryCodes | None = None
        for item in m.Item.query(account_pk(realm, account_id), m.Item.sk.startswith(PREFIX), consistent_read=True):
            if isinstance(item, m.FactorItem):
                factors.append(_factor(item))
            elif isinstance(item, m.RecoveryCodesItem):
                recovery = _recovery(item)
        factors.sort(key=lambda factor: (factor.created_at, factor.factor_id))
        return factors, recovery

    def get(self, realm: str, account_id: str, factor_id: str) -> Factor | None:
        try:
            item = self._m.FactorItem.get(account_pk(realm, account_id), factor_sk(factor_id), consistent_read=True)
        except DoesNotExist:
            return None
        return _factor(item)

    # -- enrolment --------------------------------------------------------------------------
    def add_pending(self, factor: Factor) -> None:
        item = self._item(factor)
        item.purge_at = factor.expires_at
        item.save(condition=self._m.Item.pk.does_not_exist())

    def confirm(
        self,
        factor: Factor,
        *,
        step: int,
        login_key: tuple[UniqueKind, str],
        now: datetime,
        audit: AuditEntry,
        recovery: RecoveryCodes | None = None,
    ) -> bool:
        m = self._m
        item = m.FactorItem(account_pk(factor.realm, factor.account_id), factor_sk(factor.factor_id))
        self._ensure_copy(factor.realm, factor.account_id, login_key)
        copy = [m.Guard.totp_keys[factor.factor_id].set(factor.sealed_secret)] if factor.kind is FactorKind.TOTP else []
        if recovery is not None:
            copy.append(m.Guard.recovery_codes.set(len(recovery.hashes)))

        def build(transaction: TransactWrite) -> None:
            # pynamodb sends puts before updates: positions 0 audit, 1 codes, then the updates.
            transaction.update(
                item,
                actions=[
                    m.FactorItem.confirmed.set(True),
                    m.FactorItem.last_step.set(step),
                    m.FactorItem.last_used_at.set(now),
                    m.FactorItem.expires_at.remove(),
                    m.Item.purge_at.remove(),
                ],
                condition=m.Item.pk.exists() & (m.FactorItem.confirmed == False),  # noqa: E712 - a condition
            )
            self._count(transaction, factor.realm, factor.account_id, login_key, +1, copy)
            transaction.save(audit_item(m, audit))
            if recovery is not None:
                transaction.save(self._recovery_item(recovery), condition=m.Item.pk.does_not_exist())

        try:
            transact(m, build)
        except TransactWriteError as exc:
            if is_transient(exc):
                raise
            if recovery is not None and failed_positions(exc) == {1}:
                # Codes appeared meanwhile (another factor's first confirmation): keep them.
                return self.confirm(factor, step=step, login_key=login_key, now=now, audit=audit)
            return False
        return True

    def add(
        self,
        factor: Factor,
        *,
        login_key: tuple[UniqueKind, str],
        audit: AuditEntry,
        recovery: RecoveryCodes | None = None,
    ) -> None:
        m = self._m
        guard = m.CredentialItem(credential_pk(factor.credential_id), "CREDENTIAL")
        guard.realm, guard.account_id, guard.factor_id = factor.realm, factor.account_id, factor.factor_id
        self._ensure_copy(factor.realm, factor.account_id, login_key)
        copy = [m.Guard.recovery_codes.set(len(recovery.hashes))] if recovery is not None else []

        def build(transaction: TransactWrite) -> None:
            # pynamodb sends puts before updates: positions 0 guard, 1 factor, 2 audit, 3 codes.
            transaction.save(guard, condition=m.Item.pk.does_not_exist())
            transaction.save(self._item(factor), condition=m.Item.pk.does_not_exist())
            transaction.save(audit_item(m, audit))
            if recovery is not None:
                transaction.save(self._recovery_item(recovery), condition=m.Item.pk.does_not_exist())
            self._count(transaction, factor.realm, factor.account_id, login_key, +1, copy)

        try:
            transact(m, build)
        except TransactWriteError as exc:
            if is_transient(exc):
                raise
            failed = failed_positions(exc)
            if recovery is not None and failed == {3}:
                self.add(factor, login_key=login_key, audit=audit)
                return
            if 0 in failed or not failed:
                raise DuplicateValue("credential") from None
            raise

    # -- removal ----------------------------------------------------------------------------
    def remove(
        self, factor: Factor, *, login_key: tuple[UniqueKind, str], audit: AuditEntry, drop_recovery: bool = False
    ) -> bool:
        m = self._m
        item = m.FactorItem(account_pk(factor.realm, factor.account_id), factor_sk(factor.factor_id))
        self._ensure_copy(factor.realm, factor.account_id, login_key)
        copy = [m.Guard.totp_keys[factor.factor_id].remove()] if factor.kind is FactorKind.TOTP else []
        if drop_recovery:
            copy.append(m.Guard.recovery_codes.set(0))

        def build(transaction: TransactWrite) -> None:
            transaction.delete(item, condition=m.Item.pk.exists())
            if factor.kind is FactorKind.WEBAUTHN and factor.credential_id:
                transaction.delete(m.CredentialItem(credential_pk(factor.credential_id), "CREDENTIAL"))
            if drop_recovery:
                transaction.delete(m.RecoveryCodesItem(account_pk(factor.realm, factor.account_id), RECOVERY_SK))
            transaction.save(audit_item(m, audit))
            if factor.confirmed:
                self._count(transaction, factor.realm, factor.account_id, login_key, -1, copy)
            elif drop_recovery:
                self._login_record(transaction, factor.realm, factor.account_id, login_key, copy)

        try:
            transact(m, build)
        except TransactWriteError as exc:
            if is_transient(exc):
                raise
            return False
        return True

    def remove_all(self, realm: str, account_id: str, *, login_key: tuple[UniqueKind, str], audit: AuditEntry) -> int:
        m = self._m
        factors, recovery = self.overview(realm, account_id)
        confirmed = sum(factor.confirmed for factor in factors)
        pk = account_pk(realm, account_id)

        def build(transaction: TransactWrite) -> None:
            for factor in factors:
                transaction.delete(m.FactorItem(pk, factor_sk(factor.factor_id)))
                if factor.credential_id:
                    transaction.delete(m.CredentialItem(credential_pk(factor.credential_id), "CREDENTIAL"))
            if recovery is not None:
                transaction.delete(m.RecoveryCodesItem(pk, RECOVERY_SK))
            transaction.save(audit_item(m, audit))
            transaction.update(
                m.Account(pk, "PROFILE"), actions=[m.Account.second_factors.set(0)], condition=m.Item.pk.exists()
            )
            self._login_record(
                transaction,
                realm,
                account_id,
                login_key,
                [m.Guard.second_factors.set(0), m.Guard.totp_keys.set({}), m.Guard.recovery_codes.set(0)],
            )

        transact(m, build)
        return confirmed

    # -- single use ---------------------------------------------------------------------------
    def use_totp_step(self, realm: str, account_id: str, factor_id: str, step: int, now: datetime) -> bool:
        item, actions, condition = totp_step_write(self._m, TotpStep(realm, account_id, factor_id, step, now))
        return self._conditional_update(item, actions, condition)

    def use_credential(
        self, realm: str, account_id: str, factor_id: str, *, seen_count: int, new_count: int, now: datetime
    ) -> bool:
        m = self._m
        item = m.FactorItem(account_pk(realm, account_id), factor_sk(factor_id))
        return self._conditional_update(
            item,
            [m.FactorItem.sign_count.set(new_count), m.FactorItem.last_used_at.set(now)],
            m.Item.pk.exists() & (m.FactorItem.sign_count == seen_count),
        )

    def replace_recovery_codes(
        self, codes: RecoveryCodes, *, login_key: tuple[UniqueKind, str], audit: AuditEntry
    ) -> None:
        m = self._m
        self._ensure_copy(codes.realm, codes.account_id, login_key)

        def build(transaction: TransactWrite) -> None:
            transaction.save(self._recovery_item(codes))
            transaction.save(audit_item(m, audit))
            copy = [m.Guard.recovery_codes.set(len(codes.hashes))]
            self._login_record(transaction, codes.realm, codes.account_id, login_key, copy)

        transact(m, build)

    # -- helpers ------------------------------------------------------------------------------
    def _count(
        self,
        transaction: TransactWrite,
        realm: str,
        account_id: str,
        login_key: tuple[UniqueKind, str],
        delta: int,
        copy: Sequence[Any] = (),
    ) -> None:
        """The count of confirmed factors moved by ``delta`` on the account and its login
        record, with ``copy``'s actions on the record's copy of the factors."""
        m = self._m
        transaction.update(
            m.Account(account_pk(realm, account_id), "PROFILE"),
            actions=[m.Account.second_factors.add(delta)],
            condition=m.Item.pk.exists(),
        )
        self._login_record(transaction, realm, account_id, login_key, [m.Guard.second_factors.add(delta), *copy])

    def _login_record(
        self,
        transaction: TransactWrite,
        realm: str,
        account_id: str,
        login_key: tuple[UniqueKind, str],
        actions: Sequence[Any],
    ) -> None:
        """``actions`` on the account's login record, on condition that it still names it."""
        m = self._m
        guard = m.Guard(*guard_key(realm, *login_key))
        transaction.update(guard, actions=list(actions), condition=m.Guard.account_id == account_id)

    def _ensure_copy(self, realm: str, account_id: str, login_key: tuple[UniqueKind, str]) -> None:
        """Give a login record from before the copy of the factors its copy, from the
        factor list, so the change that follows can add or remove one key of it. Written on
        condition that no copy appeared meanwhile (another change wrote it first); a copy
        present already costs this one read."""
        m = self._m
        key = guard_key(realm, *login_key)
        try:
            record = m.Guard.get(*key, consistent_read=True)
        except DoesNotExist:
            return  # no login record: the change's own condition refuses it
        if record.totp_keys is not None:
            return
        copy = factor_copy(*self.overview(realm, account_id))
        actions = [
            m.Guard.totp_keys.set({totp.factor_id: totp.sealed_secret for totp in copy.totp_keys}),
            m.Guard.recovery_codes.set(copy.recovery_codes),
        ]
        condition = (m.Guard.account_id == account_id) & m.Guard.totp_keys.does_not_exist()
        self._conditional_update(m.Guard(*key), actions, condition)

    @staticmethod
    def _conditional_update(item: Any, actions: Sequence[Any], condition: Any) -> bool:
        try:
            item.update(actions=list(actions), condition=condition)
        except UpdateError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def _item(self, factor: Factor) -> Any:
        item = self._m.FactorItem(account_pk(factor.realm, factor.account_id), factor_sk(factor.factor_id))
        item.realm, item.account_id, item.factor_id = factor.realm, factor.account_id, factor.factor_id
        item.factor_kind, item.label, item.created_at = str(factor.kind), factor.label, factor.created_at
        item.confirmed, item.expires_at, item.last_used_at = factor.confirmed, factor.expires_at, factor.last_used_at
        item.sealed_secret = factor.sealed_secret or None
        item.last_step, item.sign_count = factor.last_step, factor.sign_count
        item.credential_id, item.public_key = factor.credential_id or None, factor.public_key or None
        item.transports, item.multi_device = list(factor.transports) or None, factor.multi_device
        return item

    def _recovery_item(self, codes: RecoveryCodes) -> Any:
        item = self._m.RecoveryCodesItem(account_pk(codes.realm, codes.account_id), RECOVERY_SK)
        item.realm, item.account_id, item.created_at = codes.realm, codes.account_id, codes.created_at
        item.hashes = set(codes.hashes) or None
        return item


def _factor(item: Any) -> Factor:
    return Factor(
        realm=item.realm,
        account_id=item.account_id,
        factor_id=item.factor_id,
        kind=FactorKind(item.factor_kind),
        label=item.label or "",
        created_at=item.created_at,
        confirmed=bool(item.confirmed),
        expires_at=item.expires_at,
        last_used_at=item.last_used_at,
        sealed_secret=item.sealed_secret or "",
        last_step=int(item.last_step or 0),
        credential_id=item.credential_id or "",
        public_key=item.public_key or "",
        sign_count=int(item.sign_count or 0),
        transports=tuple(item.transports or ()),
        multi_device=bool(item.multi_device),
    )


def _recovery(item: Any) -> RecoveryCodes:
    return RecoveryCodes(
        realm=item.realm, account_id=item.account_id, hashes=frozenset(item.hashes or ()), created_at=item.created_at
    )
