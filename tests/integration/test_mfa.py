"""Second factors over HTTP (SPEC §2.9): enrolment, the second step, passkeys, recovery
codes, recent authentication, and the administrators' policy — through the Chalice test
client against the emulator, with ``pyotp`` and a software authenticator."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from chalicelib.container import services
from tests.support.arrange import account_in
from tests.support.authenticator import SoftAuthenticator
from tests.support.browser import Browser
from tests.support.mfa import claims, code

REALM = "ntua"
API = f"/api/v1/realms/{REALM}"
ORIGIN = "http://127.0.0.1:8000"
PASSPHRASE = "a long passphrase for second factors"
_names = itertools.count(1)


def person(browser: Browser, roles: tuple[str, ...] = (), realm: str = REALM) -> tuple[str, str]:
    """An active account, signed in in ``browser``; (username, account id)."""
    username = f"mfa{next(_names)}{id(browser) % 10000}"
    account_id = account_in(realm, username=username, email=f"{username}@example.gr", password=PASSPHRASE, roles=roles)
    response = login(browser, username, realm=realm)
    assert response.status == 201, response.text
    return username, account_id


def login(browser: Browser, username: str, password: str = PASSPHRASE, realm: str = REALM) -> Any:
    return browser.post(f"/api/v1/realms/{realm}/sessions", json={"username": username, "password": password})


def enrol_totp(browser: Browser) -> tuple[str, str, list[str]]:
    """Set up an authenticator app for the signed-in account; (factor id, secret, recovery codes)."""
    started = browser.post(f"{API}/me/mfa/totp", json={"label": "Phone"})
    assert started.status == 201, started.text
    factor_id, secret = started.json["factor_id"], started.json["secret"]
    confirmed = browser.post(f"{API}/me/mfa/totp/{factor_id}/confirm", json={"code": code(secret)})
    assert confirmed.status == 200, confirmed.text
    return factor_id, secret, list(confirmed.json.get("recovery_codes") or [])


def enrol_passkey(browser: Browser, authenticator: SoftAuthenticator, realm: str = REALM) -> dict[str, Any]:
    api = f"/api/v1/realms/{realm}"
    options = browser.post(f"{api}/me/mfa/webauthn/registration-options", json={})
    assert options.status == 200, options.text
    registered = browser.post(
        f"{api}/me/mfa/webauthn", json={"credential": authenticator.create(options.json), "label": "Laptop"}
    )
    assert registered.status == 201, registered.text
    return dict(registered.json)


def mfa_token(browser: Browser, username: str) -> tuple[str, list[str]]:
    refused = login(browser, username)
    assert refused.status == 401, refused.text
    assert refused.json["code"] == "mfa_required" and "access_token" not in refused.json
    return refused.json["mfa_token"], refused.json["factors"]


def signed_out(browser: Browser) -> None:
    browser.delete(f"{API}/sessions/current")
    for name in ("mitroo_session", "mitroo_refresh"):
        browser.jar.pop(name, None)


def form(browser: Browser, **fields: str) -> dict[str, str]:
    """A page's form fields with the CSRF token its page put in the cookie."""
    return {**fields, "csrf_token": browser.jar.get("mitroo_csrf", "")}


def age_session(browser: Browser, minutes: int = 10) -> None:
    """The browser's session last proved who its person is ``minutes`` ago."""
    seen = claims(browser.jar["mitroo_session"])
    models = services().ports.sessions._m  # type: ignore[attr-defined]
    item = models.SessionFamilyItem(f"ACCOUNT#{seen['realm']}#{seen['sub']}", f"SESSION#{seen['sid']}")
    item.update(actions=[models.SessionFamilyItem.auth_time.set(datetime.now(UTC) - timedelta(minutes=minutes))])


# --- TOTP ------------------------------------------------------------------------------------------


