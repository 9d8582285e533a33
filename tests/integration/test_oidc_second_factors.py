"""Second factors at the realm's OpenID Provider (SPEC §2.8, §2.9), through the Chalice
test client against the emulator, with ``pyotp`` and a software authenticator.

Proves: an application's sign-in asks the second step before any code is issued, and the
ID and access tokens say how the person signed in (``amr``, ``acr``); the single sign-on
session carries the second factor to a second application without another prompt;
``prompt=login`` asks both steps again; a passkey sign-in starts the SSO session too; a
factor added in another session is asked for before the next code; staff whose role
needs a factor get no code until they enrol one, and the page says so.
"""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.integration.test_mfa import API, ORIGIN, PASSPHRASE, REALM, enrol_passkey, enrol_totp, person, signed_out
from tests.support import oidc
from tests.support.arrange import account_in
from tests.support.authenticator import SoftAuthenticator
from tests.support.browser import Browser, Response
from tests.support.mfa import claims, code


def _hidden(text: str) -> dict[str, str]:
    """A page's hidden form fields (CSRF token, form_page, next), as a browser posts them."""
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', text)
    return {name: htmllib.unescape(value) for name, value in found}


def _password_step(browser: Browser, login_url: str, username: str) -> Response:
    """Post the login page's form (with its ``next``) as a browser would."""
    page = browser.get(login_url, html=True)
    fields = _hidden(page.text)
    assert page.status == 200 and fields.get("next", "").startswith(f"/realms/{REALM}/oidc/authorize?"), page.text
    return browser.post(f"{API}/sessions", form={**fields, "username": username, "password": PASSPHRASE}, html=True)


def _second_step(browser: Browser, step_url: str, **proof: str) -> Response:
    """Post the second step's page form (a code or a recovery code, with its ``next``)."""
    page = browser.get(step_url, html=True)
    assert page.status == 200, page.text[:300]
    return browser.post(f"{API}/sessions/mfa", form={**_hidden(page.text), **proof}, html=True)


def _id_token(browser: Browser, token: str, client: oidc.Client) -> dict[str, Any]:
    keys = KeySet.import_key_set(browser.get(f"/realms/{REALM}/.well-known/jwks.json").json)
    decoded = dict(jwt.decode(token, keys, algorithms=["RS256"]).claims)
    assert decoded["iss"] == oidc.issuer(REALM) and decoded["aud"] == client.client_id
    return decoded


