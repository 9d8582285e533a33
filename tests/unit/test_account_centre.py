"""The account centre's flows with fakes (SPEC §2.10): sessions remember where they were
opened and are listed and ended by their owner only; a password change needs a recent
authentication and the right current password (wrong ones count toward the lockout),
ends the other sessions and keeps this one; taking back an application's access revokes
its grants and tells it; a sign-in from a new browser mails a notice, a known one does not."""

from __future__ import annotations

import pytest

from chalicelib.domain.audit import origin
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.oidc import Consent, OidcClient, OidcGrant
from chalicelib.errors import (
    Forbidden,
    InvalidCredentials,
    NotFound,
    PasswordPolicyViolation,
    ReauthenticationRequired,
    TokenInvalid,
    TooManyAttempts,
)
from chalicelib.flows.account.devices import describe_device
from chalicelib.flows.session_ending import BACKCHANNEL_LOGOUT
from chalicelib.flows.sessions import Principal
from chalicelib.realms import get_realm
from tests.fakes import Kit

EMAIL = "maria@example.gr"
PASSWORD = "Passw0rd!"
NEW = "Ne0s!Kwdikos#24"
FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


@pytest.fixture
def active(kit: Kit, maria: GsisIdentity) -> str:
    return kit.activated(maria, EMAIL, PASSWORD).account_id


def _signed_in(kit: Kit, agent: str = FIREFOX, address: str = "203.0.113.5", device: str | None = None) -> Principal:
    with origin(address, agent):
        pair = kit.sessions.login(kit.realm, EMAIL, PASSWORD, address, device_cookie=device)
    return kit.sessions.authenticate(kit.realm, pair.access_token)


def _new_device_mails(kit: Kit) -> list[object]:
    return [message for message in kit.mailer.sent if message.template == "new_device"]


def test_a_device_is_named_from_its_user_agent() -> None:
    assert describe_device(FIREFOX) == "Firefox 120 on Ubuntu"
    assert describe_device("") == "" and describe_device("???") == ""


def test_a_sign_in_records_device_and_address_and_lists_them(kit: Kit, active: str) -> None:
    # Given a person signed in from Firefox here and from elsewhere
    here = _signed_in(kit)
    _signed_in(kit, agent="curl/8.0", address="198.51.100.7")
    # When they list their sessions
    listed = kit.flows.account_sessions.list(kit.realm, here)
    # Then the current one comes first, each with where it was opened
    assert [(v.device, v.address, v.current) for v in listed] == [
        ("Firefox 120 on Ubuntu", "203.0.113.5", True),
        ("curl 8", "198.51.100.7", False),
    ]
    assert listed[0].started == listed[0].last_used == kit.clock.now()


def test_a_refresh_moves_the_last_use(kit: Kit, active: str) -> None:
    with origin("203.0.113.5", FIREFOX):
        pair = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    later = kit.clock.advance(minutes=20)
    renewed = kit.sessions.refresh(kit.realm, pair.refresh_token)
    here = kit.sessions.authenticate(kit.realm, renewed.access_token)
    assert kit.flows.account_sessions.list(kit.realm, here)[0].last_used == later


def test_ending_a_session_of_someone_else_is_not_found(kit: Kit, active: str, nikos: GsisIdentity) -> None:
    # Given Maria signed in, and Nikos signed in
    mine = _signed_in(kit)
    kit.activated(nikos, "nikos@example.gr", PASSWORD)
    theirs = kit.sessions.authenticate(
        kit.realm, kit.sessions.login(kit.realm, "nikos@example.gr", PASSWORD).access_token
    )
    # When Maria ends Nikos's session, or one that does not exist, Then not found
    with pytest.raises(NotFound):
        kit.flows.account_sessions.end(kit.realm, mine, theirs.session_id)
    with pytest.raises(NotFound):
        kit.flows.account_sessions.end(kit.realm, mine, "nope")
    # and Nikos is still signed in
    assert kit.session_repository.get_family("eiep", theirs.account_id, theirs.session_id).revoked_at is None


def test_signing_out_everywhere_else_keeps_this_session(kit: Kit, active: str) -> None:
    here = _signed_in(kit)
    _signed_in(kit)
    _signed_in(kit)
    assert kit.flows.account_sessions.end_others(kit.realm, here) == 2
    assert [v.session_id for v in kit.flows.account_sessions.list(kit.realm, here)] == [here.session_id]


# --- password change -----------------------------------------------------------------------------------


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(kit: Kit, active: str) -> None:
    # Given two sessions of Maria
    here = _signed_in(kit)
    other_pair = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    # When she changes the password from this one
    ended = kit.flows.password_change.change(kit.realm, here, PASSWORD, NEW, NEW)
    # Then the other ended (its refresh token too), this one lives, the change is audited and mailed
    assert ended == 1
    with pytest.raises(TokenInvalid):
        kit.sessions.refresh(kit.realm, other_pair.refresh_token)
    assert kit.sessions.authenticate(kit.realm, kit.sessions.login(kit.realm, EMAIL, NEW).access_token)
    assert kit.session_repository.get_family("eiep", active, here.session_id).revoked_at is None
    assert any(e.action == "password_changed" and e.details.get("via") == "self" for e in kit.store.audit)
    changed = [m for m in kit.mailer.sent if m.template == "password_changed"]
    assert changed and changed[-1].context["by_self"] is True


