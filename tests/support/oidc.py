"""Driving the realm's OpenID Provider from the tests: clients, PKCE, the code dance.

The relying party's side is written out here with the standard library (and authlib's
client where a test wants a real RP library), so each test reads as the protocol does:
authorize, land on the redirect URI with a code, exchange it, call userinfo.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from chalicelib.container import services
from chalicelib.flows.oidc.clients import ClientRequest
from chalicelib.realms import get_realm
from tests.support.browser import Browser, Response

APP = "https://app.example/cb"
PUBLIC_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Client:
    realm: str
    client_id: str
    secret: str | None
    redirect_uri: str = APP


def register(realm: str = "eiep", name: str = "Test application", **options: Any) -> Client:
    options.setdefault("redirect_uris", [APP])
    registered = services().flows.oidc.clients.register(
        get_realm(realm), ClientRequest(name=name, **options), actor="operator:test"
    )
    return Client(realm, registered.client.client_id, registered.secret, options["redirect_uris"][0])


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def issuer(realm: str) -> str:
    return f"{PUBLIC_URL}/realms/{realm}"


def authorize(browser: Browser, client: Client, **params: str) -> Response:
    query = {"response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uri}
    query.setdefault("scope", "openid")
    query.update(params)
    query = {key: value for key, value in query.items() if value is not None}
    return browser.get(f"/realms/{client.realm}/oidc/authorize?{urlencode(query)}", html=True)


def landed(response: Response, client: Client) -> dict[str, str]:
    """The query the application's redirect URI received."""
    assert response.status in (302, 303), response.text[:500]
    location = response.location
    assert location.startswith(client.redirect_uri), location
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def exchange(browser: Browser, client: Client, code: str, *, auth: str = "post", **extra: str) -> Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri, **extra}
    return token_request(browser, client, form, auth=auth)


def token_request(browser: Browser, client: Client, form: dict[str, str], *, auth: str = "post") -> Response:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    form = dict(form)
    if auth == "post":
        form.update(client_id=client.client_id, client_secret=client.secret or "")
    elif auth == "basic":
        raw = f"{client.client_id}:{client.secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    elif auth == "none":
        form["client_id"] = client.client_id
    return browser.post(f"/realms/{client.realm}/oidc/token", body=urlencode(form).encode(), headers=headers)


def code_for(browser: Browser, client: Client, **params: str) -> str:
    return landed(authorize(browser, client, **params), client)["code"]


def userinfo(browser: Browser, realm: str, access_token: str) -> Response:
    return browser.get(f"/realms/{realm}/oidc/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def token_request_to(
    browser: Browser, client: Client, endpoint: str, form: dict[str, str], *, auth: str = "basic"
) -> Response:
    """A client-authenticated POST to ``{issuer}/oidc/{endpoint}`` (introspect, revoke)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    form = dict(form)
    if auth == "basic":
        raw = f"{client.client_id}:{client.secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    elif auth == "post":
        form.update(client_id=client.client_id, client_secret=client.secret or "")
    else:
        form["client_id"] = client.client_id
    return browser.post(f"/realms/{client.realm}/oidc/{endpoint}", body=urlencode(form).encode(), headers=headers)
