"""Registration refuses every bad input with its problem code and writes nothing."""

from __future__ import annotations

import pytest

from tests.support.arrange import expired_flow
from tests.support.browser import STRONG_PASSWORD, Browser, unique_email

API = "/api/v1/realms/eiep"


def test_an_email_already_registered_is_409_email_taken_case_insensitively(browser: Browser) -> None:
    # Given an account with an e-mail
    email = unique_email()
    assert browser.register(browser.gsis_flow(), email).status == 201

    # When another person registers with the same address in other case
    response = browser.register(browser.gsis_flow(), email.upper())

    # Then it is refused as taken
    assert response.status == 409
    assert response.json["code"] == "email_taken"
    assert response.headers["content-type"] == "application/problem+json"


def test_an_afm_already_registered_is_409_afm_registered(browser: Browser) -> None:
    identity = browser.new_identity()
    assert browser.register(browser.gsis_flow(identity), unique_email()).status == 201
    response = browser.register(browser.gsis_flow(identity), unique_email())
    assert response.status == 409 and response.json["code"] == "afm_registered"


def test_a_flow_registers_one_account_only(browser: Browser) -> None:
    flow = browser.gsis_flow()
    assert browser.register(flow, unique_email()).status == 201
    again = browser.register(flow, unique_email())
    assert again.status == 409 and again.json["code"] == "flow_used"


def test_a_failed_registration_leaves_the_flow_usable(browser: Browser) -> None:
    # Given a flow whose first attempt fails on a taken e-mail
    taken = unique_email()
    browser.register(browser.gsis_flow(), taken)
    flow = browser.gsis_flow()
    assert browser.register(flow, taken).json["code"] == "email_taken"

    # When the person corrects the e-mail
    response = browser.register(flow, unique_email())

    # Then the same flow still registers
    assert response.status == 201


def test_an_expired_flow_is_410(browser: Browser) -> None:
    flow = expired_flow(browser, browser.new_identity().afm)
    response = browser.register(flow, unique_email())
    assert response.status == 410 and response.json["code"] == "flow_expired"
    assert browser.get(f"{API}/flows/{flow}").status == 410


def test_an_unknown_flow_is_404(browser: Browser) -> None:
    response = browser.register("no-such-flow", unique_email())
    assert response.status == 404 and response.json["code"] == "flow_not_found"


def test_a_flow_for_another_intent_cannot_register(browser: Browser) -> None:
    flow = browser.gsis_flow(intent="recover-email")
    response = browser.register(flow, unique_email())
    assert response.status == 422 and "flow" in response.json["errors"]


@pytest.mark.parametrize(
    ("password", "violation"),
    [
        ("Sh0rt!", "at least 8"),
        ("Toolongpassword1!", "at most 15"),
        ("alllower1!", "upper-case"),
        ("ALLUPPER1!", "lower-case"),
        ("NoDigits!!", "digit"),
        ("NoSymbol12", "one of !@#$%^&*()"),
        ("Ελληνικά1!Ab", "only Latin letters"),
        ("Spaces 1!Ab", "only Latin letters"),
    ],
)
def test_passwords_outside_the_eiep_policy_are_422_password_policy(
    browser: Browser, password: str, violation: str
) -> None:
    response = browser.register(browser.gsis_flow(), unique_email(), password=password)
    assert response.status == 422
    assert response.json["code"] == "password_policy"
    assert any(violation in message for message in response.json["errors"]["password"])


def test_different_confirmation_is_422_passwords_mismatch(browser: Browser) -> None:
    response = browser.register(
        browser.gsis_flow(), unique_email(), password=STRONG_PASSWORD, password_confirmation=STRONG_PASSWORD + "x"
    )
    assert response.status == 422 and response.json["code"] == "passwords_mismatch"


@pytest.mark.parametrize("email", ["not-an-address", "a@b", "two@@example.gr", "space in@example.gr"])
def test_malformed_addresses_are_422_invalid_email(browser: Browser, email: str) -> None:
    response = browser.register(browser.gsis_flow(), email)
    assert response.status == 422 and response.json["code"] == "invalid_email"


@pytest.mark.parametrize("field", ["afm", "last_name", "first_name", "gsis_verified", "status"])
def test_gsis_fields_cannot_be_supplied_by_the_client(browser: Browser, field: str) -> None:
    # Given a client that tries to set an identity field itself
    response = browser.register(browser.gsis_flow(), unique_email(), **{field: "999999999"})

    # Then the request is refused, naming the field
    assert response.status == 422
    assert response.json["code"] == "invalid_input"
    assert field in response.json["errors"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"gender": "unknown"}, "gender"),
        ({"mobile": "call me"}, "mobile"),
        ({"registry_number": "12/34"}, "registry_number"),
    ],
)
def test_invalid_optional_fields_are_422(browser: Browser, extra: dict[str, str], field: str) -> None:
    response = browser.register(browser.gsis_flow(), unique_email(), **extra)
    assert response.status == 422 and field in response.json["errors"]


def test_missing_fields_are_listed(browser: Browser) -> None:
    response = browser.post(f"{API}/registrations", json={"flow": "x"})
    assert response.status == 422
    assert {"email", "password", "password_confirmation", "gender"} <= set(response.json["errors"])


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b"\xff\xfe", b'"just a string"'],
)
def test_malformed_bodies_are_400(browser: Browser, body: bytes) -> None:
    response = browser.post(f"{API}/registrations", body=body, headers={"Content-Type": "application/json"})
    assert response.status == 400 and response.json["code"] == "malformed_body"


def test_a_body_over_one_mebibyte_is_413(browser: Browser) -> None:
    body = b'{"flow": "' + b"x" * (1024 * 1024) + b'"}'
    response = browser.post(f"{API}/registrations", body=body, headers={"Content-Type": "application/json"})
    assert response.status == 413 and response.json["code"] == "payload_too_large"


def test_a_foreign_origin_cannot_post_a_form(browser: Browser) -> None:
    response = browser.post(
        f"{API}/registrations",
        form={"flow": "x", "email": "a@example.gr", "password": "x", "password_confirmation": "x", "gender": "male"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status == 403 and response.json["code"] == "forbidden"


def test_a_form_with_a_wrong_csrf_token_is_refused(browser: Browser) -> None:
    browser.get("/realms/eiep/login", html=True)
    response = browser.post(f"{API}/sessions", form={"csrf_token": "forged", "username": "a", "password": "b"})
    assert response.status == 403 and response.json["code"] == "forbidden"


def test_registration_is_not_offered_in_realms_without_gsis(browser: Browser) -> None:
    body = {"flow": "x", "email": unique_email(), "password": "x", "password_confirmation": "x", "gender": "male"}
    response = browser.post("/api/v1/realms/ntua/registrations", json=body)
    assert response.status == 404 and response.json["code"] == "not_found"


def test_unknown_routes_are_404_problems(browser: Browser) -> None:
    for path in ("/nothing", "/api/v1/nothing/at/all", "/realms/eiep/no/such/page"):
        response = browser.get(path)
        assert response.status == 404, path
        assert response.json["code"] == "not_found"
