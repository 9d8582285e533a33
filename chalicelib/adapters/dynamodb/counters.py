"""Rate-limit counters in DynamoDB, each with a TTL.

A fixed-window counter is one item per key and window (``ADD hits 1`` is atomic), so
concurrent requests count exactly; it disappears by TTL after its window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.adapters.dynamodb.models import BoundModels


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
