"""Idempotent POSTs with Powertools' idempotency utility and its DynamoDB persistence.

A client that retries a POST which creates or sends (a lost response, a double click)
gets the first answer again instead of a second account or a second mail (SPEC §3).
The key is the client's ``Idempotency-Key`` header when it sends one (then a different
request under the same key is refused), else a SHA-256 of the request itself; only the
answer is stored, and only successful answers: a refused request runs again when retried.

Two rules keep that promise, and both are about state Powertools keeps in objects:

- **One persistence layer per operation.** Powertools' layer carries the key prefix and
  the record lifetime as attributes: ``configure`` (run by every call) rewrites the prefix,
  and only the first call's lifetime ever sticks. Shared between operations, a request
  that started under ``mitroo.esep-project`` finished under whichever operation configured
  the layer last — ``make run``'s task thread runs ``task`` while the API serves a request,
  and in AWS one invocation may run two operations — so a refused project deleted
  ``mitroo.task#…`` and its own in-progress record stayed to answer the retry 429 for the
  rest of the window (issue 12), and every operation lived as long as the first one used.
- **One configuration per call.** The Lambda context (whose deadline bounds the
  in-progress record) is registered in a configuration of this call alone, never in one
  that another thread's request shares. Without a context the record still gets a
  deadline (:data:`IN_PROGRESS_WITHOUT_CONTEXT`): an in-progress record never outlives the
  request that wrote it by more than that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from chalicelib.errors import FlowError, InvalidInput

log = logging.getLogger(__name__)

IN_PROGRESS_WITHOUT_CONTEXT = 30.0
"""Seconds an in-progress record of a call without a Lambda context blocks its duplicates
(API Gateway gives up on a request after 29 s)."""
RETRY_AFTER = 2
"""Seconds a duplicate that arrived while the first was running is told to wait."""


class RequestInProgress(FlowError):
    """The same request is being processed right now; try again in a moment."""

    code = "too_many_attempts"
    title = "The same request is already being processed."


class _Deadline:
    """A stand-in for a Lambda context: the time left until a fixed moment."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - time.monotonic()) * 1000))


class Idempotency:
    def __init__(self, *, table_name: str, client: Any, windows: dict[str, int]) -> None:
        self._table_name = table_name
        self._client = client
        self._windows = windows
        self._stores: dict[str, DynamoDBPersistenceLayer] = {}
        self._lock = threading.Lock()

    def _store(self, operation: str) -> DynamoDBPersistenceLayer:
        """This operation's persistence layer (made once: each registers a user-agent
        hook on the shared client)."""
        with self._lock:
            if operation not in self._stores:
                self._stores[operation] = DynamoDBPersistenceLayer(
                    table_name=self._table_name, boto3_client=self._client
                )
            return self._stores[operation]

    def _config(self, operation: str, lambda_context: Any) -> IdempotencyConfig:
        config = IdempotencyConfig(
            event_key_jmespath="idempotency_key || request",
            payload_validation_jmespath="request",
            expires_after_seconds=self._windows[operation],
            hash_function="sha256",
            raise_on_no_idempotency_key=True,
        )
        if lambda_context is None or not hasattr(lambda_context, "get_remaining_time_in_millis"):
            lambda_context = _Deadline(IN_PROGRESS_WITHOUT_CONTEXT)
        # The in-progress record then expires with the invocation (Powertools' advice).
        config.register_lambda_context(lambda_context)
        return config

    def once(
        self,
        operation: str,
        payload: dict[str, Any],
        compute: Callable[[], dict[str, Any]],
        lambda_context: Any = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        """``compute()`` at most once per ``key`` (or per ``payload``) within the window.

        Raises
        ------
        RequestInProgress
            the same request is running right now.
        InvalidInput
            ``key`` was used before with a different payload.
        IdempotencyPersistenceLayerError
            the store could not be read or written before ``compute`` ran (throttled,
            unavailable: the API answers 503, a task is retried).
        """
        done: list[dict[str, Any]] = []

        def run(*, payload: dict[str, Any]) -> dict[str, Any]:
            done.append(compute())
            return done[0]

        run.__qualname__ = run.__name__ = operation
        guarded = idempotent_function(
            run,
            data_keyword_argument="payload",
            persistence_store=self._store(operation),
            config=self._config(operation, lambda_context),
            key_prefix=f"mitroo.{operation}",
        )
        try:
            return guarded(payload={"idempotency_key": key, "request": payload})
        except IdempotencyPersistenceLayerError:
            if not done:
                raise
            # The work is done; only its record could not be completed (the in-progress
            # record lapses with the invocation). Failing now would make the client, or SQS,
            # do it a second time: a second account attempt, a second mail.
            log.warning("idempotency record not completed", extra={"operation": operation})
            return done[0]
        except (IdempotencyAlreadyInProgressError, IdempotencyInconsistentStateError):
            # Inconsistent: the record changed under us three times running (a duplicate
            # finishing or lapsing meanwhile); the next attempt sees where it settled.
            raise RequestInProgress(retry_after=RETRY_AFTER) from None
        except IdempotencyValidationError:
            raise InvalidInput(
                "This Idempotency-Key was used for a different request.",
                errors={"Idempotency-Key": ["already used for a different request"]},
            ) from None
