"""Which AWS failures mean "not now" (503, task retried) and which are answers or bugs."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyPersistenceLayerError
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from pynamodb.exceptions import CancellationReason, GetError, TransactWriteError, VerboseClientError

from chalicelib.adapters.aws_errors import is_transient


def _client_error(code: str, status: int = 400, **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": "…"}, "ResponseMetadata": {"HTTPStatusCode": status}, **extra}
    return ClientError(response, "Operation")


def _cancelled(*codes: str | None) -> TransactWriteError:
    reasons = [CancellationReason(code=code) if code else None for code in codes]
    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "…"}},
        "TransactWriteItems",
        cancellation_reasons=reasons,
    )
    return TransactWriteError("Failed to write transaction items", cause)


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "Throttling", "RequestThrottled", "SlowDown"],
)
def test_throttling_codes_are_transient(code: str) -> None:
    assert is_transient(_client_error(code))


def test_server_errors_and_unreachable_endpoints_are_transient() -> None:
    assert is_transient(_client_error("InternalServerError", 500))
    assert is_transient(_client_error("Whatever", 503))
    assert is_transient(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert is_transient(ReadTimeoutError(endpoint_url="http://127.0.0.1:1"))


def test_answers_are_not_transient() -> None:
    assert not is_transient(_client_error("ConditionalCheckFailedException"))
    assert not is_transient(_client_error("MessageRejected"))
    assert not is_transient(_client_error("ValidationException"))
    assert not is_transient(ValueError("a bug"))


def test_a_cancelled_transaction_is_transient_only_when_no_condition_failed() -> None:
    assert is_transient(_cancelled(None, "TransactionConflict"))
    assert is_transient(_cancelled("ThrottlingError", None))
    assert not is_transient(_cancelled("ConditionalCheckFailed", "TransactionConflict"))
    assert not is_transient(_cancelled("ConditionalCheckFailed"))
    # as botocore parses it, before pynamodb wraps it; no reasons at all decides nothing
    reasons = [{"Code": "None"}, {"Code": "TransactionConflict"}]
    assert is_transient(_client_error("TransactionCanceledException", CancellationReasons=reasons))
    assert not is_transient(_client_error("TransactionCanceledException"))


def test_wrapped_errors_are_followed_to_their_cause() -> None:
    throttled = _client_error("ProvisionedThroughputExceededException")
    assert is_transient(GetError("Failed to get item", throttled))
    try:
        raise IdempotencyPersistenceLayerError("Failed to save in progress record", throttled) from throttled
    except IdempotencyPersistenceLayerError as wrapped:
        assert is_transient(wrapped)
    try:
        try:
            raise throttled
        except ClientError:
            raise LookupError("decided otherwise") from None
    except LookupError as suppressed:
        assert not is_transient(suppressed)
