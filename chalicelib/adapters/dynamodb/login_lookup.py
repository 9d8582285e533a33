"""A login's first read: the login record and the failure records, one BatchGetItem.

Two separate reads would add a round trip to every login; SPEC §5 wants a login to cost
about one password hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from chalicelib.adapters.dynamodb.accounts import guard_key, login_record
from chalicelib.adapters.dynamodb.counters import failure_key, live_failures
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.accounts import LoginRecord, UniqueKind
from chalicelib.domain.throttling import FailureRecord


class DynamoLoginLookup:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def read(
        self, realm: str, username: str, failure_keys: Sequence[str], *, now: datetime, memory: timedelta
    ) -> tuple[LoginRecord | None, dict[str, FailureRecord]]:
        login_key = guard_key(realm, UniqueKind.USERNAME, username)
        wanted = {failure_key(key): key for key in failure_keys}
        login, failures = None, {}
        # Item.batch_get returns each item as its own class (discriminator), strongly consistent.
        for item in self._m.Item.batch_get([login_key, *wanted], consistent_read=True):
            key = (item.pk, item.sk)
            if key == login_key:
                login = login_record(realm, item)
            elif key in wanted and (record := live_failures(item, now=now, memory=memory)) is not None:
                failures[wanted[key]] = record
        return login, failures
