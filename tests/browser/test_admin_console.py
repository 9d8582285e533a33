"""The administration consoles in Chromium, as the people who run the service use them:
a secretariat finds a student by a Greek surname typed without accents, disables the
account (the student's next request fails), enables it, reads the audit trail and
exports it as CSV; a helpdesk member answers a ticket and the reply arrives by mail;
every console page passes the accessibility checks in Greek and in English."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from chalicelib.domain.identity import GsisIdentity
from tests.browser.conftest import Site
from tests.browser.test_accessibility import CONTRAST_SCRIPT, UNLABELLED_SCRIPT
from tests.support.clicks import press

PASSPHRASE = "correct horse battery staple, at the console"
EIEP_PASSWORD = "Kal0s!Kodikos"


def _sign_in(page: Any, site: Site, realm: str, username: str, password: str) -> None:
    page.goto(site.realm(realm, "/login"))
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(rf"/realms/{realm}/(home|account/security)$"))
    if page.url.endswith("/account/security"):  # a staff role needs a second factor (SPEC §2.9)
        session = next(c["value"] for c in page.context.cookies() if c["name"] == "mitroo_session")
        site.second_factor_passed(session)  # as enrolling one would (tests/browser/test_mfa.py does it for real)
        page.goto(site.realm(realm, "/home"))


def _unique() -> str:
    return uuid.uuid4().hex[:8]


def test_a_secretariat_finds_disables_enables_and_audits_a_student(site: Site, chromium: Any, page: Any) -> None:
    # Given a signed-in student whose surname has accents, and a secretariat member
    tag = _unique()
    student = f"nxenofontos{tag}"
    site.account(
        "ntua",
        username=student,
        email=f"{student}@example.gr",
        password=PASSPHRASE,
        identity=GsisIdentity("", "Ξενοφώντος", "Νίκος", "", "", ""),
    )
    secretariat = f"sec{tag}"
    site.account(
        "ntua", username=secretariat, email=f"{secretariat}@example.gr", password=PASSPHRASE, roles=("secretariat",)
    )
    student_context = chromium.new_context(locale="el-GR")
    student_page = student_context.new_page()
    _sign_in(student_page, site, "ntua", student, PASSPHRASE)

    # When the secretariat searches the surname in lower case without accents
    _sign_in(page, site, "ntua", secretariat, PASSPHRASE)
    page.get_by_role("link", name="Διαχείριση").first.click()
    page.get_by_role("link", name="Λογαριασμοί").first.click()
    page.get_by_label("Αναζήτηση").fill("ξενοφωντος")
    page.get_by_role("button", name="Αναζήτηση").click()

    # Then the student is in the results, found by surname
    row = page.locator("tr", has_text=student)
    assert "επώνυμο" in row.inner_text()
    row.get_by_role("link", name=student).click()

    # When the secretariat disables the account with a reason
    page.locator("#disable-reason").fill("Κλεμμένος φορητός υπολογιστής")
    page.get_by_role("button", name="Απενεργοποίηση").click()

    # Then the page says so and why, and the student's next request fails
    page.wait_for_url(re.compile(r"done=disabled"))
    assert "Κλεμμένος φορητός υπολογιστής" in page.locator("[data-standing]").inner_text()
    student_page.reload()
    student_page.wait_for_url(re.compile(r"/realms/ntua/login"))
    student_context.close()

    # When the secretariat enables it again
    page.get_by_role("button", name="Επανενεργοποίηση").click()
    page.wait_for_url(re.compile(r"done=enabled"))
    assert page.locator("[data-field=status]").inner_text() == "Ενεργός"

    # Then the audit trail shows both, and exports as CSV
    page.get_by_role("link", name="Όλο το ιστορικό του λογαριασμού").click()
    actions = page.locator("table[data-audit] tbody tr").all_inner_texts()
    assert any("account_enabled" in row for row in actions) and any("account_disabled" in row for row in actions)
    with page.expect_download() as download:
        page.get_by_role("link", name="Εξαγωγή σε CSV").click()
    exported = open(download.value.path(), encoding="utf-8-sig").read()
    assert exported.startswith("at,account_id,action") and "Κλεμμένος φορητός υπολογιστής" in exported


def test_a_helpdesk_member_answers_a_ticket_and_the_person_gets_the_reply(site: Site, page: Any) -> None:
    # Given a ticket opened on the support page
    tag = _unique()
    asker = f"asker.{tag}@example.gr"
    page.goto(site.realm("eiep", "/support"))
    page.locator("#email").fill(asker)
    page.locator("#description").fill("Δεν βλέπω τα μαθήματά μου στο Moodle.")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"ticket=sent"))
    ticket_id = _ticket_id(page, site, asker)

    # When a helpdesk member opens the queue and answers it
    helper = f"help.{tag}@example.gr"
    site.account(
        "eiep",
        username=helper,
        email=helper,
        password=EIEP_PASSWORD,
        roles=("helpdesk",),
        identity=GsisIdentity("", "Υποστήριξη", "Ελένη", "", "", ""),
    )
    _sign_in(page, site, "eiep", helper, EIEP_PASSWORD)
    page.goto(site.realm("eiep", "/admin"))
    page.get_by_role("link", name="Αιτήματα υποστήριξης").first.click()
    page.locator("tr", has_text=asker).get_by_role("link").click()
    page.get_by_label(re.compile("^Μήνυμα προς το πρόσωπο")).fill("Δοκιμάστε ξανά: το μάθημα ανατέθηκε.")
    page.get_by_role("button", name="Αποστολή απάντησης").click()

    # Then the reply is kept on the ticket, and the mail has the ticket id in its subject
    page.wait_for_url(re.compile(r"done=replied"))
    assert "Δοκιμάστε ξανά" in page.locator("[data-reply]").inner_text()
    subjects = _subjects(page, site, asker, containing=ticket_id)
    assert subjects, "no reply mail with the ticket id in its subject"


def _mail(page: Any, site: Site, address: str) -> list[dict[str, Any]]:
    answer = page.request.get(f"{site.url}/_dev/mail?to={address}")
    return list(answer.json()["messages"])


def _ticket_id(page: Any, site: Site, address: str) -> str:
    for _ in range(60):
        for message in _mail(page, site, address):
            body = (message.get("text") or "") + (message.get("html") or "")
            found = re.search(r": ([A-Za-z0-9_-]{40,})\b", body)
            if found:
                return found.group(1)
        page.wait_for_timeout(250)
    raise AssertionError("no acknowledgement with the ticket id")


def _subjects(page: Any, site: Site, address: str, *, containing: str) -> list[str]:
    for _ in range(60):
        subjects = [m.get("subject") or "" for m in _mail(page, site, address)]
        matching = [subject for subject in subjects if containing in subject]
        if matching:
            return matching
        page.wait_for_timeout(250)
    return []


@pytest.mark.parametrize("language", ["el", "en"])
def test_the_console_pages_are_readable_labelled_and_served_safely(site: Site, page: Any, language: str) -> None:
    tag = _unique()
    admin = f"adm{tag}"
    site.account("ntua", username=admin, email=f"{admin}@example.gr", password=PASSPHRASE, roles=("admin",))
    student = site.account(
        "ntua",
        username=f"stud{tag}",
        email=f"stud{tag}@example.gr",
        password=PASSPHRASE,
        identity=GsisIdentity("", "Αλεξίου", "Μαρία", "", "", ""),
    )
    _sign_in(page, site, "ntua", admin, PASSPHRASE)
    paths = [
        "/realms/ntua/admin",
        "/realms/ntua/admin/accounts",
        f"/realms/ntua/admin/accounts?q=stud{tag}",
        f"/realms/ntua/admin/accounts/{student}",
        f"/realms/ntua/admin/audit?account={student}",
        "/realms/ntua/admin/audit?from=2025-01-01",  # a refused filter, its problem shown
        "/realms/ntua/admin/registrar",
        "/realms/ntua/admin/jobs",
    ]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in paths:
        _check(page, f"{site.url}{path}{'&' if '?' in path else '?'}lang={language}", language)
    # The helpdesk's pages, signed in as e-IEP's admin
    page.context.clear_cookies()
    eiep_admin = f"adm.{tag}@example.gr"
    site.account(
        "eiep",
        username=eiep_admin,
        email=eiep_admin,
        password=EIEP_PASSWORD,
        roles=("admin",),
        identity=GsisIdentity("", "Διαχειριστής", "Άννα", "", "", ""),
    )
    page.request.post(
        f"{site.url}/api/v1/realms/eiep/support-tickets",
        data={"topic": "technical", "email": f"q.{tag}@example.gr", "description": "Ερώτηση για τον έλεγχο."},
    )
    _sign_in(page, site, "eiep", eiep_admin, EIEP_PASSWORD)
    _check(page, f"{site.url}/realms/eiep/admin/tickets?lang={language}", language)
    press(page, page.locator("table[data-tickets] tbody tr a").first)
    _check(page, page.url, language)
    assert errors == []


def _check(page: Any, url: str, language: str) -> None:
    answer = page.goto(url)
    assert answer is not None and answer.status in (200, 422), url
    headers = answer.headers
    assert "unsafe-inline" not in headers["content-security-policy"], url
    assert headers["x-frame-options"] == "DENY", url
    assert page.locator("html").get_attribute("lang") == language, url
    assert page.evaluate(CONTRAST_SCRIPT) == [], url
    assert page.evaluate(UNLABELLED_SCRIPT) == [], url
    assert page.get_by_role("heading", level=1).count() == 1, url
