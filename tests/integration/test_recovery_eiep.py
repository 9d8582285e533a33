"""e-IEP forgot password (seed 000 §4): e-mail, then GSIS, then a new password — only for
the account that has both that e-mail and the AFM GSIS confirmed."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.support.browser import STRONG_PASSWORD, Browser, unique_email

API = "/api/v1/realms/eiep"
NEW_PASSWORD = "N3w!Kodikos"


def _active(browser: Browser, identity: object | None = None) -> tuple[str, object]:
    identity = identity or browser.new_identity()
    email = unique_email()
    browser.register(browser.gsis_flow(identity), email)
    token, _ = browser.activation_mail(email)
    assert browser.post(f"{API}/activations", json={"token": token}).status == 200
    return email, identity


def _reset_flow(browser: Browser, email: str, identity: object) -> str:
    """Ask for a reset, follow its GSIS link as the given person; returns the flow id."""
    started = browser.post(f"{API}/password-resets", json={"email": email})
    assert started.status == 201, started.text
    query = parse_qs(urlsplit(started.json["gsis_url"]).query)
    response = browser.get(f"/realms/eiep/gsis/start?intent=reset-password&reset={query['reset'][0]}", html=True)
    assert response.status == 302
    authorize = {k: v[0] for k, v in parse_qs(urlsplit(response.location).query).items()}
    callback = browser.callback(browser.choose_at_gsis(authorize, identity.key))  # type: ignore[attr-defined]
    assert callback.status == 303 and "/realms/eiep/reset-password?flow=" in callback.location
    return parse_qs(urlsplit(callback.location).query)["flow"][0]


def test_a_teacher_resets_her_password_through_gsis(browser: Browser) -> None:
    # Given an active account with a live session
    email, identity = _active(browser)
    session = browser.login(email).json

    # When she asks for a reset and proves her identity through GSIS
    flow = _reset_flow(browser, email, identity)
    view = browser.get(f"{API}/flows/{flow}")

    # Then the flow shows her username
    assert view.json["intent"] == "reset-password" and view.json["username"] == email.casefold()

    # When she sets a new password
    done = browser.post(
        f"{API}/password-resets/complete",
        json={"flow": flow, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD},
    )

    # Then it works, a confirmation is mailed, old sessions end, and the old password fails
    assert done.status == 200 and done.json == {"status": "password_changed"}
    subjects = [m["subject"] for m in browser.mail_to(email)]
    assert any("άλλαξε" in subject for subject in subjects)
    refresh = browser.post(f"{API}/sessions/refresh", json={"refresh_token": session["refresh_token"]})
    assert refresh.status == 400
    assert browser.login(email, STRONG_PASSWORD).status == 401
    assert browser.login(email, NEW_PASSWORD).status == 201

    # And the flow cannot be used twice
    again = browser.post(
        f"{API}/password-resets/complete",
        json={"flow": flow, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD},
    )
    assert again.status == 409 and again.json["code"] == "flow_used"


def test_the_first_answer_is_the_same_for_every_address(browser: Browser) -> None:
    email, _ = _active(browser)
    known = browser.post(f"{API}/password-resets", json={"email": email})
    unknown = browser.post(f"{API}/password-resets", json={"email": unique_email()})
    assert known.status == unknown.status == 201
    assert set(known.json) == set(unknown.json) == {"reset", "gsis_url"}


def test_an_email_whose_account_has_another_afm_matches_nothing(browser: Browser) -> None:
    # Given Maria's account, and Nikos who knows her e-mail
    email, _ = _active(browser)
    nikos = browser.new_identity(first_name="ΝΙΚΟΣ")

    # When Nikos asks for a reset of Maria's e-mail and goes through GSIS as himself
    flow = _reset_flow(browser, email, nikos)

    # Then the flow reveals no username, and no password can be set
    view = browser.get(f"{API}/flows/{flow}").json
    assert view["status"] == "no_matching_account" and "username" not in view
    refused = browser.post(
        f"{API}/password-resets/complete",
        json={"flow": flow, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD},
    )
    assert refused.status == 409 and refused.json["code"] == "identity_mismatch"
    assert browser.login(email).status == 201  # Maria's password did not change


def test_a_weak_new_password_keeps_the_flow_usable(browser: Browser) -> None:
    email, identity = _active(browser)
    flow = _reset_flow(browser, email, identity)
    weak = browser.post(
        f"{API}/password-resets/complete", json={"flow": flow, "password": "abc", "password_confirmation": "abc"}
    )
    assert weak.status == 422 and weak.json["code"] == "password_policy"
    good = browser.post(
        f"{API}/password-resets/complete",
        json={"flow": flow, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD},
    )
    assert good.status == 200


def test_gsis_start_refuses_an_unknown_reset_ticket(browser: Browser) -> None:
    response = browser.get("/realms/eiep/gsis/start?intent=reset-password&reset=forged", html=True)
    assert response.status == 400 and 'data-code="token_invalid"' in response.text


def test_the_browser_form_goes_to_gsis(browser: Browser) -> None:
    browser.get("/realms/eiep/forgot-password", html=True)
    response = browser.post(
        f"{API}/password-resets", form={"csrf_token": browser.jar["mitroo_csrf"], "email": unique_email()}, html=True
    )
    assert response.status == 303 and "/realms/eiep/gsis/start?intent=reset-password&reset=" in response.location
