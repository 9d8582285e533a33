"""Idempotent POSTs with Powertools' idempotency utility and its DynamoDB persistence.

A client that retries a POST which creates or sends (a lost response, a double click)
gets the first answer again instead of a second account or a second mail (SPEC §3).
The key is the client's ``Idempotency-Key`` header when it sends one (then a different
request under the same key is refused), else a SHA-256 of the request itself; only the
answer is stored, and only successful answers: a refused request runs again when retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from chalicelib.errors import FlowError, InvalidInput

log = logging.getLogger(__name__)


class RequestInProgress(FlowError):
    """The same request is being processed right now; try again in a moment."""

    code = "too_many_attempts"
    title = "The same request is already being processed."


class Idempotency:
    def __init__(self, *, table_name: str, client: Any, windows: dict[str, int]) -> None:
        self._store = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)
        self._windows = windows
        self._runners: dict[str, tuple[Callable[..., dict[str, Any]], IdempotencyConfig]] = {}

    def _runner(self, operation: str) -> tuple[Callable[..., dict[str, Any]], IdempotencyConfig]:
        if operation not in self._runners:
            config = IdempotencyConfig(
                event_key_jmespath="idempotency_key || request",
                payload_validation_jmespath="request",
                expires_after_seconds=self._windows[operation],
                hash_function="sha256",
                raise_on_no_idempotency_key=True,
            )

            def run(*, payload: dict[str, Any], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
                return compute()

            run.__qualname__ = run.__name__ = operation
            wrapped = idempotent_function(
                run,
                data_keyword_argument="payload",
                persistence_store=self._store,
                config=config,
                key_prefix=f"mitroo.{operation}",
            )
            self._runners[operation] = (wrapped, config)
        return self._runners[operation]

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
        run, config = self._runner(operation)
        if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
            # In-progress records then expire with the invocation (Powertools' advice).
            config.register_lambda_context(lambda_context)
        done: list[dict[str, Any]] = []

        def compute_once() -> dict[str, Any]:
            done.append(compute())
            return done[0]

        try:
            return run(payload={"idempotency_key": key, "request": payload}, compute=compute_once)
        except IdempotencyPersistenceLayerError:
            if not done:
                raise
            # The work is done; only its record could not be completed (the in-progress
            # record lapses with the invocation). Failing now would make the client, or SQS,
            # do it a second time: a second account attempt, a second mail.
            log.warning("idempotency record not completed", extra={"operation": operation})
            return done[0]
        except IdempotencyAlreadyInProgressError:
            raise RequestInProgress(retry_after=2) from None
        except IdempotencyValidationError:
            raise InvalidInput(
                "This Idempotency-Key was used for a different request.",
                errors={"Idempotency-Key": ["already used for a different request"]},
            ) from None
