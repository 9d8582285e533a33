"""Tasks through Amazon SQS: the worker is the SQS-triggered function in ``web/workers.py``.

SQS redelivers a message whose handler failed, and after ``maxReceiveCount`` attempts
moves it to the dead-letter queue, so a mail that cannot be sent now is retried later
and never silently dropped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.tasks import Task
from chalicelib.errors import TaskQueueError

log = logging.getLogger(__name__)

BATCH = 10
"""SQS's limit of messages in one SendMessageBatch."""


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
        try:
            self._client.send_message(QueueUrl=self.url, MessageBody=_body(task))
        except (ClientError, BotoCoreError) as exc:
            log.warning("task not queued: %s (%s)", task.kind, type(exc).__name__)
            raise TaskQueueError(task.kind) from exc

    def enqueue_many(self, tasks: Sequence[Task]) -> None:
        """SendMessageBatch, ten a call; entries SQS reports as failed are sent again once."""
        for start in range(0, len(tasks), BATCH):
            batch = {str(n): task for n, task in enumerate(tasks[start : start + BATCH])}
            for _attempt in range(2):
                entries = [{"Id": key, "MessageBody": _body(task)} for key, task in batch.items()]
                try:
                    answer = self._client.send_message_batch(QueueUrl=self.url, Entries=entries)
                except (ClientError, BotoCoreError) as exc:
                    log.warning("tasks not queued (%s)", type(exc).__name__)
                    raise TaskQueueError("batch") from exc
                batch = {entry["Id"]: batch[entry["Id"]] for entry in answer.get("Failed", [])}
                if not batch:
                    break
            if batch:
                log.warning("tasks not queued: %d of a batch", len(batch))
                raise TaskQueueError("batch")


def _body(task: Task) -> str:
    body: dict[str, object] = {"kind": task.kind, "payload": task.payload}
    if task.once is not None:
        body["once"] = task.once
    return json.dumps(body, separators=(",", ":"))


def task_from_message(body: str) -> Task:
    """The task in an SQS message body (as :meth:`SqsTaskQueue.enqueue` wrote it)."""
    data = json.loads(body)
    payload = {str(k): str(v) for k, v in dict(data.get("payload", {})).items()}
    once = data.get("once")
    return Task(kind=str(data["kind"]), payload=payload, once=str(once) if once is not None else None)
