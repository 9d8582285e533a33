"""The OpenID Provider's flows over the fakes: codes, tokens, ending sessions.

Proves: a code is single use and its reuse revokes what the first redemption got; a
code needs the live session of the browser that asked; refresh tokens rotate and a
replayed one revokes the grant; ending a session (any reason) revokes its grants,
queues one back-channel logout per client and audits it, once even when ended twice;
the logout token carries exactly the claims Back-Channel Logout 1.0 asks for; claims
follow the scopes; role changes end sessions (stale authority).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.oidc import BACKCHANNEL_LOGOUT_EVENT, EndReason
from chalicelib.domain.tokens import parse_browser_cookie
from chalicelib.errors import OAuthRefused, OutboundFailed, Unauthorized
from chalicelib.flows.oidc.authorization import BrowserSignIn, CodeRequest
from chalicelib.flows.oidc.clients import ClientRequest
from chalicelib.flows.session_ending import BACKCHANNEL_LOGOUT
from chalicelib.flows.sessions import TokenPair
from tests.fakes import Kit
from tests.fakes_oidc import RecordingOutbound

EMAIL = "maria@example.gr"
PASSWORD = "Passw0rd!"
APP = "https://app.example/cb"
LOGOUT = "https://app.example/backchannel"


@pytest.fixture
def signed_in(kit: Kit, maria: GsisIdentity) -> TokenPair:
    kit.activated(maria, EMAIL, PASSWORD)
    return kit.sessions.login(kit.realm, EMAIL, PASSWORD)


def _ids(pair: TokenPair) -> tuple[str, str]:
    cookie = parse_browser_cookie(pair.browser_session)
    assert cookie is not None
    return cookie.account_id, cookie.session_id


def _client(kit: Kit, name: str = "App", **options: object) -> str:
    request = ClientRequest(name=name, redirect_uris=[APP], backchannel_logout_uri=LOGOUT, **options)  # type: ignore[arg-type]
    return kit.flows.oidc.clients.register(kit.realm, request, actor="test").client.client_id


def _browser(kit: Kit, pair: TokenPair, client_id: str) -> BrowserSignIn:
    sign_in = kit.flows.oidc.authorization.signed_in(kit.realm, pair.browser_session, client_id)
    assert sign_in is not None
    return sign_in


def _code(kit: Kit, pair: TokenPair, client_id: str, scopes: tuple[str, ...] = ("openid", "profile")) -> str:
    oidc = kit.flows.oidc
    client = oidc.clients.show(kit.realm, client_id)
    code = oidc.authorization.issue_code(kit.realm, _browser(kit, pair, client_id), CodeRequest(client, scopes, APP))
    assert code is not None
    return code


def test_the_sso_cookie_finds_the_session_only_with_its_secret(kit: Kit, signed_in: TokenPair) -> None:
    # Given a signed-in browser and a client
    client_id = _client(kit)
    account_id, session_id = _ids(signed_in)

    # When the cookie is presented as is, with another secret, or malformed
    authorization = kit.flows.oidc.authorization
    genuine = authorization.signed_in(kit.realm, signed_in.browser_session, client_id)
    forged = authorization.signed_in(kit.realm, f"{account_id}.{session_id}.{'x' * 43}", client_id)

    # Then only the genuine cookie is a sign-in, with how and when the person signed in
    assert genuine is not None and genuine.family.amr == ("pwd",) and genuine.family.auth_time == kit.clock.now()
    assert forged is None
    assert authorization.signed_in(kit.realm, "garbage", client_id) is None


def test_a_code_is_single_use_and_its_reuse_revokes_the_first_grant(kit: Kit, signed_in: TokenPair) -> None:
    # Given a code redeemed once
    client_id = _client(kit)
    client = kit.flows.oidc.clients.show(kit.realm, client_id)
    code = _code(kit, signed_in, client_id)
    tokens = kit.flows.oidc.tokens
    first = tokens.redeem(kit.realm, client, code)
    assert first is not None and first.refresh_token is not None

    # When it is redeemed again
    second = tokens.redeem(kit.realm, client, code)

    # Then the second fails and the first redemption's grant is revoked (its refresh token dies)
    assert second is None
    with pytest.raises(OAuthRefused) as refused:
        tokens.refresh(kit.realm, client, first.refresh_token, ())
    assert refused.value.error == "invalid_grant"


def test_a_code_expires_after_sixty_seconds_and_belongs_to_its_client(kit: Kit, signed_in: TokenPair) -> None:
    client_id, other_id = _client(kit), _client(kit, "Other")
    clients = kit.flows.oidc.clients
    late, stolen = _code(kit, signed_in, client_id), _code(kit, signed_in, client_id)
    assert kit.flows.oidc.tokens.redeem(kit.realm, clients.show(kit.realm, other_id), stolen) is None
    kit.clock.advance(seconds=61)
    assert kit.flows.oidc.tokens.redeem(kit.realm, clients.show(kit.realm, client_id), late) is None


def test_no_code_for_an_ended_session(kit: Kit, signed_in: TokenPair) -> None:
    # Given the browser's session, read, then ended by a logout elsewhere
    client_id = _client(kit)
    client = kit.flows.oidc.clients.show(kit.realm, client_id)
    sign_in = _browser(kit, signed_in, client_id)
    kit.flows.session_ending.end("eiep", sign_in.account_id, sign_in.session_id, EndReason.LOGOUT)

    # When the authorization endpoint tries to issue a code for it
    code = kit.flows.oidc.authorization.issue_code(kit.realm, sign_in, CodeRequest(client, ("openid",), APP))

    # Then there is none, and the session is no sign-in any more
    assert code is None
    assert kit.flows.oidc.authorization.signed_in(kit.realm, signed_in.browser_session, client_id) is None


def test_refresh_tokens_rotate_and_a_replay_revokes_the_grant(kit: Kit, signed_in: TokenPair) -> None:
    client_id = _client(kit)
    client = kit.flows.oidc.clients.show(kit.realm, client_id)
    tokens = kit.flows.oidc.tokens
    issued = tokens.redeem(kit.realm, client, _code(kit, signed_in, client_id))
    assert issued is not None and issued.refresh_token is not None

    rotated = tokens.refresh(kit.realm, client, issued.refresh_token, ())
    assert rotated.refresh_token != issued.refresh_token and rotated.refresh_token is not None

    with pytest.raises(OAuthRefused):
        tokens.refresh(kit.realm, client, issued.refresh_token, ())  # the spent one, replayed
    with pytest.raises(OAuthRefused):
        tokens.refresh(kit.realm, client, rotated.refresh_token, ())  # the grant is gone now


def test_a_refresh_cannot_widen_the_scope(kit: Kit, signed_in: TokenPair) -> None:
    client_id = _client(kit)
    client = kit.flows.oidc.clients.show(kit.realm, client_id)
    tokens = kit.flows.oidc.tokens
    issued = tokens.redeem(kit.realm, client, _code(kit, signed_in, client_id, ("openid",)))
    assert issued is not None and issued.refresh_token is not None
    with pytest.raises(OAuthRefused) as refused:
        tokens.refresh(kit.realm, client, issued.refresh_token, ("openid", "email"))
    assert refused.value.error == "invalid_scope"
    assert tokens.refresh(kit.realm, client, issued.refresh_token, ("openid",)).grant.scopes == ("openid",)


def test_ending_a_session_revokes_grants_and_tells_each_client_once(kit: Kit, signed_in: TokenPair) -> None:
    # Given two clients signed in through the same browser session
    first, second = _client(kit, "First"), _client(kit, "Second")
    clients, tokens = kit.flows.oidc.clients, kit.flows.oidc.tokens
    issued = [
        tokens.redeem(kit.realm, clients.show(kit.realm, cid), _code(kit, signed_in, cid)) for cid in (first, second)
    ]
    account_id, session_id = _ids(signed_in)
    outbound = kit.flows.oidc.backchannel.outbound
    assert isinstance(outbound, RecordingOutbound)

    # When the session ends, twice (two logouts racing)
    ending = kit.flows.session_ending
    assert ending.end("eiep", account_id, session_id, EndReason.LOGOUT) is True
    assert ending.end("eiep", account_id, session_id, EndReason.LOGOUT) is False

    # Then both grants are revoked, each client got one logout token, each audited
    for grant in issued:
        assert grant is not None and kit.flows.oidc.grants.get(grant.grant.grant_id).revoked_at is not None  # type: ignore[union-attr]
    assert [url for url, _ in outbound.posted] == [LOGOUT, LOGOUT]
    assert sorted(task.payload["client_id"] for task in kit.tasks.done if task.kind == BACKCHANNEL_LOGOUT) == sorted(
        [first, second]
    )
    actions = [entry.action for entry in kit.store.audit if entry.account_id == account_id]
    assert actions.count("session.ended") == 1 and actions.count("oidc.backchannel_logout") == 2


def test_the_logout_token_carries_what_back_channel_logout_asks_for(kit: Kit, signed_in: TokenPair) -> None:
    client_id = _client(kit)
    _code(kit, signed_in, client_id)
    account_id, session_id = _ids(signed_in)
    kit.flows.session_ending.end("eiep", account_id, session_id, EndReason.PASSWORD_CHANGED)
    outbound = kit.flows.oidc.backchannel.outbound
    assert isinstance(outbound, RecordingOutbound)
    token = outbound.posted[0][1]["logout_token"]

    claims = kit.signer.verify(
        token, issuer="http://127.0.0.1:8000/realms/eiep", now=kit.clock.now(), audience=client_id, typ="logout+jwt"
    )
    assert claims["sub"] == account_id and claims["sid"] == session_id
    assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}} and "nonce" not in claims
    assert claims["jti"] and claims["iat"] <= claims["exp"]
    with pytest.raises(Unauthorized):  # a logout token never passes for an access token
        kit.signer.verify(token, issuer="http://127.0.0.1:8000/realms/eiep", now=kit.clock.now(), audience=client_id)


def test_a_client_that_is_down_makes_the_task_fail_for_a_retry(kit: Kit, signed_in: TokenPair) -> None:
    client_id = _client(kit)
    _code(kit, signed_in, client_id)
    outbound = kit.flows.oidc.backchannel.outbound
    assert isinstance(outbound, RecordingOutbound)
    outbound.down.add(LOGOUT)
    account_id, session_id = _ids(signed_in)
    kit.flows.session_ending.end("eiep", account_id, session_id, EndReason.LOGOUT)
    failed = [(task, exc) for task, exc in kit.tasks.failed if task.kind == BACKCHANNEL_LOGOUT]
    assert len(failed) == 1 and isinstance(failed[0][1], OutboundFailed)

    # When the client is back, the same task (as SQS delivers it again) gets through
    outbound.down.clear()
    kit.flows.tasks.run(failed[0][0])
    assert [url for url, _ in outbound.posted] == [LOGOUT]


def test_every_reason_ends_sessions_with_back_channel_logout(kit: Kit, signed_in: TokenPair) -> None:
    # Given a client signed in, then a password change (one of the reasons)
    client_id = _client(kit)
    _code(kit, signed_in, client_id)
    account = kit.accounts.find_by_unique("eiep", UniqueKind.EMAIL, EMAIL)
    assert account is not None
    kit.flows.passwords.change(kit.realm, account, "N3wPassw0rd!", action="password_changed", via="test")

    # Then the session is over and the client was told
    outbound = kit.flows.oidc.backchannel.outbound
    assert isinstance(outbound, RecordingOutbound) and len(outbound.posted) == 1
    with pytest.raises(Unauthorized):
        kit.sessions.authenticate(kit.realm, signed_in.access_token)


def test_a_role_change_ends_the_sessions_that_carry_the_old_roles(kit: Kit, signed_in: TokenPair) -> None:
    principal = kit.sessions.authenticate(kit.realm, signed_in.access_token)
    ended = kit.flows.roles.grant("eiep", principal.account_id, ("admin",), {}, actor="operator:test")
    assert ended == 1
    with pytest.raises(Unauthorized):
        kit.sessions.authenticate(kit.realm, signed_in.access_token)
    assert any(entry.action == "roles_granted" for entry in kit.store.audit)


def test_linked_sessions_end_together(kit: Kit, maria: GsisIdentity) -> None:
    kit.activated(maria, EMAIL, PASSWORD)
    first = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    kit.clock.advance(minutes=5)
    second = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    account_id, first_sid = _ids(first)
    _, second_sid = _ids(second)
    kit.session_repository.link("eiep", account_id, second_sid, [first_sid])

    assert kit.flows.session_ending.end("eiep", account_id, second_sid, EndReason.LOGOUT)
    for pair in (first, second):
        with pytest.raises(Unauthorized):
            kit.sessions.authenticate(kit.realm, pair.access_token)


def test_claims_follow_the_scopes(kit: Kit, signed_in: TokenPair) -> None:
    from chalicelib.flows.oidc.claims import claims_for

    account = kit.accounts.get("eiep", kit.sessions.authenticate(kit.realm, signed_in.access_token).account_id)
    assert account is not None
    assert claims_for(kit.realm, account, ("openid",)) == {"sub": account.account_id}
    profile = claims_for(kit.realm, account, ("openid", "profile", "email"))
    assert profile["given_name"] == "ΜΑΡΙΑ" and profile["email"] == EMAIL and profile["email_verified"] is True
    assert "afm" not in profile
    assert claims_for(kit.realm, account, ("openid", "gsis"))["afm"] == maria_afm(account)


def maria_afm(account: object) -> str:
    return account.identity.afm  # type: ignore[attr-defined,no-any-return]


def test_max_age_asks_again_after_that_many_seconds(kit: Kit, signed_in: TokenPair) -> None:
    client_id = _client(kit)
    sign_in = _browser(kit, signed_in, client_id)
    authorization = kit.flows.oidc.authorization
    assert not authorization.needs_reauthentication(sign_in, 10)
    kit.clock.advance(seconds=11)
    assert authorization.needs_reauthentication(_browser(kit, signed_in, client_id), 10)
    assert not authorization.needs_reauthentication(_browser(kit, signed_in, client_id), None)


def test_consent_is_remembered_per_client_and_scopes(kit: Kit, signed_in: TokenPair) -> None:
    client_id, trusted_id = _client(kit), _client(kit, "Ours", trusted=True)
    oidc = kit.flows.oidc
    client, trusted = oidc.clients.show(kit.realm, client_id), oidc.clients.show(kit.realm, trusted_id)
    scopes = ("openid", "profile")
    assert oidc.authorization.needs_consent(client, _browser(kit, signed_in, client_id), scopes, asked=False)
    assert not oidc.authorization.needs_consent(trusted, _browser(kit, signed_in, trusted_id), scopes, asked=False)
    oidc.authorization.remember_consent(kit.realm, _browser(kit, signed_in, client_id), client, scopes)
    assert not oidc.authorization.needs_consent(client, _browser(kit, signed_in, client_id), scopes, asked=False)
    wider = (*scopes, "email")
    assert oidc.authorization.needs_consent(client, _browser(kit, signed_in, client_id), wider, asked=False)
    assert oidc.authorization.needs_consent(client, _browser(kit, signed_in, client_id), scopes, asked=True)


def test_a_session_never_outlives_its_grant_expiry(kit: Kit, signed_in: TokenPair) -> None:
    client_id = _client(kit)
    client = kit.flows.oidc.clients.show(kit.realm, client_id)
    issued = kit.flows.oidc.tokens.redeem(kit.realm, client, _code(kit, signed_in, client_id))
    assert issued is not None and issued.refresh_token is not None
    kit.clock.advance(days=31)  # past the session's 30 days
    with pytest.raises(OAuthRefused):
        kit.flows.oidc.tokens.refresh(kit.realm, client, issued.refresh_token, ())
    assert timedelta(days=30) == kit.realm.lifetimes.session_max


def test_a_code_straight_from_the_cookie_checks_everything_the_cookie_says(kit: Kit, signed_in: TokenPair) -> None:
    # Given a signed-in browser's cookie and a client the person has not allowed yet
    client_id = _client(kit)
    oidc = kit.flows.oidc
    client = oidc.clients.show(kit.realm, client_id)
    quick = oidc.authorization.cookie_sign_in(signed_in.browser_session)
    assert quick is not None and quick.cookie.amr == ("pwd",)
    request = CodeRequest(client, ("openid",), APP)

    # Then no code without the consent; with it, a code in one write
    assert oidc.authorization.issue_code(kit.realm, quick, request) is None
    oidc.authorization.remember_consent(kit.realm, _browser(kit, signed_in, client_id), client, ("openid",))
    assert oidc.authorization.issue_code(kit.realm, quick, request) is not None

    # And a cookie whose times were altered (to dodge max_age) gets nothing
    cookie = quick.cookie
    forged = dataclasses.replace(cookie, auth_time=cookie.auth_time + timedelta(hours=1))  # type: ignore[operator]
    assert oidc.authorization.issue_code(kit.realm, type(quick)(forged), request) is None

    # And once the account may not sign in, neither does the cookie
    account_id, _ = _ids(signed_in)
    from chalicelib.domain.accounts import AccountStatus
    from chalicelib.domain.audit import audit

    now = kit.clock.now()
    entry = audit("eiep", account_id, "account_disabled", actor="test", at=now)
    kit.accounts.set_status(
        "eiep", account_id, AccountStatus.DISABLED, expected=AccountStatus.ACTIVE, now=now, audit=entry
    )
    assert oidc.authorization.issue_code(kit.realm, quick, request) is None


def test_sessions_that_run_out_end_and_their_clients_are_told_once(kit: Kit, signed_in: TokenPair) -> None:
    # Given a session that signed a client in, and another one that signed none in
    client_id = _client(kit)
    _code(kit, signed_in, client_id)
    kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    outbound = kit.flows.oidc.backchannel.outbound
    assert isinstance(outbound, RecordingOutbound)
    ending = kit.flows.session_ending

    # When the sweep runs before the end, then after it, then again
    assert ending.sweep(kit.clock.now()) == 0
    later = kit.clock.advance(days=30, minutes=1)
    assert ending.sweep(later) == 1
    assert ending.sweep(kit.clock.advance(minutes=15)) == 0

    # Then the client was told once, and the end is audited as the session running out
    assert [url for url, _ in outbound.posted] == [LOGOUT]
    account_id, _ = _ids(signed_in)
    reasons = [e.details.get("reason") for e in kit.store.audit if e.action == "session.ended"]
    assert reasons == ["session_expired"] and account_id
