"""The admin endpoint that loads legacy accounts checks the caller's role in our code."""

from __future__ import annotations

import json

from tests.support.arrange import account_in, second_factor_passed
from tests.support.browser import Browser, unique_email

API = "/api/v1/realms/eiep/admin/legacy-accounts"
PASSWORD = "Adm1n!Kodikos"


def _token(browser: Browser, realm: str, roles: tuple[str, ...]) -> str:
    email = unique_email("staff")
    password = PASSWORD if realm == "eiep" else "a long passphrase for the ntua admin"
    account_in(realm, username=email, email=email, password=password, roles=roles)
    response = browser.post(f"/api/v1/realms/{realm}/sessions", json={"username": email, "password": password})
    assert response.status == 201, response.text
    second_factor_passed(response.json["access_token"])  # staff roles need a second factor (SPEC §2.9)
    return str(response.json["access_token"])


def _file(*emails: str) -> str:
    rows = [
        {"registry_number": f"R-{n}", "last_name": "ΠΑΠΑΣ", "first_name": "ΝΙΚΟΣ", "email": e}
        for n, e in enumerate(emails)
    ]
    rows.append({"registry_number": "R-bad", "last_name": "X", "first_name": "Y", "email": "not-an-address"})
    return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows)


def test_an_admin_loads_legacy_accounts_and_gets_a_report(browser: Browser) -> None:
    # Given an administrator of e-IEP
    token = _token(browser, "eiep", ("admin",))
    first, second = unique_email(), unique_email()

    # When a JSON-lines file with one bad row is loaded twice
    body = {"format": "jsonl", "content": _file(first, second)}
    loaded = browser.post(API, json=body, headers={"Authorization": f"Bearer {token}"})
    again = browser.post(API, json=body, headers={"Authorization": f"Bearer {token}"})

    # Then the first run creates two accounts and the second only reports duplicates
    assert loaded.status == 200
    assert (loaded.json["created"], loaded.json["duplicates"], loaded.json["rejected"]) == (2, 0, 1)
    assert loaded.json["problems"][0]["line"] == 3
    assert (again.json["created"], again.json["duplicates"], again.json["rejected"]) == (0, 2, 1)
    assert first not in loaded.text and "not-an-address" not in loaded.text


def test_without_a_token_it_is_401(browser: Browser) -> None:
    response = browser.post(API, json={"format": "jsonl", "content": ""})
    assert response.status == 401 and response.json["code"] == "unauthorized"


def test_without_the_admin_role_it_is_403(browser: Browser) -> None:
    token = _token(browser, "eiep", ("secretariat",))
    response = browser.post(API, json={"format": "jsonl", "content": ""}, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 403 and response.json["code"] == "forbidden"


def test_an_admin_of_another_realm_is_refused(browser: Browser) -> None:
    token = _token(browser, "ntua", ("admin",))
    response = browser.post(API, json={"format": "jsonl", "content": ""}, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 401
