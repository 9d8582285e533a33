"""LoginLookup contract: one read gives the login record and the live failure records.

Proves: a known username gives its record and an unknown one None; only the failure
keys asked for come back, only while remembered; the in-memory fake and the DynamoDB
BatchGetItem agree.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.accounts import LoginRecord
from chalicelib.domain.throttling import FailureRecord
from chalicelib.ports import AccountRepository, Counters, LoginLookup
from tests.contract.builders import NOW, REALM, account, unique, unique_email
from tests.fakes import InMemoryAccountRepository, InMemoryCounters, InMemoryLoginLookup, InMemoryStore

DAY = timedelta(days=1)


class LoginLookupContract:
    lookup: LoginLookup
    accounts: AccountRepository
    counters: Counters

    def test_a_known_username_and_its_failures_come_back_together(self) -> None:
        created = account(roles=("admin",))
        self.accounts.create(created)
        user_key, address_key, other_key = unique(), unique(), unique()
        self.counters.record_failure(user_key, now=NOW, memory=DAY)
        self.counters.record_failure(other_key, now=NOW, memory=DAY)
        login, failures = self.lookup.read(REALM, created.username, [user_key, address_key], now=NOW, memory=DAY)
        assert login == LoginRecord(REALM, created.account_id, created.password_hash, created.status, ("admin",), True)
        assert failures == {user_key: FailureRecord(1, NOW)}

    def test_an_unknown_username_has_no_record_but_its_failures_count(self) -> None:
        key = unique()
        self.counters.record_failure(key, now=NOW, memory=DAY)
        login, failures = self.lookup.read(REALM, unique_email(), [key], now=NOW, memory=DAY)
        assert login is None and failures == {key: FailureRecord(1, NOW)}

    def test_forgotten_failures_do_not_come_back(self) -> None:
        key = unique()
        self.counters.record_failure(key, now=NOW, memory=DAY)
        _, failures = self.lookup.read(REALM, unique_email(), [key], now=NOW + DAY + timedelta(seconds=1), memory=DAY)
        assert failures == {}


class TestInMemoryLoginLookup(LoginLookupContract):
    @pytest.fixture(autouse=True)
    def _lookup(self) -> None:
        accounts, counters = InMemoryAccountRepository(InMemoryStore()), InMemoryCounters()
        self.accounts, self.counters = accounts, counters
        self.lookup = InMemoryLoginLookup(accounts, counters)


class TestDynamoLoginLookup(LoginLookupContract):
    @pytest.fixture(autouse=True)
    def _lookup(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.counters import DynamoCounters
        from chalicelib.adapters.dynamodb.login_lookup import DynamoLoginLookup
        from chalicelib.adapters.dynamodb.repositories import DynamoAccountRepository

        self.accounts, self.counters = DynamoAccountRepository(dynamo_models), DynamoCounters(dynamo_models)
        self.lookup = DynamoLoginLookup(dynamo_models)
