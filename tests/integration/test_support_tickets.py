"""Helpdesk tickets: stored, mailed to the helpdesk and acknowledged, rate-limited."""

from __future__ import annotations

import io
import logging

from tests.support.browser import Browser, unique_email

API = "/api/v1/realms/eiep/support-tickets"
HELPDESK = "helpdesk@iep.example.gr"


def _ticket(browser: Browser, email: str, **extra: str) -> object:
    body = {"topic": "technical", "email": email, "description": "Δεν μπορώ να μπω στο Moodle από χθες."}
    body.update(extra)
    return browser.post(API, json=body)


def test_a_ticket_reaches_the_helpdesk_and_the_person_gets_its_id(browser: Browser) -> None:
    # When a teacher opens a ticket giving her AFM
    email = unique_email("helpme")
    response = _ticket(browser, email, afm="068933130")

    # Then it is stored with an id that both mails carry
    assert response.status == 201  # type: ignore[attr-defined]
    ticket_id = response.json["ticket_id"]  # type: ignore[attr-defined]
    assert len(ticket_id) >= 43
    ack = browser.mail_to(email)
    assert len(ack) == 1 and ticket_id in (ack[0]["html"] or "")
    to_helpdesk = [m for m in browser.mail_to(HELPDESK) if ticket_id in (m["html"] or "")]
    assert len(to_helpdesk) == 1
    assert "068933130" in to_helpdesk[0]["html"] and "Moodle" in to_helpdesk[0]["html"]
    assert "Τεχνικά θέματα" in to_helpdesk[0]["subject"]


def test_unknown_topics_and_bad_afms_are_422(browser: Browser) -> None:
    bad_topic = _ticket(browser, unique_email(), topic="billing")
    bad_afm = _ticket(browser, unique_email(), afm="123456789")
    short = _ticket(browser, unique_email(), description="help")
    for response, field in ((bad_topic, "topic"), (bad_afm, "afm"), (short, "description")):
        assert response.status == 422 and field in response.json["errors"]  # type: ignore[attr-defined]


def test_a_fourth_ticket_within_the_hour_from_one_email_is_429(browser: Browser) -> None:
    email = unique_email()
    statuses = [_ticket(browser, email, description=f"Πρόβλημα αριθμός {n}, αναλυτικά.").status for n in range(4)]  # type: ignore[attr-defined]
    assert statuses == [201, 201, 201, 429]
    limited = _ticket(browser, email, description="Και ένα ακόμη πρόβλημα.")
    assert limited.json["code"] == "too_many_attempts" and int(limited.headers["retry-after"]) > 0  # type: ignore[attr-defined]


def test_a_realm_without_a_helpdesk_has_no_tickets(browser: Browser) -> None:
    response = browser.post(
        "/api/v1/realms/ntua/support-tickets",
        json={"topic": "technical", "email": unique_email(), "description": "Κάτι δεν δουλεύει σωστά."},
    )
    assert response.status == 404


def test_the_afm_never_reaches_a_log_line(browser: Browser) -> None:
    from chalicelib.observability import logger

    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)  # type: ignore[attr-defined]
    app_logger = logging.getLogger("chalicelib")
    level = app_logger.level
    app_logger.setLevel(logging.DEBUG)
    try:
        email = unique_email()
        _ticket(browser, email, afm="068933130")
        browser.mail_to(email)
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
        app_logger.setLevel(level)
    assert "support ticket opened" in buffer.getvalue()
    assert "068933130" not in buffer.getvalue()
