"""Mail pacing: never more than the SES rate in any second, waiting rather than failing."""

from __future__ import annotations

from collections import Counter

import pytest

from chalicelib.domain.mail import MailMessage
from chalicelib.errors import MailDeliveryError
from chalicelib.flows.mail_pacing import PacedMailer
from tests.fakes import START, FixedClock, InMemoryCounters, RecordingMailer


def _message(number: int) -> MailMessage:
    return MailMessage(to=f"person{number}@example.gr", template="password_setup", language="el", context={})


def test_a_burst_is_spread_over_seconds_at_the_rate() -> None:
    # Given a rate of 5 a second and a clock that the waiting moves on
    clock = FixedClock(START)
    sent_at: list[int] = []
    recording = RecordingMailer(render=False)

    class Timed:
        def send(self, message: MailMessage) -> str:
            sent_at.append(int(clock.now().timestamp()))
            return recording.send(message)

    mailer = PacedMailer(Timed(), InMemoryCounters(), clock, per_second=5, sleep=lambda s: clock.advance(seconds=s))

    # When 23 mails are sent at once
    for number in range(23):
        mailer.send(_message(number))

    # Then all went out, at most 5 in any one second, over 5 seconds
    assert len(recording.sent) == 23
    per_second = Counter(sent_at)
    assert max(per_second.values()) == 5 and len(per_second) == 5


def test_a_mail_that_would_wait_too_long_goes_back_to_the_queue() -> None:
    clock = FixedClock(START)
    recording = RecordingMailer(render=False)
    mailer = PacedMailer(recording, InMemoryCounters(), clock, per_second=1, max_wait=0.5, sleep=lambda s: None)
    mailer.send(_message(1))
    with pytest.raises(MailDeliveryError):
        mailer.send(_message(2))  # the clock never moves: the window stays full
    assert len(recording.sent) == 1
