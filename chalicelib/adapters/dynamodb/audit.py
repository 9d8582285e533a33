"""Audit records in DynamoDB: under the account, kept for two years, and filed by actor
(GSI1) and by action (GSI2) so the administration consoles read the log by any of the
three without a scan."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamodb.common import load, one_page, plain_map, start_key, store
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.audit import RETENTION, AuditEntry, AuditPage, AuditQuery

TIME_AFTER_ALL = "~"
"""Sorts after ``#<random>``: ``<end>`` + this bounds a key range that ends at ``end``."""


def actor_index_key(realm: str, actor: str) -> str:
    return f"AUDITBY#{realm}#{actor}"


def action_index_key(realm: str, action: str) -> str:
    return f"AUDITDO#{realm}#{action}"


class DynamoAuditLog:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def record(self, entry: AuditEntry) -> None:
        self._item(entry).save()

    def record_many(self, entries: Sequence[AuditEntry]) -> None:
        # BatchWriteItem, 25 items a call; pynamodb resends unprocessed items.
        with self._m.AuditItem.batch_write() as batch:
            for entry in entries:
                batch.save(self._item(entry))

    def _item(self, entry: AuditEntry) -> Any:
        return audit_item(self._m, entry)

    def entries(self, realm: str, account_id: str) -> list[AuditEntry]:
        items = self._m.AuditItem.query(f"AUDIT#{realm}#{account_id}", consistent_read=True)
        return [_entry(item) for item in items]

    # --- reading by account, actor or action (AuditSearch) ------------------------------

    def search(self, realm: str, query: AuditQuery, *, limit: int, after: str | None = None) -> AuditPage:
        """One Query of the index the query names first, newest first, ``limit`` items
        examined; the other criteria are a filter on those items (DynamoDB applies
        ``Limit`` before a filter, so the cost of a page stays ``limit`` items)."""
        m = self._m
        cls = m.AuditItem
        time_range = _time_range(query.start, query.end)
        filters = []
        if query.account is not None:
            partition, source, sort_key = f"AUDIT#{realm}#{query.account}", cls, cls.sk
            if query.actor is not None:
                filters.append(cls.actor == query.actor)
            if query.action is not None:
                filters.append(cls.action == query.action)
        elif query.actor is not None:
            partition, source, sort_key = actor_index_key(realm, query.actor), cls.by_actor, cls.gsi1sk
            if query.action is not None:
                filters.append(cls.action == query.action)
        elif query.action is not None:
            partition, source, sort_key = action_index_key(realm, query.action), cls.by_action, cls.gsi2sk
        else:
            raise ValueError("an audit query names an account, an actor or an action")
        condition = None
        if time_range is not None:
            condition = sort_key.between(*time_range)
        filter_condition = None
        for clause in filters:
            filter_condition = clause if filter_condition is None else filter_condition & clause
        options: dict[str, Any] = {
            "range_key_condition": condition,
            "filter_condition": filter_condition,
            "scan_index_forward": False,
            "page_size": limit,
            "last_evaluated_key": start_key(after),
        }
        if source is cls:
            options["consistent_read"] = True  # the account's own trail, read after a change
        items, next_after = one_page(source.query(partition, **options), cls)
        return AuditPage([_entry(item) for item in items], next_after)


def _time_range(start: datetime | None, end: datetime | None) -> tuple[str, str] | None:
    """Sort-key bounds of a period (keys begin with the ISO time of the change, UTC)."""
    if start is None and end is None:
        return None
    low = start.isoformat() if start is not None else "0"
    # ``end`` is exclusive: the last key below it is "<end minus a microsecond>#…~".
    high = end.isoformat() if end is not None else TIME_AFTER_ALL
    return low, high


def _entry(item: Any) -> AuditEntry:
    return load(AuditEntry, item, details=plain_map(item.details))


def audit_item(models: BoundModels, entry: AuditEntry) -> Any:
    """The item of one audit record (also written inside other repositories' transactions),
    with its index keys: whichever write carries it, the entry is findable by actor and
    by action."""
    # The random suffix keeps two changes in the same microsecond apart.
    sort_key = f"{entry.at.isoformat()}#{secrets.token_hex(4)}"
    item = models.AuditItem(f"AUDIT#{entry.realm}#{entry.account_id}", sort_key)
    store(item, entry, purge_at=entry.at + RETENTION)
    item.gsi1pk, item.gsi1sk = actor_index_key(entry.realm, entry.actor), sort_key
    item.gsi2pk, item.gsi2sk = action_index_key(entry.realm, entry.action), sort_key
    return item
