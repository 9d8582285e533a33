"""SPEC §3: no password, token, code or full AFM in any log line, across a whole journey
(register, failed mail, resend, wrong code, activate, login, refresh, replay, logout)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.domain.identity import GsisIdentity
from chalicelib.errors import FlowError
from tests.fakes import Kit

PASSWORD = "Passw0rd!"
EMAIL = "maria@example.gr"


def _journey(kit: Kit, maria: GsisIdentity) -> list[str]:
    """Run every flow step that logs; returns the secrets a log must never contain."""
    kit.mailer.fail_next(1)
    kit.register(maria, EMAIL, PASSWORD)
    kit.activation.resend(kit.realm, EMAIL)
    context = kit.mailer.to(EMAIL)[-1].context
    token, code = parse_qs(urlsplit(context["link"]).query)["token"][0], context["code"]
    with pytest.raises(FlowError):
        kit.activation.activate_by_code(kit.realm, EMAIL, "999999")
    kit.activation.activate_by_token(kit.realm, token)
    with pytest.raises(FlowError):
        kit.sessions.login(kit.realm, EMAIL, "Wr0ng!pass")
    with pytest.raises(FlowError):
        kit.sessions.login(kit.realm, "nobody@example.gr", "Wr0ng!pass")
    first = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    second = kit.sessions.refresh(kit.realm, first.refresh_token)
    with pytest.raises(FlowError):
        kit.sessions.refresh(kit.realm, first.refresh_token)
    third = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    kit.sessions.logout(kit.realm, kit.sessions.authenticate(kit.realm, third.access_token))
    return [
        PASSWORD,
        "Wr0ng!pass",
        maria.afm,
        token,
        code,
        "999999",
        first.refresh_token,
        second.refresh_token,
        third.access_token,
    ]


def test_no_secret_reaches_a_log_record(kit: Kit, maria: GsisIdentity, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = _journey(kit, maria)
    assert caplog.records, "the journey is expected to log something"
    for record in caplog.records:
        text = record.getMessage() + " " + " ".join(str(value) for value in vars(record).values())
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"{record.name}: {record.getMessage()!r} leaks {leaked}"
