"""NTUA forgot password (seed 004): username and external e-mail; a one-time link (1 h) and
code to that e-mail; the link's page consumes nothing until its button is pressed."""

from __future__ import annotations

import re

from tests.support.arrange import account_in
from tests.support.browser import Browser, unique_email

API = "/api/v1/realms/ntua"
OLD = "ο παλιός μου κωδικός είναι μεγάλος"
NEW = "agapw poly th mairh"


def _student(browser: Browser) -> tuple[str, str]:
    username = f"el{unique_email('x').split('@')[0].split('.')[1]}"
    email = unique_email("student")
    account_in("ntua", username=username, email=email, password=OLD)
    return username, email


def _reset_mail(browser: Browser, email: str) -> tuple[str, str]:
    messages = [m for m in browser.mail_to(email) if "reset-password?token=" in (m["html"] or "")]
    assert messages, "no reset mail"
    html = messages[0]["html"]
    token = re.search(r"reset-password\?token=([A-Za-z0-9_-]+)", html)
    code = re.search(r'data-code="password_reset">(\d+)<', html)
    assert token and code
    return token.group(1), code.group(1)


def test_a_student_resets_the_password_with_the_mailed_link(browser: Browser) -> None:
    # Given a student with a live session
    username, email = _student(browser)
    session = browser.post(f"{API}/sessions", json={"username": username, "password": OLD}).json

    # When they ask with username and external e-mail
    asked = browser.post(f"{API}/password-resets", json={"username": username, "email": email})
    assert asked.status == 202 and asked.json == {"status": "accepted"}

    # Then a one-time link arrives; opening its page consumes nothing
    token, _ = _reset_mail(browser, email)
    page = browser.get(f"/realms/ntua/reset-password?token={token}", html=True)
    assert page.status == 200 and token in page.text

    # When the new passphrase is entered twice
    done = browser.post(
        f"{API}/password-resets/complete", json={"token": token, "password": NEW, "password_confirmation": NEW}
    )

    # Then it is set, confirmed by mail, sessions end, and the link is spent
    assert done.status == 200
    assert any("changed" in m["subject"] or "άλλαξε" in m["subject"] for m in browser.mail_to(email))
    assert browser.post(f"{API}/sessions/refresh", json={"refresh_token": session["refresh_token"]}).status == 400
    assert browser.post(f"{API}/sessions", json={"username": username, "password": NEW}).status == 201
    again = browser.post(
        f"{API}/password-resets/complete", json={"token": token, "password": NEW, "password_confirmation": NEW}
    )
    assert again.status == 400 and again.json["code"] == "token_invalid"


def test_the_code_works_instead_of_the_link(browser: Browser) -> None:
    username, email = _student(browser)
    browser.post(f"{API}/password-resets", json={"username": username, "email": email})
    _, code = _reset_mail(browser, email)
    done = browser.post(
        f"{API}/password-resets/complete",
        json={"username": username, "code": code, "password": NEW, "password_confirmation": NEW},
    )
    assert done.status == 200


def test_a_username_with_another_email_gets_the_same_answer_and_no_mail(browser: Browser) -> None:
    username, email = _student(browser)
    stranger = unique_email("stranger")
    matching = browser.post(f"{API}/password-resets", json={"username": username, "email": email})
    mismatched = browser.post(f"{API}/password-resets", json={"username": username, "email": stranger})
    nobody = browser.post(f"{API}/password-resets", json={"username": "nobody12345", "email": stranger})
    assert matching.status == mismatched.status == nobody.status == 202
    assert matching.body == mismatched.body == nobody.body
    assert browser.mail_to(stranger) == []
    assert len(browser.mail_to(email)) == 1


def test_an_expired_link_is_410(browser: Browser) -> None:
    from datetime import UTC, datetime, timedelta

    from chalicelib.container import services
    from chalicelib.domain.accounts import UniqueKind
    from chalicelib.domain.secrets import code_fingerprint, fingerprint
    from chalicelib.domain.tokens import Challenge, Purpose

    username, _ = _student(browser)
    account = services().ports.accounts.find_by_unique("ntua", UniqueKind.USERNAME, username)
    assert account is not None
    now = datetime.now(UTC)
    token = "expired-token-" + "x" * 40
    services().ports.challenges.replace(
        Challenge(
            "ntua",
            account.account_id,
            Purpose.PASSWORD_RESET,
            fingerprint(token),
            code_fingerprint("123456", salt=fingerprint(token)),
            now - timedelta(hours=2),
            now - timedelta(hours=1),
        )
    )
    response = browser.post(
        f"{API}/password-resets/complete", json={"token": token, "password": NEW, "password_confirmation": NEW}
    )
    assert response.status == 410 and response.json["code"] == "token_expired"


def test_the_strength_policy_applies_and_a_weak_password_keeps_the_link(browser: Browser) -> None:
    username, email = _student(browser)
    browser.post(f"{API}/password-resets", json={"username": username, "email": email})
    token, _ = _reset_mail(browser, email)
    for weak in ("Tr0ub4dor&3", username * 2, "aaaaaaaaaaaaaaaa"):
        refused = browser.post(
            f"{API}/password-resets/complete", json={"token": token, "password": weak, "password_confirmation": weak}
        )
        assert refused.status == 422 and refused.json["code"] == "password_policy", weak
    assert (
        browser.post(
            f"{API}/password-resets/complete", json={"token": token, "password": NEW, "password_confirmation": NEW}
        ).status
        == 200
    )


def test_a_username_is_required_in_mail_realms(browser: Browser) -> None:
    response = browser.post(f"{API}/password-resets", json={"email": unique_email()})
    assert response.status == 422 and "username" in response.json["errors"]
