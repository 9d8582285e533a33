"""Faults at the AWS boundary, and a Lambda runtime whose invocations can time out.

**Where the faults go in.** A botocore ``before-send`` hook on the clients the app itself
built (``services().aws_clients``: pynamodb's client of the main table, Powertools'
idempotency client, SES, SQS, S3). The hook answers in place of the HTTP exchange with the
bytes AWS sends for that error: a JSON 1.0 body with ``__type`` for DynamoDB (and the
``CancellationReasons`` of a cancelled transaction), an XML ``ErrorResponse`` for SES's
query protocol. Everything above the socket runs as in production: botocore parses the
error, its standard retry mode retries what it deems retryable (throttling) with backoff
and counts each attempt, pynamodb wraps the ``ClientError`` with its cancellation reasons,
Powertools and the flows get exactly what AWS would hand them.

Why not the alternatives: a fault-injecting HTTP proxy in front of moto reaches the same
code (only urllib3 lies between the two), but needs the app rebuilt against another
endpoint and cannot stop a worker in the middle of its run; mocking flows or adapters
would skip the very layers (retries, error parsing, wrapping) under test; moto has no
throttling or transaction-conflict switch (it does refuse mail from an unverified sender:
``tests/integration/test_mail_failures.py`` uses that).

**The Lambda timeout.** :class:`LambdaRuntime` invokes the worker as Lambda does, with a
context whose deadline lies ``timeout`` seconds ahead (Powertools' idempotency gives its
in-progress record that lifetime). A :data:`LAMBDA_TIMEOUT` fault stops the function
where a test arms it (the call it was stuck in when time ran out), raising
:class:`LambdaTimeout`, a ``BaseException``: like the runtime killing the sandbox, nothing
after that point runs (no ``except Exception``, no Powertools clean-up, no partial batch
response), and the invocation ends at its deadline in error ("Task timed out").
:class:`FaultyPump` then leaves the batch in flight, as the SQS event source does, until
the test lets the visibility timeout pass.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import unquote_plus

from botocore.awsrequest import AWSResponse
from chalice.local import LambdaContext

from devtools.task_pump import TaskPump

Respond = Callable[[Any], AWSResponse]
"""Builds the response to one attempt from the prepared request (or raises)."""


class LambdaTimeout(BaseException):
    """The runtime stopping the function at its deadline: not an ``Exception``, so no
    handler in the app sees it, exactly as none runs when Lambda kills the sandbox."""


class TaskTimedOut(Exception):
    """An invocation that ended at its deadline, as the event source sees it."""


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _response(request: Any, status: int, body: bytes, content_type: str) -> AWSResponse:
    request_id = str(uuid.uuid4())
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        "x-amzn-RequestId": request_id,
        "Date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
    }
    return AWSResponse(request.url, status, headers, _Body(body))


def dynamodb_error(
    code: str, message: str, *, namespace: str = "com.amazonaws.dynamodb.v20120810", status: int = 400
) -> Respond:
    """A DynamoDB error as the service answers it (JSON 1.0, ``__type`` = namespace#code)."""

    def respond(request: Any) -> AWSResponse:
        body = json.dumps({"__type": f"{namespace}#{code}", "message": message}).encode()
        return _response(request, status, body, "application/x-amz-json-1.0")

    return respond


def transaction_cancelled(reason: str = "TransactionConflict", position: int = 0) -> Respond:
    """``TransactionCanceledException`` naming ``reason`` for the item at ``position`` and
    ``None`` for the others, one reason per item of the request, as DynamoDB lists them."""

    def respond(request: Any) -> AWSResponse:
        items = json.loads(request.body or b"{}").get("TransactItems", [])
        reasons = [
            {"Code": reason, "Message": "Transaction is ongoing for the item"}
            if index == min(position, len(items) - 1)
            else {"Code": "None"}
            for index in range(len(items))
        ]
        body = {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{', '.join(r['Code'] for r in reasons)}]",
            "CancellationReasons": reasons,
        }
        return _response(request, 400, json.dumps(body).encode(), "application/x-amz-json-1.0")

    return respond


def ses_error(code: str, message: str, *, status: int = 400) -> Respond:
    """An SES (v1, query protocol) error document."""

    def respond(request: Any) -> AWSResponse:
        body = (
            '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">'
            f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        ).encode()
        return _response(request, status, body, "text/xml")

    return respond


def sqs_error(code: str, message: str, *, status: int = 400) -> Respond:
    """An SQS error (JSON protocol, with the query-compatible error header SQS sends)."""

    def respond(request: Any) -> AWSResponse:
        body = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": message}).encode()
        response = _response(request, status, body, "application/x-amz-json-1.0")
        response.headers["x-amzn-query-error"] = f"{code};Sender"
        return response

    return respond


def _lambda_timeout(request: Any) -> NoReturn:
    raise LambdaTimeout("the function reached its deadline")


PROVISIONED_THROUGHPUT_EXCEEDED = dynamodb_error(
    "ProvisionedThroughputExceededException",
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API.",
)
DYNAMODB_THROTTLING = dynamodb_error(
    "ThrottlingException",
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
    "scaling your table or index so please try again shortly.",
    namespace="com.amazon.coral.availability",
)
TRANSACTION_CONFLICT = transaction_cancelled("TransactionConflict")
SES_THROTTLING = ses_error("Throttling", "Maximum sending rate exceeded.")
SES_MESSAGE_REJECTED = ses_error(
    "MessageRejected", "Email address is not verified. The following identities failed the check in region EU-WEST-1"
)
SQS_THROTTLED = sqs_error("RequestThrottled", "Request is throttled.")
LAMBDA_TIMEOUT: Respond = _lambda_timeout


