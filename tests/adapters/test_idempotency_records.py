"""The idempotency records themselves (``chalicelib/adapters/idempotency.py``), on the test
emulator over HTTP: which record a request writes, under which operation, for how long,
and that nothing a request leaves behind outlives it unless it succeeded.

Issue 12 was a retry answered 429 "already being processed" after a refused POST. The
cause: every operation shared one Powertools persistence layer, whose ``configure`` rewrites
its key prefix on each call (and keeps the first operation's lifetime for good). ``make
run``'s task thread (the SQS trigger's stand-in) runs the ``task`` operation while the API
serves a request, so a refused project's clean-up deleted ``mitroo.task#<hash>`` instead of
its own ``mitroo.esep-project#<hash>``, and its in-progress record stayed to block the retry.
In AWS the same happens whenever one invocation runs two operations one inside the other.
These tests interleave two operations deterministically (events, not sleeps).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from chalicelib.adapters.idempotency import Idempotency, RequestInProgress
from chalicelib.container import IDEMPOTENCY_WINDOWS
from chalicelib.errors import InvalidInput

OPERATIONS = sorted(IDEMPOTENCY_WINDOWS)


@pytest.fixture
def store(aws_endpoint: str) -> Iterator[tuple[Idempotency, Any, str]]:
    """A fresh Idempotency over this test process's idempotency table, and a raw client."""
    client = boto3.client("dynamodb", region_name=os.environ["AWS_REGION"], endpoint_url=aws_endpoint)
    table = os.environ["MITROO_IDEMPOTENCY_TABLE_NAME"]
    yield Idempotency(table_name=table, client=client, windows=IDEMPOTENCY_WINDOWS), client, table


def _records(client: Any, table: str, operation: str) -> set[str]:
    """The ids of every record of ``operation`` in the table."""
    found: set[str] = set()
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        found |= {item["id"]["S"] for item in page["Items"] if item["id"]["S"].startswith(f"mitroo.{operation}#")}
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _other(operation: str) -> str:
    return "task" if operation != "task" else "esep-project"


def _while(other: Callable[[], Any]) -> tuple[Callable[[], None], threading.Thread]:
    """A thread that runs ``other`` once the returned ``signal`` is called, and a wait
    that returns when it finished: the request under test calls ``signal`` and waits
    inside its own work, so ``other`` runs exactly while it is in progress."""
    go, done = threading.Event(), threading.Event()

    def run() -> None:
        go.wait(10)
        try:
            other()
        finally:
            done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def signal_and_wait() -> None:
        go.set()
        assert done.wait(10), "the other operation never finished"

    return signal_and_wait, thread