def test_a_password_change_needs_a_recent_authentication(kit: Kit, active: str) -> None:
    here = _signed_in(kit)
    kit.clock.advance(minutes=6)
    with pytest.raises(ReauthenticationRequired):
        kit.flows.password_change.change(kit.realm, here, PASSWORD, NEW, NEW)


def test_wrong_current_passwords_lock_the_sign_in_as_wrong_logins_do(kit: Kit, active: str) -> None:
    # Given a signed-in person
    here = _signed_in(kit)
    free = kit.realm.throttling.login_free_failures
    # When the current password is wrong as often as the back-off lets through
    for _ in range(free):
        with pytest.raises(InvalidCredentials) as wrong:
            kit.flows.password_change.change(kit.realm, here, "wrong", NEW, NEW)
        assert "current_password" in wrong.value.errors
    # Then the next try, and a sign-in with the right password, are held back
    with pytest.raises(TooManyAttempts):
        kit.flows.password_change.change(kit.realm, here, PASSWORD, NEW, NEW)
    with pytest.raises(TooManyAttempts):
        kit.sessions.login(kit.realm, EMAIL, PASSWORD)


def test_the_realms_password_policy_applies(kit: Kit, active: str) -> None:
    here = _signed_in(kit)
    with pytest.raises(PasswordPolicyViolation):
        kit.flows.password_change.change(kit.realm, here, PASSWORD, "short", "short")


def test_a_realm_without_passwords_refuses(kit: Kit, active: str) -> None:
    here = _signed_in(kit)
    with pytest.raises(Forbidden):
        kit.flows.password_change.change(get_realm("esep"), here, PASSWORD, NEW, NEW)


# --- applications ---------------------------------------------------------------------------------------


def test_taking_back_an_applications_access_revokes_its_grants_and_tells_it(kit: Kit, active: str) -> None:
    # Given Maria allowed a client that holds a grant under her session
    here = _signed_in(kit)
    now = kit.clock.now()
    ports = kit.flows.account_applications
    ports.clients.create(
        OidcClient("eiep", "lib", "Library", ("https://lib.example/cb",), "client_secret_basic", now, now)
    )
    ports.consents.grant(Consent("eiep", active, "lib", ("openid", "email"), now))
    grant = OidcGrant(
        "g1",
        "eiep",
        "lib",
        active,
        here.session_id,
        ("openid",),
        "https://lib.example/cb",
        now,
        now,
        now.replace(year=now.year + 1),
        "hash",
        now,
    )
    family = kit.session_repository.get_family("eiep", active, here.session_id)
    assert ports.grants.issue(grant, browser_hash=family.browser_hash or "", now=now)
    listed = ports.list(kit.realm, here)
    assert [(a.name, a.claims) for a in listed] == [("Library", ("sub", "email", "email_verified"))]
    # When she takes its access back
    revoked = ports.revoke(kit.realm, here, "lib")
    # Then the grant is revoked, the consent gone (audited), and the client told
    assert revoked == 1 and ports.grants.get("g1").revoked_at is not None
    assert ports.list(kit.realm, here) == []
    assert any(e.action == "application.revoked" for e in kit.store.audit)
    assert any(
        t.kind == BACKCHANNEL_LOGOUT and t.payload["client_id"] == "lib"
        for t in kit.tasks.done + [f[0] for f in kit.tasks.failed]
    )
    with pytest.raises(NotFound):
        ports.revoke(kit.realm, here, "lib")


# --- the new-device notice --------------------------------------------------------------------------------


def test_a_sign_in_from_a_new_browser_mails_a_notice_and_a_known_one_does_not(kit: Kit, active: str) -> None:
    # Given a first sign-in from a browser with no device cookie
    with origin("203.0.113.5", FIREFOX):
        first = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    # Then the notice names the device and address and links to the Sessions page
    mails = _new_device_mails(kit)
    assert len(mails) == 1
    context = mails[0].context
    assert (context["browser"], context["system"], context["address"]) == ("Firefox 120", "Ubuntu", "203.0.113.5")
    assert context["sessions_url"].endswith("/realms/eiep/account/sessions")
    # When the same browser signs in again with its device cookie
    kit.sessions.login(kit.realm, EMAIL, PASSWORD, device_cookie=first.device_cookie)
    # Then no other notice
    assert len(_new_device_mails(kit)) == 1


def test_a_lost_queue_loses_the_notice_not_the_sign_in(kit: Kit, active: str) -> None:
    kit.tasks.refuse = True
    assert kit.sessions.login(kit.realm, EMAIL, PASSWORD).access_token
    assert _new_device_mails(kit) == []
