"""Realm esep from the outside: EU Login round trips, registration, NSO administrators,
validated teachers — the Given steps of the esep tests, over the same HTTP parts."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from standins import eulogin as eulogin_standin
from tests.support.arrange import second_factor_passed
from tests.support.browser import Browser

API = "/api/v1/realms/esep"


@dataclass
class Member:
    person: eulogin_standin.Identity
    account_id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def organisation(browser: Browser, name: str, *, country: str = "GR", city: str = "Αθήνα", **extra: Any) -> str:
    """A new (pending) school registered during someone's registration flow."""
    person = browser.new_eulogin_person(country)
    flow, _ = browser.eulogin_flow(person)
    body = {"name": name, "city": city, "country": country, "kind": "school", "flow": flow, **extra}
    created = browser.post(f"{API}/organisations", json=body)
    assert created.status == 201, created.text
    return str(created.json["organisation_id"])


def register(
    browser: Browser,
    organisation_ids: list[str],
    *,
    country: str = "GR",
    role: str = "teacher",
    person: eulogin_standin.Identity | None = None,
    **extra: Any,
) -> Member:
    person = person or browser.new_eulogin_person(country)
    flow, page = browser.eulogin_flow(person)
    assert page == "/realms/esep/register"
    body: dict[str, Any] = {
        "flow": flow,
        "role": role,
        "country": country,
        "join_etwinning": role in ("teacher", "head_teacher", "school_staff"),
        "organisation_ids": organisation_ids,
        "subjects": ["Πληροφορική"] if role == "teacher" else [],
        "available_for_projects": True,
    }
    body.update(extra)
    registered = browser.post(f"{API}/registrations", json=body)
    assert registered.status == 201, registered.text
    return Member(person, str(registered.json["account_id"]), str(registered.json["access_token"]))


def grant_nso(account: Member, country: str) -> None:
    """What an operator runs: ``chalicelib.cli grant-role --role nso --country``."""
    from chalicelib.cli import Console, main

    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["grant-role", "--realm", "esep", "--subject", account.person.sub, "--role", "nso", "--country", country],
        Console(stdin=io.StringIO(), stdout=out, stderr=err),
    )
    assert code == 0, err.getvalue()


def nso(browser: Browser, country: str = "GR") -> Member:
    """An NSO administrator of ``country``, signed in again after the grant (new roles)."""
    admin = register(browser, [], country=country, role="other")
    grant_nso(admin, country)
    return sign_in(browser, admin.person, admin.account_id)


def sign_in(browser: Browser, person: eulogin_standin.Identity, account_id: str) -> Member:
    flow, page = browser.eulogin_flow(person)
    assert page == "/realms/esep/home"
    session = browser.post(f"{API}/sessions", json={"flow": flow})
    assert session.status == 201, session.text
    if session.json.get("mfa_enrolment_required"):  # an NSO's role needs a second factor (SPEC §2.9)
        second_factor_passed(session.json["access_token"])
    return Member(person, account_id, str(session.json["access_token"]))


def validate(browser: Browser, admin: Member, *, users: list[str] = (), organisations: list[str] = ()) -> None:  # type: ignore[assignment]
    for organisation_id in organisations:
        answer = browser.post(
            f"{API}/admin/organisations/{organisation_id}/validation", json={"decision": "validate"}, headers=admin.auth
        )
        assert answer.status == 200, answer.text
    for account_id in users:
        answer = browser.post(
            f"{API}/admin/users/{account_id}/validation", json={"decision": "validate"}, headers=admin.auth
        )
        assert answer.status == 200, answer.text


def active_teacher(browser: Browser, admin: Member, school: str, **extra: Any) -> Member:
    """A teacher of a validated school, validated by the NSO, available for projects."""
    teacher = register(browser, [school], **extra)
    validate(browser, admin, users=[teacher.account_id])
    return teacher


def project_body(school: str, partner: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisation_id": school,
        "partner_id": partner,
        "title": "Τα νερά της Ευρώπης",
        "description": "Μαθητές δύο χωρών μετρούν την ποιότητα του νερού στις πόλεις τους.",
        "language": "en",
        "pupils": {"count": 24, "age_min": 12, "age_max": 14},
        "subjects": ["Φυσική", "Γεωγραφία"],
        "goals": "Να μάθουν οι μαθητές να μετρούν και να συγκρίνουν.",
        "process": "Μετρήσεις κάθε μήνα, κοινός πίνακας, βιντεοκλήσεις.",
        "outcomes": "Κοινή αναφορά και χάρτης ποιότητας νερού.",
    }
    body.update(overrides)
    return body