def test_an_authenticator_app_is_enrolled_and_then_asked_for_at_sign_in(browser: Browser) -> None:
    # Given a signed-in person who sets up an authenticator app
    username, _ = person(browser)
    started = browser.post(f"{API}/me/mfa/totp", json={"label": "Phone"})
    assert started.status == 201
    assert started.json["otpauth_uri"].startswith("otpauth://totp/")
    assert started.json["secret"] in started.json["otpauth_uri"]
    assert started.json["qr_svg"].startswith("<svg")

    # When the first code confirms it
    factor_id, secret = started.json["factor_id"], started.json["secret"]
    confirmed = browser.post(f"{API}/me/mfa/totp/{factor_id}/confirm", json={"code": code(secret)})

    # Then it is listed, and ten recovery codes came with it
    assert confirmed.status == 200 and len(confirmed.json["recovery_codes"]) == 10
    listed = browser.get(f"{API}/me/mfa").json
    assert [(f["factor_id"], f["type"], f["label"]) for f in listed["factors"]] == [(factor_id, "totp", "Phone")]
    assert listed["recovery_codes_left"] == 10
    assert "secret" not in str(listed)

    # And a password alone no longer signs in: the second step takes the next code
    signed_out(browser)
    token, factors = mfa_token(browser, username)
    assert factors == ["totp", "recovery_code"]
    session = browser.post(f"{API}/sessions/mfa", json={"mfa_token": token, "totp": code(secret, steps_ahead=1)})
    assert session.status == 201, session.text
    assert claims(session.json["access_token"])["amr"] == ["pwd", "otp"]


def test_a_wrong_code_is_refused_and_the_mfa_token_still_works(browser: Browser) -> None:
    username, _ = person(browser)
    _, secret, _ = enrol_totp(browser)
    signed_out(browser)
    token, _ = mfa_token(browser, username)
    wrong = str((int(code(secret, steps_ahead=1)) + 1) % 1_000_000).zfill(6)
    refused = browser.post(f"{API}/sessions/mfa", json={"mfa_token": token, "totp": wrong})
    assert refused.status == 401 and refused.json["code"] == "mfa_invalid"
    assert "access_token" not in refused.json
    right = browser.post(f"{API}/sessions/mfa", json={"mfa_token": token, "totp": code(secret, steps_ahead=1)})
    assert right.status == 201


def test_a_code_is_accepted_once_and_the_mfa_token_once(browser: Browser) -> None:
    # Given a sign-in finished with a code
    username, _ = person(browser)
    _, secret, _ = enrol_totp(browser)
    signed_out(browser)
    token, _ = mfa_token(browser, username)
    used = code(secret, steps_ahead=1)
    assert browser.post(f"{API}/sessions/mfa", json={"mfa_token": token, "totp": used}).status == 201

    # When the same code is replayed on a new sign-in, and the spent token is tried again
    signed_out(browser)
    again, _ = mfa_token(browser, username)
    replayed = browser.post(f"{API}/sessions/mfa", json={"mfa_token": again, "totp": used})
    spent = browser.post(f"{API}/sessions/mfa", json={"mfa_token": token, "totp": code(secret, steps_ahead=1)})

    # Then both are refused
    assert replayed.status == 401 and replayed.json["code"] == "mfa_invalid"
    assert spent.status == 400 and spent.json["code"] == "token_invalid"


def test_wrong_codes_count_toward_the_lockout(browser: Browser) -> None:
    username, _ = person(browser)
    _, secret, _ = enrol_totp(browser)
    signed_out(browser)
    token, _ = mfa_token(browser, username)
    answers = [browser.post(f"{API}/sessions/mfa", json={"mfa_token": token, "totp": "000000"}) for _ in range(6)]
    assert [a.json["code"] for a in answers[:5]] == ["mfa_invalid"] * 5
    assert answers[5].status == 429 and int(answers[5].headers["retry-after"]) > 0
    # Even the right code now waits: it is not compared
    late = browser.post(f"{API}/sessions/mfa", json={"mfa_token": token, "totp": code(secret, steps_ahead=1)})
    assert late.status == 429


