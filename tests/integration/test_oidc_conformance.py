"""The OpenID Foundation's Basic OP and Config OP test modules, one named test each.

The Foundation's suite (Java and MongoDB) cannot run here; each module below does what
the module of the same name does to an OP, through the Chalice test client as API
Gateway would call the app, with the relying party's side written out: a browser with
cookies signs in on the realm's own page, the RP exchanges codes at the token endpoint
and checks the ID token against the keys the provider publishes at its ``jwks_uri``.
``test_openid_client.py`` drives the served site with the certified npm RP as well.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from chalicelib.domain.identity import GsisIdentity
from standins.gsis import make_afm
from tests.support import oidc
from tests.support.arrange import account_in
from tests.support.browser import STRONG_PASSWORD, Browser, unique_email

REALM = "eiep"
ISSUER = oidc.issuer(REALM)


def _person(browser: Browser) -> str:
    """A GSIS-verified e-IEP teacher; their e-mail (the username)."""
    email = unique_email()
    identity = GsisIdentity(make_afm(abs(hash(email)) % 10**7), "ΠΑΠΑΔΟΠΟΥΛΟΥ", "ΜΑΡΙΑ", "ΓΕΩΡΓΙΟΣ", "ΕΛΕΝΗ", "1984")
    account_in(REALM, username=email, email=email, password=STRONG_PASSWORD, identity=identity)
    return email


def _sign_in_through_page(browser: Browser, authorize: Any) -> Any:
    """Follow the provider to its login page, post the form it shows, come back."""
    assert authorize.status == 302 and "/login?" in authorize.location, authorize.text[:300]
    page = browser.get(authorize.location, html=True)
    assert page.status == 200
    return page


def _login_form(browser: Browser, login_url: str, username: str) -> Any:
    """Post the login page's form as a browser would: CSRF token, form_page, next."""
    import re

    page = browser.get(login_url, html=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    form_page = re.search(r'name="form_page" value="([^"]+)"', page.text)
    next_field = re.search(r'name="next" value="([^"]+)"', page.text)
    assert csrf and form_page and next_field, page.text[:500]
    import html as htmllib

    form = {
        "csrf_token": csrf.group(1),
        "form_page": htmllib.unescape(form_page.group(1)),
        "next": htmllib.unescape(next_field.group(1)),
        "username": username,
        "password": STRONG_PASSWORD,
    }
    answer = browser.post(f"/api/v1/realms/{REALM}/sessions", form=form, html=True)
    assert answer.status == 303, answer.text[:500]
    return answer


def _follow_to_code(browser: Browser, client: oidc.Client, username: str, **params: str) -> dict[str, str]:
    """authorize → login page → sign in → authorize again → the RP's redirect URI."""
    first = oidc.authorize(browser, client, **params)
    if first.status == 302 and first.location.startswith(client.redirect_uri):
        return oidc.landed(first, client)
    assert first.status == 302 and "/login?" in first.location, first.text[:500]
    back = _login_form(browser, first.location, username)
    assert back.location.startswith(f"/realms/{REALM}/oidc/authorize?"), back.location
    again = browser.get(back.location, html=True)
    return oidc.landed(again, client)


def _jwks(browser: Browser) -> KeySet:
    discovery = browser.get(f"/realms/{REALM}/.well-known/openid-configuration").json
    path = urlsplit(discovery["jwks_uri"]).path
    return KeySet.import_key_set(browser.get(path).json)


def _id_token(browser: Browser, token: str, client: oidc.Client) -> dict[str, Any]:
    decoded = jwt.decode(token, _jwks(browser), algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256" and decoded.header.get("kid")
    claims = dict(decoded.claims)
    assert claims["iss"] == ISSUER and claims["aud"] == client.client_id
    assert claims["exp"] > time.time() >= claims["iat"] - 5
    return claims


@pytest.fixture
def person(browser: Browser) -> str:
    return _person(browser)


@pytest.fixture
def basic_client() -> oidc.Client:
    return oidc.register(REALM, trusted=True)


# --- oidcc-server, basic and post --------------------------------------------------------------


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_oidcc_server(browser: Browser, person: str, auth: str) -> None:
    # Given a confidential client authenticating with client_secret_basic (or _post)
    method = {"basic": "client_secret_basic", "post": "client_secret_post"}[auth]
    client = oidc.register(REALM, trusted=True, auth_method=method)

    # When the code flow runs: sign in, code, exchange
    landed = _follow_to_code(browser, client, person, nonce="n-1", state="st-1")
    answer = oidc.exchange(browser, client, landed["code"], auth=auth)

    # Then the state and issuer come back, and a valid ID token, access and refresh token
    assert landed["state"] == "st-1" and landed["iss"] == ISSUER
    assert answer.status == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    tokens = answer.json
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0 and tokens["refresh_token"]
    claims = _id_token(browser, tokens["id_token"], client)
    assert claims["nonce"] == "n-1" and claims["amr"] == ["pwd"] and claims["acr"] == "1" and claims["sid"]
    assert abs(claims["auth_time"] - time.time()) < 60


def test_response_type_missing(browser: Browser, basic_client: oidc.Client) -> None:
    answer = oidc.authorize(browser, basic_client, response_type=None, state="s")  # type: ignore[arg-type]
    query = oidc.landed(answer, basic_client)
    assert query["error"] in ("invalid_request", "unsupported_response_type") and query["state"] == "s"


def test_idtoken_signature(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    code = _follow_to_code(browser, basic_client, person)["code"]
    token = oidc.exchange(browser, basic_client, code, auth="basic").json["id_token"]
    claims = _id_token(browser, token, basic_client)  # verified against the published JWKS
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(Exception):
        jwt.decode(tampered, _jwks(browser), algorithms=["RS256"])
    assert claims["sub"]


def _tokens(browser: Browser, client: oidc.Client, person: str, scope: str = "openid") -> dict[str, Any]:
    code = _follow_to_code(browser, client, person, scope=scope)["code"]
    answer = oidc.exchange(browser, client, code, auth="basic")
    assert answer.status == 200, answer.text
    return dict(answer.json)


def test_userinfo_get(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    tokens = _tokens(browser, basic_client, person)
    answer = oidc.userinfo(browser, REALM, tokens["access_token"])
    id_claims = _id_token(browser, tokens["id_token"], basic_client)
    assert answer.status == 200 and answer.json["sub"] == id_claims["sub"]


def test_userinfo_post_header(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    tokens = _tokens(browser, basic_client, person)
    answer = browser.post(
        f"/realms/{REALM}/oidc/userinfo",
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=b"",
    )
    assert answer.status == 200 and answer.json["sub"]


def test_userinfo_post_body(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    tokens = _tokens(browser, basic_client, person)
    answer = browser.post(f"/realms/{REALM}/oidc/userinfo", form={"access_token": tokens["access_token"]})
    assert answer.status == 200 and answer.json["sub"]


def test_ensure_request_without_nonce_succeeds_for_code_flow(
    browser: Browser, person: str, basic_client: oidc.Client
) -> None:
    tokens = _tokens(browser, basic_client, person)
    assert "nonce" not in _id_token(browser, tokens["id_token"], basic_client)


def test_scope_profile(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    claims = oidc.userinfo(
        browser, REALM, _tokens(browser, basic_client, person, "openid profile")["access_token"]
    ).json
    assert claims["given_name"] == "ΜΑΡΙΑ" and claims["family_name"] == "ΠΑΠΑΔΟΠΟΥΛΟΥ"
    assert claims["name"] == "ΜΑΡΙΑ ΠΑΠΑΔΟΠΟΥΛΟΥ" and claims["preferred_username"] == person
    assert claims["locale"] == "el" and "email" not in claims


def test_scope_email(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    claims = oidc.userinfo(browser, REALM, _tokens(browser, basic_client, person, "openid email")["access_token"]).json
    assert claims["email"] == person and claims["email_verified"] is True and "given_name" not in claims


def test_scope_all(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    tokens = _tokens(browser, basic_client, person, "openid profile email address phone roles gsis")
    claims = oidc.userinfo(browser, REALM, tokens["access_token"]).json
    assert {"sub", "name", "email", "roles"} <= set(claims)
    assert "afm" not in claims  # gsis is a realm scope the client was not registered for
    assert set(tokens["scope"].split()) == {"openid", "profile", "email", "roles"}


def test_prompt_login(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    # Given a person signed in (a first code)
    first = _tokens(browser, basic_client, person)
    first_auth = _id_token(browser, first["id_token"], basic_client)["auth_time"]
    time.sleep(1.1)

    # When an application asks with prompt=login
    again = oidc.authorize(browser, basic_client, prompt="login")

    # Then the login page is shown although a session exists, and the new auth_time is later
    assert again.status == 302 and "/login?" in again.location
    back = _login_form(browser, again.location, person)
    code = oidc.landed(browser.get(back.location, html=True), basic_client)["code"]
    second = oidc.exchange(browser, basic_client, code, auth="basic").json
    assert _id_token(browser, second["id_token"], basic_client)["auth_time"] > first_auth


def test_prompt_none_not_logged_in(browser: Browser, basic_client: oidc.Client) -> None:
    query = oidc.landed(oidc.authorize(browser, basic_client, prompt="none", state="s"), basic_client)
    assert query["error"] == "login_required" and query["state"] == "s" and "code" not in query


def test_prompt_none_logged_in(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    _tokens(browser, basic_client, person)
    query = oidc.landed(oidc.authorize(browser, basic_client, prompt="none"), basic_client)
    assert "code" in query and "error" not in query


def test_max_age_1(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    first = _id_token(browser, _tokens(browser, basic_client, person)["id_token"], basic_client)
    time.sleep(2.1)
    again = oidc.authorize(browser, basic_client, max_age="1")
    assert again.status == 302 and "/login?" in again.location  # re-authentication asked
    back = _login_form(browser, again.location, person)
    code = oidc.landed(browser.get(back.location, html=True), basic_client)["code"]
    second = _id_token(browser, oidc.exchange(browser, basic_client, code, auth="basic").json["id_token"], basic_client)
    assert second["auth_time"] >= first["auth_time"] + 2


def test_max_age_10000(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    first = _id_token(browser, _tokens(browser, basic_client, person)["id_token"], basic_client)
    query = oidc.landed(oidc.authorize(browser, basic_client, max_age="10000"), basic_client)
    second = oidc.exchange(browser, basic_client, query["code"], auth="basic").json
    assert _id_token(browser, second["id_token"], basic_client)["auth_time"] == first["auth_time"]


def test_id_token_hint(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    hint = _tokens(browser, basic_client, person)["id_token"]
    query = oidc.landed(oidc.authorize(browser, basic_client, prompt="none", id_token_hint=hint), basic_client)
    assert "code" in query
    forged = hint[:-6] + "AAAAAA"
    refused = oidc.landed(oidc.authorize(browser, basic_client, id_token_hint=forged), basic_client)
    assert refused["error"] == "invalid_request"


def test_login_hint(browser: Browser, basic_client: oidc.Client) -> None:
    first = oidc.authorize(browser, basic_client, login_hint="someone@example.gr")
    page = browser.get(first.location, html=True)
    assert 'value="someone@example.gr"' in page.text


def test_ui_locales(browser: Browser, basic_client: oidc.Client) -> None:
    first = oidc.authorize(browser, basic_client, ui_locales="en-GB el")
    assert "lang=en" in first.location
    page = browser.get(first.location, html=True)
    assert '<html lang="en">' in page.text


def test_codereuse(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    code = _follow_to_code(browser, basic_client, person)["code"]
    first = oidc.exchange(browser, basic_client, code, auth="basic")
    second = oidc.exchange(browser, basic_client, code, auth="basic")
    assert first.status == 200 and second.status == 400 and second.json["error"] == "invalid_grant"
    # the first redemption's tokens are revoked
    assert oidc.userinfo(browser, REALM, first.json["access_token"]).status == 401
    refreshed = oidc.token_request(
        browser,
        basic_client,
        {"grant_type": "refresh_token", "refresh_token": first.json["refresh_token"]},
        auth="basic",
    )
    assert refreshed.status == 400 and refreshed.json["error"] == "invalid_grant"


@pytest.mark.xdist_group("slow-oidc")
def test_codereuse_30seconds(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    code = _follow_to_code(browser, basic_client, person)["code"]
    first = oidc.exchange(browser, basic_client, code, auth="basic")
    time.sleep(30)
    second = oidc.exchange(browser, basic_client, code, auth="basic")
    assert first.status == 200 and second.status == 400 and second.json["error"] == "invalid_grant"
    assert oidc.userinfo(browser, REALM, first.json["access_token"]).status == 401


def test_ensure_registered_redirect_uri(browser: Browser, basic_client: oidc.Client) -> None:
    answer = oidc.authorize(browser, basic_client, redirect_uri="https://attacker.example/cb")
    assert answer.status == 400 and "location" not in answer.headers
    assert 'data-code="invalid_request"' in answer.text


def test_refresh_token(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    tokens = _tokens(browser, basic_client, person, "openid email")
    refreshed = oidc.token_request(
        browser, basic_client, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth="basic"
    )
    assert refreshed.status == 200, refreshed.text
    assert refreshed.json["refresh_token"] != tokens["refresh_token"] and refreshed.json["scope"] == tokens["scope"]
    assert oidc.userinfo(browser, REALM, refreshed.json["access_token"]).json["email"] == person
    replay = oidc.token_request(
        browser, basic_client, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth="basic"
    )
    assert replay.status == 400 and replay.json["error"] == "invalid_grant"
    assert oidc.userinfo(browser, REALM, refreshed.json["access_token"]).status == 401  # the replay revoked the grant


def test_pkce_s256(browser: Browser, person: str) -> None:
    # Given a public client: PKCE S256 is required
    client = oidc.register(REALM, public=True, trusted=True)
    missing = oidc.landed(oidc.authorize(browser, client), client)
    assert missing["error"] == "invalid_request"
    plain = oidc.landed(oidc.authorize(browser, client, code_challenge="x" * 43, code_challenge_method="plain"), client)
    assert plain["error"] == "invalid_request"

    # When the flow runs with a challenge, and the exchange sends the verifier
    verifier, challenge = oidc.pkce()
    code = _follow_to_code(browser, client, person, code_challenge=challenge, code_challenge_method="S256")["code"]
    wrong = oidc.exchange(browser, client, code, auth="none", code_verifier=oidc.pkce()[0])
    code = oidc.landed(oidc.authorize(browser, client, code_challenge=challenge, code_challenge_method="S256"), client)
    right = oidc.exchange(browser, client, code["code"], auth="none", code_verifier=verifier)

    # Then a wrong verifier is invalid_grant and the right one gets tokens
    assert wrong.status == 400 and wrong.json["error"] == "invalid_grant"
    assert right.status == 200 and right.json["id_token"]


def test_oidcc_discovery_endpoint_verification(browser: Browser) -> None:
    from authlib.oidc.discovery import OpenIDProviderMetadata

    answer = browser.get(f"/realms/{REALM}/.well-known/openid-configuration")
    metadata = answer.json
    assert answer.status == 200 and metadata["issuer"] == ISSUER
    assert metadata["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    for name in ("authorize", "token", "userinfo"):
        assert metadata[f"{name}_endpoint" if name != "authorize" else "authorization_endpoint"].startswith(ISSUER)
    assert metadata["response_types_supported"] == ["code"]
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert {"client_secret_basic", "client_secret_post", "private_key_jwt", "none"} <= set(
        metadata["token_endpoint_auth_methods_supported"]
    )
    assert metadata["backchannel_logout_supported"] and metadata["backchannel_logout_session_supported"]
    checked = OpenIDProviderMetadata({**metadata, "issuer": metadata["issuer"].replace("http://", "https://")})
    for key in ("jwks_uri", "scopes_supported", "response_types_supported", "subject_types_supported"):
        getattr(checked, f"validate_{key}")()
    checked.validate_id_token_signing_alg_values_supported()
    assert browser.get(urlsplit(metadata["jwks_uri"]).path).json["keys"][0]["alg"] == "RS256"


def test_consent_is_asked_remembered_and_can_be_denied(browser: Browser, person: str) -> None:
    # Given an application that is not the realm's own
    client = oidc.register(REALM, name="Moodle of the school")
    first = oidc.authorize(browser, client, scope="openid profile email", state="x")
    back = _login_form(browser, first.location, person)
    page = browser.get(back.location, html=True)

    # Then the consent page names it and every claim, and a denial is access_denied
    assert page.status == 200 and "Moodle of the school" in page.text
    assert 'data-scope="email"' in page.text and 'data-scope="profile"' in page.text
    import html as htmllib
    import re

    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    fields = {key: htmllib.unescape(value) for key, value in fields.items()}
    denied = browser.post(f"/realms/{REALM}/oidc/authorize", form={**fields, "decision": "deny"}, html=True)
    assert oidc.landed(denied, client)["error"] == "access_denied"

    # When allowed, the code comes, and next time the consent is not asked again
    allowed = browser.post(f"/realms/{REALM}/oidc/authorize", form={**fields, "decision": "allow"}, html=True)
    assert "code" in oidc.landed(allowed, client)
    assert "code" in oidc.landed(oidc.authorize(browser, client, scope="openid profile email"), client)
    wider = oidc.authorize(browser, client, scope="openid profile email roles")
    assert wider.status == 200 and 'data-scope="roles"' in wider.text


def test_a_consent_post_without_its_csrf_token_is_refused(browser: Browser, person: str) -> None:
    client = oidc.register(REALM, name="Elsewhere")
    first = oidc.authorize(browser, client)
    page = browser.get(_login_form(browser, first.location, person).location, html=True)
    assert page.status == 200
    forged = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": "openid",
        "decision": "allow",
    }
    answer = browser.post(f"/realms/{REALM}/oidc/authorize", form=forged, html=True)
    assert answer.status == 403 and "location" not in answer.headers


def test_an_account_that_may_not_sign_in_gets_no_code_and_a_page_that_says_why(browser: Browser, person: str) -> None:
    from chalicelib.container import services
    from chalicelib.domain.accounts import AccountStatus, UniqueKind

    client = oidc.register(REALM, trusted=True)
    _tokens(browser, client, person)
    account = services().ports.accounts.find_by_unique(REALM, UniqueKind.EMAIL, person)
    assert account is not None
    # disabled behind the sessions' back (as a direct table change would): the page says why
    from chalicelib.domain.audit import audit

    entry = audit(REALM, account.account_id, "account_disabled", actor="test", at=account.created_at)
    services().ports.accounts.set_status(
        REALM,
        account.account_id,
        AccountStatus.DISABLED,
        expected=AccountStatus.ACTIVE,
        now=account.created_at,
        audit=entry,
    )
    answer = oidc.authorize(browser, client)
    assert answer.status == 403 and 'data-code="account_disabled"' in answer.text and "location" not in answer.headers
    query = oidc.landed(oidc.authorize(browser, client, prompt="none"), client)
    assert query["error"] == "login_required"


def test_rp_initiated_logout(browser: Browser, person: str) -> None:
    # Given a signed-in person and a client with a registered post-logout URI
    client = oidc.register(REALM, trusted=True, post_logout_redirect_uris=["https://app.example/bye"])
    tokens = _tokens(browser, client, person)

    # When the RP sends the browser to the end-session endpoint with the ID token as hint
    answer = browser.get(
        f"/realms/{REALM}/oidc/logout?id_token_hint={tokens['id_token']}"
        "&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye&state=bye-1",
        html=True,
    )

    # Then the browser goes back with state, the session is over (prompt=none: login_required)
    assert answer.status == 302 and answer.location == "https://app.example/bye?state=bye-1"
    assert oidc.landed(oidc.authorize(browser, client, prompt="none"), client)["error"] == "login_required"
    assert oidc.userinfo(browser, REALM, tokens["access_token"]).status == 401


def test_rp_initiated_logout_without_hint_asks_first_and_never_redirects_unregistered(
    browser: Browser, person: str
) -> None:
    client = oidc.register(REALM, trusted=True)
    _tokens(browser, client, person)
    page = browser.get(
        f"/realms/{REALM}/oidc/logout?client_id={client.client_id}&post_logout_redirect_uri=https%3A%2F%2Fevil.example",
        html=True,
    )
    assert page.status == 200 and 'name="confirm"' in page.text
    assert "code" in oidc.landed(oidc.authorize(browser, client, prompt="none"), client)  # not yet signed out
    import re

    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    done = browser.post(f"/realms/{REALM}/oidc/logout", form={**fields, "confirm": "yes"}, html=True)
    assert done.status == 200 and 'data-state="signed-out"' in done.text and "location" not in done.headers
    assert oidc.landed(oidc.authorize(browser, client, prompt="none"), client)["error"] == "login_required"


def test_second_application_signs_in_without_password(browser: Browser, person: str) -> None:
    first, second = oidc.register(REALM, trusted=True), oidc.register(REALM, trusted=True)
    _tokens(browser, first, person)
    query = oidc.landed(oidc.authorize(browser, second), second)  # no login page in between
    tokens = oidc.exchange(browser, second, query["code"], auth="basic").json
    one = _id_token(browser, _tokens(browser, first, person)["id_token"], first)
    two = _id_token(browser, tokens["id_token"], second)
    assert one["sid"] == two["sid"] and one["sub"] == two["sub"]


def test_introspection_and_revocation(browser: Browser, person: str, basic_client: oidc.Client) -> None:
    tokens = _tokens(browser, basic_client, person)

    def call(path: str, **form: str) -> Any:
        return oidc.token_request_to(browser, basic_client, path, form)

    active = call("introspect", token=tokens["access_token"]).json
    assert active["active"] is True and active["client_id"] == basic_client.client_id and active["sub"]
    refresh = call("introspect", token=tokens["refresh_token"], token_type_hint="refresh_token").json
    assert refresh["active"] is True
    other = oidc.register(REALM, trusted=True)
    assert oidc.token_request_to(browser, other, "introspect", {"token": tokens["access_token"]}).json == {
        "active": False
    }
    assert call("revoke", token=tokens["refresh_token"]).status == 200
    assert call("introspect", token=tokens["access_token"]).json == {"active": False}
    assert oidc.userinfo(browser, REALM, tokens["access_token"]).status == 401
    assert call("revoke", token="never-issued").status == 200  # RFC 7009 §2.2


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
