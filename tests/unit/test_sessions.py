"""Login, refresh-token rotation, logout and bearer authentication.

Proves: credential failures are indistinguishable (an unknown user still spends one
hash); account state is revealed only after a correct password; refresh rotates and a
replayed token revokes its whole family; expiry is enforced; logout and foreign or
tampered tokens end authentication.
"""

from __future__ import annotations

import dataclasses

import pytest

from chalicelib.domain.accounts import AccountStatus
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.tokens import ACCESS_TOKEN_AUDIENCE
from chalicelib.errors import (
    AccountDisabled,
    AccountExpired,
    InvalidCredentials,
    NotActivated,
    TokenExpired,
    TokenInvalid,
    Unauthorized,
)
from chalicelib.realms import get_realm
from tests.fakes import Kit, arranged, race

EMAIL = "maria@example.gr"
PASSWORD = "Passw0rd!"


@pytest.fixture
def active(kit: Kit, maria: GsisIdentity) -> str:
    """Maria's active account id."""
    return kit.activated(maria, EMAIL, PASSWORD).account_id


def _set_status(kit: Kit, account_id: str, status: AccountStatus) -> None:
    assert kit.accounts.set_status(
        "eiep", account_id, status, expected=AccountStatus.ACTIVE, now=kit.clock.now(), audit=arranged("x", "x")
    )


# --- login --------------------------------------------------------------------------------


def test_login_returns_a_verifiable_access_token_and_a_refresh_token(kit: Kit, active: str) -> None:
    pair = kit.sessions.login(kit.realm, " Maria@Example.GR ", PASSWORD)
    claims = kit.signer.verify(pair.access_token, issuer="http://127.0.0.1:8000/realms/eiep", now=kit.clock.now())
    assert claims["sub"] == active and claims["aud"] == ACCESS_TOKEN_AUDIENCE and claims["realm"] == "eiep"
    assert pair.token_type == "Bearer" and pair.expires_in == 15 * 60
    assert pair.refresh_expires_in == 14 * 24 * 3600 and pair.refresh_token not in kit.store.tokens
    principal = kit.sessions.authenticate(kit.realm, pair.access_token)
    assert (principal.account_id, principal.session_id) == (active, claims["sid"])


def test_an_unknown_user_spends_one_hash_and_gets_invalid_credentials(kit: Kit) -> None:
    with pytest.raises(InvalidCredentials):
        kit.sessions.login(kit.realm, "nobody@example.gr", PASSWORD)
    assert kit.hasher.wasted == 1


def test_a_wrong_password_is_invalid_credentials(kit: Kit, active: str) -> None:
    with pytest.raises(InvalidCredentials):
        kit.sessions.login(kit.realm, EMAIL, "Wr0ng!pass")
    assert kit.hasher.wasted == 0 and not kit.store.families


def test_an_account_without_a_local_password_is_invalid_credentials(kit: Kit, active: str) -> None:
    account = kit.store.accounts[("eiep", active)]
    kit.store.accounts[("eiep", active)] = dataclasses.replace(account, password_hash=None)
    with pytest.raises(InvalidCredentials):
        kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    assert kit.hasher.wasted == 1


def test_a_pending_account_is_not_activated_only_with_the_right_password(kit: Kit, maria: GsisIdentity) -> None:
    kit.register(maria, EMAIL, PASSWORD)
    with pytest.raises(InvalidCredentials):
        kit.sessions.login(kit.realm, EMAIL, "Wr0ng!pass")
    with pytest.raises(NotActivated):
        kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    assert not kit.store.families


@pytest.mark.parametrize(
    ("status", "error"), [(AccountStatus.DISABLED, AccountDisabled), (AccountStatus.EXPIRED, AccountExpired)]
)
def test_disabled_and_expired_accounts_cannot_log_in(
    kit: Kit, active: str, status: AccountStatus, error: type[Exception]
) -> None:
    _set_status(kit, active, status)
    with pytest.raises(InvalidCredentials):
        kit.sessions.login(kit.realm, EMAIL, "Wr0ng!pass")
    with pytest.raises(error):
        kit.sessions.login(kit.realm, EMAIL, PASSWORD)


def test_an_outdated_hash_is_replaced_at_login(kit: Kit, active: str) -> None:
    kit.hasher.rehash = True
    kit.clock.advance(minutes=5)
    kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    account = kit.accounts.get("eiep", active)
    assert account is not None and account.updated_at == kit.clock.now()
    assert kit.hasher.verify(account.password_hash or "", PASSWORD)


# --- refresh ------------------------------------------------------------------------------


def test_refresh_rotates_the_refresh_token(kit: Kit, active: str) -> None:
    first = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    kit.clock.advance(minutes=20)
    second = kit.sessions.refresh(kit.realm, first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert kit.sessions.authenticate(kit.realm, second.access_token).account_id == active
    third = kit.sessions.refresh(kit.realm, second.refresh_token)
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)


def test_replaying_a_rotated_token_revokes_the_whole_family(kit: Kit, active: str) -> None:
    # Given a token that was rotated (its successor is in the legitimate client's hands)
    first = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    second = kit.sessions.refresh(kit.realm, first.refresh_token)
    # When the old token is presented again (a thief's replay)
    with pytest.raises(TokenInvalid):
        kit.sessions.refresh(kit.realm, first.refresh_token)
    # Then the successor stops working too, and so does its access token
    with pytest.raises(TokenInvalid):
        kit.sessions.refresh(kit.realm, second.refresh_token)
    with pytest.raises(Unauthorized):
        kit.sessions.authenticate(kit.realm, second.access_token)


