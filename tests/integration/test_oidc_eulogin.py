"""Realm esep is an OpenID Provider too: its people sign in through EU Login.

An application's authorization request sends a browser without a session to EU Login
(``next`` kept in a cookie across the round trip); the continue page's button opens the
session (the flow is consumed only by that POST, in the browser that started it) and
returns to the authorization request, which sends the code. The ID token says ``amr:
fed``; the realm scope ``etwinning`` releases the member's eTwinning data to a client
registered for it.
"""

from __future__ import annotations

import html as htmllib
import re
from urllib.parse import parse_qs, urlsplit

from tests.support import esep, oidc
from tests.support.browser import Browser


def test_an_application_signs_an_etwinning_member_in_through_eu_login(browser: Browser) -> None:
    # Given a registered eTwinning member (in another browser) and a client allowed etwinning
    member = esep.register(Browser(browser.client, browser.gsis, browser.pump, browser.eulogin), [], role="other")
    client = oidc.register("esep", trusted=True, scopes=["etwinning"])

    # When the application sends this browser (no session) to authorize
    first = oidc.authorize(browser, client, scope="openid profile etwinning", state="st")
    assert first.status == 302 and first.location.startswith("/realms/esep/eulogin/start?next=")

    # Then EU Login, back to the continue page, whose button carries the request on
    start = browser.get(first.location, html=True)
    assert start.status == 302
    callback = browser.callback(browser.eulogin.authorize(start.location, member.person))  # type: ignore[union-attr]
    assert callback.status == 303 and "/realms/esep/home?flow=" in callback.location
    page = browser.get(urlsplit(callback.location).path + "?" + urlsplit(callback.location).query, html=True)
    fields = {k: htmllib.unescape(v) for k, v in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)}
    assert fields["next"].startswith("/realms/esep/oidc/authorize?")
    posted = browser.post("/api/v1/realms/esep/sessions", form=fields, html=True)
    assert posted.status == 303 and posted.location == fields["next"], posted.text[:300]

    # And the authorization request now sends the code, for a federated sign-in
    query = oidc.landed(browser.get(posted.location, html=True), client)
    assert query["state"] == "st"
    tokens = oidc.exchange(browser, client, query["code"], auth="basic").json
    from joserfc import jwt
    from joserfc.jwk import KeySet

    keys = KeySet.import_key_set(browser.get("/realms/esep/.well-known/jwks.json").json)
    claims = jwt.decode(tokens["id_token"], keys).claims
    assert claims["amr"] == ["fed"] and claims["sub"] == member.account_id
    info = oidc.userinfo(browser, "esep", tokens["access_token"]).json
    assert info["country"] == "GR" and info["role"] == "other" and info["etwinning_status"] == "registered"
    assert info["given_name"] == member.person.given_name


def test_a_client_without_the_realm_scope_gets_no_etwinning_data(browser: Browser) -> None:
    member = esep.register(Browser(browser.client, browser.gsis, browser.pump, browser.eulogin), [], role="other")
    client = oidc.register("esep", trusted=True)
    esep_session = esep.sign_in(browser, member.person, member.account_id)
    del esep_session
    query = parse_qs(urlsplit(oidc.authorize(browser, client, scope="openid etwinning").location).query)
    tokens = oidc.exchange(browser, client, query["code"][0], auth="basic").json
    assert tokens["scope"] == "openid"
    assert "country" not in oidc.userinfo(browser, "esep", tokens["access_token"]).json