def _tokens(browser: Browser, client: oidc.Client, query: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Exchange the code the application received; (ID token claims, access token claims)."""
    answer = oidc.exchange(browser, client, query["code"], auth="basic")
    assert answer.status == 200, answer.text
    return _id_token(browser, answer.json["id_token"], client), claims(answer.json["access_token"])


def _with_totp(browser: Browser) -> tuple[str, str, list[str]]:
    """A person with an authenticator app, signed out again; (username, secret, recovery codes)."""
    username, _ = person(browser)
    _, secret, codes = enrol_totp(browser)
    signed_out(browser)
    return username, secret, codes


def test_an_application_sign_in_asks_for_the_code_before_any_code_and_the_tokens_say_otp(browser: Browser) -> None:
    # Given a person with an authenticator app, and an application that asks for consent
    username, secret, _ = _with_totp(browser)
    client = oidc.register(REALM, name="Library")

    # When the application sends them to sign in, and they type the password
    first = oidc.authorize(browser, client, scope="openid email", state="s1", nonce="n1")
    assert first.status == 302 and "/login?" in first.location
    posted = _password_step(browser, first.location, username)

    # Then no session and no code yet: the second step's page comes, carrying the request
    assert posted.status == 303 and "/login/second-step?next=" in posted.location, posted.location
    assert "mitroo_sso" not in browser.jar
    still = oidc.authorize(browser, client, scope="openid email", state="s1", nonce="n1")
    assert still.status == 302 and "/login?" in still.location

    # When the code is typed, the browser goes back to the request, which asks for consent
    done = _second_step(browser, posted.location, totp=code(secret, steps_ahead=1))
    assert done.status == 303 and done.location.startswith(f"/realms/{REALM}/oidc/authorize?"), done.location
    consent = browser.get(done.location, html=True)
    assert consent.status == 200 and "Library" in consent.text
    allowed = browser.post(
        f"/realms/{REALM}/oidc/authorize", form={**_hidden(consent.text), "decision": "allow"}, html=True
    )

    # Then the application gets a code, and its tokens say password and one-time code
    query = oidc.landed(allowed, client)
    assert query["state"] == "s1"
    id_token, access = _tokens(browser, client, query)
    assert id_token["amr"] == ["pwd", "otp"] and id_token["acr"] == "2" and id_token["nonce"] == "n1"
    assert access["amr"] == ["pwd", "otp"] and access["acr"] == "2"
    assert access["auth_time"] == id_token["auth_time"]


def test_the_second_factor_carries_to_a_second_application_and_prompt_login_asks_both_steps(browser: Browser) -> None:
    # Given a person signed in to one application with password and code
    username, secret, codes = _with_totp(browser)
    first, second = oidc.register(REALM, trusted=True), oidc.register(REALM, trusted=True)
    posted = _password_step(browser, oidc.authorize(browser, first).location, username)
    done = _second_step(browser, posted.location, totp=code(secret, steps_ahead=1))
    one, _ = _tokens(browser, first, oidc.landed(browser.get(done.location, html=True), first))

    # When a second application asks: no password, no code, straight back with a code
    two, access = _tokens(browser, second, oidc.landed(oidc.authorize(browser, second), second))

    # Then its tokens name the same session, passed with the second factor
    assert two["sid"] == one["sid"] and two["auth_time"] == one["auth_time"]
    assert two["amr"] == ["pwd", "otp"] and two["acr"] == "2" and access["acr"] == "2"

    # When the first application insists on a fresh sign-in (prompt=login)
    again = oidc.authorize(browser, first, prompt="login")
    assert again.status == 302 and "/login?" in again.location

    # Then both steps are asked again, and the new session says so
    posted = _password_step(browser, again.location, username)
    assert posted.status == 303 and "/login/second-step?" in posted.location, posted.location
    done = _second_step(browser, posted.location, recovery_code=codes[0])
    fresh, _ = _tokens(browser, first, oidc.landed(browser.get(done.location, html=True), first))
    assert fresh["amr"] == ["pwd", "otp"] and fresh["sid"] != one["sid"] and fresh["auth_time"] >= one["auth_time"]


def test_a_passkey_sign_in_starts_the_single_sign_on_session(browser: Browser) -> None:
    # Given a person with a security key, signed out
    person(browser)
    key = SoftAuthenticator(ORIGIN)
    enrol_passkey(browser, key)
    signed_out(browser)
    browser.jar.pop("mitroo_sso", None)
    first, second = oidc.register(REALM, trusted=True), oidc.register(REALM, trusted=True)

    # When an application sends them to sign in, and they use the key instead of a password
    sent = oidc.authorize(browser, first, state="pk")
    page = browser.get(sent.location, html=True)
    wanted = _hidden(page.text)["next"]
    assert f'data-done-url="{htmllib.escape(wanted)}"' in page.text  # the script goes back there
    options = browser.post(f"{API}/sessions/webauthn/options", json={})
    signed = browser.post(f"{API}/sessions/webauthn", json={"credential": key.get(options.json)})
    assert signed.status == 201, signed.text
    assert "mitroo_sso" in browser.jar

    # Then the request it was for gets its code, and the tokens say a hardware key, multi-factor
    one, access = _tokens(browser, first, oidc.landed(browser.get(wanted, html=True), first))
    assert one["amr"] == ["hwk", "mfa"] and one["acr"] == "2" and access["amr"] == ["hwk", "mfa"]

    # And a second application signs them in without any prompt
    two, _ = _tokens(browser, second, oidc.landed(oidc.authorize(browser, second), second))
    assert two["sid"] == one["sid"] and two["amr"] == ["hwk", "mfa"]


def test_a_factor_added_in_another_session_is_asked_for_before_the_next_code(browser: Browser) -> None:
    # Given a person signed in with a password alone, whose application got a code
    username, _ = person(browser)
    client = oidc.register(REALM, trusted=True)
    before, _ = _tokens(browser, client, oidc.landed(oidc.authorize(browser, client), client))
    assert before["amr"] == ["pwd"] and before["acr"] == "1"

    # When they add an authenticator app from another browser
    other = Browser(browser.client, browser.gsis, browser.pump, browser.eulogin)
    assert other.post(f"{API}/sessions", json={"username": username, "password": PASSPHRASE}).status == 201
    _, secret, _ = enrol_totp(other)

    # Then the first browser's session, which never passed it, gets no code without it
    quiet = oidc.landed(oidc.authorize(browser, client, prompt="none"), client)
    assert quiet["error"] == "login_required" and "code" not in quiet
    asked = oidc.authorize(browser, client)
    assert asked.status == 302 and "/login?" in asked.location
    posted = _password_step(browser, asked.location, username)
    assert "/login/second-step?" in posted.location
    done = _second_step(browser, posted.location, totp=code(secret, steps_ahead=1))
    after, _ = _tokens(browser, client, oidc.landed(browser.get(done.location, html=True), client))
    assert after["amr"] == ["pwd", "otp"] and after["acr"] == "2"


def test_staff_without_a_factor_get_no_code_until_they_enrol_one(browser: Browser) -> None:
    # Given an NTUA administrator without a second factor, signed in with the password
    username = f"adm{abs(hash(browser)) % 10**8}"
    account_in(REALM, username=username, email=f"{username}@example.gr", password=PASSPHRASE, roles=("admin",))
    signed = browser.post(f"{API}/sessions", json={"username": username, "password": PASSPHRASE})
    assert signed.status == 201 and signed.json["mfa_enrolment_required"] is True
    client = oidc.register(REALM, trusted=True)

    # When an application asks for them (the cookie's one-write path, then the full read)
    refused = oidc.authorize(browser, client)

    # Then no code: a page says to enrol a second factor first, and links to where
    assert refused.status == 403 and "location" not in refused.headers
    assert 'data-code="mfa_enrolment_required"' in refused.text
    assert f'href="/realms/{REALM}/account/security"' in refused.text
    quiet = oidc.landed(oidc.authorize(browser, client, prompt="none"), client)
    assert quiet["error"] == "interaction_required" and "code" not in quiet

    # When they enrol an authenticator app in this session
    cookie_before = browser.jar["mitroo_sso"]
    enrol_totp(browser)

    # Then the SSO cookie is written again with the factor, and the application gets its code
    cookie_after = browser.jar["mitroo_sso"]
    assert cookie_after != cookie_before and ".pwd-otp." in cookie_after
    id_token, access = _tokens(browser, client, oidc.landed(oidc.authorize(browser, client), client))
    assert id_token["amr"] == ["pwd", "otp"] and id_token["acr"] == "2" and access["acr"] == "2"
