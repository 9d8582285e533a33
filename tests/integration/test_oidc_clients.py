"""Registering clients: the operator CLI (as an operator runs it, another process) and
the admin API (role ``admin``), SPEC §2.8.

Proves: ``add`` prints the client id and the secret once, and the secret is stored only
hashed; the client works at once (a code exchange with that secret); ``list``/``show``
read it back; ``rotate-secret`` prints a new secret and the old one stops working;
``remove`` ends it; bad registrations are refused with the reason (URIs that could leak
a code, unknown scopes, a public client with a secret method). The admin API does the
same for admins only, and the secret appears in no other answer.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from chalicelib.container import services
from tests.integration.test_cli import run_cli
from tests.support import oidc
from tests.support.arrange import account_in, second_factor_passed
from tests.support.browser import Browser

PASSPHRASE = "correct horse battery staple clients"


def _fields(stdout: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        key, _, value = line.partition(": ")
        found.setdefault(key, []).append(value)
    return found


def _sign_in(browser: Browser, realm: str = "ntua") -> None:
    username = f"ops{__import__('secrets').token_hex(4)}"
    account_in(realm, username=username, email=f"{username}@example.org", password=PASSPHRASE)
    assert (
        browser.post(f"/api/v1/realms/{realm}/sessions", json={"username": username, "password": PASSPHRASE}).status
        == 201
    )


def test_the_cli_adds_a_client_that_signs_people_in_at_once(browser: Browser) -> None:
    # When an operator adds a Moodle as the SPEC shows it
    added = run_cli(
        "oidc-client", "add", "--realm", "ntua", "--name", "Moodle",
        "--redirect-uri", "https://moodle.example/admin/oauth2callback.php",
        "--auth-method", "client_secret_post", "--scope", "affiliation",
        "--post-logout-redirect-uri", "https://moodle.example/",
    )  # fmt: skip

    # Then the id and secret are printed once, and only the secret's hash is stored
    assert added.returncode == 0, added.stderr
    fields = _fields(added.stdout)
    client_id, secret = fields["client_id"][0], fields["client_secret"][0]
    assert "shown once" in added.stderr and fields["token_endpoint_auth_method"] == ["client_secret_post"]
    stored = services().ports.oidc_clients.get("ntua", client_id)
    assert stored is not None and stored.secret_hash and secret not in json.dumps(stored.__dict__, default=str)

    # And the client signs a person in with that secret
    _sign_in(browser)
    client = oidc.Client("ntua", client_id, secret, "https://moodle.example/admin/oauth2callback.php")
    tokens = oidc.exchange(browser, client, _consented_code(browser, client), auth="post")
    assert tokens.status == 200, tokens.text

    # And list and show read it back, without the secret
    listed = run_cli("oidc-client", "list", "--realm", "ntua")
    shown = run_cli("oidc-client", "show", "--realm", "ntua", client_id)
    assert client_id in listed.stdout and "Moodle" in listed.stdout
    assert _fields(shown.stdout)["scopes"] == ["openid profile email roles affiliation"]
    assert secret not in listed.stdout + shown.stdout


def _consented_code(browser: Browser, client: oidc.Client) -> str:
    import html as htmllib
    import re

    page = oidc.authorize(browser, client)
    if page.status == 302:
        return oidc.landed(page, client)["code"]
    fields = {k: htmllib.unescape(v) for k, v in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)}
    allowed = browser.post(f"/realms/{client.realm}/oidc/authorize", form={**fields, "decision": "allow"}, html=True)
    return oidc.landed(allowed, client)["code"]


def test_rotating_the_secret_stops_the_old_one_and_remove_ends_the_client(browser: Browser) -> None:
    added = _fields(run_cli("oidc-client", "add", "--realm", "eiep", "--name", "Helpdesk", "--trusted",
                            "--redirect-uri", "https://help.example/cb").stdout)  # fmt: skip
    client_id, old = added["client_id"][0], added["client_secret"][0]
    rotated = run_cli("oidc-client", "rotate-secret", "--realm", "eiep", client_id)
    assert rotated.returncode == 0, rotated.stderr
    new = _fields(rotated.stdout)["client_secret"][0]
    assert new != old
    answer = oidc.token_request(
        browser,
        oidc.Client("eiep", client_id, old),
        {"grant_type": "refresh_token", "refresh_token": "x.1.y"},
        auth="basic",
    )
    assert answer.status == 401 and answer.json["error"] == "invalid_client"  # the old secret no longer authenticates
    with_new = oidc.token_request(
        browser,
        oidc.Client("eiep", client_id, new),
        {"grant_type": "refresh_token", "refresh_token": "x.1.y"},
        auth="basic",
    )
    assert with_new.status == 400 and with_new.json["error"] == "invalid_grant"  # authenticated; the token is bad
    assert run_cli("oidc-client", "remove", "--realm", "eiep", client_id).returncode == 0
    # Another process removed it: this container stops serving it once its cached copy
    # is older than MITROO_OIDC_CLIENT_CACHE_SECONDS (10 s), as the README says
    deadline = time.monotonic() + services().settings.oidc_client_cache_seconds + 2
    while True:
        gone = oidc.authorize(browser, oidc.Client("eiep", client_id, new, "https://help.example/cb"))
        if gone.status == 400 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert gone.status == 400 and "location" not in gone.headers
    assert run_cli("oidc-client", "show", "--realm", "eiep", client_id).returncode == 1


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--redirect-uri", "http://moodle.example/cb"], "https"),
        (["--redirect-uri", "https://moodle.example/cb#x"], "fragment"),
        (["--redirect-uri", "https://user@moodle.example/cb"], "user name"),
        (["--redirect-uri", "https://m.example/cb", "--scope", "gsis"], "not a scope of this realm"),
        (["--redirect-uri", "https://m.example/cb", "--public", "--auth-method", "client_secret_post"], "public"),
        (["--redirect-uri", "https://m.example/cb", "--auth-method", "private_key_jwt"], "jwks_uri"),
        (["--redirect-uri", "https://m.example/cb", "--backchannel-logout-uri", "https://10.0.0.8/bc"], "private"),
    ],
)
def test_bad_registrations_are_refused_with_the_reason(args: list[str], complaint: str) -> None:
    refused = run_cli("oidc-client", "add", "--realm", "ntua", "--name", "Bad", *args)
    assert refused.returncode == 1 and complaint in refused.stderr, refused.stderr
    assert "client_id" not in refused.stdout


def test_unknown_realms_are_a_usage_error() -> None:
    assert run_cli("oidc-client", "list", "--realm", "nowhere").returncode == 2


def test_the_admin_api_manages_clients_for_admins_only(browser: Browser) -> None:
    # Given an NTUA admin and a secretariat member
    tokens: dict[str, Any] = {}
    for role in ("admin", "secretariat"):
        username = f"{role[:3]}{__import__('secrets').token_hex(4)}"
        account_in("ntua", username=username, email=f"{username}@example.org", password=PASSPHRASE, roles=(role,))
        signed = browser.post("/api/v1/realms/ntua/sessions", json={"username": username, "password": PASSPHRASE})
        second_factor_passed(signed.json["access_token"])  # SPEC §2.9: staff sessions pass a factor
        tokens[role] = {"Authorization": f"Bearer {signed.json['access_token']}"}
    base = "/api/v1/realms/ntua/admin/oidc-clients"
    body = {"name": "Library", "redirect_uris": ["https://library.example/cb"], "scopes": ["affiliation"]}

    # When the secretariat tries, it is refused; the admin registers
    assert browser.post(base, json=body, headers=tokens["secretariat"]).status == 403
    created = browser.post(base, json=body, headers=tokens["admin"])
    assert created.status == 201, created.text
    client = created.json
    assert (
        client["client_secret"]
        and client["auth_method"] == "client_secret_basic"
        and client["scopes"] == ["affiliation"]
    )

    # Then it is listed and shown without the secret; rotating answers a new one once
    listed = browser.get(base, headers=tokens["admin"]).json["clients"]
    shown = browser.get(f"{base}/{client['client_id']}", headers=tokens["admin"]).json
    assert any(c["client_id"] == client["client_id"] for c in listed) and "client_secret" not in shown
    rotated = browser.post(f"{base}/{client['client_id']}/secret", headers=tokens["admin"]).json
    assert rotated["client_secret"] and rotated["client_secret"] != client["client_secret"]
    invalid = browser.post(base, json={**body, "redirect_uris": ["javascript:alert(1)"]}, headers=tokens["admin"])
    assert invalid.status == 422 and invalid.json["code"] == "invalid_input"
    assert browser.delete(f"{base}/{client['client_id']}", headers=tokens["admin"]).status == 204
    assert browser.get(f"{base}/{client['client_id']}", headers=tokens["admin"]).status == 404
    entries = services().ports.audit.entries("ntua", f"oidc-client:{client['client_id']}")
    assert [e.action for e in entries] == ["oidc_client.added", "oidc_client.secret_rotated", "oidc_client.removed"]