def test_a_refresh_token_expires_after_14_days(kit: Kit, active: str) -> None:
    pair = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    kit.clock.advance(days=14)
    with pytest.raises(TokenExpired):
        kit.sessions.refresh(kit.realm, pair.refresh_token)


def test_a_session_ends_after_30_days_however_often_it_is_refreshed(kit: Kit, active: str) -> None:
    token = kit.sessions.login(kit.realm, EMAIL, PASSWORD).refresh_token
    for _ in range(2):
        kit.clock.advance(days=13)
        token = kit.sessions.refresh(kit.realm, token).refresh_token
    kit.clock.advance(days=4)
    with pytest.raises(TokenExpired):
        kit.sessions.refresh(kit.realm, token)


@pytest.mark.parametrize("token", ["", "never-issued"])
def test_an_unknown_refresh_token_is_invalid(kit: Kit, token: str) -> None:
    with pytest.raises(TokenInvalid):
        kit.sessions.refresh(kit.realm, token)


def test_a_refresh_token_of_another_realm_is_invalid(kit: Kit, active: str) -> None:
    pair = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    with pytest.raises(TokenInvalid):
        kit.sessions.refresh(get_realm("ntua"), pair.refresh_token)
    kit.sessions.refresh(kit.realm, pair.refresh_token)


def test_a_disabled_account_cannot_refresh(kit: Kit, active: str) -> None:
    pair = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    _set_status(kit, active, AccountStatus.DISABLED)
    with pytest.raises(AccountDisabled):
        kit.sessions.refresh(kit.realm, pair.refresh_token)


# --- logout and authenticate ----------------------------------------------------------------


def test_logout_ends_the_session(kit: Kit, active: str) -> None:
    pair = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    kit.sessions.logout(kit.realm, kit.sessions.authenticate(kit.realm, pair.access_token))
    with pytest.raises(Unauthorized):
        kit.sessions.authenticate(kit.realm, pair.access_token)
    with pytest.raises(TokenInvalid):
        kit.sessions.refresh(kit.realm, pair.refresh_token)


def test_logout_leaves_other_sessions_alone(kit: Kit, active: str) -> None:
    laptop = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    phone = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    kit.sessions.logout(kit.realm, kit.sessions.authenticate(kit.realm, laptop.access_token))
    assert kit.sessions.authenticate(kit.realm, phone.access_token).account_id == active


@pytest.mark.parametrize("token", [None, "", "not-a-jwt"])
def test_a_missing_or_malformed_access_token_is_unauthorized(kit: Kit, token: str | None) -> None:
    with pytest.raises(Unauthorized):
        kit.sessions.authenticate(kit.realm, token)


def test_a_tampered_access_token_is_unauthorized(kit: Kit, active: str) -> None:
    token = kit.sessions.login(kit.realm, EMAIL, PASSWORD).access_token
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    with pytest.raises(Unauthorized):
        kit.sessions.authenticate(kit.realm, f"{header}.{payload}.{flipped}")
    forged = kit.signer.sign({"sub": "x"}).split(".")[1]
    with pytest.raises(Unauthorized):
        kit.sessions.authenticate(kit.realm, f"{header}.{forged}.{signature}")


def test_an_access_token_of_another_realm_is_unauthorized(kit: Kit, maria: GsisIdentity) -> None:
    # Given an active account with the same id and password in realm ntua
    ntua = get_realm("ntua")
    registered = kit.activated(maria, EMAIL, PASSWORD)
    account = kit.accounts.get("eiep", registered.account_id)
    assert account is not None
    kit.accounts.create(
        dataclasses.replace(account, realm="ntua", identity=None), audit=arranged("ntua", account.account_id)
    )
    token = kit.sessions.login(ntua, EMAIL, PASSWORD).access_token
    assert kit.sessions.authenticate(ntua, token).realm == "ntua"
    # Then its token is no good in eiep
    with pytest.raises(Unauthorized):
        kit.sessions.authenticate(kit.realm, token)


def test_an_access_token_expires_after_15_minutes(kit: Kit, active: str) -> None:
    token = kit.sessions.login(kit.realm, EMAIL, PASSWORD).access_token
    kit.clock.advance(minutes=15, seconds=1)
    with pytest.raises(Unauthorized):
        kit.sessions.authenticate(kit.realm, token)


def test_profile_shows_the_owner_their_account(kit: Kit, active: str, maria: GsisIdentity) -> None:
    principal = kit.sessions.authenticate(kit.realm, kit.sessions.login(kit.realm, EMAIL, PASSWORD).access_token)
    profile = kit.sessions.profile(kit.realm, principal)
    assert profile["account_id"] == active and profile["status"] == "active" and profile["email"] == EMAIL
    assert profile["identity"] == maria.public_fields() and profile["registry_number"] == maria.afm


def test_of_concurrent_refreshes_with_one_token_at_most_one_succeeds(kit: Kit, active: str) -> None:
    pair = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    outcomes = race(10, lambda _: kit.sessions.refresh(kit.realm, pair.refresh_token))
    winners = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    assert len(winners) <= 1
    assert all(isinstance(o, TokenInvalid) for o in outcomes if isinstance(o, BaseException)), outcomes
