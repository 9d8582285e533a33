"""In-memory :class:`~chalicelib.ports.FactorRepository`, behaving as DynamoFactorRepository.

``tests/contract/test_factor_repository.py`` runs the same cases against both. The fake
shares the :class:`~tests.fakes.InMemoryStore` (and its lock) of the account fake, so a
factor change, the account's ``second_factors`` count and the audit entry are one
all-or-nothing step, as the DynamoDB transaction makes them.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.mfa import Factor, RecoveryCodes, TotpStep
from chalicelib.errors import DuplicateValue
from tests.fakes import InMemoryStore


class InMemoryFactorRepository:
    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()
        self.factors = self.store.factors  # the session fake spends a sign-in's TOTP step too
        self.recovery = self.store.recovery  # … and a sign-in's recovery code
        self.credentials: dict[str, tuple[str, str, str]] = {}

    # -- reads --------------------------------------------------------------------------------
    def overview(self, realm: str, account_id: str) -> tuple[list[Factor], RecoveryCodes | None]:
        with self.store.lock:
            factors = [f for (r, a, _), f in self.factors.items() if r == realm and a == account_id]
            return sorted(factors, key=lambda f: (f.created_at, f.factor_id)), self.recovery.get((realm, account_id))

    def get(self, realm: str, account_id: str, factor_id: str) -> Factor | None:
        with self.store.lock:
            return self.factors.get((realm, account_id, factor_id))

    # -- enrolment ----------------------------------------------------------------------------
    def add_pending(self, factor: Factor) -> None:
        with self.store.lock:
            if self._key(factor) in self.factors:
                raise RuntimeError("factor already stored")
            self.factors[self._key(factor)] = factor

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
        with self.store.lock:
            stored = self.factors.get(self._key(factor))
            if stored is None or stored.confirmed or not self._owned(factor, login_key):
                return False
            self.factors[self._key(factor)] = dataclasses.replace(
                stored, confirmed=True, last_step=step, last_used_at=now, expires_at=None
            )
            self._count(factor.realm, factor.account_id, +1)
            self._audited(audit)
            if recovery is not None:
                self.recovery.setdefault((recovery.realm, recovery.account_id), recovery)
            return True

    def add(
        self,
        factor: Factor,
        *,
        login_key: tuple[UniqueKind, str],
        audit: AuditEntry,
        recovery: RecoveryCodes | None = None,
    ) -> None:
        with self.store.lock:
            if factor.credential_id in self.credentials:
                raise DuplicateValue("credential")
            if self._key(factor) in self.factors or not self._owned(factor, login_key):
                raise RuntimeError("factor already stored, or no such account")
            self.credentials[factor.credential_id] = self._key(factor)
            self.factors[self._key(factor)] = factor
            self._count(factor.realm, factor.account_id, +1)
            self._audited(audit)
            if recovery is not None:
                self.recovery.setdefault((recovery.realm, recovery.account_id), recovery)

    # -- removal ------------------------------------------------------------------------------
    def remove(
        self, factor: Factor, *, login_key: tuple[UniqueKind, str], audit: AuditEntry, drop_recovery: bool = False
    ) -> bool:
        with self.store.lock:
            if self.factors.pop(self._key(factor), None) is None:
                return False
            self.credentials.pop(factor.credential_id, None)
            if drop_recovery:
                self.recovery.pop((factor.realm, factor.account_id), None)
            self._audited(audit)
            self.store.factor_copies.add((factor.realm, factor.account_id))
            if factor.confirmed:
                self._count(factor.realm, factor.account_id, -1)
            return True

    def remove_all(self, realm: str, account_id: str, *, login_key: tuple[UniqueKind, str], audit: AuditEntry) -> int:
        with self.store.lock:
            keys = [key for key in self.factors if key[:2] == (realm, account_id)]
            confirmed = 0
            for key in keys:
                factor = self.factors.pop(key)
                confirmed += factor.confirmed
                self.credentials.pop(factor.credential_id, None)
            self.recovery.pop((realm, account_id), None)
            self._audited(audit)
            self.store.factor_copies.add((realm, account_id))
            account = self.store.accounts.get((realm, account_id))
            if account is not None:
                self.store.accounts[(realm, account_id)] = dataclasses.replace(account, second_factors=0)
            return confirmed

    # -- single use ---------------------------------------------------------------------------
    def use_totp_step(self, realm: str, account_id: str, factor_id: str, step: int, now: datetime) -> bool:
        with self.store.lock:
            return self.store.spend_totp_step(TotpStep(realm, account_id, factor_id, step, now))

    def use_credential(
        self, realm: str, account_id: str, factor_id: str, *, seen_count: int, new_count: int, now: datetime
    ) -> bool:
        with self.store.lock:
            stored = self.factors.get((realm, account_id, factor_id))
            if stored is None or stored.sign_count != seen_count:
                return False
            self.factors[(realm, account_id, factor_id)] = dataclasses.replace(
                stored, sign_count=new_count, last_used_at=now
            )
            return True

    def replace_recovery_codes(
        self, codes: RecoveryCodes, *, login_key: tuple[UniqueKind, str], audit: AuditEntry
    ) -> None:
        with self.store.lock:
            self.recovery[(codes.realm, codes.account_id)] = codes
            self._audited(audit)
            self.store.factor_copies.add((codes.realm, codes.account_id))

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _key(factor: Factor) -> tuple[str, str, str]:
        return (factor.realm, factor.account_id, factor.factor_id)

    def _owned(self, factor: Factor, login_key: tuple[UniqueKind, str]) -> bool:
        account = self.store.accounts.get((factor.realm, factor.account_id))
        return account is not None and account.login_key == login_key

    def _count(self, realm: str, account_id: str, delta: int) -> None:
        self.store.factor_copies.add((realm, account_id))  # written with the count, as in DynamoDB
        account = self.store.accounts.get((realm, account_id))
        if account is not None:
            self.store.accounts[(realm, account_id)] = dataclasses.replace(
                account, second_factors=account.second_factors + delta
            )

    def _audited(self, audit: AuditEntry) -> None:
        self.store.audit.append(dataclasses.replace(audit, details=dict(audit.details)))
