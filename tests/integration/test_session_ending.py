"""Back-channel logout whenever a session ends, for any reason; no stale authority.

A relying party with a back-channel logout endpoint (a real HTTP receiver that checks
each logout token: signature against the published keys, ``iss``, ``aud``, ``iat``,
``jti``, ``sid``/``sub``, ``events``, no ``nonce``) signs a person in through the realm.
Then the session ends, each time another way: logout, a password reset, a change of
roles, graduation, account expiry, a replayed refresh token. Each time the receiver gets
exactly one valid token for that session, the audit log records the notification, and
the old access token stops working at once on the API (admin routes included).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc.jwk import KeySet

from chalicelib.container import services
from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.identity import GsisIdentity
from chalicelib.realms import get_realm
from standins.gsis import make_afm
from tests.support import oidc
from tests.support.arrange import account_in, second_factor_passed
from tests.support.browser import STRONG_PASSWORD, Browser, unique_email
from tests.support.logout_receiver import Receiver, logout_receiver

PASSPHRASE = "correct horse battery staple ending"
_seeds = itertools.count(random.randrange(10**6, 10**7))


def _keys(browser: Browser, realm: str) -> Any:
    return lambda: KeySet.import_key_set(browser.get(f"/realms/{realm}/.well-known/jwks.json").json)


@pytest.fixture
def receiver(browser: Browser) -> Iterator[Receiver]:
    with logout_receiver(oidc.issuer("eiep"), None, _keys(browser, "eiep")) as served:
        yield served


def _client(receiver: Receiver, realm: str = "eiep") -> oidc.Client:
    client = oidc.register(realm, trusted=True, backchannel_logout_uri=receiver.url)
    receiver.audience = client.client_id
    receiver.issuer = oidc.issuer(realm)
    return client


def _signed_in_with_client(browser: Browser, client: oidc.Client, username: str, password: str) -> dict[str, Any]:
    """Sign in through the API (the browser keeps the SSO cookie), then SSO to the client."""
    answer = browser.post(f"/api/v1/realms/{client.realm}/sessions", json={"username": username, "password": password})
    assert answer.status == 201, answer.text
    code = oidc.code_for(browser, client)
    tokens = oidc.exchange(browser, client, code, auth="basic").json
    sub = oidc.userinfo(browser, client.realm, tokens["access_token"]).json["sub"]
    return {"api": answer.json, "oidc": tokens, "oidc_sub": sub}


def _eiep_person() -> str:
    email = unique_email()
    identity = GsisIdentity(make_afm(next(_seeds)), "ΠΑΠΑΔΑΚΗΣ", "ΝΙΚΟΣ", "ΙΩΑΝΝΗΣ", "ΕΛΕΝΗ", "1980")
    account_in("eiep", username=email, email=email, password=STRONG_PASSWORD, identity=identity)
    return email


def _delivered(browser: Browser, receiver: Receiver, count: int = 1) -> list[dict[str, Any]]:
    browser.run_tasks()
    return receiver.wait_for(count)


def _sid(tokens: dict[str, Any]) -> str:
    from joserfc import jwt as _jwt

    return str(_jwt.decode(tokens["oidc"]["id_token"], services().ports.signer._key).claims["sid"])  # type: ignore[attr-defined]


def test_logout_tells_the_client_with_a_valid_logout_token(browser: Browser, receiver: Receiver) -> None:
    # Given a person signed in to a client through the realm
    client = _client(receiver)
    tokens = _signed_in_with_client(browser, client, _eiep_person(), STRONG_PASSWORD)
    sid = _sid(tokens)

    # When they sign out of Mitroo (the API's logout)
    bearer = {"Authorization": f"Bearer {tokens['api']['access_token']}"}
    assert browser.delete("/api/v1/realms/eiep/sessions/current", headers=bearer).status == 204

    # Then the client gets one valid logout token for that session, audited
    delivered = _delivered(browser, receiver)
    assert receiver.refused == [] and len(delivered) == 1
    assert delivered[0]["sid"] == sid and delivered[0]["aud"] == client.client_id
    entries = services().ports.audit.entries("eiep", delivered[0]["sub"])
    assert any(e.action == "oidc.backchannel_logout" and e.details["client_id"] == client.client_id for e in entries)
    assert any(e.action == "session.ended" and e.details["reason"] == "logout" for e in entries)
    assert oidc.userinfo(browser, "eiep", tokens["oidc"]["access_token"]).status == 401


def test_the_logout_page_ends_the_session_even_after_the_access_token_expired(
    browser: Browser, receiver: Receiver
) -> None:
    client = _client(receiver)
    _signed_in_with_client(browser, client, _eiep_person(), STRONG_PASSWORD)
    browser.jar.pop("mitroo_session")  # the 15-minute page cookie is gone; the SSO cookie lives on
    page = browser.get("/realms/eiep/login", html=True)
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    assert browser.post("/realms/eiep/logout", form={"csrf_token": token.group(1)}, html=True).status == 303
    assert len(_delivered(browser, receiver)) == 1
    assert oidc.landed(oidc.authorize(browser, client, prompt="none"), client)["error"] == "login_required"


def test_an_ntua_password_reset_ends_the_session_and_tells_the_client(browser: Browser, receiver: Receiver) -> None:
    # Given an NTUA account signed in to a client
    username = f"reset{next(_seeds)}"
    email = f"{username}@example.org"
    account_in("ntua", username=username, email=email, password=PASSPHRASE)
    client = _client(receiver, "ntua")
    tokens = _signed_in_with_client(browser, client, username, PASSPHRASE)

    # When the password is reset through the mailed link
    other = Browser(browser.client, browser.gsis, browser.pump, browser.eulogin)
    assert other.post("/api/v1/realms/ntua/password-resets", json={"username": username, "email": email}).status == 202
    import re

    mail = other.mail_to(email)[0]["html"]
    link = re.search(r"reset-password\?token=([A-Za-z0-9_-]+)", mail)
    assert link
    new = "another correct horse battery staple"
    done = other.post(
        "/api/v1/realms/ntua/password-resets/complete",
        json={"token": link.group(1), "password": new, "password_confirmation": new},
    )
    assert done.status == 200, done.text

    # Then the session ended (its tokens stop) and the client was told
    assert [claims["sid"] for claims in _delivered(browser, receiver)] == [_sid(tokens)]
    bearer = {"Authorization": f"Bearer {tokens['api']['access_token']}"}
    assert browser.get("/api/v1/realms/ntua/me", headers=bearer).status == 401


def test_graduation_ends_the_graduates_sessions(browser: Browser, receiver: Receiver) -> None:
    # Given a secretariat member, and an undergraduate (made by the registrar, password set)
    # signed in to a client
    from chalicelib.domain.audit import audit
    from tests.integration.test_registrar_api import _body

    secretary = f"sec{next(_seeds)}"
    email = f"{secretary}@example.org"
    account_in("ntua", username=secretary, email=email, password=PASSPHRASE, roles=("secretariat",))
    staff = Browser(browser.client, browser.gsis, browser.pump, browser.eulogin)
    staff_token = staff.post("/api/v1/realms/ntua/sessions", json={"username": secretary, "password": PASSPHRASE}).json
    second_factor_passed(staff_token["access_token"])  # SPEC §2.9: staff sessions pass a factor
    bearer = {"Authorization": f"Bearer {staff_token['access_token']}"}
    number, username = f"U{next(_seeds)}", f"papadopoulos{next(_seeds)}"
    body = _body(kind="undergraduate", username=username, registry_number=number)
    body.pop("expires_on")
    created = staff.post("/api/v1/realms/ntua/admin/accounts", json=body, headers=bearer)
    assert created.status == 201, created.text
    account_id = created.json["account_id"]
    ports, now = services().ports, datetime.now(UTC)
    entry = audit("ntua", account_id, "password_set", actor=account_id, at=now)
    ports.accounts.set_password_hash("ntua", account_id, ports.hasher.hash(PASSPHRASE), now, audit=entry)
    client = _client(receiver, "ntua")
    tokens = _signed_in_with_client(browser, client, username, PASSPHRASE)

    # When the registry marks the registry number graduated
    answer = staff.put(
        f"/api/v1/realms/ntua/admin/registry/{number}",
        json={"level": "undergraduate", "status": "graduated"},
        headers=bearer,
    )
    assert answer.status == 200, answer.text

    # Then the graduate's session is over and the client was told
    assert [claims["sub"] for claims in _delivered(browser, receiver)] == [account_id]
    graduate = {"Authorization": f"Bearer {tokens['api']['access_token']}"}
    assert browser.get("/api/v1/realms/ntua/me", headers=graduate).status == 401


def test_account_expiry_ends_sessions_with_back_channel_logout(browser: Browser, receiver: Receiver) -> None:
    username = f"exp{next(_seeds)}"
    account_id = account_in("ntua", username=username, email=f"{username}@example.org", password=PASSPHRASE)
    ports = services().ports
    today = datetime.now(UTC).date()
    ports.accounts.set_expiry("ntua", account_id, today, datetime.now(UTC), affiliation="postgraduate")
    client = _client(receiver, "ntua")
    tokens = _signed_in_with_client(browser, client, username, PASSPHRASE)

    # The nightly sweep of tomorrow expires the account
    services().flows.expiry.sweep(get_realm("ntua"), today + timedelta(days=1))

    assert [claims["sub"] for claims in _delivered(browser, receiver)] == [account_id]
    bearer = {"Authorization": f"Bearer {tokens['api']['access_token']}"}
    assert browser.get("/api/v1/realms/ntua/me", headers=bearer).status == 401


def test_a_replayed_api_refresh_token_ends_the_session_and_tells_the_client(
    browser: Browser, receiver: Receiver
) -> None:
    client = _client(receiver)
    tokens = _signed_in_with_client(browser, client, _eiep_person(), STRONG_PASSWORD)
    stolen = tokens["api"]["refresh_token"]
    assert browser.post("/api/v1/realms/eiep/sessions/refresh", json={"refresh_token": stolen}).status == 200
    assert browser.post("/api/v1/realms/eiep/sessions/refresh", json={"refresh_token": stolen}).status == 400
    assert len(_delivered(browser, receiver)) == 1
    assert oidc.userinfo(browser, "eiep", tokens["oidc"]["access_token"]).status == 401


def test_a_session_that_runs_out_tells_its_clients_too(browser: Browser, receiver: Receiver) -> None:
    """keycloak#25171: Keycloak does not notify on session expiry. The sweep (a schedule
    every 15 minutes) finds sessions that signed clients in by the hour they end."""
    client = _client(receiver)
    tokens = _signed_in_with_client(browser, client, _eiep_person(), STRONG_PASSWORD)
    sid = _sid(tokens)
    family = services().ports.sessions.get_family("eiep", tokens["oidc_sub"], sid)
    assert family is not None

    # When the schedule runs a minute after the session's end
    ended = services().flows.session_ending.sweep(family.expires_at + timedelta(minutes=1))

    # Then it ended, and the client got a valid logout token for it
    assert ended >= 1
    assert sid in [claims["sid"] for claims in _delivered(browser, receiver)]
    entries = services().ports.audit.entries("eiep", tokens["oidc_sub"])
    assert any(e.action == "session.ended" and e.details["reason"] == "session_expired" for e in entries)


def test_a_role_change_revokes_the_sessions_that_carry_the_old_roles(browser: Browser) -> None:
    # Given an NTUA administrator signed in (roles in the access token)
    username = f"adm{next(_seeds)}"
    account_id = account_in(
        "ntua", username=username, email=f"{username}@example.org", password=PASSPHRASE, roles=("admin",)
    )
    token = browser.post("/api/v1/realms/ntua/sessions", json={"username": username, "password": PASSPHRASE}).json
    second_factor_passed(token["access_token"])  # SPEC §2.9: staff sessions pass a factor
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert browser.get("/api/v1/realms/ntua/admin/oidc-clients", headers=bearer).status == 200

    # When the admin role is taken away
    ended = services().flows.roles.grant("ntua", account_id, ("secretariat",), {}, actor="operator:test")

    # Then the old token no longer opens an admin route, and a new sign-in carries the new roles
    assert ended == 1
    assert browser.get("/api/v1/realms/ntua/admin/oidc-clients", headers=bearer).status == 401
    again = browser.post("/api/v1/realms/ntua/sessions", json={"username": username, "password": PASSPHRASE}).json
    second_factor_passed(again["access_token"])
    refused = browser.get(
        "/api/v1/realms/ntua/admin/oidc-clients", headers={"Authorization": f"Bearer {again['access_token']}"}
    )
    assert refused.status == 403 and refused.json["code"] == "forbidden"


def test_signing_in_again_links_the_earlier_session_which_then_ends_with_the_new_one(
    browser: Browser, receiver: Receiver
) -> None:
    # Given a person signed in to a client, who signs in again (prompt=login, max_age)
    client = _client(receiver)
    person = _eiep_person()
    first = _signed_in_with_client(browser, client, person, STRONG_PASSWORD)
    again = browser.post("/api/v1/realms/eiep/sessions", json={"username": person, "password": STRONG_PASSWORD})
    assert again.status == 201

    # Then the client's session (the first) lives on until the new one ends, and then ends too
    browser.run_tasks()
    assert receiver.accepted == []
    assert oidc.userinfo(browser, "eiep", first["oidc"]["access_token"]).status == 200
    bearer = {"Authorization": f"Bearer {again.json['access_token']}"}
    assert browser.delete("/api/v1/realms/eiep/sessions/current", headers=bearer).status == 204
    assert [claims["sid"] for claims in _delivered(browser, receiver)] == [_sid(first)]
    assert oidc.userinfo(browser, "eiep", first["oidc"]["access_token"]).status == 401


@pytest.mark.xdist_group("slow-oidc")
def test_a_client_that_is_down_gets_the_logout_token_when_it_comes_back(browser: Browser, receiver: Receiver) -> None:
    # Given a client whose back-channel endpoint fails the first delivery
    client = _client(receiver)
    tokens = _signed_in_with_client(browser, client, _eiep_person(), STRONG_PASSWORD)
    receiver.fail_next = 1
    bearer = {"Authorization": f"Bearer {tokens['api']['access_token']}"}
    assert browser.delete("/api/v1/realms/eiep/sessions/current", headers=bearer).status == 204

    # When the queue delivers the task (it fails), and again after the visibility timeout
    browser.run_tasks()
    assert receiver.accepted == []
    time.sleep(31)
    browser.run_tasks()

    # Then the logout token arrived, once
    assert len(receiver.wait_for(1)) == 1 and receiver.refused == []


def test_a_deployed_stage_refuses_private_addresses_for_logout_tokens() -> None:
    from chalicelib.adapters.outbound_http import GuardedHttp
    from chalicelib.errors import OutboundRefused

    deployed, local = GuardedHttp(allow_loopback=False), GuardedHttp(allow_loopback=True)
    for url in (
        "http://127.0.0.1:9/x",
        "https://127.0.0.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.5/x",
        "https://192.168.1.1/x",
        "https://[::1]/x",
        "https://[::ffff:10.0.0.1]/x",
        "https://localhost/x",
    ):
        with pytest.raises(OutboundRefused):
            deployed.post_form(url, {"logout_token": "t"})
    assert local.refusal("http://127.0.0.1:9/x") is None
    assert local.refusal("https://169.254.169.254/x") is not None


def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from chalicelib.adapters.outbound_http import GuardedHttp
    from chalicelib.errors import OutboundRefused

    # Given a registered host name whose DNS answer is an internal address (or turns into one)
    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)

    # Then the post is refused before any connection
    with pytest.raises(OutboundRefused):
        GuardedHttp(allow_loopback=True).post_form("https://rp.example/logout", {"logout_token": "t"})


def test_an_administrator_s_disable_tells_the_person_s_applications(browser: Browser, receiver: Receiver) -> None:
    # Given a person signed in to a client through the realm, and an e-IEP administrator
    client = _client(receiver)
    email = _eiep_person()
    tokens = _signed_in_with_client(browser, client, email, STRONG_PASSWORD)
    sid = _sid(tokens)
    person = services().ports.accounts.find_by_unique("eiep", UniqueKind.EMAIL, email)
    assert person is not None
    admin = f"adm{next(_seeds)}@example.gr"
    account_in("eiep", username=admin, email=admin, password=STRONG_PASSWORD, identity=None, roles=("admin",))
    admin_token = browser.post("/api/v1/realms/eiep/sessions", json={"username": admin, "password": STRONG_PASSWORD})
    second_factor_passed(admin_token.json["access_token"])  # staff roles need a second factor (SPEC §2.9)
    bearer = {"Authorization": f"Bearer {admin_token.json['access_token']}"}

    # When the administrator disables the account from the console
    answer = browser.post(
        f"/api/v1/realms/eiep/admin/accounts/{person.account_id}/disable",
        json={"reason": "compromised"},
        headers=bearer,
    )
    assert answer.status == 200, answer.text

    # Then the client gets one valid logout token for that session, and its tokens are dead
    delivered = _delivered(browser, receiver)
    assert receiver.refused == [] and len(delivered) == 1 and delivered[0]["sid"] == sid
    assert oidc.userinfo(browser, "eiep", tokens["oidc"]["access_token"]).status == 401
    user_bearer = {"Authorization": f"Bearer {tokens['api']['access_token']}"}
    assert browser.get("/api/v1/realms/eiep/me", headers=user_bearer).status == 401
