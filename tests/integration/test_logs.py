"""No password, token, code, full AFM or full e-mail address in any log line (SPEC §3)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from chalicelib.observability import logger, redact
from tests.support.browser import STRONG_PASSWORD, Browser, unique_email

API = "/api/v1/realms/eiep"


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every line the service logs, at DEBUG, through its real handler and formatter."""
    handler = logger.registered_handler
    buffer = io.StringIO()
    previous_stream = handler.setStream(buffer)  # type: ignore[attr-defined]
    app_logger = logging.getLogger("chalicelib")
    levels = (logger.log_level, app_logger.level)
    logger.setLevel("DEBUG")
    app_logger.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        handler.setStream(previous_stream)  # type: ignore[attr-defined]
        logger.setLevel(levels[0])
        app_logger.setLevel(levels[1])


def test_a_whole_journey_logs_no_secrets(browser: Browser, captured_logs: io.StringIO) -> None:
    # Given a full journey, including failures that log warnings
    identity = browser.new_identity()
    email = unique_email("secret.keeper")
    flow = browser.gsis_flow(identity)
    browser.register(flow, email)
    token, code = browser.activation_mail(email)
    browser.post(f"{API}/activations", json={"email": email, "code": "999999" if code != "999999" else "000000"})
    browser.post(f"{API}/activations", json={"token": token})
    browser.login(email, "Wr0ng!Password")
    pair = browser.login(email).json
    refreshed = browser.post(f"{API}/sessions/refresh", json={"refresh_token": pair["refresh_token"]}).json
    browser.post(f"{API}/sessions/refresh", json={"refresh_token": pair["refresh_token"]})  # reuse → warning
    browser.callback(browser.choose_at_gsis(browser.start_gsis(), "fault-json"))  # idp error → warning

    # When the log lines are read
    lines = [line for line in captured_logs.getvalue().splitlines() if line.strip()]

    # Then there are structured lines with request context, and none carries a secret
    assert len(lines) > 10
    records = [json.loads(line) for line in lines]
    assert any(r.get("message") == "account registered" and r.get("realm") == "eiep" for r in records)
    assert any("route" in r for r in records)
    secrets = {
        "password": STRONG_PASSWORD,
        "flow id": flow,
        "activation token": token,
        "activation code": code,
        "refresh token": pair["refresh_token"],
        "new refresh token": refreshed["refresh_token"],
        "access token": pair["access_token"],
        "afm": identity.afm,
        "e-mail": email,
    }
    text = captured_logs.getvalue()
    leaked = [name for name, value in secrets.items() if value in text]
    assert leaked == []


def test_redaction_masks_what_slips_into_a_message() -> None:
    line = "user maria.k@example.gr afm 068933130 token " + "A" * 43 + " jwt eyJa.eyJb.c hash $argon2id$v=19$m=1$x$y"
    cleaned = redact(line)
    assert "maria.k@example.gr" not in cleaned and "m***@example.gr" in cleaned
    assert "068933130" not in cleaned and "******130" in cleaned
    assert "A" * 43 not in cleaned
    assert "eyJa.eyJb.c" not in cleaned
    assert "$argon2id$" not in cleaned
    assert re.search(r"\d{9}", cleaned) is None


