"""Counters contract: fixed-window counts, in memory and in DynamoDB.

Proves: a window counts from one and starts again in the next window; keys are
independent; 20 concurrent increments count exactly 20.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.ports import Counters
from tests.contract.builders import NOW, unique
from tests.fakes import InMemoryCounters, race

MINUTE = timedelta(minutes=1)


class CountersContract:
    counters: Counters

    def test_a_window_counts_from_one(self) -> None:
        key = unique()
        assert [self.counters.increment(key, window=MINUTE, now=NOW) for _ in range(3)] == [1, 2, 3]

    def test_the_next_window_starts_again(self) -> None:
        key = unique()
        start = NOW.replace(second=0, microsecond=0)
        self.counters.increment(key, window=MINUTE, now=start)
        self.counters.increment(key, window=MINUTE, now=start + timedelta(seconds=59))
        assert self.counters.increment(key, window=MINUTE, now=start + MINUTE) == 1

    def test_keys_are_independent(self) -> None:
        first, second = unique(), unique()
        self.counters.increment(first, window=MINUTE, now=NOW)
        assert self.counters.increment(second, window=MINUTE, now=NOW) == 1

    @pytest.mark.slow
    def test_twenty_concurrent_increments_count_twenty(self) -> None:
        key = unique()
        counts = race(20, lambda _: self.counters.increment(key, window=timedelta(hours=1), now=NOW))
        assert sorted(counts) == list(range(1, 21))  # type: ignore[type-var]


class TestInMemoryCounters(CountersContract):
    @pytest.fixture(autouse=True)
    def _counters(self) -> None:
        self.counters = InMemoryCounters()


class TestDynamoCounters(CountersContract):
    @pytest.fixture(autouse=True)
    def _counters(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.counters import DynamoCounters

        self.counters = DynamoCounters(dynamo_models)
