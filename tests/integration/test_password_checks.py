"""The live strength meter answers under each realm's policy."""

from __future__ import annotations

import pytest

from tests.support.browser import Browser


@pytest.mark.parametrize(
    ("realm", "password", "acceptable", "violation"),
    [
        ("ntua", "agapw poly th mairh", True, None),
        ("ntua", "Tr0ub4dor&3", False, "too_short"),
        ("ntua", "aaaaaaaaaaaaaaa", False, "too_guessable"),
        ("eiep", "Kal0s!Kodikos", True, None),
        ("eiep", "kalos kodikos", False, "invalid_characters"),
    ],
)
def test_the_meter_scores_under_the_realms_policy(
    browser: Browser, realm: str, password: str, acceptable: bool, violation: str | None
) -> None:
    response = browser.post(f"/api/v1/realms/{realm}/password-checks", json={"password": password})
    assert response.status == 200
    body = response.json
    assert body["acceptable"] is acceptable
    assert set(body) >= {"acceptable", "score", "violations", "feedback"}
    if violation:
        assert violation in body["violations"]


def test_the_username_and_email_count_against_the_password(browser: Browser) -> None:
    password = "konstantinos.papadopoulos"
    alone = browser.post("/api/v1/realms/ntua/password-checks", json={"password": password}).json
    with_inputs = browser.post(
        "/api/v1/realms/ntua/password-checks",
        json={"password": password, "username": "konstantinos.papadopoulos", "email": "kpap@example.gr"},
    ).json
    assert with_inputs["score"] <= alone["score"]
    assert with_inputs["acceptable"] is False


def test_a_realm_without_local_passwords_has_no_meter(browser: Browser) -> None:
    response = browser.post("/api/v1/realms/esep/password-checks", json={"password": "anything at all here"})
    assert response.status == 422
