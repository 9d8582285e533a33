"""What the abuse tests look at besides the answer: what was written, and what SES got.

``written`` snapshots the main table before the hostile request and lists every item
added or changed after it, leaving out the rate-limit and back-off counters (a refused
request is *meant* to count). ``ses_wire`` records every ``SendEmail`` request the app's
SES client puts on the wire, decoded from the form-encoded body exactly as SES parses it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

COUNTER_PREFIXES = ("RATE#", "ATTEMPTS#")
"""Rate-limit windows and attempt reservations: written by refused attempts on purpose."""


def _main_table() -> Any:
    import boto3

    from chalicelib.container import services

    settings = services().settings
    dynamodb = boto3.resource("dynamodb", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    return dynamodb.Table(settings.table_name)


def _items(table: Any) -> dict[tuple[str, str], dict[str, Any]]:
    items: dict[tuple[str, str], dict[str, Any]] = {}
    scan: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**scan)
        for item in page["Items"]:
            items[(str(item["PK"]), str(item["SK"]))] = item
        if "LastEvaluatedKey" not in page:
            return items
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class Ledger:
    """The main table as it was when taken; :meth:`changes` is what was written since."""

    def __init__(self) -> None:
        self._table = _main_table()
        self._before = _items(self._table)

    def changes(self, *, counters: bool = False) -> list[tuple[str, str]]:
        """Keys of items added or changed since the snapshot (sorted), counters left out
        unless asked for."""
        after = _items(self._table)
        changed = [key for key, item in after.items() if self._before.get(key) != item]
        if not counters:
            changed = [key for key in changed if not key[0].startswith(COUNTER_PREFIXES)]
        return sorted(changed)


@pytest.fixture
def written(browser: object) -> Callable[[], Ledger]:
    """``ledger = written()`` before the hostile request, ``ledger.changes()`` after."""
    return Ledger


@pytest.fixture
def ses_wire(browser: object) -> Iterator[list[dict[str, list[str]]]]:
    """Every SendEmail request of this test as SES receives it: the form fields of the
    Query API body (``Destination.ToAddresses.member.1``, ``ReplyToAddresses.member.1``,
    ``Message.Subject.Data``, ``Source``…), each with every value sent."""
    from chalicelib.container import services

    client = services().ports.mailer.mailer._client  # type: ignore[attr-defined]  # PacedMailer(SesMailer)
    seen: list[dict[str, list[str]]] = []

    def record(request: Any, **_: Any) -> None:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        seen.append(parse_qs(body, keep_blank_values=True))

    client.meta.events.register("before-send.ses.SendEmail", record)
    try:
        yield seen
    finally:
        client.meta.events.unregister("before-send.ses.SendEmail", record)
