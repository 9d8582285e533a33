"""Work done after the response: queued tasks (SQS in AWS, inline in unit tests)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Task:
    """A unit of deferred work: ``kind`` names the handler, ``payload`` holds ids only.

    Payloads carry identifiers, never secrets: the handler loads what it needs and mints
    tokens itself, so no link token or code ever sits in a queue.
    """

    kind: str
    payload: dict[str, str] = field(default_factory=dict)
    once: str | None = None
    """Tasks queued with the same ``once`` run at most once (within the worker's
    idempotency window), however often they were queued: a job resumed after its worker
    died queues again what the dead run may already have queued."""
