"""Tasks through Amazon SQS: the worker is the SQS-triggered function in ``web/workers.py``.

SQS redelivers a message whose handler failed, and after ``maxReceiveCount`` attempts
moves it to the dead-letter queue, so a mail that cannot be sent now is retried later
and never silently dropped.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.tasks import Task
from chalicelib.flows.errors import TaskQueueError

log = logging.getLogger(__name__)


class SqsTaskQueue:
    def __init__(self, client: Any, *, queue_name: str) -> None:
        self._client = client
        self._queue_name = queue_name
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = str(self._client.get_queue_url(QueueName=self._queue_name)["QueueUrl"])
        return self._url

    def enqueue(self, task: Task) -> None:
        body = json.dumps({"kind": task.kind, "payload": task.payload}, separators=(",", ":"))
        try:
            self._client.send_message(QueueUrl=self.url, MessageBody=body)
        except (ClientError, BotoCoreError) as exc:
            log.warning("task not queued: %s (%s)", task.kind, type(exc).__name__)
            raise TaskQueueError(task.kind) from exc


def task_from_message(body: str) -> Task:
    """The task in an SQS message body (as :meth:`SqsTaskQueue.enqueue` wrote it)."""
    data = json.loads(body)
    return Task(kind=str(data["kind"]), payload={str(k): str(v) for k, v in dict(data.get("payload", {})).items()})
