"""Running queued tasks: a table from task kind to the flow step that does the work."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from chalicelib.domain.audit import origin
from chalicelib.domain.tasks import Task

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, str]], None]


class UnknownTask(LookupError):
    """No handler for this kind: a bug or a message from a newer deployment."""


class TaskRunner:
    def __init__(self, handlers: Mapping[str, Handler]) -> None:
        self._handlers = dict(handlers)

    def run(self, task: Task) -> None:
        """Do ``task``; any exception leaves it to the queue to retry (then dead-letter)."""
        handler = self._handlers.get(task.kind)
        if handler is None:
            raise UnknownTask(task.kind)
        log.info("running task", extra={"task": task.kind})
        with origin("task"):  # what a task changes is audited as done by the queue's worker
            handler(dict(task.payload))

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self._handlers))
