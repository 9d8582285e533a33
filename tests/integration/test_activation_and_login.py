"""Activation tokens are single use and expire; login answers without revealing accounts."""

from __future__ import annotations

from tests.support.arrange import expired_activation
from tests.support.browser import STRONG_PASSWORD, Browser, unique_email

API = "/api/v1/realms/eiep"


def _pending(browser: Browser) -> str:
    email = unique_email()
    assert browser.register(browser.gsis_flow(), email).status == 201
    return email


def _active(browser: Browser) -> str:
    email = _pending(browser)
    token, _ = browser.activation_mail(email)
    assert browser.post(f"{API}/activations", json={"token": token}).status == 200
    return email


def test_a_used_activation_token_is_400_token_invalid(browser: Browser) -> None:
    email = _pending(browser)
    token, _ = browser.activation_mail(email)
    assert browser.post(f"{API}/activations", json={"token": token}).status == 200
    again = browser.post(f"{API}/activations", json={"token": token})
    assert again.status == 400 and again.json["code"] == "token_invalid"


def test_an_unknown_activation_token_is_400_token_invalid(browser: Browser) -> None:
    response = browser.post(f"{API}/activations", json={"token": "x" * 43})
    assert response.status == 400 and response.json["code"] == "token_invalid"


def test_an_expired_activation_token_is_410_and_the_account_stays_pending(browser: Browser) -> None:
    # Given an activation link that expired yesterday
    email = _pending(browser)
    token, code = expired_activation(email)

    # When it is used, by link or by code
    by_link = browser.post(f"{API}/activations", json={"token": token})
    by_code = browser.post(f"{API}/activations", json={"email": email, "code": code})

    # Then both are refused as expired and the account is still not activated
    assert by_link.status == 410 and by_link.json["code"] == "token_expired"
    assert by_code.status == 410 and by_code.json["code"] == "token_expired"
    assert browser.login(email).json["code"] == "not_activated"


def test_a_wrong_code_is_refused_and_an_unknown_address_answers_the_same(browser: Browser) -> None:
    email = _pending(browser)
    _, code = browser.activation_mail(email)
    wrong = "000000" if code != "000000" else "111111"
    mistaken = browser.post(f"{API}/activations", json={"email": email, "code": wrong})
    stranger = browser.post(f"{API}/activations", json={"email": unique_email(), "code": code})
    assert mistaken.status == stranger.status == 400
    assert mistaken.json == stranger.json


def test_five_wrong_codes_burn_the_challenge(browser: Browser) -> None:
    # Given a pending account and its code
    email = _pending(browser)
    _, code = browser.activation_mail(email)
    wrong = "000000" if code != "000000" else "111111"

    # When five wrong codes are typed
    for _ in range(5):
        browser.post(f"{API}/activations", json={"email": email, "code": wrong})

    # Then even the right code no longer works; a new mail is needed
    assert browser.post(f"{API}/activations", json={"email": email, "code": code}).json["code"] == "token_invalid"


def test_activation_needs_a_token_or_email_and_code(browser: Browser) -> None:
    response = browser.post(f"{API}/activations", json={"email": "a@example.gr"})
    assert response.status == 422 and response.json["code"] == "invalid_input"


def test_resend_answers_the_same_for_unknown_active_and_pending_addresses(browser: Browser) -> None:
    # Given three addresses: unknown, an active account's and a pending account's
    unknown, active, pending = unique_email(), _active(browser), _pending(browser)

    # When a resend is asked for each
    answers = [browser.post(f"{API}/activations/resend", json={"email": email}) for email in (unknown, active, pending)]

    # Then the answers are identical; only the pending account got a new mail
    assert {a.status for a in answers} == {202}
    assert answers[0].body == answers[1].body == answers[2].body
    assert browser.mail_to(unknown) == []
    assert len(browser.mail_to(active)) == 1
    assert len(browser.mail_to(pending)) == 2


def test_wrong_password_and_unknown_user_are_the_same_401(browser: Browser) -> None:
    email = _active(browser)
    wrong = browser.login(email, "Wr0ng!Password")
    unknown = browser.login(unique_email(), "Wr0ng!Password")
    assert wrong.status == unknown.status == 401
    assert wrong.json == unknown.json
    assert wrong.json["code"] == "invalid_credentials"


def test_a_pending_account_with_the_right_password_is_403_not_activated(browser: Browser) -> None:
    email = _pending(browser)
    response = browser.login(email)
    assert response.status == 403 and response.json["code"] == "not_activated"
    # The wrong password still says nothing about the account's state.
    assert browser.login(email, "Wr0ng!Password").json["code"] == "invalid_credentials"


def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(browser: Browser) -> None:
    # Given a session whose refresh token was rotated once
    email = _active(browser)
    first = browser.login(email, STRONG_PASSWORD).json["refresh_token"]
    second = browser.post(f"{API}/sessions/refresh", json={"refresh_token": first}).json["refresh_token"]

    # When the first (rotated) token is presented again, as a thief would
    replay = browser.post(f"{API}/sessions/refresh", json={"refresh_token": first})

    # Then it is refused and the legitimate successor is revoked with the family
    assert replay.status == 400 and replay.json["code"] == "token_invalid"
    successor = browser.post(f"{API}/sessions/refresh", json={"refresh_token": second})
    assert successor.status == 400 and successor.json["code"] == "token_invalid"


def test_a_browser_refreshes_with_its_cookie(browser: Browser) -> None:
    email = _active(browser)
    browser.login(email)
    refreshed = browser.post(f"{API}/sessions/refresh", json={})
    assert refreshed.status == 200
    assert browser.jar["mitroo_refresh"] == refreshed.json["refresh_token"]


def test_me_without_or_with_a_bad_token_is_401(browser: Browser) -> None:
    assert browser.get(f"{API}/me").json["code"] == "unauthorized"
    forged = browser.get(f"{API}/me", headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."})
    assert forged.status == 401 and forged.json["code"] == "unauthorized"


def test_a_token_of_one_realm_does_not_open_another(browser: Browser) -> None:
    email = _active(browser)
    access = browser.login(email).json["access_token"]
    response = browser.get("/api/v1/realms/ntua/me", headers={"Authorization": f"Bearer {access}"})
    assert response.status == 401
