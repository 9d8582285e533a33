"""CSRF (issue 11 §6): every browser form post carries the CSRF cookie and the token, and
every state-changing request passes the origin check — body-less POSTs authenticated by
the session cookie included. API clients (Bearer tokens, or no browser at all) are
unaffected.

Before: a form post with neither cookie nor token passed (a forged login signed the
victim's browser in as the attacker), and routes without a body (``…/jobs/{id}/start``,
``…/projects/{id}/submit``, ``…/validation-requests``, ``DELETE …/sessions/current``)
skipped the check entirely, so a sibling site's page could drive them with the victim's
cookie.
"""

from __future__ import annotations

import pytest

from tests.integration.test_registrar_api import PASSPHRASE
from tests.support.arrange import account_in, second_factor_passed
from tests.support.browser import Browser, unique_email

PUBLIC = "http://127.0.0.1:8000"
EVIL = "https://evil.example"
NTUA = "/api/v1/realms/ntua"


def _ntua_account(browser: Browser, roles: tuple[str, ...] = ()) -> str:
    email = unique_email("csrf")
    username = "csrf" + email.split(".")[1].split("@")[0]
    account_in("ntua", username=username, email=email, password=PASSPHRASE, roles=roles)
    return username


def _signed_in_by_cookie(browser: Browser, roles: tuple[str, ...] = ()) -> None:
    """The browser holds a session cookie (as after signing in on the login page)."""
    username = _ntua_account(browser, roles)
    login = browser.post(f"{NTUA}/sessions", json={"username": username, "password": PASSPHRASE})
    assert login.status == 201 and "mitroo_session" in browser.jar, login.text
    if roles:  # staff roles need a second factor (SPEC §2.9): as enrolling one in this session would
        second_factor_passed(browser.jar["mitroo_session"])


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="a-form-navigation"),
        pytest.param({"Origin": PUBLIC, "Sec-Fetch-Site": "same-origin"}, id="even-claiming-same-origin"),
        pytest.param({"Origin": "null"}, id="origin-null"),
    ],
)
def test_a_browser_form_post_with_neither_csrf_cookie_nor_token_is_refused(
    browser: Browser, headers: dict[str, str]
) -> None:
    # Given an attacker's own account, and a victim's browser with no CSRF cookie yet
    username = _ntua_account(browser)
    assert "mitroo_csrf" not in browser.jar

    # When a page makes the victim's browser post the login form with the attacker's credentials
    forged = browser.post(
        f"{NTUA}/sessions", form={"username": username, "password": PASSPHRASE}, headers=headers, html=True
    )

    # Then it is refused, and the browser is not signed in as the attacker
    assert forged.status == 403 and 'data-code="forbidden"' in forged.text, forged.text[:500]
    assert "mitroo_session" not in browser.jar


def test_a_form_post_from_a_script_with_an_origin_but_no_token_is_refused(browser: Browser) -> None:
    # A fetch() from a page (Origin sent, JSON accepted, form-encoded: a "simple" request)
    answer = browser.post(
        f"{NTUA}/password-resets",
        form={"username": "anyone", "email": unique_email()},
        headers={"Origin": PUBLIC},
    )
    assert (answer.status, answer.json["code"]) == (403, "forbidden")


def test_a_browser_form_post_with_the_cookie_and_its_token_passes(browser: Browser) -> None:
    username = _ntua_account(browser)
    browser.get("/realms/ntua/login", html=True)  # the page sets the CSRF cookie; the form carries the token
    form = {"csrf_token": browser.jar["mitroo_csrf"], "username": username, "password": PASSPHRASE}
    signed_in = browser.post(f"{NTUA}/sessions", form=form, headers={"Origin": "null"}, html=True)
    assert signed_in.status == 303 and "mitroo_session" in browser.jar


def test_api_clients_keep_working(browser: Browser) -> None:
    # A script posting a form (no browser headers, no cookies) and a Bearer client posting a form
    username = _ntua_account(browser, roles=("secretariat",))
    scripted = browser.post(f"{NTUA}/password-resets", form={"username": username, "email": unique_email()})
    login = browser.post(f"{NTUA}/sessions", form={"username": username, "password": PASSPHRASE})
    assert scripted.status == 202 and login.status == 201, (scripted.text, login.text)
    token = login.json["access_token"]
    second_factor_passed(token)  # staff roles need a second factor (SPEC §2.9)
    browser.jar.clear()
    prepared = browser.post(
        f"{NTUA}/admin/provisioning-jobs",
        form={"upload": "true"},
        headers={"Authorization": f"Bearer {token}", "Origin": PUBLIC},
    )
    assert prepared.status == 202, prepared.text


@pytest.mark.parametrize(
    "foreign",
    [
        pytest.param({"Origin": EVIL}, id="foreign-origin"),
        pytest.param({"Sec-Fetch-Site": "cross-site"}, id="cross-site"),
        pytest.param({"Sec-Fetch-Site": "same-site", "Origin": "https://other.127.0.0.1.nip.io"}, id="sibling-site"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"{NTUA}/admin/jobs/0123456789abcdef/start"),
        ("POST", "/api/v1/realms/esep/projects/0123456789abcdef/submit"),
        ("POST", "/api/v1/realms/esep/me/organisations/0123456789abcdef/validation-requests"),
        ("DELETE", f"{NTUA}/sessions/current"),
    ],
)
def test_a_body_less_request_authenticated_by_cookie_from_another_site_is_refused(
    browser: Browser, foreign: dict[str, str], method: str, path: str
) -> None:
    # Given a browser signed in by cookie
    _signed_in_by_cookie(browser, roles=("secretariat",))

    # When another site's page makes it send a body-less state-changing request
    answer = browser.request(method, path, headers=foreign)

    # Then it is refused before the route runs (an unknown id would otherwise be 404),
    # and the session is still there
    assert (answer.status, answer.json["code"]) == (403, "forbidden"), answer.text
    assert browser.get(f"{NTUA}/me").status == 200


def test_a_body_less_request_from_our_own_pages_still_runs(browser: Browser) -> None:
    _signed_in_by_cookie(browser, roles=("secretariat",))
    answer = browser.post(f"{NTUA}/admin/jobs/0123456789abcdef/start", headers={"Origin": PUBLIC})
    assert (answer.status, answer.json["code"]) == (404, "not_found")
    out = browser.request("DELETE", f"{NTUA}/sessions/current", headers={"Sec-Fetch-Site": "same-origin"})
    assert out.status == 204
