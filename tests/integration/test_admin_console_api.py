"""The consoles' API over HTTP (SPEC §2.11), per action and per role: who may (2xx), who
may not (403), another realm (401/404), a realm without that console (404); the audit
entries each action writes; bad input (unknown ids, over-long queries, tampered cursors,
formulas in exported fields)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.admin import PASSPHRASE, person, signed_in, staff, tag
from tests.support.browser import Browser

API = "/api/v1/realms/{realm}/admin"


def _api(realm: str) -> str:
    return API.format(realm=realm)


def _audit(browser: Browser, realm: str, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    answer = browser.get(
        f"{_api(realm)}/audit?" + "&".join(f"{k}={quote(v)}" for k, v in query.items()), headers=headers
    )
    assert answer.status == 200, answer.text
    return list(answer.json["entries"])


# --- who may search ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("realm", "role", "status"),
    [
        ("ntua", "admin", 200),
        ("ntua", "secretariat", 200),
        ("ntua", "nso", 403),
        ("eiep", "admin", 200),
        ("eiep", "helpdesk", 403),
        ("eiep", "secretariat", 403),  # e-IEP has no secretariat: its accounts are the admin's
    ],
)
def test_who_may_search_accounts(browser: Browser, realm: str, role: str, status: int) -> None:
    _, headers = staff(realm, role)
    answer = browser.get(f"{_api(realm)}/accounts?q=pap", headers=headers)
    assert answer.status == status, answer.text
    if status == 403:
        assert answer.json["code"] == "forbidden"


def test_every_console_route_needs_a_session_that_passed_a_second_factor(browser: Browser) -> None:
    # Given staff of each console whose session has not passed a second factor
    student = person("ntua")
    cases = [
        ("ntua", ("secretariat",), "GET", f"{_api('ntua')}/accounts?q=a", None),
        ("ntua", ("secretariat",), "GET", f"{_api('ntua')}/accounts/{student.account_id}", None),
        ("ntua", ("admin",), "POST", f"{_api('ntua')}/accounts/{student.account_id}/disable", {"reason": "test"}),
        ("ntua", ("admin",), "PUT", f"{_api('ntua')}/accounts/{student.account_id}/roles", {"roles": ["admin"]}),
        ("ntua", ("secretariat",), "GET", f"{_api('ntua')}/audit?action=x", None),
        ("eiep", ("helpdesk",), "GET", f"{_api('eiep')}/tickets", None),
        (
            "ntua",
            ("secretariat",),
            "PUT",
            f"{_api('ntua')}/registry/031{tag('')}",
            {"level": "staff", "status": "enrolled"},
        ),
        ("esep", ("nso",), "GET", "/api/v1/realms/esep/admin/pending", None),
    ]
    for realm, roles, method, url, body in cases:
        _, headers = staff(realm, *roles, second_factor=False, password_hash=None)
        # When they call the route, Then it answers 403 mfa_enrolment_required and does nothing
        answer = browser.request(method, url, json=body, headers=headers)
        assert answer.status == 403 and answer.json["code"] == "mfa_enrolment_required", (url, answer.text)
    assert person_again(student).status.value == "active"


def test_no_session_is_401_and_another_realm_s_token_opens_nothing(browser: Browser) -> None:
    assert browser.get(f"{_api('ntua')}/accounts?q=a").status == 401
    _, ntua_admin = staff("ntua", "admin")
    assert browser.get(f"{_api('eiep')}/accounts?q=a", headers=ntua_admin).status == 401
    stranger = person("eiep")
    assert browser.get(f"{_api('ntua')}/accounts/{stranger.account_id}", headers=ntua_admin).status == 404


def test_a_console_a_realm_has_not_is_404_for_everyone(browser: Browser) -> None:
    _, ntua_admin = staff("ntua", "admin")
    _, eiep_admin = staff("eiep", "admin")
    assert browser.get(f"{_api('ntua')}/tickets", headers=ntua_admin).status == 404  # no helpdesk at NTUA
    some = person("eiep")
    answer = browser.put(
        f"{_api('eiep')}/accounts/{some.account_id}/expiry", json={"expires_on": "2030-01-01"}, headers=eiep_admin
    )
    assert answer.status == 404  # e-IEP accounts do not expire


# --- finding ------------------------------------------------------------------------------------------


def test_a_greek_surname_without_accents_and_pages_past_fifty(browser: Browser) -> None:
    # Given 60 NTUA students of one rare surname (written with accents), and a secretariat
    family = tag("Κ")
    surname = f"Παπαδόπουλος-{family}"
    people = {person("ntua", surname=surname).account_id for _ in range(60)}
    _, headers = staff("ntua", "secretariat")
    # When the surname is searched in capitals without accents, page after page
    found: list[str] = []
    url = f"{_api('ntua')}/accounts?q={quote(f'ΠΑΠΑΔΟΠΟΥΛΟΣ-{family.upper()}')}"
    pages = 0
    while url:
        answer = browser.get(url, headers=headers)
        assert answer.status == 200, answer.text
        assert answer.json["examined"] <= 50 and len(answer.json["accounts"]) <= 50
        found += [row["account_id"] for row in answer.json["accounts"]]
        pages += 1
        cursor = answer.json.get("cursor")
        url = f"{_api('ntua')}/accounts?q={quote(f'ΠΑΠΑΔΟΠΟΥΛΟΣ-{family.upper()}')}&cursor={cursor}" if cursor else ""
    # Then all 60 come, each once, over two pages or more
    assert sorted(found) == sorted(people) and pages >= 2
    assert {
        tuple(row["matched"])
        for row in browser.get(
            f"{_api('ntua')}/accounts?q={quote('παπαδοπουλοσ-' + family.lower())}", headers=headers
        ).json["accounts"]
    } == {("last_name",)}


def test_bad_searches_are_422_never_500(browser: Browser) -> None:
    _, headers = staff("ntua", "secretariat")
    for given in (60, 3):
        person("ntua", surname=f"Τεστ{given}")
    first = browser.get(f"{_api('ntua')}/accounts?q=u", headers=headers).json
    for query, field in (
        ("q=" + "x" * 65, "q"),
        ("q=" + "x" * 5000, "q"),
        ("q=", "q"),
        ("q=ab&status=asleep", "status"),
        ("q=ab&role=root", "role"),
        ("q=u&cursor=" + ("A" * 80), "cursor"),
        ("q=u&cursor=" + "A" * 9000, "cursor"),
    ):
        answer = browser.get(f"{_api('ntua')}/accounts?{query}", headers=headers)
        assert answer.status == 422, (query, answer.text)
        assert field in answer.json["errors"], query
    if first.get("cursor"):
        tampered = first["cursor"][:-6] + ("B" if first["cursor"][-6] != "B" else "C") + first["cursor"][-5:]
        assert browser.get(f"{_api('ntua')}/accounts?q=u&cursor={tampered}", headers=headers).status == 422
        assert browser.get(f"{_api('ntua')}/accounts?q=uu&cursor={first['cursor']}", headers=headers).status == 422


def test_only_an_eiep_admin_finds_by_exact_afm(browser: Browser) -> None:
    from tests.fakes import afm_with_check_digit

    afm = afm_with_check_digit(tag("")[:8].rjust(8, "1"))
    from chalicelib.domain.identity import GsisIdentity

    teacher = person("eiep", identity=GsisIdentity(afm, "Ζήση", "Άννα", "", "", ""))
    _, admin = staff("eiep", "admin")
    rows = browser.get(f"{_api('eiep')}/accounts?q={afm}", headers=admin).json["accounts"]
    assert [(row["account_id"], row["matched"]) for row in rows] == [(teacher.account_id, ["afm"])]
    assert browser.get(f"{_api('eiep')}/accounts?q={afm[:6]}", headers=admin).json["accounts"] == []


def test_unknown_account_ids_are_404(browser: Browser) -> None:
    _, headers = staff("ntua", "admin")
    for account_id in ("no-such-account", "x" * 300, "%2e%2e"):
        answer = browser.get(f"{_api('ntua')}/accounts/{account_id}", headers=headers)
        assert answer.status == 404, account_id
        assert (
            browser.post(
                f"{_api('ntua')}/accounts/{account_id}/disable", json={"reason": "x" * 5}, headers=headers
            ).status
            == 404
        )


# --- acting -------------------------------------------------------------------------------------------


def test_disabling_stops_the_person_s_next_request_and_enabling_gives_the_account_back(browser: Browser) -> None:
    # Given a signed-in student and a secretariat
    student = person("ntua")
    student_headers = {"Authorization": f"Bearer {signed_in(student)}"}
    assert browser.get("/api/v1/realms/ntua/me", headers=student_headers).status == 200
    secretariat, headers = staff("ntua", "secretariat")
    # When the secretariat disables the account
    answer = browser.post(
        f"{_api('ntua')}/accounts/{student.account_id}/disable", json={"reason": "stolen laptop"}, headers=headers
    )
    # Then the student's very next request fails, and their password no longer signs in
    assert answer.status == 200 and answer.json["status"] == "disabled", answer.text
    assert browser.get("/api/v1/realms/ntua/me", headers=student_headers).status == 401
    login = browser.post("/api/v1/realms/ntua/sessions", json={"username": student.username, "password": PASSPHRASE})
    assert login.status == 403 and login.json["code"] == "account_disabled"
    # And the account page says why; enabling brings the password back
    details = browser.get(f"{_api('ntua')}/accounts/{student.account_id}", headers=headers).json
    assert (
        details["standing"][0]["code"] == "disabled" and details["standing"][0]["params"]["reason"] == "stolen laptop"
    )
    assert details["sessions"] == []
    enabled = browser.post(f"{_api('ntua')}/accounts/{student.account_id}/enable", json={}, headers=headers)
    assert enabled.status == 200 and enabled.json["status"] == "active"
    again = browser.post("/api/v1/realms/ntua/sessions", json={"username": student.username, "password": PASSPHRASE})
    assert again.status == 201
    entries = [
        e for e in _audit(browser, "ntua", headers, account=student.account_id) if e["action"] != "session.ended"
    ]
    assert [e["action"] for e in entries[:2]] == ["account_enabled", "account_disabled"]
    assert entries[1]["actor"] == secretariat.account_id and entries[1]["details"]["reason"] == "stolen laptop"
    assert entries[1]["address"] == browser.address
    # And the session's end is audited too, by the same actor, with its reason
    [ended] = _audit(browser, "ntua", headers, account=student.account_id, action="session.ended")
    assert ended["actor"] == secretariat.account_id and ended["details"]["reason"] == "account_disabled"


def test_staff_accounts_are_an_admin_s_and_nobody_disables_themselves(browser: Browser) -> None:
    colleague, _ = staff("ntua", "secretariat")
    me, headers = staff("ntua", "secretariat")
    _, admin = staff("ntua", "admin")
    for target in (colleague, me):
        answer = browser.post(
            f"{_api('ntua')}/accounts/{target.account_id}/disable", json={"reason": "test"}, headers=headers
        )
        assert answer.status == 403, answer.text
    assert (
        browser.post(
            f"{_api('ntua')}/accounts/{colleague.account_id}/disable", json={"reason": "left"}, headers=admin
        ).status
        == 200
    )


def test_a_reason_is_required_and_kept(browser: Browser) -> None:
    student = person("ntua")
    _, headers = staff("ntua", "admin")
    for body in ({}, {"reason": ""}, {"reason": "x"}, {"reason": "y" * 1001}):
        answer = browser.post(f"{_api('ntua')}/accounts/{student.account_id}/disable", json=body, headers=headers)
        assert answer.status == 422 and "reason" in answer.json["errors"], body


def test_password_reset_resend_and_unlock_mail_and_audit(browser: Browser) -> None:
    student = person("ntua")
    newcomer = person("ntua", password_hash=None)
    _, headers = staff("ntua", "secretariat")
    base = f"{_api('ntua')}/accounts"
    assert browser.post(f"{base}/{student.account_id}/password-reset", json={}, headers=headers).status == 202
    [reset] = [m for m in browser.mail_to(student.email) if "/reset-password?token=" in (m["html"] or "")]
    token = reset["html"].split("/reset-password?token=")[1].split('"')[0]
    done = browser.post(
        "/api/v1/realms/ntua/password-resets/complete",
        json={
            "token": token,
            "password": "a brand new passphrase, long",
            "password_confirmation": "a brand new passphrase, long",
        },
    )
    assert done.status == 200, done.text
    resend = browser.post(f"{base}/{newcomer.account_id}/resend", json={}, headers=headers)
    assert resend.status == 202 and resend.json["mail"] == "welcome"
    assert any("/set-password?token=" in (m["html"] or "") for m in browser.mail_to(newcomer.email))
    assert browser.post(f"{base}/{student.account_id}/resend", json={}, headers=headers).status == 422
    # Unlock: five wrong passwords lock the username; unlock lets the right one in at once
    for _ in range(5):
        browser.post(
            "/api/v1/realms/ntua/sessions", json={"username": student.username, "password": "wrong wrong wrong"}
        )
    locked = browser.post(
        "/api/v1/realms/ntua/sessions", json={"username": student.username, "password": "a brand new passphrase, long"}
    )
    assert locked.status == 429
    assert browser.post(f"{base}/{student.account_id}/unlock", json={"reason": "phoned"}, headers=headers).status == 200
    unlocked = browser.post(
        "/api/v1/realms/ntua/sessions", json={"username": student.username, "password": "a brand new passphrase, long"}
    )
    assert unlocked.status == 201
    actions = [e["action"] for e in _audit(browser, "ntua", headers, account=student.account_id)]
    assert {"password_reset_sent", "password_reset", "account_unlocked"} <= set(actions)


def test_an_eiep_admin_reset_link_works_without_gsis(browser: Browser) -> None:
    address = f"{tag('t')}@example.gr"
    teacher = person("eiep", username=address, email=address)
    _, admin = staff("eiep", "admin")
    assert (
        browser.post(f"{_api('eiep')}/accounts/{teacher.account_id}/password-reset", json={}, headers=admin).status
        == 202
    )
    [mail] = [m for m in browser.mail_to(teacher.email) if "/reset-password?token=" in (m["html"] or "")]
    token = mail["html"].split("/reset-password?token=")[1].split('"')[0]
    page = browser.get(f"/realms/eiep/reset-password?token={token}", html=True)
    assert page.status == 200 and teacher.username in page.text
    done = browser.post(
        "/api/v1/realms/eiep/password-resets/complete",
        json={"token": token, "password": "N3o!Kodikos", "password_confirmation": "N3o!Kodikos"},
    )
    assert done.status == 200, done.text
    assert browser.login(teacher.username, "N3o!Kodikos").status == 201


def test_roles_are_the_admin_s_and_end_the_person_s_sessions(browser: Browser) -> None:
    member = person("esep", password_hash=None, username=tag("sub"))
    member_headers = {"Authorization": f"Bearer {signed_in(member)}"}
    _, secretariat = staff("ntua", "secretariat")
    _, esep_admin = staff("esep", "admin", password_hash=None)
    url = f"{_api('esep')}/accounts/{member.account_id}/roles"
    assert browser.put(url, json={"roles": ["nso"], "country": "GR"}, headers=secretariat).status == 401  # ntua's
    assert browser.put(url, json={"roles": ["nso"]}, headers=esep_admin).status == 422  # nso needs its country
    assert browser.put(url, json={"roles": ["secretariat"]}, headers=esep_admin).status == 422  # not an esep role
    changed = browser.put(url, json={"roles": ["nso"], "country": "GR"}, headers=esep_admin)
    assert changed.status == 200 and changed.json["roles"] == ["nso"], changed.text
    assert browser.get("/api/v1/realms/esep/me", headers=member_headers).status == 401
    # The new NSO's fresh session reaches the desk's API
    from tests.support.arrange import second_factor_passed

    fresh_token = signed_in(person_again(member))
    second_factor_passed(fresh_token)  # an NSO's role needs a second factor (SPEC §2.9)
    fresh = {"Authorization": f"Bearer {fresh_token}"}
    assert browser.get("/api/v1/realms/esep/admin/pending", headers=fresh).status == 200
    _, ntua_secretariat = staff("ntua", "secretariat")
    student = person("ntua")
    denied = browser.put(
        f"{_api('ntua')}/accounts/{student.account_id}/roles", json={"roles": ["admin"]}, headers=ntua_secretariat
    )
    assert denied.status == 403


def person_again(account: Any) -> Any:
    from chalicelib.container import services

    return services().ports.accounts.get(account.realm, account.account_id)


def test_expiry_renews_within_two_years(browser: Browser) -> None:
    student = person("ntua", expires_on=date.today() + timedelta(days=10))
    _, headers = staff("ntua", "secretariat")
    url = f"{_api('ntua')}/accounts/{student.account_id}/expiry"
    too_far = (date.today() + timedelta(days=800)).isoformat()
    assert browser.put(url, json={"expires_on": too_far}, headers=headers).status == 422
    assert browser.put(url, json={"expires_on": "not a date"}, headers=headers).status == 422
    fine = (date.today() + timedelta(days=365)).isoformat()
    answer = browser.put(url, json={"expires_on": fine, "reason": "second year"}, headers=headers)
    assert answer.status == 200 and answer.json["expires_on"] == fine


def test_an_admin_removes_a_person_s_factors_and_their_sessions_end(browser: Browser) -> None:
    from chalicelib.container import services
    from chalicelib.domain.mfa import Factor, FactorKind
    from tests.fakes import arranged

    # Given a signed-in person with an authenticator app
    student = person("ntua")
    factor = Factor(
        "ntua", student.account_id, tag("f"), FactorKind.WEBAUTHN, "key", student.created_at, credential_id=tag("cred")
    )
    services().ports.factors.add(factor, login_key=student.login_key, audit=arranged("ntua", student.account_id))
    student_headers = {"Authorization": f"Bearer {signed_in(student)}"}
    _, admin = staff("ntua", "admin")
    _, secretariat = staff("ntua", "secretariat")
    url = f"{_api('ntua')}/accounts/{student.account_id}"
    assert [f["kind"] for f in browser.get(url, headers=admin).json["factors"]] == ["webauthn"]
    # When an admin removes them (a reason is required; a secretariat may too, for a student)
    assert browser.delete(f"{url}/mfa", json={}, headers=admin).status == 422
    answer = browser.delete(f"{url}/mfa", json={"reason": "lost the phone"}, headers=admin)
    # Then the factor is gone, the person's session too, and they are told by mail
    assert answer.status == 200 and answer.json["removed"] == 1, answer.text
    assert browser.get(url, headers=secretariat).json["factors"] == []
    assert browser.get("/api/v1/realms/ntua/me", headers=student_headers).status == 401
    assert browser.mail_to(student.email)


# --- the audit log ---------------------------------------------------------------------------------


def test_the_log_by_actor_and_action_and_as_csv_without_formulas(browser: Browser) -> None:
    secretariat, headers = staff("ntua", "secretariat")
    student = person("ntua")
    formula = '=HYPERLINK("http://evil.example","click")'
    browser.post(f"{_api('ntua')}/accounts/{student.account_id}/disable", json={"reason": formula}, headers=headers)
    by_actor = _audit(browser, "ntua", headers, actor=secretariat.username)
    assert [e["action"] for e in by_actor] == ["account_disabled"]
    by_action = _audit(browser, "ntua", headers, action="account_disabled", **{"from": date.today().isoformat()})
    assert student.account_id in {e["account_id"] for e in by_action}
    exported = browser.get(
        f"{_api('ntua')}/audit?actor={secretariat.account_id}", headers={**headers, "Accept": "text/csv"}
    )
    assert exported.status == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.body.decode("utf-8-sig"))))
    assert [row["reason"] for row in rows] == ["'" + formula]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


def test_the_log_refuses_what_it_cannot_answer(browser: Browser) -> None:
    _, headers = staff("ntua", "admin")
    for query, field in (
        ("", "account"),
        ("from=2025-01-01", "account"),
        ("action=a%20b", "action"),
        ("action=x&from=01/02/2025", "from"),
        ("action=x&from=2025-02-02&to=2025-02-01", "to"),
        ("action=x&cursor=bogus", "cursor"),
    ):
        answer = browser.get(f"{_api('ntua')}/audit?{query}", headers=headers)
        assert answer.status == 422 and field in answer.json["errors"], (query, answer.text)
    _, helpdesk = staff("eiep", "helpdesk")
    assert browser.get(f"{_api('eiep')}/audit?action=x", headers=helpdesk).status == 403


# --- the helpdesk -------------------------------------------------------------------------------------


def _ticket(browser: Browser, email: str) -> str:
    answer = browser.post(
        "/api/v1/realms/eiep/support-tickets",
        json={"topic": "technical", "email": email, "description": "Δεν μπορώ να μπω στο Moodle από χθες."},
    )
    assert answer.status == 201, answer.text
    return str(answer.json["ticket_id"])


def test_the_helpdesk_answers_a_ticket_and_the_person_gets_it_by_mail(browser: Browser) -> None:
    email = f"{tag('asker')}@example.gr"
    ticket_id = _ticket(browser, email)
    helper, headers = staff("eiep", "helpdesk")
    queue = browser.get(f"{_api('eiep')}/tickets?status=open", headers=headers)
    assert queue.status == 200
    mine = [t for t in queue.json["tickets"] if t["email"] == email]
    assert len(mine) == 1
    reference = mine[0]["ticket_id"]
    by_id = browser.get(f"{_api('eiep')}/tickets/{ticket_id}", headers=headers)
    assert by_id.status == 200 and by_id.json["ticket_id"] == reference
    reply = browser.post(
        f"{_api('eiep')}/tickets/{reference}/replies", json={"message": "Δοκιμάστε ξανά τώρα."}, headers=headers
    )
    assert reply.status == 201 and reply.json["status"] == "answered"
    [mail] = [
        m
        for m in browser.mail_to(email)
        if ticket_id in (m["subject"] or "") and "Δοκιμάστε" in (m["text"] or m["html"] or "")
    ]
    assert mail
    closed = browser.put(f"{_api('eiep')}/tickets/{reference}/status", json={"status": "closed"}, headers=headers)
    assert closed.status == 200 and closed.json["status"] == "closed"
    assert (
        browser.post(f"{_api('eiep')}/tickets/{reference}/replies", json={"message": "late"}, headers=headers).status
        == 422
    )
    entries = _audit(browser, "eiep", staff("eiep", "admin")[1], actor=helper.account_id)
    assert [e["action"] for e in entries] == ["ticket_status", "ticket_replied"]


def test_who_may_answer_tickets(browser: Browser) -> None:
    ticket_id = _ticket(browser, f"{tag('w')}@example.gr")
    for roles, status in ((("helpdesk",), 200), (("admin",), 200), (("teacher",), 403)):
        _, headers = staff("eiep", *roles)
        assert browser.get(f"{_api('eiep')}/tickets/{ticket_id}", headers=headers).status == status, roles
    _, helpdesk = staff("eiep", "helpdesk")
    assert browser.get(f"{_api('eiep')}/accounts?q=a", headers=helpdesk).status == 403
    for bad in ("nope", "0" * 64):
        assert browser.get(f"{_api('eiep')}/tickets/{bad}", headers=helpdesk).status == 404
    assert browser.get(f"{_api('eiep')}/tickets?status=lost", headers=helpdesk).status == 422


def test_an_eiep_administrator_made_by_an_operator_signs_in_without_gsis(browser: Browser) -> None:
    # Given an e-IEP administrator made by create-admin (never certified through GSIS) and
    # a legacy teacher who never certified either
    address = f"{tag('adm')}@example.gr"
    person("eiep", username=address, email=address, identity=None, gsis_verified=False, roles=("admin",))
    legacy = f"{tag('old')}@example.gr"
    person("eiep", username=legacy, email=legacy, gsis_verified=False)
    # When each signs in with the right password
    admin = browser.post("/api/v1/realms/eiep/sessions", json={"username": address, "password": PASSPHRASE})
    teacher = browser.post("/api/v1/realms/eiep/sessions", json={"username": legacy, "password": PASSPHRASE})
    # Then the administrator gets a session (to enrol a second factor: their proof), the
    # teacher is sent to certify through GSIS
    assert admin.status == 201 and admin.json.get("mfa_enrolment_required") is True, admin.text
    assert teacher.status == 403 and teacher.json["code"] == "certification_required"
