"""The account centre's Sessions, Applications and password change over HTTP (SPEC §2.10),
through the Chalice test client against the emulator: each sign-in records its device and
address; a person lists and ends their sessions (never another person's); a password
change needs a recent authentication and the current password (whose wrong guesses count
toward the sign-in lockout) and ends every other session; taking an application's access
back kills its refresh token and queues a back-channel logout."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from joserfc.jwk import KeySet

from chalicelib.container import services
from chalicelib.domain.oidc import Consent
from tests.integration.test_mfa import age_session, form
from tests.support import oidc
from tests.support.arrange import account_in
from tests.support.browser import Browser
from tests.support.logout_receiver import Receiver, logout_receiver

REALM = "ntua"
API = f"/api/v1/realms/{REALM}"
PASSPHRASE = "an old passphrase for the account centre"
NEW_PASSPHRASE = "a brand new passphrase, quite long"
FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
_names = itertools.count(1)


def _another(browser: Browser) -> Browser:
    return Browser(browser.client, browser.gsis, browser.pump, browser.eulogin)


def _person(realm: str = REALM) -> tuple[str, str]:
    username = f"acct{next(_names)}x{datetime.now(UTC).microsecond}"
    account_id = account_in(realm, username=username, email=f"{username}@example.gr", password=PASSPHRASE)
    return username, account_id


def _login(browser: Browser, username: str, agent: str = FIREFOX, password: str = PASSPHRASE) -> dict[str, object]:
    answer = browser.post(
        f"{API}/sessions", json={"username": username, "password": password}, headers={"User-Agent": agent}
    )
    assert answer.status == 201, answer.text
    return dict(answer.json)


def test_sessions_list_their_device_address_and_which_is_current(browser: Browser) -> None:
    # Given a person signed in with Firefox here and with Chrome in another browser
    username, _ = _person()
    _login(browser, username)
    laptop = _another(browser)
    _login(laptop, username, CHROME)

    # When the first browser lists its sessions
    listed = browser.get(f"{API}/me/sessions")

    # Then both are there, the current one first, each with its device and address
    assert listed.status == 200, listed.text
    sessions = listed.json["sessions"]
    assert [s["device"] for s in sessions] == ["Firefox 120 on Ubuntu", "Chrome 131 on Windows 10"]
    assert [s["current"] for s in sessions] == [True, False]
    assert [s["address"] for s in sessions] == [browser.address, laptop.address]
    assert all(s["started"] and s["last_used"] and s["applications"] == [] for s in sessions)


def test_a_refresh_moves_the_last_use_of_its_session(browser: Browser) -> None:
    # Given a signed-in person
    username, _ = _person()
    tokens = _login(browser, username)
    before = browser.get(f"{API}/me/sessions").json["sessions"][0]["last_used"]

    # When the refresh token is used
    refreshed = browser.post(f"{API}/sessions/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status == 200, refreshed.text

    # Then the session's last use moved
    assert browser.get(f"{API}/me/sessions").json["sessions"][0]["last_used"] > before


def test_a_person_ends_one_session_and_its_refresh_token_dies(browser: Browser) -> None:
    # Given a person signed in in two browsers
    username, _ = _person()
    _login(browser, username)
    laptop = _another(browser)
    laptop_tokens = _login(laptop, username, CHROME)
    other = next(s for s in browser.get(f"{API}/me/sessions").json["sessions"] if not s["current"])

    # When the first browser ends the laptop's session
    ended = browser.delete(f"{API}/me/sessions/{other['id']}")

    # Then it is gone from the list and the laptop is signed out
    assert ended.status == 204, ended.text
    assert [s["current"] for s in browser.get(f"{API}/me/sessions").json["sessions"]] == [True]
    assert laptop.get(f"{API}/me").status == 401
    refused = laptop.post(f"{API}/sessions/refresh", json={"refresh_token": laptop_tokens["refresh_token"]})
    assert refused.status == 400


def test_another_persons_session_id_is_not_found(browser: Browser) -> None:
    # Given two people, each signed in
    mine, _ = _person()
    theirs, _ = _person()
    _login(browser, mine)
    stranger = _another(browser)
    _login(stranger, theirs)
    their_id = stranger.get(f"{API}/me/sessions").json["sessions"][0]["id"]

    # When one tries to end the other's session, or an unknown one
    refused = browser.delete(f"{API}/me/sessions/{their_id}")
    unknown = browser.delete(f"{API}/me/sessions/no-such-session")

    # Then both answer not_found, and the other person stays signed in
    assert (refused.status, refused.json["code"]) == (404, "not_found")
    assert (unknown.status, unknown.json["code"]) == (404, "not_found")
    assert stranger.get(f"{API}/me").status == 200


def test_signing_out_everywhere_else_keeps_this_session(browser: Browser) -> None:
    # Given a person signed in in three browsers
    username, _ = _person()
    _login(browser, username)
    others = [_another(browser), _another(browser)]
    for other in others:
        _login(other, username, CHROME)

    # When this browser signs out everywhere else
    ended = browser.delete(f"{API}/me/sessions")

    # Then two sessions ended, this one lives
    assert ended.status == 200 and ended.json["ended"] == 2
    assert browser.get(f"{API}/me").status == 200
    assert [other.get(f"{API}/me").status for other in others] == [401, 401]


# --- password change -------------------------------------------------------------------------------------


def test_a_password_change_ends_the_other_session_and_its_refresh_token(browser: Browser) -> None:
    # Given a person signed in here (just now) and on a laptop
    username, _ = _person()
    _login(browser, username)
    laptop = _another(browser)
    laptop_tokens = _login(laptop, username, CHROME)
    browser.run_tasks()

    # When they change the password here
    changed = browser.post(
        f"{API}/me/password",
        json={"current_password": PASSPHRASE, "password": NEW_PASSPHRASE, "password_confirmation": NEW_PASSPHRASE},
    )

    # Then this session lives, the laptop's ended, its refresh token fails, the new password works
    assert changed.status == 200, changed.text
    assert changed.json["sessions_ended"] == 1
    assert browser.get(f"{API}/me").status == 200
    assert laptop.get(f"{API}/me").status == 401
    refused = laptop.post(f"{API}/sessions/refresh", json={"refresh_token": laptop_tokens["refresh_token"]})
    assert refused.status == 400
    _login(_another(browser), username, password=NEW_PASSPHRASE)
    # and the person is told by mail
    browser.run_tasks()
    subjects = [mail["subject"] for mail in browser.mail_to(f"{username}@example.gr")]
    assert any("password" in subject.lower() or "κωδικός" in subject for subject in subjects)


def test_a_password_change_without_recent_authentication_is_refused(browser: Browser) -> None:
    # Given a session whose sign-in was ten minutes ago
    username, _ = _person()
    _login(browser, username)
    age_session(browser, 10)

    # When it changes the password
    refused = browser.post(
        f"{API}/me/password",
        json={"current_password": PASSPHRASE, "password": NEW_PASSPHRASE, "password_confirmation": NEW_PASSPHRASE},
    )

    # Then it must re-authenticate first, and the old password still works
    assert (refused.status, refused.json["code"]) == (401, "reauthentication_required")
    _login(_another(browser), username)


def test_wrong_current_passwords_count_toward_the_sign_in_lockout(browser: Browser) -> None:
    # Given a signed-in person
    username, _ = _person()
    _login(browser, username)
    free = _free_failures()

    # When the current password is given wrong as often as the back-off allows
    answers = [
        browser.post(
            f"{API}/me/password",
            json={"current_password": "wrong", "password": NEW_PASSPHRASE, "password_confirmation": NEW_PASSPHRASE},
        )
        for _ in range(free + 1)
    ]

    # Then each says which field is wrong, the last is refused by the back-off,
    # and a sign-in with the right password is held back too
    assert answers[0].status == 401 and answers[0].json["code"] == "invalid_credentials"
    assert "current_password" in answers[0].json["errors"]
    assert answers[-1].json["code"] == "too_many_attempts"
    held = _another(browser).post(f"{API}/sessions", json={"username": username, "password": PASSPHRASE})
    assert held.json["code"] == "too_many_attempts"


def _free_failures() -> int:
    from chalicelib.realms import get_realm

    return get_realm(REALM).throttling.login_free_failures


def test_realms_without_passwords_refuse_a_password_change(browser: Browser) -> None:
    # Given an esep member (EU Login) signed in
    from tests.support import esep

    member = esep.register(_another(browser), [], role="other")

    # When they try to change a password
    refused = browser.post(
        "/api/v1/realms/esep/me/password",
        json={"current_password": "x", "password": NEW_PASSPHRASE, "password_confirmation": NEW_PASSPHRASE},
        headers=member.auth,
    )

    # Then the realm has none to change
    assert (refused.status, refused.json["code"]) == (403, "forbidden")
    assert "EU Login" in refused.json["detail"]


# --- applications -----------------------------------------------------------------------------------------


@pytest.fixture
def receiver(browser: Browser) -> Iterator[Receiver]:
    keys = lambda: KeySet.import_key_set(browser.get(f"/realms/{REALM}/.well-known/jwks.json").json)  # noqa: E731
    with logout_receiver(oidc.issuer(REALM), None, keys) as served:
        yield served


def test_taking_back_an_applications_access_kills_its_refresh_token_and_tells_it(
    browser: Browser, receiver: Receiver
) -> None:
    # Given a person who allowed an application and signed in to it through the realm
    username, account_id = _person()
    _login(browser, username)
    client = oidc.register(REALM, name="Library", trusted=True, backchannel_logout_uri=receiver.url)
    receiver.audience = client.client_id
    services().ports.consents.grant(
        Consent(REALM, account_id, client.client_id, ("openid", "email"), datetime.now(UTC))
    )
    code = oidc.code_for(browser, client, scope="openid email")
    tokens = oidc.exchange(browser, client, code, auth="basic").json
    listed = browser.get(f"{API}/me/applications").json["applications"]
    assert [(a["name"], a["claims"]) for a in listed] == [("Library", ["sub", "email", "email_verified"])]
    assert browser.get(f"{API}/me/sessions").json["sessions"][0]["applications"] == ["Library"]
    browser.run_tasks()

    # When they take its access back
    revoked = browser.delete(f"{API}/me/applications/{client.client_id}")

    # Then the consent is gone, its refresh token fails, a logout is queued, and it is audited
    assert revoked.status == 204, revoked.text
    assert browser.get(f"{API}/me/applications").json["applications"] == []
    refreshed = oidc.token_request(
        browser, client, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth="basic"
    )
    assert refreshed.status == 400
    browser.run_tasks()
    delivered = receiver.wait_for(1)
    assert receiver.refused == [] and [token["aud"] for token in delivered] == [client.client_id]
    entries = services().ports.audit.entries(REALM, account_id)
    assert any(e.action == "application.revoked" and e.details["client_id"] == client.client_id for e in entries)
    # and a second revocation finds nothing
    assert browser.delete(f"{API}/me/applications/{client.client_id}").status == 404


def test_the_account_pages_need_a_session_and_link_each_other(browser: Browser) -> None:
    # Given a visitor without a session
    for tab in ("account", "account/sessions", "account/applications"):
        assert browser.get(f"/realms/{REALM}/{tab}", html=True).status == 303
    # When a person signs in and opens the tabs
    username, _ = _person()
    _login(browser, username)
    profile = browser.get(f"/realms/{REALM}/account", html=True)
    sessions = browser.get(f"/realms/{REALM}/account/sessions", html=True)
    applications = browser.get(f"/realms/{REALM}/account/applications", html=True)
    # Then each shows, the tabs mark the current one, and the header links to the centre
    assert profile.status == sessions.status == applications.status == 200
    assert f'href="/realms/{REALM}/account/sessions" aria-current="page"' in sessions.text
    assert "data-account-link" in browser.get(f"/realms/{REALM}/forgot-password", html=True).text
    assert 'action="/api/v1/realms/ntua/me/sessions/delete"' not in sessions.text  # no other session yet
    assert username in profile.text and "/account/email" in profile.text


def test_the_new_device_notice_is_mailed_once_per_new_browser(browser: Browser) -> None:
    # Given a person who signs in from a browser new to the account
    username, _ = _person()
    browser.run_tasks()
    _login(browser, username)
    browser.run_tasks()
    first = [
        m
        for m in browser.mail_to(f"{username}@example.gr")
        if "new device" in m["subject"] or "νέα συσκευή" in m["subject"]
    ]

    # When the same browser (its device cookie) signs in again
    _login(browser, username)
    browser.run_tasks()
    again = [
        m
        for m in browser.mail_to(f"{username}@example.gr")
        if "new device" in m["subject"] or "νέα συσκευή" in m["subject"]
    ]

    # Then one notice, naming the device
    assert len(first) == 1 and len(again) == 1
    assert "Firefox 120" in str(first[0])


def test_a_wrong_current_password_in_the_profile_form_is_shown_on_that_field(browser: Browser) -> None:
    # Given a person on their Profile page, just signed in
    username, _ = _person()
    _login(browser, username)
    assert browser.get(f"/realms/{REALM}/account", html=True).status == 200

    # When the form is sent with a wrong current password
    answer = browser.post(
        f"{API}/me/password",
        form=form(
            browser,
            current_password="wrong",
            password=NEW_PASSPHRASE,
            password_confirmation=NEW_PASSPHRASE,
            form_page=f"/realms/{REALM}/account",
        ),
        html=True,
    )

    # Then the Profile page comes back with the error on the current-password field
    assert answer.status == 401, answer.text[:300]
    assert 'id="current_password-error"' in answer.text