def test_an_etwinning_journey_logs_no_secrets(browser: Browser, captured_logs: io.StringIO) -> None:
    # Given an eTwinning journey: EU Login, registration, NSO validation, a project, a pupil
    from urllib.parse import parse_qs, urlsplit

    from tests.support.esep import API as ESEP
    from tests.support.esep import active_teacher, nso, organisation, project_body, validate

    assert browser.eulogin is not None
    admin = nso(browser, "GR")
    school = organisation(browser, "Γυμνάσιο Κύθνου", city="Κύθνος")
    validate(browser, admin, organisations=[school])
    owner, partner = active_teacher(browser, admin, school), active_teacher(browser, admin, school)
    browser.post(f"{ESEP}/me/contacts", json={"account_id": partner.account_id}, headers=owner.auth)
    project = browser.post(f"{ESEP}/projects", json=project_body(school, partner.account_id), headers=owner.auth)
    project_id = project.json["project_id"]
    browser.post(f"{ESEP}/projects/{project_id}/submit", headers=owner.auth)
    browser.post(f"{ESEP}/projects/{project_id}/invitation", json={"decision": "accept"}, headers=partner.auth)
    browser.post(f"{ESEP}/admin/projects/{project_id}/approval", json={"decision": "approve"}, headers=admin.auth)
    pupil = browser.post(f"{ESEP}/projects/{project_id}/pupils", json={"display_name": "Άννα"}, headers=owner.auth).json
    browser.post(f"{ESEP}/pupil-sessions", json={"username": pupil["username"], "password": "wrong-wrong-wrong"})
    session = browser.post(
        f"{ESEP}/pupil-sessions", json={"username": pupil["username"], "password": pupil["password"]}
    )
    authorize = browser.start_eulogin()
    state = parse_qs(urlsplit(authorize).query)
    with browser.eulogin.behaving(nonce="wrong"):  # a refused ID token → warning
        browser.callback(browser.eulogin.authorize(authorize, owner.person))
    browser.run_tasks()

    # When the log lines are read
    text = captured_logs.getvalue()

    # Then none carries an e-mail, a token, a pupil's password, the PKCE verifier's challenge or the nonce
    secrets = {
        "owner e-mail": owner.person.email,
        "partner e-mail": partner.person.email,
        "owner token": owner.token,
        "pupil password": pupil["password"],
        "pupil token": session.json["access_token"],
        "pupil refresh": session.json["refresh_token"],
        "state": state["state"][0],
        "nonce": state["nonce"][0],
        "code challenge": state["code_challenge"][0],
        "ID token": browser.eulogin.last_id_token or "<none>",
    }
    leaked = [name for name, value in secrets.items() if value in text]
    assert leaked == []
    assert "esep member registered" in text and "esep decision" in text


def test_an_ntua_reset_logs_no_secrets(browser: Browser, captured_logs: io.StringIO) -> None:
    # Given a student who forgets the passphrase, mistypes the code once and resets by link
    from tests.integration.test_recovery_ntua import NEW, OLD, _reset_mail, _student

    ntua = "/api/v1/realms/ntua"
    username, email = _student(browser)
    browser.post(f"{ntua}/sessions", json={"username": username, "password": "not the passphrase at all"})
    browser.post(f"{ntua}/password-resets", json={"username": username, "email": email})
    token, code = _reset_mail(browser, email)
    wrong_code = "000000" if code != "000000" else "111111"
    browser.post(
        f"{ntua}/password-resets/complete",
        json={"username": username, "code": wrong_code, "password": NEW, "password_confirmation": NEW},
    )
    browser.post(
        f"{ntua}/password-resets/complete", json={"token": token, "password": NEW, "password_confirmation": NEW}
    )
    browser.run_tasks()

    # When the log lines are read
    text = captured_logs.getvalue()

    # Then neither passphrase, the token, the code nor the external e-mail is in them
    secrets = {"old passphrase": OLD, "new passphrase": NEW, "token": token, "code": code, "e-mail": email}
    assert [name for name, value in secrets.items() if value in text] == []
    assert text.strip(), "nothing was logged: the test would prove nothing"