class Context:
    """A Lambda context whose deadline lies ``seconds`` ahead."""

    def __init__(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_refused_request_leaves_nothing_while_another_operation_runs(
    store: tuple[Idempotency, Any, str], operation: str
) -> None:
    idempotency, client, table = store
    payload = {"request": uuid.uuid4().hex}
    other = _other(operation)
    # Given another operation (the task worker, say) that runs while this request is in progress
    signal, thread = _while(lambda: idempotency.once(other, {"message_id": uuid.uuid4().hex}, lambda: {"ok": "1"}))

    def refused() -> dict[str, Any]:
        signal()
        raise InvalidInput(errors={"partner_id": ["the partner must be one of your contacts"]})

    # When the request is refused
    with pytest.raises(InvalidInput):
        idempotency.once(operation, payload, refused, Context(60))
    thread.join(10)

    # Then no record of it is left, and the same request sent again runs again
    assert f"mitroo.{operation}#{_key_hash(payload)}" not in _records(client, table, operation)
    assert idempotency.once(operation, payload, lambda: {"created": "yes"}, Context(60)) == {"created": "yes"}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_finished_request_is_answered_again_while_another_operation_ran_meanwhile(
    store: tuple[Idempotency, Any, str], operation: str
) -> None:
    idempotency, _client, _table = store
    payload = {"request": uuid.uuid4().hex}
    other = _other(operation)
    signal, thread = _while(lambda: idempotency.once(other, {"message_id": uuid.uuid4().hex}, lambda: {"ok": "1"}))
    runs: list[int] = []

    def work() -> dict[str, Any]:
        signal()
        runs.append(1)
        return {"id": "first"}

    # Given a request that succeeded while another operation ran
    assert idempotency.once(operation, payload, work, Context(60)) == {"id": "first"}
    thread.join(10)

    # When it is retried, Then it gets the first answer without running again
    assert idempotency.once(operation, payload, lambda: {"id": "second"}, Context(60)) == {"id": "first"}
    assert runs == [1]


def test_each_operation_keeps_its_answers_for_its_own_window(store: tuple[Idempotency, Any, str]) -> None:
    idempotency, client, table = store
    # Given one request of each operation, the first-configured ones first
    started = int(time.time())
    payloads = {operation: {"request": uuid.uuid4().hex} for operation in OPERATIONS}
    for operation, payload in payloads.items():
        idempotency.once(operation, payload, lambda: {"ok": "1"}, Context(60))

    # Then each record expires after its own operation's window
    for operation, payload in payloads.items():
        key = {"id": {"S": f"mitroo.{operation}#{_key_hash(payload)}"}}
        record = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        left = int(record["expiration"]["N"]) - started
        assert IDEMPOTENCY_WINDOWS[operation] <= left <= IDEMPOTENCY_WINDOWS[operation] + 5, (operation, left)


def test_a_concurrent_duplicate_gets_429_with_retry_after_and_its_retry_gets_the_first_answer(
    store: tuple[Idempotency, Any, str],
) -> None:
    idempotency, _client, _table = store
    payload = {"request": uuid.uuid4().hex}
    inside, release = threading.Event(), threading.Event()
    runs: list[int] = []
    first: dict[str, Any] = {}

    def slow() -> dict[str, Any]:
        runs.append(1)
        inside.set()
        assert release.wait(10)
        return {"id": "first"}

    thread = threading.Thread(target=lambda: first.update(idempotency.once("esep-project", payload, slow, Context(60))))
    thread.start()
    assert inside.wait(10)

    # When the same request arrives while the first is running
    with pytest.raises(RequestInProgress) as duplicate:
        idempotency.once("esep-project", payload, lambda: {"id": "second"}, Context(60))
    release.set()
    thread.join(10)

    # Then it was told to come back (429 with Retry-After), and coming back gets the first answer
    assert duplicate.value.code == "too_many_attempts" and duplicate.value.retry_after
    assert idempotency.once("esep-project", payload, lambda: {"id": "second"}, Context(60)) == {"id": "first"}
    assert first == {"id": "first"} and runs == [1]


class Killed(BaseException):
    """The runtime stopping an invocation at its deadline: no handler in the app runs."""


def test_the_in_progress_record_of_a_request_that_was_killed_lapses_with_its_invocation(
    store: tuple[Idempotency, Any, str],
) -> None:
    idempotency, _client, _table = store
    payload = {"request": uuid.uuid4().hex}

    def killed() -> dict[str, Any]:
        raise Killed

    # Given a request killed (no clean-up) in an invocation that had half a second left
    with pytest.raises(Killed):
        idempotency.once("registration", payload, killed, Context(0.5))
    with pytest.raises(RequestInProgress):
        idempotency.once("registration", payload, lambda: {"id": "retry"}, Context(60))

    # When its invocation's deadline has passed, Then the retry runs (the emulator applies
    # Powertools' condition on the in-progress expiry)
    time.sleep(0.6)
    assert idempotency.once("registration", payload, lambda: {"id": "retry"}, Context(60)) == {"id": "retry"}


def test_a_request_without_a_lambda_context_still_bounds_its_in_progress_record(
    store: tuple[Idempotency, Any, str],
) -> None:
    idempotency, client, table = store
    payload = {"request": uuid.uuid4().hex}
    key = {"id": {"S": f"mitroo.support-ticket#{_key_hash(payload)}"}}
    seen: list[dict[str, Any]] = []

    def look() -> dict[str, Any]:
        seen.append(client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])
        return {"ok": "1"}

    # When a request runs with no Lambda context (a CLI, a test)
    idempotency.once("support-ticket", payload, look)

    # Then its in-progress record carried a deadline of its own, far shorter than the window
    assert seen[0]["status"]["S"] == "INPROGRESS"
    left = int(seen[0].get("in_progress_expiration", {"N": "0"})["N"]) / 1000 - time.time()
    assert 0 < left <= 60, left


def _key_hash(payload: dict[str, Any]) -> str:
    import hashlib
    import json

    # Powertools' key: sha256 of the JSON of ``idempotency_key || request`` (sorted keys).
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
