"""ChallengeRepository contract: one live challenge per account and purpose.

Proves: a challenge is found by its token and by its account; replacing it makes the
old token unfindable; consume succeeds once (also under 20 concurrent callers); wrong
codes are counted on the live challenge only; discard removes it; stale copies never
touch the newer challenge.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.tokens import Purpose
from chalicelib.ports import ChallengeRepository
from tests.contract.builders import REALM, challenge, unique, unique_hash
from tests.fakes import InMemoryChallengeRepository, race


class ChallengeRepositoryContract:
    repo: ChallengeRepository

    def test_a_challenge_is_found_by_token_and_by_account(self) -> None:
        issued = challenge()
        self.repo.replace(issued)
        assert self.repo.find_by_token(issued.token_hash) == issued
        assert self.repo.find_for_account(REALM, issued.account_id, Purpose.ACTIVATION) == issued

    def test_unknown_tokens_and_accounts_find_nothing(self) -> None:
        assert self.repo.find_by_token(unique_hash()) is None
        assert self.repo.find_for_account(REALM, unique(), Purpose.ACTIVATION) is None

    def test_replace_makes_the_old_token_unfindable(self) -> None:
        old = challenge()
        self.repo.replace(old)
        new = challenge(old.account_id)
        self.repo.replace(new)
        assert self.repo.find_by_token(old.token_hash) is None
        assert self.repo.find_by_token(new.token_hash) == new
        assert self.repo.find_for_account(REALM, old.account_id, Purpose.ACTIVATION) == new

    def test_purposes_do_not_replace_each_other(self) -> None:
        activation = challenge()
        reset = challenge(activation.account_id, Purpose.PASSWORD_RESET)
        self.repo.replace(activation)
        self.repo.replace(reset)
        assert self.repo.find_by_token(activation.token_hash) == activation
        assert self.repo.find_for_account(REALM, activation.account_id, Purpose.PASSWORD_RESET) == reset

    def test_consume_succeeds_once(self) -> None:
        issued = challenge()
        self.repo.replace(issued)
        assert self.repo.consume(issued) is True
        assert self.repo.consume(issued) is False
        assert self.repo.find_by_token(issued.token_hash) is None
        assert self.repo.find_for_account(REALM, issued.account_id, Purpose.ACTIVATION) is None

    def test_consuming_a_replaced_challenge_fails_and_keeps_the_new_one(self) -> None:
        old = challenge()
        self.repo.replace(old)
        new = challenge(old.account_id)
        self.repo.replace(new)
        assert self.repo.consume(old) is False
        assert self.repo.find_by_token(new.token_hash) == new

    def test_discard_removes_the_challenge(self) -> None:
        issued = challenge()
        self.repo.replace(issued)
        self.repo.discard(issued)
        assert self.repo.find_by_token(issued.token_hash) is None
        assert self.repo.find_for_account(REALM, issued.account_id, Purpose.ACTIVATION) is None
        assert self.repo.consume(issued) is False

    def test_discarding_a_replaced_challenge_keeps_the_new_one(self) -> None:
        old = challenge()
        self.repo.replace(old)
        new = challenge(old.account_id)
        self.repo.replace(new)
        self.repo.discard(old)
        assert self.repo.find_by_token(new.token_hash) == new

    def test_discarding_twice_is_harmless(self) -> None:
        issued = challenge()
        self.repo.replace(issued)
        self.repo.discard(issued)
        self.repo.discard(issued)
        assert self.repo.find_by_token(issued.token_hash) is None

    @pytest.mark.slow
    def test_of_20_concurrent_consumers_exactly_one_wins(self) -> None:
        issued = challenge()
        self.repo.replace(issued)
        outcomes = race(20, lambda _: self.repo.consume(issued))
        assert outcomes.count(True) == 1
        assert outcomes.count(False) == 19


class TestInMemoryChallengeRepository(ChallengeRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repository(self) -> None:
        self.repo = InMemoryChallengeRepository()


class TestDynamoChallengeRepository(ChallengeRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repository(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.repositories import DynamoChallengeRepository

        self.repo = DynamoChallengeRepository(dynamo_models)
