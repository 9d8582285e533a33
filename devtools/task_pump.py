"""Deliver queued tasks to the worker, as Lambda's SQS event source mapping would.

``chalice local`` and the test client run no event sources, so this reads the task
queue, builds the SQS event Lambda would send, invokes the worker function through the
Chalice test client, and deletes the messages the worker did not report as failed.
Failed ones become visible again after their visibility timeout, as in AWS.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

WORKER = "run_tasks"
log = logging.getLogger(__name__)


class TaskPump:
    def __init__(self, sqs: Any, queue_name: str, lambda_client: Any) -> None:
        self._sqs = sqs
        self._url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self._arn = sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self._lambda = lambda_client
        self._lock = threading.Lock()

    def drain(self, *, max_rounds: int = 50) -> int:
        """Deliver every visible message (tasks may queue more); returns how many ran."""
        delivered = 0
        with self._lock:
            for _ in range(max_rounds):
                messages = self._sqs.receive_message(
                    QueueUrl=self._url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
                ).get("Messages", [])
                if not messages:
                    break
                failed = self._deliver(messages)
                done = [m for m in messages if m["MessageId"] not in failed]
                if done:
                    self._sqs.delete_message_batch(
                        QueueUrl=self._url,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                    )
                delivered += len(done)
                # Failed messages stay in flight until their visibility timeout (as in AWS),
                # so the next receive sees only the rest of the queue.
        return delivered

    def _deliver(self, messages: list[dict[str, Any]]) -> set[str]:
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m.get("MD5OfBody", ""),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self._arn,
                    "awsRegion": self._arn.split(":")[3],
                }
                for m in messages
            ]
        }
        try:
            response = self._lambda.invoke(WORKER, event)
        except Exception:
            log.warning("task batch failed; its messages stay queued", exc_info=True)
            return {m["MessageId"] for m in messages}
        payload = response.payload or {}
        return {item["itemIdentifier"] for item in payload.get("batchItemFailures", [])}

    def run_forever(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Poll until ``stop`` is set (``make run``)."""
        while not stop.wait(interval):
            self.drain()
