"""AttemptLedger and LoginGate contracts: reservations, in memory and in DynamoDB.

Proves: a back-off key grants its free attempts, then refuses with the wait, then grants
exactly one attempt per waiting period, the wait doubling; old attempts are forgotten;
clearing starts afresh; a window grants up to its limit, counts refused attempts too, and
the previous window weighs on the next by its overlap; a granted reservation can be
given back; 30 concurrent reservations grant exactly the free attempts (the property
the login relies on); the gate returns the login record with the reservations.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.attempts import Backoff, Claim, RateWindow
from chalicelib.ports import AccountRepository, AttemptLedger, LoginGate
from tests.contract.builders import NOW, REALM, account, unique, unique_email
from tests.fakes import (
    InMemoryAccountRepository,
    InMemoryAttemptLedger,
    InMemoryLoginGate,
    InMemoryStore,
    arranged,
    race,
)

RULE = Backoff(free=5, base=timedelta(seconds=30), ceiling=timedelta(minutes=15), memory=timedelta(days=1))
WINDOW = RateWindow(limit=10, window=timedelta(minutes=15))


def _at_window_start() -> Any:
    seconds = int(WINDOW.window.total_seconds())
    return NOW.replace(microsecond=0) - timedelta(seconds=int(NOW.timestamp()) % seconds)


class AttemptLedgerContract:
    ledger: AttemptLedger

    def _reserve(self, key: str, when: Any = NOW, rule: Any = RULE) -> Any:
        return self.ledger.reserve(Claim(key, rule), when)

    def test_the_free_attempts_are_granted_and_counted(self) -> None:
        key = unique()
        answers = [self._reserve(key) for _ in range(5)]
        assert [(a.granted, a.count) for a in answers] == [(True, n) for n in range(1, 6)]

    def test_after_the_free_attempts_the_next_waits_for_the_base(self) -> None:
        key = unique()
        for _ in range(5):
            self._reserve(key)
        refused = self._reserve(key, NOW + timedelta(seconds=10))
        assert not refused.granted and refused.retry_after == 20

    def test_each_waiting_period_grants_one_attempt_and_the_wait_doubles(self) -> None:
        key = unique()
        for _ in range(5):
            self._reserve(key)
        when = NOW + timedelta(seconds=30)
        assert self._reserve(key, when).granted
        assert not self._reserve(key, when).granted  # the period admitted one attempt
        assert self._reserve(key, when + timedelta(seconds=59)).retry_after == 1
        assert self._reserve(key, when + timedelta(seconds=60)).granted

    def test_old_attempts_are_forgotten(self) -> None:
        key = unique()
        for _ in range(8):
            self._reserve(key)
        later = NOW + timedelta(days=1, seconds=1)
        assert self._reserve(key, later).count == 1

    def test_clearing_starts_afresh(self) -> None:
        key, other = unique(), unique()
        for _ in range(6):
            self._reserve(key)
        self.ledger.clear([key, other])
        assert self._reserve(key).count == 1

    def test_a_window_grants_up_to_its_limit_and_counts_refusals(self) -> None:
        key, start = unique(), _at_window_start()
        answers = [self._reserve(key, start, WINDOW) for _ in range(12)]
        assert [a.granted for a in answers] == [True] * 10 + [False] * 2
        assert answers[-1].count == 12
        assert 0 < answers[-1].retry_after <= WINDOW.window.total_seconds()

    def test_the_previous_window_weighs_on_the_next_by_its_overlap(self) -> None:
        key, start = unique(), _at_window_start()
        for _ in range(10):
            self._reserve(key, start, WINDOW)
        # A third into the next window, two thirds of the previous ten still count
        third = start + WINDOW.window + WINDOW.window / 3
        granted = [self._reserve(key, third, WINDOW).granted for _ in range(5)]
        assert granted == [True, True, True, False, False]

    def test_a_given_back_reservation_frees_its_slot(self) -> None:
        key = unique()
        for _ in range(4):
            self._reserve(key)
        fifth = self._reserve(key)
        self.ledger.give_back(fifth, NOW)
        assert self._reserve(key).granted

    @pytest.mark.slow
    def test_thirty_concurrent_reservations_grant_exactly_the_free_attempts(self) -> None:
        key = unique()
        answers = race(30, lambda _: self._reserve(key))
        assert sum(1 for answer in answers if getattr(answer, "granted", False)) == 5

    @pytest.mark.slow
    def test_thirty_concurrent_window_reservations_grant_exactly_the_limit(self) -> None:
        key, start = unique(), _at_window_start()
        answers = race(30, lambda _: self._reserve(key, start, WINDOW))
        assert sum(1 for answer in answers if getattr(answer, "granted", False)) == 10


class LoginGateContract:
    gate: LoginGate
    accounts: AccountRepository

    def test_the_login_record_comes_back_with_the_reservations(self) -> None:
        created = account(roles=("admin",))
        self.accounts.create(created, audit=arranged(created.realm, created.account_id))
        key = unique()
        login, [reservation] = self.gate.open(REALM, created.username, [Claim(key, RULE)], NOW)
        assert login is not None and login.account_id == created.account_id and login.roles == ("admin",)
        assert reservation.granted and reservation.count == 1

    def test_an_unknown_username_still_reserves(self) -> None:
        key = unique()
        login, [reservation] = self.gate.open(REALM, unique_email(), [Claim(key, RULE)], NOW)
        assert login is None and reservation.granted


class TestInMemoryAttemptLedger(AttemptLedgerContract):
    @pytest.fixture(autouse=True)
    def _ledger(self) -> None:
        self.ledger = InMemoryAttemptLedger()


class TestDynamoAttemptLedger(AttemptLedgerContract):
    @pytest.fixture(autouse=True)
    def _ledger(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.attempts import DynamoAttemptLedger

        self.ledger = DynamoAttemptLedger(dynamo_models)


class TestInMemoryLoginGate(LoginGateContract):
    @pytest.fixture(autouse=True)
    def _gate(self) -> None:
        store = InMemoryStore()
        self.accounts = InMemoryAccountRepository(store)
        self.gate = InMemoryLoginGate(self.accounts, InMemoryAttemptLedger(store))


class TestDynamoLoginGate(LoginGateContract):
    @pytest.fixture(autouse=True)
    def _gate(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.accounts import DynamoAccountRepository
        from chalicelib.adapters.dynamodb.attempts import DynamoAttemptLedger
        from chalicelib.adapters.dynamodb.login_gate import DynamoLoginGate

        self.accounts = DynamoAccountRepository(dynamo_models)
        self.gate = DynamoLoginGate(dynamo_models, DynamoAttemptLedger(dynamo_models))
