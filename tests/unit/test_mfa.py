"""Second factors as flows over the in-memory fakes, on a clock that moves when told:
lifetimes (the mfa_token's five minutes, a TOTP enrolment's fifteen, recent
authentication's five), the ±1 step window, the policy, and that none of it logs a secret."""

from __future__ import annotations

import dataclasses
import logging

import pyotp
import pytest

from chalicelib.domain.identity import GsisIdentity
from chalicelib.errors import (
    MfaEnrolmentRequired,
    MfaInvalid,
    MfaRequired,
    NotFound,
    ReauthenticationRequired,
    TokenInvalid,
)
from chalicelib.flows.mfa.policy import require_second_factor
from chalicelib.flows.sessions import Principal
from chalicelib.realms import get_realm
from tests.fakes import Kit

EMAIL, PASSWORD = "maria@example.gr", "Passw0rd!"


def signed_in(kit: Kit, maria: GsisIdentity) -> Principal:
    kit.activated(maria, EMAIL, PASSWORD)
    pair = kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    return kit.sessions.authenticate(kit.realm, pair.access_token)


def code_at(kit: Kit, secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(kit.clock.now().timestamp() + 30 * steps)


def with_totp(kit: Kit, maria: GsisIdentity) -> tuple[Principal, str, tuple[str, ...]]:
    principal = signed_in(kit, maria)
    started = kit.flows.mfa_enrolment.start_totp(kit.realm, principal)
    enrolled = kit.flows.mfa_enrolment.confirm_totp(
        kit.realm, principal, started.factor_id, code_at(kit, started.secret)
    )
    return principal, started.secret, enrolled.recovery_codes


def second_step(kit: Kit) -> str:
    with pytest.raises(MfaRequired) as required:
        kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    assert required.value.extra["factors"] == ["totp", "recovery_code"]
    return str(required.value.extra["mfa_token"])


def test_codes_one_step_either_side_are_accepted_and_two_are_not(kit: Kit, maria: GsisIdentity) -> None:
    _, secret, _ = with_totp(kit, maria)  # the enrolment spent the current step
    kit.clock.advance(seconds=60)
    token = second_step(kit)
    with pytest.raises(MfaInvalid):
        kit.flows.mfa_sign_in.complete(kit.realm, token, totp=code_at(kit, secret, steps=2))
    with pytest.raises(MfaInvalid):
        kit.flows.mfa_sign_in.complete(kit.realm, token, totp=code_at(kit, secret, steps=-2))
    pair = kit.flows.mfa_sign_in.complete(kit.realm, token, totp=code_at(kit, secret, steps=-1))
    assert kit.sessions.authenticate(kit.realm, pair.access_token).amr == ("pwd", "otp")


def test_the_mfa_token_lives_five_minutes(kit: Kit, maria: GsisIdentity) -> None:
    _, secret, _ = with_totp(kit, maria)
    token = second_step(kit)
    kit.clock.advance(minutes=5, seconds=1)
    with pytest.raises(TokenInvalid):
        kit.flows.mfa_sign_in.complete(kit.realm, token, totp=code_at(kit, secret))


def test_a_totp_enrolment_lapses_after_fifteen_minutes(kit: Kit, maria: GsisIdentity) -> None:
    principal = signed_in(kit, maria)
    started = kit.flows.mfa_enrolment.start_totp(kit.realm, principal)
    kit.clock.advance(minutes=4)  # still recent: the enrolment itself is what lapses
    principal = kit.sessions.authenticate(kit.realm, kit.sessions.login(kit.realm, EMAIL, PASSWORD).access_token)
    kit.clock.advance(minutes=12)
    with pytest.raises(ReauthenticationRequired):
        kit.flows.mfa_enrolment.confirm_totp(kit.realm, principal, started.factor_id, code_at(kit, started.secret))
    kit.flows.reauthentication.reauthenticate(kit.realm, principal, password=PASSWORD)
    principal = kit.sessions.authenticate(kit.realm, kit.sessions.login(kit.realm, EMAIL, PASSWORD).access_token)
    with pytest.raises(NotFound):
        kit.flows.mfa_enrolment.confirm_totp(kit.realm, principal, started.factor_id, code_at(kit, started.secret))


def test_changes_wait_for_a_recent_authentication(kit: Kit, maria: GsisIdentity) -> None:
    principal = signed_in(kit, maria)
    kit.clock.advance(minutes=5, seconds=1)
    with pytest.raises(ReauthenticationRequired):
        kit.flows.mfa_enrolment.start_totp(kit.realm, principal)
    assert kit.flows.reauthentication.reauthenticate(kit.realm, principal, password=PASSWORD).method == "pwd"
    fresh = kit.sessions.authenticate(kit.realm, kit.sessions.login(kit.realm, EMAIL, PASSWORD).access_token)
    kit.flows.mfa_enrolment.start_totp(kit.realm, fresh)


def test_a_recovery_code_is_spent_once_and_audited(kit: Kit, maria: GsisIdentity) -> None:
    principal, _, codes = with_totp(kit, maria)
    assert len(codes) == 10 and len(set(codes)) == 10
    kit.flows.mfa_sign_in.complete(kit.realm, second_step(kit), recovery_code=codes[3].replace("-", " "))
    with pytest.raises(MfaInvalid):
        kit.flows.mfa_sign_in.complete(kit.realm, second_step(kit), recovery_code=codes[3])
    actions = [entry.action for entry in kit.store.audit if entry.account_id == principal.account_id]
    assert actions.count("recovery_code_used") == 1 and "mfa_factor_added" in actions


def test_the_policy_asks_roles_for_a_session_that_passed_a_factor() -> None:
    ntua = get_realm("ntua")
    staff = Principal("ntua", "a1", "s1", ("secretariat",), amr=("pwd",))
    with pytest.raises(MfaEnrolmentRequired):
        require_second_factor(ntua, staff)
    require_second_factor(ntua, Principal("ntua", "a1", "s1", ("secretariat",), amr=("pwd", "otp")))
    require_second_factor(ntua, Principal("ntua", "a1", "s1", ("student",), amr=("pwd",)))
    everyone = ntua.model_copy(update={"mfa_required_for_all": True})
    with pytest.raises(MfaEnrolmentRequired):
        require_second_factor(everyone, Principal("ntua", "a1", "s1", (), amr=("pwd",)))


def test_second_factors_log_no_secret(kit: Kit, maria: GsisIdentity, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, secret, codes = with_totp(kit, maria)
    token = second_step(kit)
    with pytest.raises(MfaInvalid):
        kit.flows.mfa_sign_in.complete(kit.realm, token, totp="000000")
    used = code_at(kit, secret, steps=1)
    kit.flows.mfa_sign_in.complete(kit.realm, token, totp=used)
    kit.flows.mfa_sign_in.complete(kit.realm, second_step(kit), recovery_code=codes[0])
    assert caplog.records
    for record in caplog.records:
        text = record.getMessage() + " " + " ".join(str(value) for value in vars(record).values())
        leaked = [value for value in (secret, token, used, *codes) if value in text]
        assert not leaked, f"{record.name}: {record.getMessage()!r} leaks {leaked}"


def test_the_second_step_with_a_code_reads_no_factor_list(
    kit: Kit, maria: GsisIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an account with an authenticator app, past its password step
    _, secret, _ = with_totp(kit, maria)
    kit.clock.advance(seconds=30)
    token = second_step(kit)
    factors = kit.flows.mfa_sign_in.factors
    reads: list[str] = []
    monkeypatch.setattr(factors, "overview", lambda realm, account_id: reads.append(account_id) or ([], None))
    # When the app's code is given
    pair = kit.flows.mfa_sign_in.complete(kit.realm, token, totp=code_at(kit, secret))
    # Then the session opens from the keys the token's ticket carries, without a factor read
    assert kit.sessions.authenticate(kit.realm, pair.access_token).amr == ("pwd", "otp")
    assert reads == []


def test_a_factor_removed_after_the_password_step_no_longer_signs_in(kit: Kit, maria: GsisIdentity) -> None:
    # Given an account with an authenticator app, past its password step
    principal, secret, _ = with_totp(kit, maria)
    kit.clock.advance(seconds=30)
    token = second_step(kit)
    # When the app is removed (from a session elsewhere) and its current code then given
    factor_id = next(iter(kit.flows.mfa_sign_in.factors.overview(kit.realm.id, principal.account_id)[0])).factor_id
    kit.flows.mfa_enrolment.remove(kit.realm, principal, factor_id)
    sessions_before = len(kit.store.families)
    with pytest.raises(MfaInvalid) as refused:
        kit.flows.mfa_sign_in.complete(kit.realm, token, totp=code_at(kit, secret))
    # Then the code is refused as wrong, not as "used already", and no session opens
    assert str(refused.value) == MfaInvalid.title
    assert len(kit.store.families) == sessions_before


def test_the_password_step_reads_no_factor_list_when_the_login_record_carries_its_copy(
    kit: Kit, maria: GsisIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an account with an authenticator app and recovery codes
    _, secret, _ = with_totp(kit, maria)
    kit.clock.advance(seconds=30)
    reads: list[str] = []
    gate = kit.sessions.second_step
    monkeypatch.setattr(gate.factors, "overview", lambda realm, account_id: reads.append(account_id) or ([], None))
    # When the password is given, then the app's code
    token = second_step(kit)  # asserts the offer: the app and the recovery codes
    pair = kit.flows.mfa_sign_in.complete(kit.realm, token, totp=code_at(kit, secret))
    # Then the login record's copy of the factors served both steps: no factor list was read
    assert kit.sessions.authenticate(kit.realm, pair.access_token).amr == ("pwd", "otp")
    assert reads == []


def test_a_login_record_without_the_copy_is_served_from_the_factor_list(
    kit: Kit, maria: GsisIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an account with an authenticator app whose login record, as one written before
    # the copy existed, carries none
    _, secret, _ = with_totp(kit, maria)
    kit.clock.advance(seconds=30)
    gate = kit.sessions.gate
    opened = gate.open

    def without_copy(*args: object, **kwargs: object) -> object:
        login, reservations = opened(*args, **kwargs)
        return (dataclasses.replace(login, factors=None) if login else login), reservations

    monkeypatch.setattr(gate, "open", without_copy)
    # When the password is given, then the app's code
    token = second_step(kit)  # asserts the offer, read from the factor list
    pair = kit.flows.mfa_sign_in.complete(kit.realm, token, totp=code_at(kit, secret))
    # Then the session opens as it would with the copy
    assert kit.sessions.authenticate(kit.realm, pair.access_token).amr == ("pwd", "otp")


def test_once_every_recovery_code_is_spent_none_is_offered(kit: Kit, maria: GsisIdentity) -> None:
    # Given an account with an authenticator app whose ten recovery codes are all spent
    _, _, codes = with_totp(kit, maria)
    for code in codes:
        kit.flows.mfa_sign_in.complete(kit.realm, second_step(kit), recovery_code=code)
    # When the password is given again
    with pytest.raises(MfaRequired) as required:
        kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    # Then only the app is offered
    assert required.value.extra["factors"] == ["totp"]


def test_a_token_issued_before_its_ticket_carried_the_factors_still_signs_in(kit: Kit, maria: GsisIdentity) -> None:
    # Given a password step whose ticket, as the code before this release wrote it, has
    # neither the proofs offered nor the TOTP keys
    _, secret, _ = with_totp(kit, maria)
    kit.clock.advance(seconds=30)
    token = second_step(kit)
    for ticket in kit.store.tickets.values():
        for copy in ("offered", "totp_keys"):
            ticket.data.pop(copy, None)
    # When the page asks what to offer and the code is given
    offered = kit.flows.mfa_sign_in.offered(kit.realm, token, None)
    pair = kit.flows.mfa_sign_in.complete(kit.realm, token, totp=code_at(kit, secret))
    # Then both are served from the factor list, as they were before
    assert offered == ["totp", "recovery_code"]
    assert kit.sessions.authenticate(kit.realm, pair.access_token).amr == ("pwd", "otp")


def test_a_replayed_code_is_told_as_used_and_the_token_takes_the_next_one(kit: Kit, maria: GsisIdentity) -> None:
    # Given a sign-in finished with the app's current code, and a second password step
    _, secret, _ = with_totp(kit, maria)
    kit.clock.advance(seconds=30)
    used = code_at(kit, secret)
    kit.flows.mfa_sign_in.complete(kit.realm, second_step(kit), totp=used)
    token = second_step(kit)
    sessions_before = len(kit.store.families)
    # When the same code is given again
    with pytest.raises(MfaInvalid) as replayed:
        kit.flows.mfa_sign_in.complete(kit.realm, token, totp=used)
    # Then it is refused as used, no session opens, and the token takes the next code
    assert "used already" in str(replayed.value)
    assert len(kit.store.families) == sessions_before
    kit.clock.advance(seconds=30)
    pair = kit.flows.mfa_sign_in.complete(kit.realm, token, totp=code_at(kit, secret))
    assert kit.sessions.authenticate(kit.realm, pair.access_token).amr == ("pwd", "otp")


def test_a_recovery_code_that_loses_the_race_for_its_token_stays_unspent(
    kit: Kit, maria: GsisIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one password step, its mfa_token sent twice with two good recovery codes, and
    # the second sign-in finishing while the first has read the token and taken its code
    _, _, codes = with_totp(kit, maria)
    token = second_step(kit)
    verifier = type(kit.flows.mfa_sign_in.verifier)
    taken = verifier.recovery_code_use

    def interleaved(self, realm, account_id, code, login_key=None):  # type: ignore[no-untyped-def]
        if code == codes[0]:
            kit.flows.mfa_sign_in.complete(kit.realm, token, recovery_code=codes[1])
        return taken(self, realm, account_id, code, login_key)

    monkeypatch.setattr(verifier, "recovery_code_use", interleaved)
    # When the first sign-in goes on with its code
    with pytest.raises(TokenInvalid):
        kit.flows.mfa_sign_in.complete(kit.realm, token, recovery_code=codes[0])
    monkeypatch.undo()
    # Then it opened nothing and its code was not spent: it still signs in, once
    pair = kit.flows.mfa_sign_in.complete(kit.realm, second_step(kit), recovery_code=codes[0])
    assert kit.sessions.authenticate(kit.realm, pair.access_token).amr == ("pwd", "otp")
    with pytest.raises(MfaInvalid):
        kit.flows.mfa_sign_in.complete(kit.realm, second_step(kit), recovery_code=codes[1])


def test_a_wrong_recovery_code_opens_nothing_and_the_token_takes_a_good_one(kit: Kit, maria: GsisIdentity) -> None:
    # Given an account with recovery codes, past its password step
    principal, _, codes = with_totp(kit, maria)
    token = second_step(kit)
    sessions_before = len(kit.store.families)
    # When a code that is not one of them is given
    with pytest.raises(MfaInvalid) as refused:
        kit.flows.mfa_sign_in.complete(kit.realm, token, recovery_code="aaaa-bbbb-cccc-dddd")
    # Then no session opens, nothing is audited as used, and the token takes a good code
    assert str(refused.value) == MfaInvalid.title
    assert len(kit.store.families) == sessions_before
    used = [entry for entry in kit.store.audit if entry.action == "recovery_code_used"]
    assert not [entry for entry in used if entry.account_id == principal.account_id]
    kit.flows.mfa_sign_in.complete(kit.realm, token, recovery_code=codes[2])
