"""Expiry bookkeeping contract (accounts by expiry day, warnings once, the sweep cursor)
and the audit log, against the in-memory fakes and DynamoDB (GSI1)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.domain.accounts import AccountStatus
from chalicelib.domain.audit import AuditEntry
from chalicelib.ports import AccountRepository, AuditLog
from tests.contract.builders import AUDIT, NOW, account, unique
from tests.fakes import InMemoryAccountRepository, InMemoryAuditLog, InMemoryStore

REALM = "ntua"


def _ntua(expires_on: date, **changes: Any) -> Any:
    return account(realm=REALM, afm="", expires_on=expires_on, **{"status": AccountStatus.ACTIVE, **changes})


class ExpiryContract:
    repo: AccountRepository
    audit: AuditLog

    def _day(self) -> date:
        # A day of its own per test: the DynamoDB table is shared within the test process.
        return date(2030, 1, 1) + timedelta(days=int(unique()[:6], 16) % 20000)

    def test_accounts_are_found_under_their_expiry_day_only(self) -> None:
        day = self._day()
        first, second, other = _ntua(day), _ntua(day), _ntua(day + timedelta(days=1))
        for created in (first, second, other):
            self.repo.create(created, audit=AUDIT)
        found = {a.account_id for a in self.repo.accounts_expiring_between(REALM, day, day)}
        assert found == {first.account_id, second.account_id}
        assert self.repo.accounts_expiring_between(REALM, day, day)[0].expires_on == day
        both = {a.account_id for a in self.repo.accounts_expiring_between(REALM, day, day + timedelta(days=1))}
        assert both == {first.account_id, second.account_id, other.account_id}

    def test_a_range_across_months_and_years_finds_every_day_in_it(self) -> None:
        start = date(2060, 12, 30) + timedelta(days=int(unique()[:4], 16) % 3000)
        inside = [_ntua(start + timedelta(days=n)) for n in (0, 3, 40)]
        outside = [_ntua(start - timedelta(days=1)), _ntua(start + timedelta(days=41))]
        for created in inside + outside:
            self.repo.create(created, audit=AUDIT)
        found = {a.account_id for a in self.repo.accounts_expiring_between(REALM, start, start + timedelta(days=40))}
        assert found == {a.account_id for a in inside}

    def test_a_new_expiry_moves_the_account_and_can_reactivate_it(self) -> None:
        day = self._day()
        created = _ntua(day, status=AccountStatus.EXPIRED)
        self.repo.create(created, audit=AUDIT)
        later = day + timedelta(days=365)
        assert self.repo.set_expiry(REALM, created.account_id, later, NOW, affiliation="doctoral", reactivate=True)
        assert self.repo.accounts_expiring_between(REALM, day, day) == []
        moved = self.repo.get(REALM, created.account_id)
        assert moved == dataclasses.replace(
            created, expires_on=later, affiliation="doctoral", status=AccountStatus.ACTIVE, updated_at=NOW
        )
        login = self.repo.find_login(REALM, created.username)
        assert login is not None and login.expires_on == later and login.status is AccountStatus.ACTIVE

    def test_a_new_expiry_for_an_unknown_account_is_false(self) -> None:
        assert not self.repo.set_expiry(REALM, unique(), self._day(), NOW)

    def test_a_new_expiry_with_its_audit_record_writes_both_or_neither(self) -> None:
        # Given an account, and a renewal's audit record for it
        created = _ntua(self._day())
        self.repo.create(created, audit=AUDIT)
        later = created.expires_on + timedelta(days=365)  # type: ignore[operator]
        entry = AuditEntry(REALM, created.account_id, "account_renewed", "job:j1", NOW, details={"expires_on": "x"})

        # When the expiry moves with it
        assert self.repo.set_expiry(REALM, created.account_id, later, NOW, reactivate=True, audit=entry)

        # Then the record is there with the change; for an unknown account, neither is
        assert self.audit.entries(REALM, created.account_id) == [entry]
        missing = unique()
        assert not self.repo.set_expiry(
            REALM, missing, later, NOW, audit=dataclasses.replace(entry, account_id=missing)
        )
        assert self.audit.entries(REALM, missing) == []

    def test_each_warning_is_marked_once(self) -> None:
        created = _ntua(self._day())
        self.repo.create(created, audit=AUDIT)
        assert self.repo.mark_expiry_warning(REALM, created.account_id, "30d:2030-01-01")
        assert not self.repo.mark_expiry_warning(REALM, created.account_id, "30d:2030-01-01")
        assert self.repo.mark_expiry_warning(REALM, created.account_id, "7d:2030-01-01")

    def test_the_cursor_remembers_the_last_day(self) -> None:
        realm = f"r{unique()[:8]}"
        assert self.repo.expiry_cursor(realm) is None
        self.repo.set_expiry_cursor(realm, date(2031, 5, 6))
        assert self.repo.expiry_cursor(realm) == date(2031, 5, 6)

    def test_the_audit_trail_comes_back_in_order(self) -> None:
        account_id = unique()
        first = AuditEntry(REALM, account_id, "account_created", "operator:cli", NOW, "192.0.2.1", {"k": "v"})
        second = AuditEntry(REALM, account_id, "account_expired", "system:expiry", NOW + timedelta(seconds=1))
        self.audit.record(first)
        self.audit.record(second)
        assert self.audit.entries(REALM, account_id) == [first, second]
        assert self.audit.entries(REALM, unique()) == []


class TestInMemoryExpiry(ExpiryContract):
    @pytest.fixture(autouse=True)
    def _repositories(self) -> None:
        store = InMemoryStore()
        self.repo, self.audit = InMemoryAccountRepository(store), InMemoryAuditLog(store)


class TestDynamoExpiry(ExpiryContract):
    @pytest.fixture(autouse=True)
    def _repositories(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.audit import DynamoAuditLog
        from chalicelib.adapters.dynamodb.repositories import DynamoAccountRepository

        self.repo, self.audit = DynamoAccountRepository(dynamo_models), DynamoAuditLog(dynamo_models)
