"""Bad input at the provider: RFC 6749 errors (or an error page), never a 500, never a
redirect to an address the client did not register, and nothing issued.

Unknown clients, unregistered redirect URIs, wrong secrets, reused and expired codes,
PKCE verifiers that do not match, prompt=none without a session, tokens of the wrong
kind (the API's own, an ID token, another realm's), oversized and malformed bodies and
parameters.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from chalicelib.container import services
from chalicelib.domain.identity import GsisIdentity
from standins.gsis import make_afm
from tests.support import oidc
from tests.support.arrange import account_in
from tests.support.browser import STRONG_PASSWORD, Browser, unique_email

REALM = "eiep"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client() -> oidc.Client:
    return oidc.register(REALM, trusted=True)


@pytest.fixture
def signed_in(browser: Browser) -> dict[str, str]:
    email = unique_email()
    identity = GsisIdentity(make_afm(abs(hash(email)) % 10**7), "ΔΟΚΙΜΗ", "ΕΛΕΝΗ", "ΠΑΤΕΡΑΣ", "ΜΗΤΕΡΑ", "1990")
    account_in(REALM, username=email, email=email, password=STRONG_PASSWORD, identity=identity)
    answer = browser.post(f"/api/v1/realms/{REALM}/sessions", json={"username": email, "password": STRONG_PASSWORD})
    assert answer.status == 201
    return dict(answer.json)


def _no_redirect(answer: object) -> None:
    assert answer.status == 400, answer.text[:300]
    assert "location" not in answer.headers


def test_an_unknown_client_gets_an_error_page_not_a_redirect(browser: Browser, signed_in: dict[str, str]) -> None:
    ghost = oidc.Client(REALM, "no-such-client", None, "https://attacker.example/cb")
    answer = oidc.authorize(browser, ghost)
    _no_redirect(answer)
    assert 'data-code="invalid_client"' in answer.text


def test_no_redirect_uri_when_several_are_registered_is_an_error_page(browser: Browser) -> None:
    client = oidc.register(REALM, redirect_uris=["https://a.example/cb", "https://b.example/cb"])
    answer = oidc.authorize(browser, client, redirect_uri=None)  # type: ignore[arg-type]
    _no_redirect(answer)


@pytest.mark.parametrize(
    "near_miss",
    ["https://app.example/cb/", "https://app.example/cb?x=1", "https://APP.example/cb", "http://app.example/cb"],
)
def test_redirect_uris_match_exactly(browser: Browser, client: oidc.Client, near_miss: str) -> None:
    _no_redirect(oidc.authorize(browser, client, redirect_uri=near_miss))


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_a_wrong_secret_is_invalid_client(browser: Browser, signed_in: dict[str, str], auth: str) -> None:
    method = {"basic": "client_secret_basic", "post": "client_secret_post"}[auth]
    client = oidc.register(REALM, trusted=True, auth_method=method)
    code = oidc.code_for(browser, client)
    wrong = oidc.Client(REALM, client.client_id, "not-the-secret", client.redirect_uri)
    answer = oidc.exchange(browser, wrong, code, auth=auth)
    assert answer.status == 401 and answer.json["error"] == "invalid_client"
    # the code is still good for the real client (an attacker without the secret burns nothing)
    assert oidc.exchange(browser, client, code, auth=auth).status == 200


def test_a_secret_sent_the_unregistered_way_is_refused(
    browser: Browser, signed_in: dict[str, str], client: oidc.Client
) -> None:
    code = oidc.code_for(browser, client)  # registered for client_secret_basic
    answer = oidc.exchange(browser, client, code, auth="post")
    assert answer.status == 401 and answer.json["error"] == "invalid_client"


def test_an_expired_code_is_invalid_grant(browser: Browser, signed_in: dict[str, str], client: oidc.Client) -> None:
    code = oidc.code_for(browser, client)
    models = services().ports.oidc_grants._m  # type: ignore[attr-defined]
    grant_id = code.split(".")[0]
    item = models.OidcGrantItem.get(f"OIDCGRANT#{grant_id}", "GRANT")
    item.update(actions=[models.OidcGrantItem.code_expires_at.set(datetime.now(UTC) - timedelta(seconds=1))])
    answer = oidc.exchange(browser, client, code, auth="basic")
    assert answer.status == 400 and answer.json["error"] == "invalid_grant"


def test_a_code_of_another_client_is_invalid_grant(
    browser: Browser, signed_in: dict[str, str], client: oidc.Client
) -> None:
    other = oidc.register(REALM, trusted=True)
    code = oidc.code_for(browser, client)
    assert oidc.exchange(browser, other, code, auth="basic").json["error"] == "invalid_grant"
    assert oidc.exchange(browser, client, code, auth="basic").status == 200


def test_a_wrong_redirect_uri_at_the_token_endpoint_spends_the_code(
    browser: Browser, signed_in: dict[str, str], client: oidc.Client
) -> None:
    code = oidc.code_for(browser, client)
    moved = oidc.Client(REALM, client.client_id, client.secret, "https://app.example/elsewhere")
    assert oidc.exchange(browser, moved, code, auth="basic").json["error"] == "invalid_grant"
    assert oidc.exchange(browser, client, code, auth="basic").json["error"] == "invalid_grant"


def test_a_verifier_without_a_challenge_is_refused(
    browser: Browser, signed_in: dict[str, str], client: oidc.Client
) -> None:
    code = oidc.code_for(browser, client)
    answer = oidc.exchange(browser, client, code, auth="basic", code_verifier=oidc.pkce()[0])
    assert answer.status == 400 and answer.json["error"] == "invalid_request"


def test_prompt_none_without_a_session_is_login_required(browser: Browser, client: oidc.Client) -> None:
    assert oidc.landed(oidc.authorize(browser, client, prompt="none"), client)["error"] == "login_required"
    assert oidc.landed(oidc.authorize(browser, client, prompt="none login"), client)["error"] == "invalid_request"


@pytest.mark.parametrize("field", ["max_age", "nonce", "state"])
def test_malformed_or_oversized_authorization_parameters(
    browser: Browser, signed_in: dict[str, str], client: oidc.Client, field: str
) -> None:
    value = {"max_age": "soon", "nonce": "n" * 600, "state": "s" * 3000}[field]
    answer = oidc.authorize(browser, client, **{field: value})
    assert oidc.landed(answer, client)["error"] == "invalid_request"


def test_an_oversized_authorization_request_is_a_page_not_a_500(browser: Browser, client: oidc.Client) -> None:
    answer = oidc.authorize(browser, client, state="x" * 20000)
    assert answer.status == 413 and "location" not in answer.headers


def test_request_objects_are_refused(browser: Browser, signed_in: dict[str, str], client: oidc.Client) -> None:
    assert oidc.landed(oidc.authorize(browser, client, request="e30.e30."), client)["error"] == "request_not_supported"


@pytest.mark.parametrize(
    ("body", "headers", "status", "error"),
    [
        (b"grant_type=authorization_code", FORM, 401, "invalid_client"),
        (b'{"grant_type": "authorization_code"}', {"Content-Type": "application/json"}, 400, "invalid_request"),
        (b"grant_type=\xff\xfe", FORM, 400, "invalid_request"),
        (b"grant_type=a&grant_type=b", FORM, 400, "invalid_request"),
        (b"grant_type=password&username=a&password=b", FORM, 400, "unsupported_grant_type"),
        (b"", FORM, 400, "unsupported_grant_type"),
        (b"grant_type=" + b"x" * 70000, FORM, 413, "invalid_request"),
    ],
    ids=["no-client", "json", "not-utf8", "repeated", "password-grant", "empty", "oversized"],
)
def test_malformed_token_requests_answer_rfc6749_errors(
    browser: Browser, body: bytes, headers: dict[str, str], status: int, error: str
) -> None:
    answer = browser.post(f"/realms/{REALM}/oidc/token", body=body, headers=headers)
    assert answer.status == status, answer.text[:300]
    assert answer.json["error"] == error and answer.headers["content-type"] == "application/json"


@pytest.mark.parametrize("code", ["garbage", "a.b", "x" * 5000 + "." + "y" * 43, "ab12.../../"])
def test_malformed_codes_are_invalid_grant(browser: Browser, client: oidc.Client, code: str) -> None:
    answer = oidc.exchange(browser, client, code, auth="basic")
    assert answer.status == 400 and answer.json["error"] == "invalid_grant"


def test_malformed_refresh_tokens_are_invalid_grant(browser: Browser, client: oidc.Client) -> None:
    for token in ("garbage", "a.1.b", "x" * 3000):
        form = {"grant_type": "refresh_token", "refresh_token": token}
        answer = oidc.token_request(browser, client, form, auth="basic")
        assert answer.status == 400 and answer.json["error"] == "invalid_grant"


def test_userinfo_takes_only_the_providers_access_tokens(
    browser: Browser, signed_in: dict[str, str], client: oidc.Client
) -> None:
    tokens = oidc.exchange(browser, client, oidc.code_for(browser, client), auth="basic").json
    for wrong in (signed_in["access_token"], tokens["id_token"], "not-a-token", tokens["access_token"][:-4] + "AAAA"):
        answer = oidc.userinfo(browser, REALM, wrong)
        assert answer.status == 401 and "invalid_token" in answer.headers["www-authenticate"]
    assert oidc.userinfo(browser, "ntua", tokens["access_token"]).status == 401  # another realm's issuer
    both = browser.post(
        f"/realms/{REALM}/oidc/userinfo",
        form={"access_token": tokens["access_token"]},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert both.status == 400 and both.json["error"] == "invalid_request"
    assert browser.get(f"/realms/{REALM}/oidc/userinfo").status == 401


def test_a_provider_access_token_does_not_open_the_api(
    browser: Browser, signed_in: dict[str, str], client: oidc.Client
) -> None:
    tokens = oidc.exchange(browser, client, oidc.code_for(browser, client), auth="basic").json
    assert (
        browser.get(f"/api/v1/realms/{REALM}/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status
        == 401
    )


def test_introspection_and_revocation_need_the_client(
    browser: Browser, signed_in: dict[str, str], client: oidc.Client
) -> None:
    tokens = oidc.exchange(browser, client, oidc.code_for(browser, client), auth="basic").json
    anonymous = browser.post(
        f"/realms/{REALM}/oidc/introspect", body=urlencode({"token": tokens["access_token"]}).encode(), headers=FORM
    )
    assert anonymous.status == 401 and anonymous.json["error"] == "invalid_client"
    missing = oidc.token_request_to(browser, client, "revoke", {})
    assert missing.status == 400 and missing.json["error"] == "invalid_request"
    hint = oidc.token_request_to(browser, client, "revoke", {"token": "x", "token_type_hint": "id_token"})
    assert hint.json["error"] == "unsupported_token_type"  # authlib answers it 401


def test_a_public_client_cannot_introspect(browser: Browser) -> None:
    public = oidc.register(REALM, public=True)
    answer = oidc.token_request_to(browser, public, "introspect", {"token": "x"}, auth="none")
    assert answer.status == 401 and answer.json["error"] == "invalid_client"


def test_an_unknown_realm_is_404_at_every_endpoint(browser: Browser) -> None:
    for path in ("token", "userinfo", "introspect", "revoke"):
        answer = browser.post(f"/realms/nowhere/oidc/{path}", body=b"token=x", headers=FORM)
        assert answer.status == 404 and answer.json["error"] == "invalid_request"
    assert browser.get("/realms/nowhere/.well-known/openid-configuration").status == 404
    assert browser.get("/realms/nowhere/oidc/authorize", html=True).status == 404


def test_basic_credentials_that_do_not_decode_are_invalid_client(browser: Browser) -> None:
    headers = {**FORM, "Authorization": "Basic " + base64.b64encode(b"\xff\xfe:x").decode()}
    answer = browser.post(
        f"/realms/{REALM}/oidc/token", body=b"grant_type=authorization_code&code=a.b", headers=headers
    )
    assert answer.status in (400, 401) and answer.json["error"] == "invalid_client"
