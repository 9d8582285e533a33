"""The task worker: an SQS-triggered function that runs queued tasks.

Each message is one task; failures are reported per message (Powertools batch
processing), so SQS retries only those, and after its ``maxReceiveCount`` moves them to
the dead-letter queue. A message delivered twice runs once (idempotency on its id).
"""

from __future__ import annotations

import functools
import os
from typing import Any

from chalice import Blueprint

from chalicelib.container import services

bp = Blueprint(__name__)

# Wiring, read once at import like every Chalice event source: the queue's name in the
# stage being packaged (`make run` and the tests use the default).
TASK_QUEUE_NAME = os.environ.get("MITROO_TASK_QUEUE_NAME", "mitroo-tasks")


def _run(record: Any, lambda_context: Any) -> None:
    from chalicelib.adapters.sqs_tasks import task_from_message

    task = task_from_message(record.body)
    runner = services().flows.tasks

    def run_once() -> dict[str, str]:
        runner.run(task)
        return {"kind": task.kind}

    services().idempotency.once("task", {"message_id": record.message_id}, run_once, lambda_context)


@bp.on_sqs_message(queue=TASK_QUEUE_NAME, batch_size=10, name="run_tasks")
def run_tasks(event: Any) -> dict[str, Any]:
    # Powertools' batch utility imports asyncio and more: load it in the worker only.
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(  # type: ignore[return-value]
        event=event.to_dict(),
        record_handler=functools.partial(_run, lambda_context=event.context),
        processor=processor,
        context=event.context,
    )
