"""The registrar API over HTTP: roles checked in our code, welcome mail, set-password."""

from __future__ import annotations

import re
from typing import Any

from tests.support.arrange import account_in, second_factor_passed
from tests.support.browser import Browser, unique_email

API = "/api/v1/realms/ntua"
PASSPHRASE = "a long passphrase for the secretariat"


def _staff_token(browser: Browser, role: str = "secretariat", realm: str = "ntua") -> str:
    email = unique_email("staff")
    username = "staff" + email.split(".")[1].split("@")[0]
    password = PASSPHRASE if realm == "ntua" else "Kal0s!Kodikos"
    account_in(realm, username=username if realm == "ntua" else email, email=email, password=password, roles=(role,))
    login = browser.post(
        f"/api/v1/realms/{realm}/sessions",
        json={"username": username if realm == "ntua" else email, "password": password},
    )
    assert login.status == 201, login.text
    second_factor_passed(login.json["access_token"])  # staff roles need a second factor (SPEC §2.9)
    return str(login.json["access_token"])


def _body(**changes: Any) -> dict[str, Any]:
    email = unique_email("student")
    body = {
        "kind": "postgraduate",
        "first_name": "Γιώργος",
        "last_name": "Παπαδόπουλος",
        "father_name": "Νικόλαος",
        "mother_name": "Μαρία",
        "external_email": email,
        "registry_number": "PG" + email.split(".")[1].split("@")[0],
        "expires_on": "2031-06-30",
    }
    body.update(changes)
    return body


def test_a_secretariat_creates_an_account_and_the_person_sets_a_password(browser: Browser) -> None:
    # Given a secretariat member
    token = _staff_token(browser)
    body = _body(username=None)

    # When they create a postgraduate account
    created = browser.post(f"{API}/admin/accounts", json=body, headers={"Authorization": f"Bearer {token}"})

    # Then it exists with an assigned username, and a welcome mail goes to the external address
    assert created.status == 201, created.text
    username = created.json["username"]
    assert username.startswith("gpapadopoulos") and created.json["created"] is True
    [welcome] = browser.mail_to(body["external_email"])
    assert username in welcome["html"]
    token_match = re.search(r"set-password\?token=([A-Za-z0-9_-]+)", welcome["html"])
    assert token_match

    # When the person follows the link and sets a passphrase
    page = browser.get(f"/realms/ntua/set-password?token={token_match.group(1)}", html=True)
    assert page.status == 200
    passphrase = "agapw poly th mairh"
    done = browser.post(
        f"{API}/password-setups",
        json={"token": token_match.group(1), "password": passphrase, "password_confirmation": passphrase},
    )

    # Then they can sign in with their username
    assert done.status == 200
    assert browser.post(f"{API}/sessions", json={"username": username, "password": passphrase}).status == 201


def test_rules_of_seed_004_are_problems_with_codes(browser: Browser) -> None:
    headers = {"Authorization": f"Bearer {_staff_token(browser)}"}
    institutional = browser.post(
        f"{API}/admin/accounts", json=_body(external_email="x@central.ntua.gr"), headers=headers
    )
    no_surname = browser.post(f"{API}/admin/accounts", json=_body(username="giorgos99"), headers=headers)
    assert institutional.status == 422 and institutional.json["code"] == "forbidden_email_domain"
    assert no_surname.status == 422 and "username" in no_surname.json["errors"]


def test_graduation_through_the_registry_endpoint_retires_the_username(browser: Browser) -> None:
    headers = {"Authorization": f"Bearer {_staff_token(browser, 'admin')}"}
    body = _body(kind="undergraduate", username=f"el{unique_email().split('.')[1].split('@')[0]}papadopoulos")
    body.pop("expires_on")
    student = browser.post(f"{API}/admin/accounts", json=body, headers=headers)
    assert student.status == 201, student.text
    marked = browser.put(
        f"{API}/admin/registry/{body['registry_number']}",
        json={"level": "undergraduate", "status": "graduated"},
        headers=headers,
    )
    assert marked.status == 200 and marked.json["account_id"] == student.json["account_id"]
    again = browser.post(
        f"{API}/admin/accounts",
        json=_body(username=body["username"], registry_number="NEW1"),
        headers=headers,
    )
    assert again.status == 409 and again.json["code"] == "username_taken"


def test_roles_are_checked(browser: Browser) -> None:
    nobody = browser.post(f"{API}/admin/accounts", json=_body())
    nso = browser.post(
        f"{API}/admin/accounts", json=_body(), headers={"Authorization": f"Bearer {_staff_token(browser, 'nso')}"}
    )
    other_realm = browser.post(
        f"{API}/admin/accounts",
        json=_body(),
        headers={"Authorization": f"Bearer {_staff_token(browser, 'admin', realm='eiep')}"},
    )
    assert (nobody.status, nso.status, other_realm.status) == (401, 403, 401)
