"""TicketRepository contract: tickets read back, are taken or spent by exactly one caller,
and a ticket saved with attempts to clear forgets them in the same write."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.attempts import Backoff, Claim
from chalicelib.domain.tickets import Ticket, TicketKind
from chalicelib.ports import AttemptLedger, TicketRepository
from tests.contract.builders import NOW, REALM, unique, unique_hash
from tests.fakes import InMemoryAttemptLedger, InMemoryStore, InMemoryTicketRepository, race

RULE = Backoff(free=1, base=timedelta(minutes=1), ceiling=timedelta(minutes=1), memory=timedelta(hours=1))


def ticket() -> Ticket:
    return Ticket(unique_hash(), TicketKind.MFA, REALM, NOW, NOW + timedelta(minutes=5), {"account_id": unique()})


class TicketRepositoryContract:
    repo: TicketRepository
    attempts: AttemptLedger

    def test_a_saved_ticket_reads_back_and_is_spent_once(self) -> None:
        saved = ticket()
        self.repo.save(saved)
        assert self.repo.get(saved.ticket_hash) == saved
        assert self.repo.spend(saved.ticket_hash)
        assert not self.repo.spend(saved.ticket_hash)
        assert self.repo.get(saved.ticket_hash) is None

    def test_saving_with_attempts_to_clear_forgets_them(self) -> None:
        # Given a key that has used its one free attempt (the next one is refused)
        key = f"{REALM}#test#{unique()}"
        assert self.attempts.reserve(Claim(key, RULE), NOW).granted
        assert not self.attempts.reserve(Claim(key, RULE), NOW).granted
        # When a ticket is saved clearing it
        saved = ticket()
        self.repo.save(saved, clear_attempts=[key])
        # Then the ticket is there and the key starts afresh
        assert self.repo.get(saved.ticket_hash) == saved
        assert self.attempts.reserve(Claim(key, RULE), NOW).granted

    @pytest.mark.slow
    def test_of_20_concurrent_spends_exactly_one_wins(self) -> None:
        saved = ticket()
        self.repo.save(saved)
        outcomes = race(20, lambda _: self.repo.spend(saved.ticket_hash))
        assert outcomes.count(True) == 1 and outcomes.count(False) == 19


class TestInMemoryTicketRepository(TicketRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repository(self) -> None:
        store = InMemoryStore()
        self.repo = InMemoryTicketRepository(store)
        self.attempts = InMemoryAttemptLedger(store)


class TestDynamoTicketRepository(TicketRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repository(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.attempts import DynamoAttemptLedger
        from chalicelib.adapters.dynamodb.repositories import DynamoTicketRepository

        self.repo = DynamoTicketRepository(dynamo_models)
        self.attempts = DynamoAttemptLedger(dynamo_models)