def test_a_recovery_code_works_once(browser: Browser) -> None:
    username, _ = person(browser)
    _, _, codes = enrol_totp(browser)
    signed_out(browser)
    token, _ = mfa_token(browser, username)
    first = browser.post(f"{API}/sessions/mfa", json={"mfa_token": token, "recovery_code": codes[0].upper()})
    assert first.status == 201, first.text
    assert browser.get(f"{API}/me/mfa").json["recovery_codes_left"] == 9
    signed_out(browser)
    token, _ = mfa_token(browser, username)
    again = browser.post(f"{API}/sessions/mfa", json={"mfa_token": token, "recovery_code": codes[0]})
    assert again.status == 401 and again.json["code"] == "mfa_invalid"


def test_new_recovery_codes_void_the_old_ones(browser: Browser) -> None:
    username, _ = person(browser)
    _, _, old = enrol_totp(browser)
    fresh = browser.post(f"{API}/me/mfa/recovery-codes", json={})
    assert fresh.status == 200 and len(fresh.json["recovery_codes"]) == 10
    signed_out(browser)
    token, _ = mfa_token(browser, username)
    assert browser.post(f"{API}/sessions/mfa", json={"mfa_token": token, "recovery_code": old[1]}).status == 401
    ok = browser.post(
        f"{API}/sessions/mfa", json={"mfa_token": token, "recovery_code": fresh.json["recovery_codes"][0]}
    )
    assert ok.status == 201


def test_a_removed_factor_is_no_longer_asked_for_and_the_person_is_told(browser: Browser) -> None:
    username, _ = person(browser)
    factor_id, _, _ = enrol_totp(browser)
    assert browser.delete(f"{API}/me/mfa/{factor_id}").status == 204
    assert browser.get(f"{API}/me/mfa").json == {"factors": [], "recovery_codes_left": 0, "required": False}
    signed_out(browser)
    assert login(browser, username).status == 201
    subjects = [message["subject"] for message in browser.mail_to(f"{username}@example.gr")]
    assert any("second factor was removed" in s or "αφαιρέθηκε" in s for s in subjects)
    assert any("second factor was added" in s or "προστέθηκε" in s for s in subjects)


def test_the_mfa_token_belongs_to_the_browser_that_typed_the_password(browser: Browser) -> None:
    username, _ = person(browser)
    _, secret, _ = enrol_totp(browser)
    signed_out(browser)
    browser.jar["mitroo_browser"] = "binding-of-the-first-browser-0123456789"
    token, _ = mfa_token(browser, username)
    other = Browser(browser.client, browser.gsis, browser.pump)
    other.jar["mitroo_browser"] = "binding-of-another-browser-0123456789"
    stolen = other.post(f"{API}/sessions/mfa", json={"mfa_token": token, "totp": code(secret, steps_ahead=1)})
    assert stolen.status == 400 and stolen.json["code"] == "token_invalid"
    assert (
        browser.post(f"{API}/sessions/mfa", json={"mfa_token": token, "totp": code(secret, steps_ahead=1)}).status
        == 201
    )


# --- recent authentication ------------------------------------------------------------------------


def test_factor_changes_need_a_recent_authentication(browser: Browser) -> None:
    # Given a session whose sign-in was ten minutes ago
    person(browser)
    age_session(browser)

    # When a factor is to be added
    refused = browser.post(f"{API}/me/mfa/totp", json={})

    # Then the person must confirm who they are first; a wrong password does not do
    assert refused.status == 401 and refused.json["code"] == "reauthentication_required"
    wrong = browser.post(f"{API}/me/reauthenticate", json={"password": "not the passphrase at all"})
    assert wrong.status == 401 and wrong.json["code"] == "invalid_credentials"
    again = browser.post(f"{API}/me/reauthenticate", json={"password": PASSPHRASE})
    assert again.status == 200 and again.json == {"method": "pwd", "valid_for": 300}
    assert browser.post(f"{API}/me/mfa/totp", json={}).status == 201


