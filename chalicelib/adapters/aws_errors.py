"""Telling "AWS could not serve this right now" apart from every other failure.

botocore retries throttling and transient errors itself (standard retry mode, see
:func:`chalicelib.container.aws_config`); what still reaches our code after those attempts
is one of:

- a ``ClientError`` whose code says the service is throttling us or briefly unavailable
  (``ProvisionedThroughputExceededException``, ``ThrottlingException``, SES's
  ``Throttling``, SQS's ``RequestThrottled``, ``ServiceUnavailable``…) or whose status is
  5xx;
- a DynamoDB ``TransactionCanceledException`` whose only reasons are transient
  (``TransactionConflict``: another transaction held an item; ``ThrottlingError``,
  ``ProvisionedThroughputExceeded``): nothing was written and trying again may succeed,
  unlike a failed condition, which is an answer;
- botocore's connection and timeout errors (the endpoint could not be reached).

These arrive wrapped: pynamodb raises ``PutError``/``TransactWriteError``… with the
``ClientError`` as ``cause`` (and ``__cause__``), Powertools raises
``IdempotencyPersistenceLayerError`` from it. :func:`is_transient` follows the chain.

The API answers such a request ``503 service_unavailable`` with ``Retry-After``; a task
that meets one fails and SQS delivers it again later.

botocore is imported only when an error is examined, never at cold start.
"""

from __future__ import annotations

from typing import Any

THROTTLING_CODES = frozenset(
    {
        "Throttling",  # SES: "Maximum sending rate exceeded." / "Daily message quota exceeded."
        "ThrottlingException",  # DynamoDB (on-demand tables), most JSON services
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",  # DynamoDB (provisioned capacity)
        "RequestLimitExceeded",  # DynamoDB: the account's throughput limit
        "TransactionInProgressException",  # DynamoDB: same client token still running
        "RequestThrottled",  # SQS
        "RequestThrottledException",
        "SlowDown",  # S3
        "BandwidthLimitExceeded",
        "PriorRequestNotComplete",
    }
)
"""Error codes of a service that is pacing us (botocore retries the same list)."""

UNAVAILABLE_CODES = frozenset(
    {
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",  # DynamoDB
        "InternalFailure",
        "InternalError",  # S3, SQS
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
"""Error codes of a service that failed on its side (usually with a 5xx status)."""

TRANSIENT_CANCELLATION_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
"""``TransactionCanceledException`` reasons that say "not now" rather than "no"."""


def is_transient(error: BaseException | None) -> bool:
    """True when ``error`` (or an error it was raised from) says AWS could not serve the
    call right now, so the same request may succeed later."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if _transient_here(error):
            return True
        context = None if error.__suppress_context__ else error.__context__
        error = getattr(error, "cause", None) or error.__cause__ or context
    return False


def _transient_here(error: BaseException) -> bool:
    reasons = [reason for reason in getattr(error, "cancellation_reasons", None) or () if reason is not None]
    if reasons:  # pynamodb's view of a cancelled transaction, one reason per item
        codes = {str(getattr(reason, "code", "")) for reason in reasons}
        return codes <= TRANSIENT_CANCELLATION_REASONS
    response = getattr(error, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        code = str(response["Error"].get("Code") or "")
        if code == "TransactionCanceledException":
            return _transient_cancellation(response)
        status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
        return code in THROTTLING_CODES or code in UNAVAILABLE_CODES or status >= 500
    if type(error).__module__.startswith("botocore"):
        from botocore.exceptions import ConnectionError, HTTPClientError

        return isinstance(error, ConnectionError | HTTPClientError)
    return False


def _transient_cancellation(response: dict[str, Any]) -> bool:
    """A ``TransactionCanceledException`` as botocore parsed it (``CancellationReasons``)."""
    reasons = response.get("CancellationReasons") or ()
    codes = {str(reason.get("Code")) for reason in reasons if isinstance(reason, dict)}
    codes.discard("None")
    return bool(codes) and codes <= TRANSIENT_CANCELLATION_REASONS
