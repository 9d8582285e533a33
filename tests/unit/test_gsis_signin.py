"""GSIS sign-in: the OAuth state is single use, expiring, realm- and browser-bound,
and a completed round trip becomes a flow that only this realm can read for 15 minutes."""

from __future__ import annotations

import pytest

from chalicelib.domain.flows import Intent
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.secrets import fingerprint
from chalicelib.errors import (
    FlowExpired,
    FlowNotFound,
    IdentityProviderError,
    InvalidInput,
    StateInvalid,
    TokenInvalid,
)
from chalicelib.realms import get_realm
from tests.fakes import BROWSER, Kit, build_flows, state_from


def _callback(
    kit: Kit, state: str, *, code: str | None = "c1", error: str | None = None, browser: str | None = BROWSER
):
    return kit.signin.complete(kit.realm, state=state, code=code, error=error, browser_binding=browser)


def test_start_stores_a_hashed_state_and_redirects_to_gsis(kit: Kit) -> None:
    started = kit.signin.start(kit.realm, "register", BROWSER, {"next": "/x"})
    state = state_from(started.redirect_url)
    assert started.redirect_url.startswith("https://gsis.test/oauth/authorize?")
    assert started.browser_binding == BROWSER
    assert state not in kit.store.states and fingerprint(state) in kit.store.states
    stored = kit.store.states[fingerprint(state)]
    # Parameters other than a ticket are not carried (nothing from the query string sticks)
    assert stored.browser_hash == fingerprint(BROWSER) and stored.params == {}
    assert stored.expires_at - stored.created_at == kit.realm.lifetimes.oauth_state


def test_start_without_a_browser_cookie_issues_a_new_binding(kit: Kit) -> None:
    started = kit.signin.start(kit.realm, "register", None)
    assert len(started.browser_binding) >= 43 and started.browser_binding != BROWSER