def test_reauthentication_with_a_code(browser: Browser) -> None:
    person(browser)
    _, secret, _ = enrol_totp(browser)
    age_session(browser)
    assert browser.post(f"{API}/me/mfa/recovery-codes", json={}).status == 401
    done = browser.post(f"{API}/me/reauthenticate", json={"totp": code(secret, steps_ahead=1)})
    assert done.status == 200 and done.json["method"] == "otp"
    assert browser.post(f"{API}/me/mfa/recovery-codes", json={}).status == 200


# --- WebAuthn --------------------------------------------------------------------------------------


def test_a_passkey_is_registered_and_used_at_the_second_step(browser: Browser) -> None:
    username, _ = person(browser)
    key = SoftAuthenticator(ORIGIN)
    registered = enrol_passkey(browser, key)
    assert registered["type"] == "webauthn" and len(registered["recovery_codes"]) == 10
    signed_out(browser)
    token, factors = mfa_token(browser, username)
    assert factors == ["webauthn", "recovery_code"]
    options = browser.post(f"{API}/sessions/mfa/webauthn-options", json={"mfa_token": token})
    assert [c["id"] for c in options.json["allowCredentials"]] == [registered_id(key)]
    session = browser.post(f"{API}/sessions/mfa", json={"mfa_token": token, "webauthn": key.get(options.json)})
    assert session.status == 201, session.text
    assert claims(session.json["access_token"])["amr"] == ["pwd", "hwk"]


def registered_id(key: SoftAuthenticator) -> str:
    from tests.support.authenticator import b64url

    return b64url(key.credentials[-1].credential_id)


def test_a_passkey_signs_in_without_username_or_password(browser: Browser) -> None:
    # Given a person with a synced passkey
    person(browser)
    key = SoftAuthenticator(ORIGIN, backup_eligible=True, counter_step=0)
    enrol_passkey(browser, key)
    signed_out(browser)

    # When the sign-in page asks for any passkey of this site
    options = browser.post(f"{API}/sessions/webauthn/options", json={})
    assert options.status == 200 and options.json.get("allowCredentials", []) == []
    session = browser.post(f"{API}/sessions/webauthn", json={"credential": key.get(options.json)})

    # Then the passkey alone signs in, as a software-held key with user verification
    assert session.status == 201, session.text
    assert claims(session.json["access_token"])["amr"] == ["swk", "mfa"]


def _passkey_attempt(browser: Browser, key: SoftAuthenticator, **knobs: Any) -> Any:
    options = browser.post(f"{API}/sessions/webauthn/options", json={})
    return browser.post(f"{API}/sessions/webauthn", json={"credential": key.get(options.json, **knobs)})


def test_forged_assertions_are_refused(browser: Browser) -> None:
    # Given a person with a security key that has signed 5 times
    person(browser)
    key = SoftAuthenticator(ORIGIN)
    enrol_passkey(browser, key)
    signed_out(browser)
    key.credentials[-1].sign_count = 4
    assert _passkey_attempt(browser, key).status == 201
    signed_out(browser)

    # When assertions come tampered, from another origin, for another RP ID, with an old counter
    attempts = {
        "tampered": _passkey_attempt(browser, key, tamper=True),
        "origin": _passkey_attempt(browser, key, origin="https://mitroo.example.evil"),
        "rp_id": _passkey_attempt(browser, key, rp_id="evil.example"),
        "counter": _passkey_attempt(browser, key, sign_count=3),
    }

    # Then each is refused alike, and the key still works
    assert {name: (r.status, r.json["code"]) for name, r in attempts.items()} == {
        name: (401, "mfa_invalid") for name in attempts
    }
    assert _passkey_attempt(browser, key).status == 201


