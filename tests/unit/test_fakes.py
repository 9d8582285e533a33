"""The test doubles themselves: deterministic, honest, and hard to misuse."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from chalicelib.domain.mail import MailMessage
from chalicelib.errors import IdentityProviderError, MailDeliveryError
from tests.fakes import START, FakeGsis, FastHasher, FixedClock, RecordingMailer, SequenceSecrets, make_identity


def test_the_clock_needs_an_aware_time_and_moves_only_when_told() -> None:
    with pytest.raises(ValueError):
        FixedClock(datetime(2025, 1, 1))
    clock = FixedClock(datetime.fromisoformat("2025-01-01T00:00:00+00:00"))
    assert clock.now() == clock.now()
    assert clock.advance(minutes=90) == datetime.fromisoformat("2025-01-01T01:30:00+00:00") == clock.now()


def test_secrets_are_distinct_url_safe_and_long_enough() -> None:
    secrets = SequenceSecrets()
    tokens = [secrets.token() for _ in range(3)]
    assert len(set(tokens)) == 3 and all(len(t) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", t) for t in tokens)
    assert [secrets.code(), secrets.code()] == ["100001", "100002"]
    assert [secrets.identifier(), secrets.identifier()] == ["id0001", "id0002"]


def test_the_hasher_verifies_only_the_right_password() -> None:
    hasher = FastHasher()
    stored = hasher.hash("secret")
    assert stored != "secret" and hasher.verify(stored, "secret") and not hasher.verify(stored, "Secret")
    hasher.waste_time("x")
    assert hasher.wasted == 1 and not hasher.needs_rehash(stored)


def test_the_mailer_renders_records_and_fails_on_request() -> None:
    mailer = RecordingMailer()
    context = {"realm_name": "R", "first_name": "", "link": "L", "code": "1", "expires_at": START, "login_url": "U"}
    message = MailMessage("activation", "a@example.gr", "en", context)
    mailer.fail_next(1)
    with pytest.raises(MailDeliveryError):
        mailer.send(message)
    assert mailer.send(message) == "fake-message-0001" and mailer.to("a@example.gr") == [message]
    assert "L" in mailer.rendered[0].text


def test_the_mailer_refuses_a_message_its_templates_cannot_render() -> None:
    with pytest.raises(Exception):
        RecordingMailer().send(MailMessage("activation", "a@example.gr", "en", {}))


def test_gsis_codes_work_once() -> None:
    gsis = FakeGsis()
    gsis.grant("c", make_identity())
    assert gsis.fetch_identity("c") == make_identity()
    with pytest.raises(IdentityProviderError):
        gsis.fetch_identity("c")
    assert gsis.authorization_url("s t").endswith("state=s+t")
