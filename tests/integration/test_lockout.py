"""Login back-off over HTTP: 429 with Retry-After, the same for known and unknown users;
one address held to its window; a browser that signed in before keeps its own back-off
through its device cookie."""

from __future__ import annotations

from chalicelib.realms import get_realm
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
    # Given an account, and an address that sprays one guess each over many usernames
    victim = _active(browser)
    browser.jar.pop("mitroo_device", None)  # the sprayer's browser never signed in to the victim
    limit = get_realm("eiep").throttling.login_address_limit.count
    for _ in range(limit):
        browser.login(unique_email(), "Wr0ng!pass")

    # When the victim's right password is tried from that address by that browser
    response = browser.login(victim, STRONG_PASSWORD)

    # Then the address's window refuses it before any password is compared
    assert response.status == 429
    assert int(response.headers["retry-after"]) > 0


def test_a_browser_that_signed_in_before_is_let_in_while_its_username_backs_off(browser: Browser) -> None:
    # Given a teacher who signed in once from this browser (it keeps a device cookie)
    email = _active(browser)
    assert browser.login(email).status == 201
    assert "mitroo_device" in browser.jar

    # When a stranger elsewhere spends the username's free failures
    stranger = Browser(browser.client, browser.gsis, browser.pump)
    for _ in range(5):
        stranger.login(email, "Wr0ng!pass")
    assert stranger.login(email).status == 429

    # Then the teacher's own browser still signs her in
    assert browser.login(email).status == 201


def test_the_device_cookie_is_httponly_and_lasts_the_realms_trust_period(browser: Browser) -> None:
    email = _active(browser)
    response = browser.login(email)
    [cookie] = [c for c in response.cookies() if c.startswith("mitroo_device=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert f"Max-Age={int(get_realm('eiep').throttling.device_trust.total_seconds())}" in cookie


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
