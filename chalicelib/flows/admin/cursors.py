"""Opaque, tamper-proof page cursors for the consoles' lists.

A list's next page starts where DynamoDB stopped (its LastEvaluatedKey): handed to a
client as is, that key would show index keys (folded e-mails and surnames) and let a
client start a page anywhere, or reuse a cursor with other filters than the ones that
produced it. So the position is *sealed* with the service's key (``ports.Sealer``:
authenticated encryption) together with the query it belongs to; a cursor that was
altered, is older than :data:`MAX_AGE`, or comes back with another query is refused
(422 ``invalid_input`` on ``cursor``), never followed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from chalicelib.errors import InvalidInput
from chalicelib.ports import Sealer

MAX_AGE = timedelta(hours=12)
MAX_LENGTH = 4096
"""A cursor longer than this is not one of ours (they are a few hundred characters)."""


def seal_cursor(sealer: Sealer, query: dict[str, Any], after: str | None) -> str | None:
    """The cursor of the page after this one (None when there is none)."""
    if after is None:
        return None
    return sealer.seal(json.dumps({"q": query, "a": after}, sort_keys=True, separators=(",", ":")).encode())


def open_cursor(sealer: Sealer, cursor: str | None, query: dict[str, Any]) -> str | None:
    """The position a cursor of ``query`` stands for (None without a cursor).

    Raises
    ------
    InvalidInput
        the cursor was not made by us for this very query, or is too old.
    """
    if not cursor:
        return None
    refused = InvalidInput(errors={"cursor": ["not a cursor of this list (it may be too old): start again"]})
    if len(cursor) > MAX_LENGTH:
        raise refused
    data = sealer.open(cursor, max_age=MAX_AGE)
    if data is None:
        raise refused
    try:
        payload = json.loads(data)
    except ValueError:
        raise refused from None
    if not isinstance(payload, dict) or payload.get("q") != query or not isinstance(payload.get("a"), str):
        raise refused
    return str(payload["a"])