def test_an_openid_journey_logs_no_secrets(
    browser: Browser, captured_logs: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a person who signs in to an application, which refreshes, replays its code,
    # and is told of the logout
    from joserfc.jwk import KeySet

    from tests.support import oidc
    from tests.support.arrange import account_in
    from tests.support.logout_receiver import logout_receiver

    caplog.set_level(logging.DEBUG)  # everything, authlib's loggers included
    email = unique_email("oidc.secret")
    username, passphrase = "oidcsecret" + email.split(".")[2].split("@")[0], "a long enough passphrase here"
    account_in("ntua", username=username, email=email, password=passphrase)

    def keys() -> KeySet:
        return KeySet.import_key_set(browser.get("/realms/ntua/.well-known/jwks.json").json)

    with logout_receiver(oidc.issuer("ntua"), None, keys) as receiver:
        client = oidc.register("ntua", trusted=True, backchannel_logout_uri=receiver.url)
        receiver.audience = client.client_id
        login = browser.post("/api/v1/realms/ntua/sessions", json={"username": username, "password": passphrase}).json
        code = oidc.code_for(browser, client, nonce="nonce-secret-1")
        tokens = oidc.exchange(browser, client, code, auth="basic").json
        form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        refreshed = oidc.token_request(browser, client, form, auth="basic").json
        oidc.exchange(browser, client, code, auth="basic")  # a replayed code → a warning
        bearer = {"Authorization": f"Bearer {login['access_token']}"}
        browser.delete("/api/v1/realms/ntua/sessions/current", headers=bearer)
        browser.run_tasks()
        assert receiver.wait_for(1) and receiver.refused == []

    # When the log lines are read: the service's, and every library's at DEBUG but the AWS
    # SDK's own wire dumps (botocore and pynamodb log request bodies at DEBUG for every
    # flow; they stay at WARNING unless an operator turns them on)
    sdk = ("botocore", "boto3", "urllib3", "pynamodb", "s3transfer")
    records = [record for record in caplog.records if not record.name.startswith(sdk)]
    text = captured_logs.getvalue() + "\n".join(record.getMessage() for record in records)

    # Then no client secret, code, token or SSO cookie is in them
    secrets = {
        "client secret": client.secret or "<none>",
        "code": code,
        "access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "ID token": tokens["id_token"],
        "rotated refresh token": refreshed["refresh_token"],
        "SSO cookie": browser.jar.get("mitroo_sso", "<gone>"),
        "nonce": "nonce-secret-1",
        "e-mail": email,
    }
    assert [name for name, value in secrets.items() if value and value in text] == []
    assert "authorization code reused; grant revoked" in text
    assert not [r for r in records if r.name.startswith("authlib") and r.levelno < logging.INFO]


def test_second_factors_log_no_secrets(browser: Browser, captured_logs: io.StringIO) -> None:
    # Given a person who enrols an authenticator app and a passkey, mistypes a code,
    # signs in with a code, a recovery code and a passkey, and re-authenticates
    from tests.integration.test_mfa import API as NTUA
    from tests.integration.test_mfa import ORIGIN, PASSPHRASE, enrol_passkey, login, mfa_token, person, signed_out
    from tests.support.authenticator import SoftAuthenticator
    from tests.support.mfa import code

    username, _ = person(browser)
    started = browser.post(f"{NTUA}/me/mfa/totp", json={}).json
    secret = started["secret"]
    first_code = code(secret)
    confirmed = browser.post(f"{NTUA}/me/mfa/totp/{started['factor_id']}/confirm", json={"code": first_code}).json
    recovery_codes = confirmed["recovery_codes"]
    key = SoftAuthenticator(ORIGIN)
    enrol_passkey(browser, key)
    signed_out(browser)
    token, _ = mfa_token(browser, username)
    wrong = "000000" if first_code != "000000" else "111111"
    browser.post(f"{NTUA}/sessions/mfa", json={"mfa_token": token, "totp": wrong})
    browser.post(f"{NTUA}/sessions/mfa", json={"mfa_token": token, "totp": first_code})  # replayed
    second_code = code(secret, steps_ahead=1)
    signed = browser.post(f"{NTUA}/sessions/mfa", json={"mfa_token": token, "totp": second_code}).json
    signed_out(browser)
    other_token, _ = mfa_token(browser, username)
    browser.post(f"{NTUA}/sessions/mfa", json={"mfa_token": other_token, "recovery_code": recovery_codes[0]})
    signed_out(browser)
    options = browser.post(f"{NTUA}/sessions/webauthn/options", json={}).json
    assertion = key.get(options)
    browser.post(f"{NTUA}/sessions/webauthn", json={"credential": key.get(options, tamper=True)})
    options = browser.post(f"{NTUA}/sessions/webauthn/options", json={}).json
    assertion = key.get(options)
    browser.post(f"{NTUA}/sessions/webauthn", json={"credential": assertion})
    browser.post(f"{NTUA}/me/reauthenticate", json={"password": PASSPHRASE})
    login(browser, username, "not the passphrase at all")
    browser.run_tasks()

    # When the log lines are read
    text = captured_logs.getvalue()

    # Then no secret, code, recovery code, token or credential data is in them
    secrets = {
        "totp secret": secret,
        "otpauth uri": started["otpauth_uri"],
        "first code": first_code,
        "second code": second_code,
        "mfa token": token,
        "other mfa token": other_token,
        "access token": signed["access_token"],
        "passkey signature": assertion["response"]["signature"],
        "client data": assertion["response"]["clientDataJSON"],
        "authenticator data": assertion["response"]["authenticatorData"],
        "challenge": options["challenge"],
        **{f"recovery code {n}": value for n, value in enumerate(recovery_codes)},
    }
    assert [name for name, value in secrets.items() if value in text] == []
    assert "second step passed" in text and "passkey sign-in" in text
