"""A certified relying party against the provider as ``make run`` serves it.

npm ``openid-client`` v6 (panva; OpenID-certified RP, pinned in ``tests/oidc_rp``,
installed by ``make test``) runs discovery, the code flow with PKCE S256, ID token
validation (signature from the ``jwks_uri``, ``iss``, ``aud``, ``exp``, ``nonce``,
``at_hash``), userinfo, introspection, refresh and the end-session URL, each with its own
checks, over HTTP against ``python -m devtools.run`` in a child process. The person's
browser is a ``requests`` session that signs in on the realm and follows the redirects.
authlib's own client then plays Moodle: ``client_secret_post``, no PKCE, no nonce.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.support.site import Site, running_site

pytestmark = pytest.mark.xdist_group("openid-client")

RP = Path(__file__).resolve().parents[1] / "oidc_rp"
CALLBACK = "http://127.0.0.1:9/callback"
GOODBYE = "http://127.0.0.1:9/goodbye"
PASSWORD = "agapw poly th mairh sto vouno rp"


@pytest.fixture(scope="module")
def site(aws_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if shutil.which("node") is None or not (RP / "node_modules" / "openid-client").is_dir():
        pytest.fail("openid-client is not installed: run `make test` (npm ci in tests/oidc_rp)")
    with running_site(aws_endpoint, tmp_path_factory.mktemp("rp") / "site.log", name="rp") as served:
        yield served


def _node(*args: str) -> dict[str, Any]:
    done = subprocess.run(["node", "rp.mjs", *args], cwd=RP, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"openid-client refused: {done.stderr}"
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _signed_in_browser(site: Site, realm: str = "ntua") -> tuple[requests.Session, str]:
    username = f"rp{abs(hash(site.url)) % 10**6}{len(site.url)}x{__import__('secrets').token_hex(3)}"
    site.account(realm, username=username, email=f"{username}@example.org", password=PASSWORD)
    browser = requests.Session()
    answer = browser.post(
        f"{site.url}/api/v1/realms/{realm}/sessions", json={"username": username, "password": PASSWORD}, timeout=30
    )
    assert answer.status_code == 201, answer.text
    return browser, username


def _code_flow(site: Site, tmp_path: Path, auth: str, **extra: Any) -> tuple[dict[str, Any], requests.Session]:
    realm = "ntua"
    client_id, secret = site.oidc_client(
        realm, (CALLBACK,), auth_method=auth, post_logout_redirect_uris=(GOODBYE,), **extra.pop("client", {})
    )
    state_file = tmp_path / f"{auth}.json"
    state_file.write_text(
        json.dumps(
            {
                "issuer": site.realm(realm),
                "client_id": client_id,
                "client_secret": secret,
                "auth": auth,
                "redirect_uri": CALLBACK,
                "post_logout_redirect_uri": GOODBYE,
                "scope": "openid profile email affiliation",
                **extra,
            }
        )
    )
    started = _node("start", str(state_file))
    browser, _ = _signed_in_browser(site, realm)
    answer = browser.get(started["authorization_url"], allow_redirects=False, timeout=30)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(CALLBACK), answer.text[:300]
    return _node("finish", str(state_file), answer.headers["Location"]), browser


@pytest.mark.parametrize("auth", ["client_secret_basic", "client_secret_post", "none"])
def test_openid_client_signs_in_validates_refreshes_and_ends_the_session(site: Site, tmp_path: Path, auth: str) -> None:
    # When openid-client runs the whole flow (it throws on any defect it checks)
    result, browser = _code_flow(site, tmp_path, auth)

    # Then it got an ID token it validated, the same subject at userinfo, a rotated refresh
    claims = result["id_token_claims"]
    assert claims["iss"] == site.realm("ntua") and claims["amr"] == ["pwd"] and claims["sid"]
    assert result["userinfo"]["sub"] == claims["sub"] and result["userinfo"]["email"].endswith("@example.org")
    assert "affiliation" not in result["userinfo"]  # a realm scope this client was not registered for
    if auth != "none":  # a public client may not introspect
        assert result["introspection"]["active"] is True and result["introspection"]["sub"] == claims["sub"]
    assert result["refreshed"] == {"rotated": True, "scope": "email openid profile", "userinfo_sub": claims["sub"]}

    # And the end-session URL it built signs the browser out and returns to the RP with state
    bye = browser.get(result["end_session_url"], allow_redirects=False, timeout=30)
    assert bye.status_code == 302 and bye.headers["Location"] == f"{GOODBYE}?state=bye"
    userinfo = requests.get(
        f"{site.realm('ntua')}/oidc/userinfo", headers={"Authorization": f"Bearer {result['access_token']}"}, timeout=30
    )
    assert userinfo.status_code == 401


def test_openid_client_with_private_key_jwt(site: Site, tmp_path: Path) -> None:
    from joserfc.jwk import RSAKey

    # Given a client that authenticates with a key it publishes at its jwks_uri
    key = RSAKey.generate_key(2048, parameters={"kid": "rp-key-1", "alg": "RS256", "use": "sig"})
    with _jwks_server({"keys": [key.as_dict(private=False)]}) as jwks_uri:
        result, _ = _code_flow(
            site,
            tmp_path,
            "private_key_jwt",
            private_jwk=key.as_dict(private=True),
            client={"jwks_uri": jwks_uri, "scopes": ("affiliation",)},
        )
    assert result["id_token_claims"]["sub"] == result["userinfo"]["sub"]
    assert "affiliation" in result["userinfo"]  # registered for the realm scope this time


def test_a_moodle_style_client_without_pkce_or_nonce(site: Site) -> None:
    """authlib's OAuth2Session as Moodle's OAuth 2 service uses the provider: discovery at
    base URL + /.well-known/openid-configuration, client_secret_post, scopes ``openid
    profile email``, no PKCE and no nonce; claims from the ID token and userinfo."""
    from authlib.integrations.requests_client import OAuth2Session
    from joserfc import jwt
    from joserfc.jwk import KeySet

    redirect = "https://moodle.example/admin/oauth2callback.php"
    client_id, secret = site.oidc_client("ntua", (redirect,), auth_method="client_secret_post", name="Moodle")
    metadata = requests.get(f"{site.realm('ntua')}/.well-known/openid-configuration", timeout=30).json()
    moodle = OAuth2Session(
        client_id,
        secret,
        scope="openid profile email",
        redirect_uri=redirect,
        token_endpoint_auth_method="client_secret_post",
    )
    url, state = moodle.create_authorization_url(metadata["authorization_endpoint"])
    assert "code_challenge" not in url and "nonce" not in url

    browser, username = _signed_in_browser(site)
    landed = browser.get(url, allow_redirects=False, timeout=30).headers["Location"]
    assert parse_qs(urlsplit(landed).query)["state"] == [state]
    token = moodle.fetch_token(metadata["token_endpoint"], authorization_response=landed)
    claims = jwt.decode(token["id_token"], KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=30).json()))
    assert claims.claims["aud"] == client_id and "nonce" not in claims.claims
    profile = moodle.get(metadata["userinfo_endpoint"]).json()
    assert profile["preferred_username"] == username and profile["email"] == f"{username}@example.org"
    assert profile["given_name"] is not None and profile["locale"] == "el"


class _Jwks(BaseHTTPRequestHandler):
    document: bytes = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.document)))
        self.end_headers()
        self.wfile.write(self.document)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _JwksServer:
    def __init__(self, document: dict[str, Any]) -> None:
        handler = type("Handler", (_Jwks,), {"document": json.dumps(document).encode()})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)

    def __enter__(self) -> str:
        Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}/jwks.json"

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _jwks_server(document: dict[str, Any]) -> _JwksServer:
    return _JwksServer(document)
