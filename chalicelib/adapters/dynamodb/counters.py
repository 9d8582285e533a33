"""Rate-limit counters and failure records in DynamoDB, each with a TTL.

A fixed-window counter is one item per key and window (``ADD hits 1`` is atomic), so
concurrent requests count exactly; it disappears by TTL after its window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.adapters.dynamodb.common import conditional_failed
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.throttling import FailureRecord


class DynamoCounters:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def increment(self, key: str, *, window: timedelta, now: datetime) -> int:
        seconds = max(int(window.total_seconds()), 1)
        start = int(now.timestamp()) // seconds * seconds
        item = self._m.CounterItem(f"RATE#{key}#{start}", "RATE")
        item.update(
            actions=[
                self._m.CounterItem.hits.add(1),
                self._m.CounterItem.purge_at.set(datetime.fromtimestamp(start + seconds, UTC)),
                # Items born of an update get their type mark too, so any read can tell them apart.
                self._m.Item.kind.set(self._m.CounterItem),
            ]
        )
        return int(item.hits)

    def record_failure(self, key: str, *, now: datetime, memory: timedelta) -> FailureRecord:
        m = self._m
        item = m.FailureItem(*failure_key(key))
        fresh = [
            m.FailureItem.last_at.set(now),
            m.FailureItem.purge_at.set(now + memory),
            m.Item.kind.set(m.FailureItem),  # born of an update: write the type mark too
        ]
        try:
            # Count on only while the previous failure is recent enough to remember.
            item.update(
                actions=[m.FailureItem.failed.add(1), *fresh],
                condition=m.FailureItem.last_at > now - memory,
            )
        except UpdateError as exc:
            if not conditional_failed(exc):
                raise
            item.update(actions=[m.FailureItem.failed.set(1), *fresh])
        return FailureRecord(int(item.failed), now)

    def failures(self, key: str, *, now: datetime, memory: timedelta) -> FailureRecord | None:
        try:
            item: Any = self._m.FailureItem.get(*failure_key(key), consistent_read=True)
        except DoesNotExist:
            return None
        return live_failures(item, now=now, memory=memory)

    def clear(self, key: str) -> None:
        self._m.FailureItem(*failure_key(key)).delete()


def failure_key(key: str) -> tuple[str, str]:
    return f"FAILURES#{key}", "FAILURES"


def live_failures(item: Any, *, now: datetime, memory: timedelta) -> FailureRecord | None:
    """The record, unless its last failure is older than ``memory`` (forgotten)."""
    if item.last_at is None or item.last_at <= now - memory:
        return None
    return FailureRecord(int(item.failed), item.last_at)
