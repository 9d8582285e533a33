"""Audit records in DynamoDB: beside nothing else, under the account, kept for two years."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.dynamodb.common import load, plain_map, store
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.audit import RETENTION, AuditEntry


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
        return [load(AuditEntry, item, details=plain_map(item.details)) for item in items]


def audit_item(models: BoundModels, entry: AuditEntry) -> Any:
    """The item of one audit record (also written inside other repositories' transactions)."""
    # The random suffix keeps two changes in the same microsecond apart.
    sort_key = f"{entry.at.isoformat()}#{secrets.token_hex(4)}"
    item = models.AuditItem(f"AUDIT#{entry.realm}#{entry.account_id}", sort_key)
    return store(item, entry, purge_at=entry.at + RETENTION)