@pytest.mark.parametrize("intent", ["login", "", "REGISTER"])
def test_start_rejects_unknown_intents(kit: Kit, intent: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        kit.signin.start(kit.realm, intent, BROWSER)
    assert "intent" in raised.value.errors
    assert not kit.store.states


@pytest.mark.parametrize(("intent", "parameter"), [("certify", "ticket"), ("reset-password", "reset")])
def test_intents_that_continue_a_ticket_need_a_live_one(kit: Kit, intent: str, parameter: str) -> None:
    for params in ({}, {parameter: "made-up"}):
        with pytest.raises(TokenInvalid) as raised:
            kit.signin.start(kit.realm, intent, BROWSER, params)
        assert parameter in raised.value.errors
    assert not kit.store.states


def test_a_reset_ticket_is_carried_into_the_flow_by_its_hash_only(kit: Kit, maria: GsisIdentity) -> None:
    started = kit.flows.recovery.request(kit.realm, "maria@example.gr")
    state = state_from(kit.signin.start(kit.realm, "reset-password", BROWSER, {"reset": started.reset}).redirect_url)
    kit.gsis.grant("c1", maria)
    flow = kit.signin.load(kit.realm, _callback(kit, state).flow_id, BROWSER)
    assert flow.params == {"ticket_hash": fingerprint(started.reset)}


def test_start_is_refused_in_a_realm_without_gsis(kit: Kit) -> None:
    with pytest.raises(InvalidInput):
        kit.signin.start(get_realm("ntua"), "register", BROWSER)


def test_a_completed_round_trip_creates_a_flow_with_the_gsis_identity(kit: Kit, maria: GsisIdentity) -> None:
    # Given a started sign-in and a code GSIS granted for Maria
    state = state_from(kit.signin.start(kit.realm, "register", BROWSER).redirect_url)
    kit.gsis.grant("c1", maria)
    # When the callback arrives from the same browser
    completed = _callback(kit, state)
    # Then a register flow exists that holds Maria's identity
    assert completed.intent is Intent.REGISTER
    flow = kit.signin.load(kit.realm, completed.flow_id, BROWSER)
    assert flow.identity == maria and flow.params == {} and flow.used_at is None
    assert flow.expires_at - flow.created_at == kit.realm.lifetimes.flow


def test_a_state_works_only_once(kit: Kit, maria: GsisIdentity) -> None:
    state = state_from(kit.signin.start(kit.realm, "register", BROWSER).redirect_url)
    kit.gsis.grant("c1", maria)
    _callback(kit, state)
    kit.gsis.grant("c1", maria)
    with pytest.raises(StateInvalid):
        _callback(kit, state)


def test_an_expired_state_is_refused(kit: Kit, maria: GsisIdentity) -> None:
    state = state_from(kit.signin.start(kit.realm, "register", BROWSER).redirect_url)
    kit.gsis.grant("c1", maria)
    kit.clock.advance(minutes=10)
    with pytest.raises(StateInvalid):
        _callback(kit, state)


def test_a_state_is_still_good_just_before_it_expires(kit: Kit, maria: GsisIdentity) -> None:
    state = state_from(kit.signin.start(kit.realm, "register", BROWSER).redirect_url)
    kit.gsis.grant("c1", maria)
    kit.clock.advance(minutes=9, seconds=59)
    assert _callback(kit, state).flow_id


@pytest.mark.parametrize("browser", [None, "", "another-browser-cookie-value"])
def test_a_callback_in_another_browser_is_refused_and_burns_the_state(
    kit: Kit, maria: GsisIdentity, browser: str | None
) -> None:
    state = state_from(kit.signin.start(kit.realm, "register", BROWSER).redirect_url)
    kit.gsis.grant("c1", maria)
    with pytest.raises(StateInvalid):
        _callback(kit, state, browser=browser)
    # The state was removed first, so the right browser cannot replay it either
    with pytest.raises(StateInvalid):
        _callback(kit, state)


def test_a_state_of_another_realm_is_refused(kit: Kit, maria: GsisIdentity) -> None:
    state = state_from(kit.signin.start(kit.realm, "register", BROWSER).redirect_url)
    kit.gsis.grant("c1", maria)
    with pytest.raises(StateInvalid):
        kit.signin.complete(get_realm("ntua"), state=state, code="c1", error=None, browser_binding=BROWSER)


@pytest.mark.parametrize("state", [None, "", "never-issued"])
def test_a_missing_or_unknown_state_is_refused(kit: Kit, state: str | None) -> None:
    with pytest.raises(StateInvalid):
        kit.signin.complete(kit.realm, state=state, code="c1", error=None, browser_binding=BROWSER)


def test_an_error_from_gsis_creates_no_flow_and_burns_the_state(kit: Kit, maria: GsisIdentity) -> None:
    state = state_from(kit.signin.start(kit.realm, "register", BROWSER).redirect_url)
    with pytest.raises(IdentityProviderError):
        _callback(kit, state, code=None, error="access_denied")
    assert not kit.store.flows
    kit.gsis.grant("c1", maria)
    with pytest.raises(StateInvalid):
        _callback(kit, state)


def test_a_callback_without_a_code_is_an_identity_provider_error(kit: Kit) -> None:
    state = state_from(kit.signin.start(kit.realm, "register", BROWSER).redirect_url)
    with pytest.raises(IdentityProviderError):
        _callback(kit, state, code=None)
    assert not kit.store.flows


def test_a_code_gsis_does_not_accept_creates_no_flow(kit: Kit) -> None:
    state = state_from(kit.signin.start(kit.realm, "register", BROWSER).redirect_url)
    with pytest.raises(IdentityProviderError):
        _callback(kit, state, code="never-granted")
    assert not kit.store.flows


def test_a_flow_expires_after_15_minutes(kit: Kit, maria: GsisIdentity) -> None:
    flow_id = kit.gsis_flow(maria)
    kit.clock.advance(minutes=14, seconds=59)
    kit.signin.load(kit.realm, flow_id, BROWSER)
    kit.clock.advance(seconds=1)
    with pytest.raises(FlowExpired):
        kit.signin.load(kit.realm, flow_id, BROWSER)


@pytest.mark.parametrize("flow_id", ["", "no-such-flow"])
def test_an_unknown_flow_is_not_found(kit: Kit, flow_id: str) -> None:
    with pytest.raises(FlowNotFound):
        kit.signin.load(kit.realm, flow_id, BROWSER)


def test_a_flow_of_another_realm_is_not_found(kit: Kit, maria: GsisIdentity) -> None:
    flow_id = kit.gsis_flow(maria)
    with pytest.raises(FlowNotFound):
        kit.signin.load(get_realm("ntua"), flow_id, BROWSER)


def test_describe_shows_the_public_identity_without_the_login_name(kit: Kit, maria: GsisIdentity) -> None:
    view = kit.flows.flow_views.describe(kit.realm, kit.gsis_flow(maria), BROWSER)
    assert view["intent"] == "register" and view["used"] is False
    assert view["identity"] == maria.public_fields() and "userid" not in view["identity"]


def test_a_recover_email_flow_shows_the_address_on_record(kit: Kit, maria: GsisIdentity) -> None:
    kit.register(maria, "maria@example.gr")
    view = kit.flows.flow_views.describe(kit.realm, kit.gsis_flow(maria, Intent.RECOVER_EMAIL), BROWSER)
    assert view["email"] == "maria@example.gr" and "status" not in view


def test_a_recover_email_flow_without_an_account_says_so(kit: Kit, maria: GsisIdentity) -> None:
    view = kit.flows.flow_views.describe(kit.realm, kit.gsis_flow(maria, Intent.RECOVER_EMAIL), BROWSER)
    assert view["status"] == "no_account" and "email" not in view


def test_fresh_kits_share_no_state(maria: GsisIdentity) -> None:
    first, second = build_flows(), build_flows()
    flow_id = first.gsis_flow(maria)
    with pytest.raises(FlowNotFound):
        second.signin.load(second.realm, flow_id, BROWSER)