def test_a_passkey_without_user_verification_does_not_sign_in_alone(browser: Browser) -> None:
    person(browser)
    key = SoftAuthenticator(ORIGIN, user_verified=False)
    enrol_passkey(browser, key)
    signed_out(browser)
    refused = _passkey_attempt(browser, key)
    assert refused.status == 401 and refused.json["code"] == "mfa_invalid"


def test_a_challenge_works_once_and_only_in_the_browser_that_asked(browser: Browser) -> None:
    person(browser)
    key = SoftAuthenticator(ORIGIN)
    enrol_passkey(browser, key)
    signed_out(browser)
    options = browser.post(f"{API}/sessions/webauthn/options", json={}).json
    other = Browser(browser.client, browser.gsis, browser.pump)
    elsewhere = other.post(f"{API}/sessions/webauthn", json={"credential": key.get(options)})
    assert elsewhere.status == 401
    assert browser.post(f"{API}/sessions/webauthn", json={"credential": key.get(options)}).status == 401  # spent


def test_a_passkey_of_another_realm_is_refused(browser: Browser) -> None:
    person(browser)
    key = SoftAuthenticator(ORIGIN)
    enrol_passkey(browser, key)
    options = browser.post("/api/v1/realms/eiep/sessions/webauthn/options", json={}).json
    refused = browser.post("/api/v1/realms/eiep/sessions/webauthn", json={"credential": key.get(options)})
    assert refused.status == 401 and refused.json["code"] == "mfa_invalid"


def test_a_registration_for_another_origin_is_refused(browser: Browser) -> None:
    person(browser)
    key = SoftAuthenticator("https://phishing.example")
    options = browser.post(f"{API}/me/mfa/webauthn/registration-options", json={}).json
    refused = browser.post(f"{API}/me/mfa/webauthn", json={"credential": key.create(options), "label": "x"})
    assert refused.status == 401 and refused.json["code"] == "mfa_invalid"
    assert browser.get(f"{API}/me/mfa").json["factors"] == []


def test_a_passkey_offers_and_accepts_only_the_recommended_algorithms(browser: Browser) -> None:
    # Given a person asking to register a passkey
    person(browser)
    options = browser.post(f"{API}/me/mfa/webauthn/registration-options", json={}).json

    # Then the browser is offered EdDSA, ES256 and RS256, in that order
    assert [param["alg"] for param in options["pubKeyCredParams"]] == [-8, -7, -257]

    # And a credential made with ES512 (which the library alone would take) is refused
    key = SoftAuthenticator(ORIGIN, algorithm=-36)
    refused = browser.post(f"{API}/me/mfa/webauthn", json={"credential": key.create(options), "label": "x"})
    assert refused.status == 401 and refused.json["code"] == "mfa_invalid"
    assert browser.get(f"{API}/me/mfa").json["factors"] == []


# --- the administrators' policy ---------------------------------------------------------------------


def test_an_administrator_without_a_factor_is_refused_then_allowed_after_enrolling(browser: Browser) -> None:
    # Given a secretariat member without a second factor, signed in with the password
    signed = login(browser, person(browser, roles=("secretariat",))[0])
    assert signed.status == 201 and signed.json.get("mfa_enrolment_required") is True

    # When an admin endpoint is called, it answers that a factor must be enrolled
    refused = browser.get(f"{API}/admin/jobs/no-such-job")
    assert refused.status == 403 and refused.json["code"] == "mfa_enrolment_required"

    # And once an authenticator app is enrolled in this session, the same session may
    enrol_totp(browser)
    allowed = browser.get(f"{API}/admin/jobs/no-such-job")
    assert allowed.status == 404 and allowed.json["code"] == "not_found"


def test_an_administrator_keeps_the_last_factor(browser: Browser) -> None:
    person(browser, roles=("secretariat",))
    factor_id, _, _ = enrol_totp(browser)
    refused = browser.delete(f"{API}/me/mfa/{factor_id}")
    assert refused.status == 403 and refused.json["code"] == "forbidden"


# --- pages -----------------------------------------------------------------------------------------


