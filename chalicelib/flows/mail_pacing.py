"""Keeping mail within the SES sending rate (messages per second, account-wide).

A provisioning job queues thousands of welcome mails at once, and several worker
instances may drain them together. SES refuses what goes beyond the account's maximum
send rate; a refused mail would go back to the queue and, after a few refusals, to the
dead-letter queue. So every send first takes a slot in a one-second window counted in
DynamoDB (shared by all workers); when the window is full the worker waits for the next
second, and only after ``max_wait`` seconds of waiting gives the message back to the
queue (``MailDeliveryError``: SQS retries it later, the account is already there).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from chalicelib.domain.mail import MailMessage
from chalicelib.errors import MailDeliveryError
from chalicelib.ports import Clock, Counters, Mailer

WINDOW = timedelta(seconds=1)
KEY = "mail-send-rate"


@dataclass
class PacedMailer:
    """A :class:`~chalicelib.ports.Mailer` that sends at most ``per_second`` mails a second."""

    mailer: Mailer
    counters: Counters
    clock: Clock
    per_second: int
    max_wait: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def send(self, message: MailMessage) -> str:
        waited = 0.0
        while True:
            now = self.clock.now()
            if self.counters.increment(KEY, window=WINDOW, now=now) <= self.per_second:
                return self.mailer.send(message)
            pause = 1.0 - (now.timestamp() % 1.0) + 0.001  # into the next window
            if waited + pause > self.max_wait:
                raise MailDeliveryError("sending rate exhausted; the queue retries later")
            self.sleep(pause)
            waited += pause
