"""Login back-off over HTTP: 429 with Retry-After, the same for known and unknown users."""

from __future__ import annotations

from tests.support.browser import STRONG_PASSWORD, Browser, unique_email

API = "/api/v1/realms/eiep"


def _active(browser: Browser) -> str:
    email = unique_email()
    browser.register(browser.gsis_flow(), email)
    token, _ = browser.activation_mail(email)
    browser.post(f"{API}/activations", json={"token": token})
    return email


def test_after_five_failures_the_sixth_attempt_is_429_with_retry_after(browser: Browser) -> None:
    # Given an account and five wrong passwords
    email = _active(browser)
    for _ in range(5):
        assert browser.login(email, "Wr0ng!pass").status == 401

    # When even the right password is tried at once
    response = browser.login(email)

    # Then the attempt is refused without checking it, with a wait
    assert response.status == 429
    assert response.json["code"] == "too_many_attempts"
    assert 0 < int(response.headers["retry-after"]) <= 30


def test_a_known_and_an_unknown_username_are_refused_identically(browser: Browser) -> None:
    known, unknown = _active(browser), unique_email()
    answers = []
    for username in (known, unknown):
        browser.address = f"192.0.2.{len(answers) + 10}"
        for _ in range(5):
            browser.login(username, "Wr0ng!pass")
        answers.append(browser.login(username, "Wr0ng!pass"))
    assert answers[0].status == answers[1].status == 429
    assert answers[0].json == answers[1].json
    assert answers[0].headers["retry-after"] == answers[1].headers["retry-after"]


def test_one_address_trying_many_accounts_is_slowed(browser: Browser) -> None:
    # Credential stuffing: one attempt per account, all from one address
    for _ in range(5):
        browser.login(unique_email(), "Wr0ng!pass")
    victim = _active(browser)
    assert browser.login(victim, STRONG_PASSWORD).status == 429


def test_one_account_tried_from_many_addresses_is_slowed(browser: Browser) -> None:
    email = _active(browser)
    for index in range(5):
        browser.address = f"203.0.113.{index + 1}"
        browser.login(email, "Wr0ng!pass")
    browser.address = "203.0.113.200"
    assert browser.login(email, STRONG_PASSWORD).status == 429


def test_resend_is_limited_per_address(browser: Browser) -> None:
    statuses = [browser.post(f"{API}/activations/resend", json={"email": unique_email()}).status for _ in range(31)]
    assert statuses[:30] == [202] * 30 and statuses[30] == 429