def test_a_browser_form_sign_in_goes_through_the_second_step_page(browser: Browser) -> None:
    # Given an account with an authenticator app
    username, _ = person(browser)
    _, secret, _ = enrol_totp(browser)
    signed_out(browser)

    # When the sign-in form is posted, the browser is sent to the second step
    browser.get(f"/realms/{REALM}/login", html=True)
    posted = browser.post(f"{API}/sessions", form=form(browser, username=username, password=PASSPHRASE), html=True)
    assert posted.status == 303 and posted.location.endswith(f"/realms/{REALM}/login/second-step")
    assert "mitroo_mfa" in browser.jar and "mitroo_session" not in browser.jar
    page = browser.get(f"/realms/{REALM}/login/second-step", html=True)
    assert page.status == 200 and 'name="totp"' in page.text and 'name="recovery_code"' in page.text

    # And its form finishes the sign-in
    done = browser.post(f"{API}/sessions/mfa", form=form(browser, totp=code(secret, steps_ahead=1)), html=True)
    assert done.status == 303 and done.location.endswith(f"/realms/{REALM}/home")
    assert "mitroo_session" in browser.jar and "mitroo_mfa" not in browser.jar


def test_the_security_page_enrols_an_app_without_script(browser: Browser) -> None:
    person(browser)
    assert browser.get(f"/realms/{REALM}/account/security", html=True).status == 200
    shown = browser.post(f"{API}/me/mfa/totp", form=form(browser, label="Phone"), html=True)
    assert shown.status == 200 and "<svg" in shown.text
    import re

    secret = re.search(r'data-field="totp-secret">([A-Z2-7]+)<', shown.text)
    action = re.search(r'action="(/api/v1/realms/ntua/me/mfa/totp/[^"]+/confirm)"', shown.text)
    assert secret and action
    confirmed = browser.post(action.group(1), form=form(browser, code=code(secret.group(1))), html=True)
    assert confirmed.status == 200
    assert confirmed.text.count("<li><code>") == 10 and "data:text/plain" in confirmed.text
    page = browser.get(f"/realms/{REALM}/account/security", html=True)
    assert 'data-kind="totp"' in page.text and "<li><code>" not in page.text  # codes were shown once


# --- recovery by an operator ----------------------------------------------------------------------------


def test_an_operator_resets_the_factors_of_a_person_who_lost_them(browser: Browser) -> None:
    from tests.integration.test_cli import run_cli

    # Given a person with an authenticator app and recovery codes, who lost both
    username, account_id = person(browser)
    enrol_totp(browser)
    signed_out(browser)

    # When the operator resets their factors from the command line
    result = run_cli("mfa-reset", "--realm", REALM, "--username", username.upper())

    # Then they sign in with the password alone, the reset is audited as the operator's, and they are told
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{account_id}: 1 second factor")
    assert login(browser, username).status == 201
    entries = [(e.action, e.actor) for e in services().ports.audit.entries(REALM, account_id)]
    assert ("mfa_reset", "operator:cli") in entries
    subjects = [message["subject"] for message in browser.mail_to(f"{username}@example.gr")]
    assert any("reset" in subject or "μηδενίστηκαν" in subject for subject in subjects)
    assert run_cli("mfa-reset", "--realm", REALM, "--username", "nobody-at-all").returncode == 1


