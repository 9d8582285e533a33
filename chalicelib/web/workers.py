"""The task worker: an SQS-triggered function that runs queued tasks.

Each message is one task; failures are reported per message (Powertools batch
processing, ``ReportBatchItemFailures`` on the event source mapping), so SQS retries
only those, and after its ``maxReceiveCount`` moves them to the dead-letter queue. A
message delivered twice runs once (idempotency on its id), and tasks queued more than
once under one ``once`` key run once (idempotency on that key).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from chalice import Blueprint

from chalicelib.container import services
from chalicelib.web.endpoints import count

log = logging.getLogger(__name__)

bp = Blueprint(__name__)


def _run(record: Any, lambda_context: Any) -> None:
    from chalicelib.adapters.sqs_tasks import task_from_message

    task = task_from_message(record.body)
    runner = services().flows.tasks

    def run_once() -> dict[str, str]:
        runner.run(task)
        return {"kind": task.kind}

    key = {"once": task.once} if task.once is not None else {"message_id": record.message_id}
    try:
        services().idempotency.once("task", key, run_once, lambda_context)
    except Exception:
        _note_last_attempt(task.kind, record)
        raise


def _note_last_attempt(kind: str, record: Any) -> None:
    """A back-channel logout that failed its last delivery goes to the dead-letter queue:
    count it, so the alarm on ``BackchannelLogoutDeadLettered`` names what was lost."""
    from chalicelib.flows.session_ending import BACKCHANNEL_LOGOUT

    if kind != BACKCHANNEL_LOGOUT:
        return
    try:
        received = int((record.attributes or {}).get("ApproximateReceiveCount", "0"))
    except (TypeError, ValueError, AttributeError):
        return
    if received >= services().settings.task_max_receives:
        log.error("back-channel logout dead-lettered", extra={"receive_count": received})
        count("BackchannelLogoutDeadLettered")


@bp.lambda_function(name="run_tasks")
def run_tasks(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The SQS event source mapping (batches of 10, partial batch responses) is declared
    by the infrastructure (``infra/``), which owns the queue: no queue name is needed at
    import, so one package serves every stage."""
    # Powertools' batch utility imports asyncio and more: load it in the worker only.
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(  # type: ignore[return-value]
        event=event,
        record_handler=functools.partial(_run, lambda_context=context),
        processor=processor,
        context=context,
    )
