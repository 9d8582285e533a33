"""FactorRepository contract: second factors, their count on the login record, single use.

Proves, for the in-memory fake and DynamoDB alike: a pending TOTP factor is confirmed
once, and confirming (or adding a credential) moves ``second_factors`` on the account
and its login record in the same write as the audit entry; removing moves it back; a
credential id belongs to one account; factors are realm-scoped; a TOTP step and a
WebAuthn counter value are each accepted by exactly one of 20 concurrent callers; the
administrator's reset removes everything. (A recovery code is spent only with a sign-in's
session: ``test_session_repository.py``.)
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.mfa import Factor, FactorCopy, FactorKind, RecoveryCodes, TotpKey
from chalicelib.errors import DuplicateValue
from chalicelib.ports import AccountRepository, AuditLog, FactorRepository
from tests.contract.builders import NOW, account, unique, unique_hash
from tests.fakes import InMemoryAccountRepository, InMemoryAuditLog, InMemoryStore, arranged, race
from tests.fakes_mfa import InMemoryFactorRepository

LATER = NOW + timedelta(minutes=1)


def totp(owner: Account, **changes: Any) -> Factor:
    base = Factor(
        realm=owner.realm,
        account_id=owner.account_id,
        factor_id=unique(),
        kind=FactorKind.TOTP,
        label="Phone",
        created_at=NOW,
        confirmed=False,
        expires_at=NOW + timedelta(minutes=15),
        sealed_secret="sealed-" + unique(),
    )
    return dataclasses.replace(base, **changes)


def credential(owner: Account, **changes: Any) -> Factor:
    base = Factor(
        realm=owner.realm,
        account_id=owner.account_id,
        factor_id=unique(),
        kind=FactorKind.WEBAUTHN,
        label="Security key",
        created_at=NOW,
        credential_id="cred-" + unique(),
        public_key="pk-" + unique(),
        sign_count=3,
        transports=("usb", "nfc"),
        multi_device=False,
    )
    return dataclasses.replace(base, **changes)


def entry(owner: Account, action: str) -> AuditEntry:
    return AuditEntry(owner.realm, owner.account_id, action, owner.account_id, NOW)


class FactorRepositoryContract:
    repo: FactorRepository
    accounts: AccountRepository
    audit: AuditLog

    def _account(self) -> Account:
        created = account(status=AccountStatus.ACTIVE)
        self.accounts.create(created, audit=arranged(created.realm, created.account_id))
        return created

    def _counts(self, owner: Account) -> tuple[int, int]:
        stored = self.accounts.get(owner.realm, owner.account_id)
        login = self.accounts.find_login(owner.realm, owner.username.casefold())
        assert stored is not None and login is not None
        return stored.second_factors, login.second_factors

    def _confirmed_totp(self, owner: Account) -> Factor:
        pending = totp(owner)
        self.repo.add_pending(pending)
        assert self.repo.confirm(
            pending, step=100, login_key=owner.login_key, now=NOW, audit=entry(owner, "totp_added")
        )
        stored = self.repo.get(owner.realm, owner.account_id, pending.factor_id)
        assert stored is not None
        return stored

    def test_a_new_account_has_no_factors(self) -> None:
        owner = self._account()
        assert self.repo.overview(owner.realm, owner.account_id) == ([], None)
        assert self._counts(owner) == (0, 0)

    def test_a_pending_factor_reads_back_and_counts_for_nothing(self) -> None:
        owner = self._account()
        pending = totp(owner)
        self.repo.add_pending(pending)
        assert self.repo.get(owner.realm, owner.account_id, pending.factor_id) == pending
        assert self.repo.overview(owner.realm, owner.account_id) == ([pending], None)
        assert self._counts(owner) == (0, 0)

    def test_confirming_counts_the_factor_and_audits_it_once(self) -> None:
        # Given a pending TOTP factor
        owner = self._account()
        pending = totp(owner)
        self.repo.add_pending(pending)
        # When it is confirmed with the first code's step
        done = self.repo.confirm(pending, step=100, login_key=owner.login_key, now=LATER, audit=entry(owner, "added"))
        # Then it is confirmed, counted on the account and the login record, and audited
        assert done
        stored = self.repo.get(owner.realm, owner.account_id, pending.factor_id)
        assert stored == dataclasses.replace(
            pending, confirmed=True, last_step=100, last_used_at=LATER, expires_at=None
        )
        assert self._counts(owner) == (1, 1)
        assert [e.action for e in self.audit.entries(owner.realm, owner.account_id)].count("added") == 1
        # And a second confirmation changes nothing
        assert not self.repo.confirm(pending, step=101, login_key=owner.login_key, now=LATER, audit=entry(owner, "x"))
        assert self._counts(owner) == (1, 1)
        assert "x" not in [e.action for e in self.audit.entries(owner.realm, owner.account_id)]

    def test_confirming_with_another_accounts_username_writes_nothing(self) -> None:
        owner, other = self._account(), self._account()
        pending = totp(owner)
        self.repo.add_pending(pending)
        assert not self.repo.confirm(pending, step=1, login_key=other.login_key, now=NOW, audit=entry(owner, "x"))
        assert self._counts(owner) == (0, 0) and self._counts(other) == (0, 0)
        stored = self.repo.get(owner.realm, owner.account_id, pending.factor_id)
        assert stored is not None and not stored.confirmed

    def test_first_confirmation_stores_the_recovery_codes_and_keeps_existing_ones(self) -> None:
        owner = self._account()
        first = RecoveryCodes(owner.realm, owner.account_id, frozenset({unique_hash(), unique_hash()}), NOW)
        pending = totp(owner)
        self.repo.add_pending(pending)
        assert self.repo.confirm(
            pending, step=1, login_key=owner.login_key, now=NOW, audit=entry(owner, "a"), recovery=first
        )
        assert self.repo.overview(owner.realm, owner.account_id)[1] == first
        # A second factor's first confirmation racing the first keeps the codes shown first
        again = RecoveryCodes(owner.realm, owner.account_id, frozenset({unique_hash()}), LATER)
        other = totp(owner)
        self.repo.add_pending(other)
        assert self.repo.confirm(
            other, step=1, login_key=owner.login_key, now=NOW, audit=entry(owner, "b"), recovery=again
        )
        assert self.repo.overview(owner.realm, owner.account_id)[1] == first
        assert self._counts(owner) == (2, 2)

    def test_a_credential_is_added_counted_and_listed(self) -> None:
        owner = self._account()
        key = credential(owner)
        self.repo.add(key, login_key=owner.login_key, audit=entry(owner, "webauthn_added"))
        assert self.repo.get(owner.realm, owner.account_id, key.factor_id) == key
        assert self.repo.overview(owner.realm, owner.account_id) == ([key], None)
        assert self._counts(owner) == (1, 1)

    def test_a_credential_id_belongs_to_one_account(self) -> None:
        owner, other = self._account(), self._account()
        key = credential(owner)
        self.repo.add(key, login_key=owner.login_key, audit=entry(owner, "added"))
        copy = credential(other, credential_id=key.credential_id)
        with pytest.raises(DuplicateValue):
            self.repo.add(copy, login_key=other.login_key, audit=entry(other, "added"))
        assert self.repo.overview(other.realm, other.account_id) == ([], None)
        assert self._counts(other) == (0, 0)

    def test_factors_are_scoped_to_their_realm(self) -> None:
        owner = self._account()
        key = credential(owner)
        self.repo.add(key, login_key=owner.login_key, audit=entry(owner, "added"))
        assert self.repo.get("ntua", owner.account_id, key.factor_id) is None
        assert self.repo.overview("ntua", owner.account_id) == ([], None)

    def test_removing_uncounts_frees_the_credential_and_may_drop_the_codes(self) -> None:
        # Given a credential and recovery codes
        owner = self._account()
        key = credential(owner)
        codes = RecoveryCodes(owner.realm, owner.account_id, frozenset({unique_hash()}), NOW)
        self.repo.add(key, login_key=owner.login_key, audit=entry(owner, "added"), recovery=codes)
        # When the last factor is removed with its codes
        assert self.repo.remove(key, login_key=owner.login_key, audit=entry(owner, "removed"), drop_recovery=True)
        # Then nothing is left, the count is back to zero, and the credential id is free again
        assert self.repo.overview(owner.realm, owner.account_id) == ([], None)
        assert self._counts(owner) == (0, 0)
        assert not self.repo.remove(key, login_key=owner.login_key, audit=entry(owner, "again"))
        assert self._counts(owner) == (0, 0)
        self.repo.add(dataclasses.replace(key, factor_id=unique()), login_key=owner.login_key, audit=entry(owner, "a"))

    def test_removing_a_pending_factor_counts_nothing(self) -> None:
        owner = self._account()
        self._confirmed_totp(owner)
        pending = totp(owner)
        self.repo.add_pending(pending)
        assert self.repo.remove(pending, login_key=owner.login_key, audit=entry(owner, "abandoned"))
        assert self._counts(owner) == (1, 1)

    def test_remove_all_leaves_nothing(self) -> None:
        owner = self._account()
        self._confirmed_totp(owner)
        key = credential(owner)
        codes = RecoveryCodes(owner.realm, owner.account_id, frozenset({unique_hash()}), NOW)
        self.repo.add(key, login_key=owner.login_key, audit=entry(owner, "added"), recovery=codes)
        self.repo.add_pending(totp(owner))
        assert (
            self.repo.remove_all(owner.realm, owner.account_id, login_key=owner.login_key, audit=entry(owner, "reset"))
            == 2
        )
        assert self.repo.overview(owner.realm, owner.account_id) == ([], None)
        assert self._counts(owner) == (0, 0)
        assert "reset" in [e.action for e in self.audit.entries(owner.realm, owner.account_id)]
        self.repo.add(dataclasses.replace(key, factor_id=unique()), login_key=owner.login_key, audit=entry(owner, "a"))

    def _copy(self, owner: Account) -> FactorCopy | None:
        login = self.accounts.find_login(owner.realm, owner.username.casefold())
        assert login is not None
        return login.factors

    def test_the_login_record_copies_what_each_factor_change_writes(self) -> None:
        # Given an account with no factor
        owner = self._account()
        # When a TOTP factor is confirmed with two recovery codes
        pending = totp(owner)
        self.repo.add_pending(pending)
        codes = RecoveryCodes(owner.realm, owner.account_id, frozenset({unique_hash(), unique_hash()}), NOW)
        assert self.repo.confirm(
            pending, step=1, login_key=owner.login_key, now=NOW, audit=entry(owner, "a"), recovery=codes
        )
        # Then the login record carries its key, still sealed, and the count of codes
        assert self._copy(owner) == FactorCopy((TotpKey(pending.factor_id, pending.sealed_secret),), 2)
        # And a security key, a new set of codes and the TOTP factor's removal follow it
        key = credential(owner)
        self.repo.add(key, login_key=owner.login_key, audit=entry(owner, "b"))
        copy = self._copy(owner)
        assert copy is not None and copy.offered(2) == ["totp", "webauthn", "recovery_code"]
        three = RecoveryCodes(owner.realm, owner.account_id, frozenset({unique_hash() for _ in range(3)}), LATER)
        self.repo.replace_recovery_codes(three, login_key=owner.login_key, audit=entry(owner, "c"))
        assert self._copy(owner) == FactorCopy((TotpKey(pending.factor_id, pending.sealed_secret),), 3)
        stored = self.repo.get(owner.realm, owner.account_id, pending.factor_id)
        assert stored is not None
        assert self.repo.remove(stored, login_key=owner.login_key, audit=entry(owner, "d"))
        assert self._copy(owner) == FactorCopy((), 3)
        # And the last factor's removal with the codes, or a reset, leaves an empty copy
        assert self.repo.remove(key, login_key=owner.login_key, audit=entry(owner, "e"), drop_recovery=True)
        assert self._copy(owner) == FactorCopy((), 0)
        self._confirmed_totp(owner)
        self.repo.remove_all(owner.realm, owner.account_id, login_key=owner.login_key, audit=entry(owner, "f"))
        assert self._copy(owner) == FactorCopy((), 0)

    def test_a_refused_factor_change_leaves_the_copy_as_it_was(self) -> None:
        # Given an account with a confirmed TOTP factor
        owner = self._account()
        first = self._confirmed_totp(owner)
        before = self._copy(owner)
        # When a pending factor is confirmed under another account's login record
        other = self._account()
        pending = totp(owner)
        self.repo.add_pending(pending)
        assert not self.repo.confirm(pending, step=1, login_key=other.login_key, now=NOW, audit=entry(owner, "x"))
        # Then neither login record carries the refused factor's key
        assert before == FactorCopy((TotpKey(first.factor_id, first.sealed_secret),), 0)
        assert self._copy(owner) == before
        assert self._copy(other) in (None, FactorCopy((), 0))

    def test_a_totp_step_is_accepted_once_and_only_forward(self) -> None:
        owner = self._account()
        factor = self._confirmed_totp(owner)  # last step 100
        assert not self.repo.use_totp_step(owner.realm, owner.account_id, factor.factor_id, 100, LATER)
        assert self.repo.use_totp_step(owner.realm, owner.account_id, factor.factor_id, 101, LATER)
        assert not self.repo.use_totp_step(owner.realm, owner.account_id, factor.factor_id, 101, LATER)
        assert not self.repo.use_totp_step(owner.realm, owner.account_id, factor.factor_id, 99, LATER)
        stored = self.repo.get(owner.realm, owner.account_id, factor.factor_id)
        assert stored is not None and stored.last_step == 101 and stored.last_used_at == LATER

    def test_a_pending_factor_accepts_no_step(self) -> None:
        owner = self._account()
        pending = totp(owner)
        self.repo.add_pending(pending)
        assert not self.repo.use_totp_step(owner.realm, owner.account_id, pending.factor_id, 5, LATER)
        assert not self.repo.use_totp_step(owner.realm, owner.account_id, unique(), 5, LATER)

    def test_a_counter_moves_only_from_the_value_seen(self) -> None:
        owner = self._account()
        key = credential(owner, sign_count=3)
        self.repo.add(key, login_key=owner.login_key, audit=entry(owner, "added"))
        assert self.repo.use_credential(
            owner.realm, owner.account_id, key.factor_id, seen_count=3, new_count=4, now=LATER
        )
        assert not self.repo.use_credential(
            owner.realm, owner.account_id, key.factor_id, seen_count=3, new_count=9, now=LATER
        )
        stored = self.repo.get(owner.realm, owner.account_id, key.factor_id)
        assert stored is not None and stored.sign_count == 4

    @pytest.mark.slow
    def test_of_20_concurrent_uses_of_one_step_one_counter_exactly_one_wins(self) -> None:
        owner = self._account()
        factor = self._confirmed_totp(owner)
        steps = race(20, lambda _: self.repo.use_totp_step(owner.realm, owner.account_id, factor.factor_id, 101, LATER))
        assert steps.count(True) == 1 and steps.count(False) == 19
        key = credential(owner, sign_count=7)
        self.repo.add(key, login_key=owner.login_key, audit=entry(owner, "added"))
        counters = race(
            20,
            lambda i: self.repo.use_credential(
                owner.realm, owner.account_id, key.factor_id, seen_count=7, new_count=8 + i, now=LATER
            ),
        )
        assert counters.count(True) == 1 and counters.count(False) == 19


class TestInMemoryFactorRepository(FactorRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repository(self) -> None:
        store = InMemoryStore()
        self.accounts = InMemoryAccountRepository(store)
        self.audit = InMemoryAuditLog(store)
        self.repo = InMemoryFactorRepository(store)


class TestDynamoFactorRepository(FactorRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repository(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.audit import DynamoAuditLog
        from chalicelib.adapters.dynamodb.factors import DynamoFactorRepository
        from chalicelib.adapters.dynamodb.repositories import DynamoAccountRepository

        self.accounts = DynamoAccountRepository(dynamo_models)
        self.audit = DynamoAuditLog(dynamo_models)
        self.repo = DynamoFactorRepository(dynamo_models)

    def test_a_login_record_from_before_the_copy_gets_it_with_the_next_change(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.accounts import guard_key
        from chalicelib.domain.accounts import UniqueKind

        # Given an account with a TOTP factor and codes whose login record has no copy (written
        # before the copy existed)
        owner = self._account()
        old = totp(owner)
        self.repo.add_pending(old)
        codes = RecoveryCodes(owner.realm, owner.account_id, frozenset({unique_hash()}), NOW)
        assert self.repo.confirm(
            old, step=1, login_key=owner.login_key, now=NOW, audit=entry(owner, "a"), recovery=codes
        )
        m = dynamo_models
        record = m.Guard(*guard_key(owner.realm, UniqueKind.USERNAME, owner.username.casefold()))
        record.update(actions=[m.Guard.totp_keys.remove(), m.Guard.recovery_codes.remove()])
        assert self._copy(owner) is None  # the password step reads the factor list for it
        # When its next factor change adds a security key
        self.repo.add(credential(owner), login_key=owner.login_key, audit=entry(owner, "b"))
        # Then the record carries the whole copy: the old factor's key too, and the codes
        assert self._copy(owner) == FactorCopy((TotpKey(old.factor_id, old.sealed_secret),), 1)