def test_an_eu_login_sign_in_is_the_first_step_when_the_account_has_a_factor(browser: Browser) -> None:
    from tests.support.esep import register

    # Given an eTwinning member (EU Login) who set up an authenticator app
    member = register(browser, [], role="other")
    esep = "/api/v1/realms/esep"
    auth = member.auth
    started = browser.post(f"{esep}/me/mfa/totp", json={}, headers=auth)
    assert started.status == 201, started.text
    secret = started.json["secret"]
    confirmed = browser.post(
        f"{esep}/me/mfa/totp/{started.json['factor_id']}/confirm", json={"code": code(secret)}, headers=auth
    )
    assert confirmed.status == 200, confirmed.text

    # When they sign in through EU Login again
    flow, _ = browser.eulogin_flow(member.person)
    first = browser.post(f"{esep}/sessions", json={"flow": flow})

    # Then EU Login was the first step: the code finishes it, and the session says both
    assert first.status == 401 and first.json["code"] == "mfa_required", first.text
    second = browser.post(
        f"{esep}/sessions/mfa", json={"mfa_token": first.json["mfa_token"], "totp": code(secret, steps_ahead=1)}
    )
    assert second.status == 201, second.text
    assert claims(second.json["access_token"])["amr"] == ["fed", "otp"]


def test_an_eu_login_sign_in_with_a_recovery_code_lowers_its_login_records_count(browser: Browser) -> None:
    from chalicelib.adapters.dynamodb.accounts import guard_key, stored_factor_copy
    from tests.support.esep import register

    # Given an eTwinning member (EU Login) with an authenticator app and its recovery codes
    member = register(browser, [], role="other")
    esep = "/api/v1/realms/esep"
    started = browser.post(f"{esep}/me/mfa/totp", json={}, headers=member.auth)
    factor = started.json["factor_id"]
    confirm = {"code": code(started.json["secret"])}
    confirmed = browser.post(f"{esep}/me/mfa/totp/{factor}/confirm", json=confirm, headers=member.auth)
    assert confirmed.status == 200, confirmed.text
    codes = list(confirmed.json["recovery_codes"])
    account = services().ports.accounts.get("esep", member.account_id)
    assert account is not None and account.subject == member.person.sub
    guard_model = services().ports.factors._m.Guard  # type: ignore[attr-defined]

    def count_on_login_record() -> int:
        copy = stored_factor_copy(guard_model.get(*guard_key("esep", *account.login_key), consistent_read=True))
        assert copy is not None
        return copy.recovery_codes

    assert count_on_login_record() == len(codes)

    # When they sign in through EU Login and finish with a recovery code
    flow, _ = browser.eulogin_flow(member.person)
    first = browser.post(f"{esep}/sessions", json={"flow": flow})
    assert first.status == 401 and first.json["code"] == "mfa_required", first.text
    second = browser.post(
        f"{esep}/sessions/mfa", json={"mfa_token": first.json["mfa_token"], "recovery_code": codes[0]}
    )

    # Then the session opened, and the login record counts one code fewer, as the set does
    assert second.status == 201, second.text
    assert count_on_login_record() == len(codes) - 1


def test_the_second_step_continues_to_the_page_the_sign_in_was_for(browser: Browser) -> None:
    # Given a browser whose password step was for a page of this realm (an application's
    # authorization request sends people to sign in with next)
    username, _ = person(browser)
    _, secret, codes = enrol_totp(browser)
    signed_out(browser)
    browser.get(f"/realms/{REALM}/login", html=True)
    wanted = f"/realms/{REALM}/oidc/authorize?client_id=x&state=y"
    posted = browser.post(f"{API}/sessions", form=form(browser, username=username, password=PASSPHRASE), html=True)
    page = browser.get(f"/realms/{REALM}/login/second-step?next={quote(wanted)}", html=True)
    assert posted.status == 303 and 'name="next"' in page.text

    # When the second step is posted with it, the browser goes on there; a foreign one is ignored
    done = browser.post(
        f"{API}/sessions/mfa", form=form(browser, totp=code(secret, steps_ahead=1), next=wanted), html=True
    )
    assert done.status == 303 and done.location == wanted
    signed_out(browser)
    posted = browser.post(f"{API}/sessions", form=form(browser, username=username, password=PASSPHRASE), html=True)
    foreign = browser.post(
        f"{API}/sessions/mfa", form=form(browser, recovery_code=codes[0], next="//evil.example/x"), html=True
    )
    assert foreign.status == 303 and foreign.location.endswith(f"/realms/{REALM}/home")
