"""Every way a GSIS round trip can fail creates nothing and shows a 400 error page."""

from __future__ import annotations

import pytest

from tests.support.browser import Browser


def _flows_created(response_location: str) -> bool:
    return "flow=" in response_location


def test_a_replayed_callback_is_refused(browser: Browser) -> None:
    # Given a completed GSIS round trip
    identity = browser.new_identity()
    callback = browser.choose_at_gsis(browser.start_gsis(), identity.key)
    assert browser.callback(callback).status == 303

    # When the same callback URL is opened again
    replay = browser.callback(callback)

    # Then the state is spent
    assert replay.status == 400
    assert 'data-code="state_invalid"' in replay.text


def test_an_unknown_state_is_refused(browser: Browser) -> None:
    browser.start_gsis()
    response = browser.get("/realms/eiep/gsis/callback?code=abc&state=made-up-state", html=True)
    assert response.status == 400 and 'data-code="state_invalid"' in response.text


def test_a_callback_without_state_is_refused(browser: Browser) -> None:
    response = browser.get("/realms/eiep/gsis/callback?code=abc", html=True)
    assert response.status == 400 and 'data-code="state_invalid"' in response.text


def test_a_callback_in_another_browser_is_refused(browser: Browser) -> None:
    # Given a round trip started in this browser
    identity = browser.new_identity()
    callback = browser.choose_at_gsis(browser.start_gsis(), identity.key)

    # When the callback arrives in a browser without the binding cookie
    browser.jar.pop("mitroo_browser")
    response = browser.callback(callback)

    # Then it is refused and the state is gone for the original browser too
    assert response.status == 400 and 'data-code="state_invalid"' in response.text


def test_denied_consent_at_gsis_is_an_idp_error(browser: Browser) -> None:
    callback = browser.choose_at_gsis(browser.start_gsis(), None, deny=True)
    assert "error=access_denied" in callback
    response = browser.callback(callback)
    assert response.status == 400 and 'data-code="idp_error"' in response.text


@pytest.mark.parametrize("fault_identity", ["fault-json", "fault-xml", "fault-500"])
def test_unusable_userinfo_answers_are_idp_errors(browser: Browser, fault_identity: str) -> None:
    # Given GSIS answers userinfo with a JSON error, malformed XML, or a 500
    callback = browser.choose_at_gsis(browser.start_gsis(), fault_identity)

    # When the callback is processed
    response = browser.callback(callback)

    # Then no flow is created and the person sees an error page
    assert response.status == 400
    assert 'data-code="idp_error"' in response.text
    assert not _flows_created(response.location)


def test_a_code_gsis_does_not_know_is_an_idp_error(browser: Browser) -> None:
    # Given a genuine state but a forged code
    authorize = browser.start_gsis()
    response = browser.get(f"/realms/eiep/gsis/callback?code=forged&state={authorize['state']}", html=True)
    assert response.status == 400 and 'data-code="idp_error"' in response.text


def test_an_intent_that_does_not_exist_is_refused_before_gsis(browser: Browser) -> None:
    response = browser.get("/realms/eiep/gsis/start?intent=become-admin", html=True)
    assert response.status == 422 and 'data-code="invalid_input"' in response.text


def test_realms_without_gsis_cannot_start_it(browser: Browser) -> None:
    response = browser.get("/realms/ntua/gsis/start?intent=register", html=True)
    assert response.status == 422


def test_an_unknown_flow_is_404_and_an_unknown_realm_is_404(browser: Browser) -> None:
    flow = browser.get("/api/v1/realms/eiep/flows/nope")
    assert flow.status == 404 and flow.json["code"] == "flow_not_found"
    realm = browser.get("/api/v1/realms/atlantis/flows/nope")
    assert realm.status == 404 and realm.json["code"] == "not_found"
    assert realm.headers["content-type"] == "application/problem+json"