@dataclass
class Rule:
    """Answer attempts at ``target`` (``<client role>.<Operation>``) with ``respond``:
    every matching attempt, or the first ``times``; ``when`` narrows by request body."""

    target: str
    respond: Respond
    times: int | None = None
    when: Callable[[str], bool] | None = None
    injected: int = 0

    def applies(self, target: str, body: str) -> bool:
        if target != self.target or (self.times is not None and self.injected >= self.times):
            return False
        return self.when is None or self.when(body)


class Faults:
    """Fault rules over the app's AWS clients; counts every attempt botocore makes."""

    def __init__(self, clients: Mapping[str, Any]) -> None:
        self._clients = dict(clients)
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._id = f"faults-{uuid.uuid4().hex}"
        self.attempts: Counter[str] = Counter()
        """Attempts per target, faulted or not (botocore's retries show up here)."""

    def install(self) -> Faults:
        for role, client in self._clients.items():
            client.meta.events.register("before-send", self._hook(role), unique_id=f"{self._id}-{role}")
        return self

    def uninstall(self) -> None:
        for role, client in self._clients.items():
            client.meta.events.unregister("before-send", unique_id=f"{self._id}-{role}")

    def inject(
        self, target: str, respond: Respond, *, times: int | None = None, when: Callable[[str], bool] | None = None
    ) -> Rule:
        role = target.split(".", 1)[0]
        if role not in self._clients:
            raise KeyError(f"no app client {role!r}; there are {sorted(self._clients)}")
        rule = Rule(target, respond, times, when)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """AWS recovers: every rule is lifted."""
        with self._lock:
            self._rules.clear()

    def _hook(self, role: str) -> Callable[..., AWSResponse | None]:
        def before_send(request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
            target = f"{role}.{event_name.rsplit('.', 1)[-1]}"
            body = _text(request.body)
            with self._lock:
                self.attempts[target] += 1
                rule = next((rule for rule in self._rules if rule.applies(target, body)), None)
                if rule is not None:
                    rule.injected += 1
            return rule.respond(request) if rule is not None else None

        return before_send


def _text(body: Any) -> str:
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return text if text.startswith("{") else unquote_plus(text)


class LambdaRuntime:
    """Invokes a function of the Chalice app with a context whose deadline is
    ``timeout`` seconds away. A :class:`LambdaTimeout` stands for the function hanging
    where it was stopped until the deadline: the invocation ends at the deadline (so
    whatever was in progress with it has lapsed) in :class:`TaskTimedOut`, as Lambda
    reports a timeout to its event source."""

    def __init__(self, app: Any, *, timeout: float = 2.0) -> None:
        self._app = app
        self.timeout = timeout
        self.timeouts = 0

    def invoke(self, name: str, payload: Any) -> Any:
        context = LambdaContext(name, memory_size=512, max_runtime_ms=int(self.timeout * 1000))
        deadline = time.time() + self.timeout
        try:
            return _Invoked(self._app.handler_map[name](payload, context))
        except LambdaTimeout:
            self.timeouts += 1
            time.sleep(max(0.0, deadline - time.time()) + 0.01)
            raise TaskTimedOut(f"{name}: Task timed out after {self.timeout:.2f} seconds") from None


@dataclass(frozen=True)
class _Invoked:
    payload: Any


class FaultyPump(TaskPump):
    """The SQS event source, with control over redelivery.

    A message whose invocation failed (error, timeout, or listed in the partial batch
    response) stays in flight until :meth:`visibility_timeout_passes`; with
    ``lose_deletes`` a message that succeeded is not deleted either (the delete after a
    successful batch never happened), so SQS delivers it again too.
    """

    def __init__(self, sqs: Any, queue_name: str, runtime: LambdaRuntime) -> None:
        super().__init__(sqs, queue_name, runtime)
        self._queue_name = queue_name
        self.runtime = runtime
        self.lose_deletes = False
        self.in_flight: dict[str, str] = {}
        """Message id → receipt handle of deliveries SQS will make again."""
        self.deliveries: Counter[str] = Counter()
        self.bodies: dict[str, dict[str, Any]] = {}

    def _deliver(self, messages: list[dict[str, Any]]) -> set[str]:
        for message in messages:
            self.deliveries[message["MessageId"]] += 1
            self.bodies[message["MessageId"]] = json.loads(message["Body"])
        failed = super()._deliver(messages)
        for message in messages:
            if message["MessageId"] in failed or self.lose_deletes:
                self.in_flight[message["MessageId"]] = message["ReceiptHandle"]
        if self.lose_deletes:
            return {message["MessageId"] for message in messages}  # nothing gets deleted
        return failed

    def visibility_timeout_passes(self) -> int:
        """SQS makes every message still in flight visible again; returns how many."""
        entries = [
            {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for n, handle in enumerate(self.in_flight.values())
        ]
        for start in range(0, len(entries), 10):
            self._sqs.change_message_visibility_batch(QueueUrl=self._url, Entries=entries[start : start + 10])
        self.in_flight.clear()
        return len(entries)

    def dead_letters(self) -> list[dict[str, Any]]:
        """The task bodies in the dead-letter queue (``{queue}-dlq``), taken out of it."""
        url = self._sqs.get_queue_url(QueueName=f"{self._queue_name}-dlq")["QueueUrl"]
        found: list[dict[str, Any]] = []
        while True:
            messages = self._sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return found
            found += [json.loads(message["Body"]) for message in messages]
            self._sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
            )

    def delivered(self, kind: str) -> list[tuple[str, int]]:
        """(message id, deliveries) of every message of task ``kind`` seen so far."""
        return [(mid, self.deliveries[mid]) for mid, body in self.bodies.items() if body.get("kind") == kind]
