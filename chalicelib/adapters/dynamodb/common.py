"""What every DynamoDB repository shares: transactions, single-use reads, item mapping."""

from __future__ import annotations

import dataclasses
import enum
import random
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.identity import GsisIdentity

T = TypeVar("T")
_ITEM_KEYS = frozenset({"pk", "sk", "kind", "purge_at"})
CONFLICT_RETRIES = 4


def conditional_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def transact(models: BoundModels, build: Callable[[TransactWrite], None]) -> None:
    """Run a write transaction, retrying only when DynamoDB reports a conflict.

    A ``TransactionConflict`` means another transaction touched the same items at the
    same moment; the outcome is still undecided, so trying again is correct. Condition
    failures are final and surface as :class:`TransactWriteError`.
    """
    connection = models.Item._get_connection().connection
    for attempt in range(CONFLICT_RETRIES):
        try:
            with TransactWrite(connection=connection) as transaction:
                build(transaction)
            return
        except TransactWriteError as exc:
            codes = {reason.code for reason in (exc.cancellation_reasons or []) if reason}
            if "TransactionConflict" not in codes or "ConditionalCheckFailed" in codes:
                raise
            if attempt == CONFLICT_RETRIES - 1:
                raise
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))


def failed_positions(exc: TransactWriteError) -> set[int]:
    """Positions of the transaction's items whose condition failed."""
    return {
        position
        for position, reason in enumerate(exc.cancellation_reasons or [])
        if reason is not None and reason.code == "ConditionalCheckFailed"
    }


def condition_refused(exc: TransactWriteError) -> bool:
    """Whether a cancelled transaction was refused by a condition (or cancelled without
    reasons, as some emulators answer): final, unlike throttling or a conflict, which
    decided nothing."""
    cancelled = exc.cause_response_code == "TransactionCanceledException"
    return bool(failed_positions(exc)) or (cancelled and not exc.cancellation_reasons)


def take(item_class: Any, pk: str, sk: str) -> Any | None:
    """Read an item and delete it with a condition: only one caller gets it."""
    try:
        item = item_class.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return None
    try:
        item.delete(condition=item_class.pk.exists())
    except DeleteError as exc:
        if conditional_failed(exc):
            return None
        raise
    return item


def store(item: Any, value: Any, *, skip: Iterable[str] = (), purge_at: datetime | None = None) -> Any:
    """Copy a domain dataclass onto the same-named attributes of a PynamoDB item.

    Enums are stored by value, tuples as lists, identities as maps; ``skip`` names fields
    that live in the key instead. ``purge_at`` sets the TTL attribute.
    """
    skipped = set(skip)
    clash = {field.name for field in dataclasses.fields(value)} & (_ITEM_KEYS - skipped)
    if clash:
        raise ValueError(f"{type(value).__name__} fields {sorted(clash)} would overwrite the item's own")
    for field in dataclasses.fields(value):
        if field.name not in skipped:
            setattr(item, field.name, _stored(getattr(value, field.name)))
    if purge_at is not None:
        item.purge_at = purge_at
    return item


def load(cls: type[T], item: Any, **known: Any) -> T:
    """Build the dataclass ``cls`` from the same-named attributes of ``item``.

    ``known`` supplies fields the item holds differently (key parts, enums, maps).
    """
    values = {field.name: getattr(item, field.name) for field in dataclasses.fields(cls) if field.name not in known}  # type: ignore[arg-type]
    return cls(**values, **known)


def _stored(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, GsisIdentity):
        return identity_map(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def day(value: str | None) -> date | None:
    """An ISO date attribute back as a date."""
    return date.fromisoformat(value) if value else None


def identity_map(identity: GsisIdentity) -> dict[str, str]:
    return {**identity.public_fields(), "userid": identity.userid}


def identity_from(stored: Any) -> GsisIdentity:
    data = plain_map(stored)
    return GsisIdentity(
        afm=data["afm"],
        last_name=data["last_name"],
        first_name=data["first_name"],
        father_name=data.get("father_name", ""),
        mother_name=data.get("mother_name", ""),
        birth_year=data.get("birth_year", ""),
        userid=data.get("userid", ""),
    )


def plain_map(mapping: Any) -> dict[str, str]:
    """A PynamoDB map attribute (or None) as a plain ``dict[str, str]``."""
    data = mapping.as_dict() if hasattr(mapping, "as_dict") else dict(mapping or {})
    return {str(key): str(value) for key, value in data.items() if value is not None}


_POOL: Any = None


def together(*calls: Callable[[], T]) -> list[T]:
    """Run independent DynamoDB calls at the same time: one round trip of latency for
    all of them instead of one each (a login's first step reads and reserves at once).

    The first call runs in this thread; exceptions propagate as from a plain call.
    """
    if len(calls) <= 1:
        return [call() for call in calls]
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dynamodb")
    pending = [_POOL.submit(call) for call in calls[1:]]
    first = calls[0]()
    return [first, *(future.result() for future in pending)]


def one_page(results: Any, model: Any) -> tuple[list[Any], str | None]:
    """The items of the *first* page of a pynamodb Query (``page_size`` = DynamoDB's
    ``Limit``) and where the next page starts, as JSON (None after the last page).

    pynamodb's own iteration would fetch further pages until its ``limit`` of *returned*
    items is met; a console page must read one DynamoDB page and stop, so its cost is
    ``Limit`` items whatever a filter keeps.
    """
    import json

    page = next(results.page_iter)
    items = [model.from_raw_data(raw) for raw in page.get("Items", [])]
    last = page.get("LastEvaluatedKey")
    return items, (json.dumps(last, sort_keys=True) if last else None)


def start_key(after: str | None) -> Any:
    """A page's ``after`` (from :func:`one_page`) back as DynamoDB's ExclusiveStartKey."""
    import json

    if not after:
        return None
    value = json.loads(after)
    if not isinstance(value, dict):
        raise ValueError("not a position of a page")
    return value
