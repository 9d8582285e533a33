"""Whole journeys in a real browser, as a teacher or a secretariat would click them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.browser.conftest import Site
from tests.support.clicks import press

PASSWORD = "Kal0s!Kodikos"


def open_mail_link(page: Any, site: Site, address: str, link: str, attempts: int = 60) -> None:
    """Open the dev mailbox (reloading while the task worker sends) and follow the link
    of the newest mail to ``address`` whose href contains ``link``."""
    for _ in range(attempts):
        page.goto(f"{site.url}/_dev/mailbox")
        found = page.locator("article", has_text=address).locator(f"a[href*='{link}']")
        if found.count():
            found.first.click()
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"no mail to {address} with a link to {link}")


def test_eiep_register_activate_from_the_mailbox_and_sign_in(site: Site, page: Any) -> None:
    # Given a teacher on the e-IEP start page
    page.goto(site.realm("eiep"))

    # When they register through GSIS, choosing their identity at the stand-in
    page.get_by_role("link", name="Εγγραφή μέσω ΓΓΠΣ").click()
    page.get_by_role("button", name=re.compile("ΚΑΡΑΓΙΑΝΝΗΣ")).click()

    # Then the registration form shows GSIS's data read-only
    gsis_panel = page.locator("section.gsis")
    assert "ΚΑΡΑΓΙΑΝΝΗΣ" in gsis_panel.inner_text()

    # When they fill in the rest
    email = "karagiannis.browser@example.gr"
    page.get_by_label(re.compile("^Email")).fill(email)
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(PASSWORD)
    page.get_by_label(re.compile("^Επιβεβαίωση κωδικού")).fill(PASSWORD)
    page.get_by_role("button", name="Εγγραφή").click()

    # Then they are told to check their mail, which the mailbox page shows with its link
    page.wait_for_url(re.compile(r"/realms/eiep/registered"))
    open_mail_link(page, site, email, "/realms/eiep/activate?token=")

    # When they confirm on the activation page and sign in
    page.get_by_role("button", name=re.compile("Ενεργοποίηση")).click()
    page.wait_for_url(re.compile(r"/realms/eiep/activated"))
    page.goto(site.realm("eiep", "/login"))
    page.get_by_label(re.compile("^Email")).fill(email)
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(PASSWORD)
    page.get_by_role("button", name="Είσοδος", exact=True).click()

    # Then their profile shows who they are
    page.wait_for_url(re.compile(r"/realms/eiep/home"))
    assert email in page.content()


def _register_page(site: Site, page: Any, identity: str) -> None:
    page.goto(site.realm("eiep"))
    page.get_by_role("link", name="Εγγραφή μέσω ΓΓΠΣ").click()
    page.get_by_role("button", name=re.compile(identity)).click()
    page.wait_for_url(re.compile(r"/realms/eiep/register\?flow="))


def test_a_refused_form_comes_back_with_the_values_and_the_problem_but_no_password(site: Site, page: Any) -> None:
    # Given the registration form, filled with two different passwords
    _register_page(site, page, "ΑΛΕΞΙΟΥ")
    page.get_by_label(re.compile("^Email")).fill("alexiou.browser@example.gr")
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(PASSWORD)
    page.get_by_label(re.compile("^Επιβεβαίωση κωδικού")).fill(PASSWORD + "x")
    page.get_by_label(re.compile("^Κινητό")).fill("6912345678")

    # When it is submitted
    page.get_by_role("button", name="Εγγραφή").click()

    # Then the same form is back: the problem announced, the values kept, the passwords empty
    summary = page.get_by_role("alert")
    assert "κωδικοί" in summary.inner_text()
    assert page.locator("#password_confirmation-error").inner_text() == "Δεν είναι ίδιος με τον κωδικό πρόσβασης."
    assert page.evaluate("document.activeElement.id") == "problem"
    assert page.get_by_label(re.compile("^Email")).input_value() == "alexiou.browser@example.gr"
    assert page.get_by_label(re.compile("^Κινητό")).input_value() == "6912345678"
    assert page.get_by_label(re.compile("^Κωδικός πρόσβασης")).input_value() == ""
    assert "ΑΛΕΞΙΟΥ" in page.locator("section.gsis").inner_text()

    # When it is corrected, the registration goes through
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(PASSWORD)
    page.get_by_label(re.compile("^Επιβεβαίωση κωδικού")).fill(PASSWORD)
    page.get_by_role("button", name="Εγγραφή").click()
    page.wait_for_url(re.compile(r"/realms/eiep/registered"))


def test_switching_to_english_and_back_keeps_the_form(site: Site, page: Any) -> None:
    # Given a half-filled registration form in Greek
    _register_page(site, page, "SMITH")
    page.get_by_label(re.compile("^Email")).fill("smith.browser@example.gr")
    assert page.locator("html").get_attribute("lang") == "el"

    # When the visitor switches to English
    page.get_by_role("link", name="English").click()

    # Then the page is in English, for the same identification, with the e-mail still there
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Registration"
    assert page.get_by_label(re.compile("^E-mail")).input_value() == "smith.browser@example.gr"
    assert "SMITH" in page.locator("section.gsis").inner_text()

    # And the choice is remembered on the next page, until switched back
    page.goto(site.realm("eiep", "/login"))
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    press(page, page.get_by_role("link", name="Ελληνικά"))
    assert page.get_by_role("heading", level=1).inner_text() == "Είσοδος"


def test_ntua_reset_with_the_meter_turning_from_weak_to_acceptable(site: Site, page: Any) -> None:
    # Given an NTUA account with an external e-mail
    site.account("ntua", username="gpapadopoulos", email="g.papadopoulos@example.gr")

    # When its owner asks for a reset with username and external e-mail, and opens the mail's link
    page.goto(site.realm("ntua", "/forgot-password"))
    page.get_by_label(re.compile("^Όνομα χρήστη")).fill("gpapadopoulos")
    page.get_by_label(re.compile("^Εξωτερικό email")).fill("g.papadopoulos@example.gr")
    page.get_by_role("button", name="Αποστολή").click()
    page.wait_for_url(re.compile(r"/realms/ntua/reset-requested"))
    open_mail_link(page, site, "g.papadopoulos@example.gr", "/realms/ntua/reset-password?token=")

    # Then the page names the account, and a guessable password keeps the button disabled
    assert page.locator("[data-field=username]").inner_text() == "gpapadopoulos"
    submit = page.get_by_role("button", name="Αλλαγή κωδικού")
    page.get_by_label(re.compile("^Νέος κωδικός")).fill("gpapadopoulos2024")
    meter_text = page.locator(".meter-text")
    meter_text.filter(has_text="δεν είναι ακόμη αποδεκτός").wait_for()
    assert submit.is_disabled()

    # When a passphrase is typed instead, the meter accepts it and the button is enabled
    page.get_by_label(re.compile("^Νέος κωδικός")).fill("agapw poly th mairh")
    meter_text.filter(has_text="Αποδεκτός κωδικός").wait_for()
    assert submit.is_enabled()
    page.get_by_label(re.compile("^Επιβεβαίωση")).fill("agapw poly th mairh")
    submit.click()

    # Then the password is changed and every session ended
    page.wait_for_url(re.compile(r"/realms/ntua/password-changed"))
    assert "άλλαξε" in page.get_by_role("heading", level=1).inner_text()


def test_a_secretariat_uploads_a_sheet_follows_the_job_and_downloads_the_report(site: Site, page: Any) -> None:
    from tests.support.sheets import provisioning_xlsx, read_report, student

    # Given a secretariat member signed in
    passphrase = "correct horse battery staple ntua"
    site.account(
        "ntua", username="sec.browser", email="sec.browser@example.gr", roles=("secretariat",), password=passphrase
    )
    page.goto(site.realm("ntua", "/login"))
    page.get_by_label(re.compile("^Όνομα χρήστη")).fill("sec.browser")
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(passphrase)
    page.get_by_role("button", name="Είσοδος", exact=True).click()
    page.wait_for_url("**/account/security")  # the role needs a second factor: enrolment first
    session = next(c["value"] for c in page.context.cookies() if c["name"] == "mitroo_session")
    site.second_factor_passed(session)  # as enrolling one would (tests/browser/test_mfa.py does it for real)
    page.goto(site.realm("ntua", "/home"))
    page.get_by_role("link", name="Μαζικές εργασίες λογαριασμών").click()

    # When they upload a doctoral sheet of two good rows and one with an institutional e-mail
    rows = [student(0, "web"), student(1, "web"), student(2, "web", external_email="x@central.ntua.gr")]
    page.get_by_label("Κατηγορία λογαριασμών").select_option("doctoral")
    page.get_by_label(re.compile("^Λογιστικό φύλλο")).set_input_files(
        {
            "name": "ΔΠΜΣ.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": provisioning_xlsx(rows),
        }
    )
    page.get_by_role("button", name="Ανέβασμα").click()

    # Then the job's page follows it to the end by itself
    page.wait_for_url(re.compile(r"/realms/ntua/admin/jobs/[0-9a-f]+$"))
    page.locator("[data-field=status]", has_text="Ολοκληρώθηκε").wait_for(timeout=30_000)
    assert page.locator("[data-field=accepted]").inner_text() == "2"
    assert page.locator("[data-field=rejected]").inner_text() == "1"

    # And the report downloads with a status and a reason per row
    with page.expect_download() as download:
        page.get_by_role("link", name="Λήψη αναφοράς (.xlsx)").click()
    report = read_report(Path(download.value.path()).read_bytes())
    assert [row["status"] for row in report] == ["created", "created", "rejected"]
    assert "outside the institution" in report[2]["reason"]


def test_eiep_forgot_password_through_gsis(site: Site, page: Any) -> None:
    from chalicelib.domain.identity import GsisIdentity
    from standins.gsis import make_afm

    # Given a registered teacher whose AFM is the stand-in's ΠΑΠΑΔΟΠΟΥΛΟΣ
    email = "papadopoulos.browser@example.gr"
    identity = GsisIdentity(
        afm=make_afm(1),
        last_name="ΠΑΠΑΔΟΠΟΥΛΟΣ",
        first_name="ΓΕΩΡΓΙΟΣ",
        father_name="ΔΗΜΗΤΡΙΟΣ",
        mother_name="ΜΑΡΙΑ",
        birth_year="1978",
    )
    site.account("eiep", username=email, email=email, password="Pal1os!Kodikos", identity=identity)

    # When they say they forgot the password, give the e-mail and confirm their identity at GSIS
    page.goto(site.realm("eiep"))
    page.get_by_role("link", name="Ξέχασα τον κωδικό πρόσβασης").click()
    page.get_by_label(re.compile("^Email")).fill(email)
    page.get_by_role("button", name="Συνέχεια").click()
    page.get_by_role("button", name=re.compile("ΠΑΠΑΔΟΠΟΥΛΟΣ")).click()

    # Then the page shows their username and takes a new password under the e-IEP rules
    page.wait_for_url(re.compile(r"/realms/eiep/reset-password\?flow="))
    assert page.locator("[data-field=username]").inner_text() == email
    page.get_by_label(re.compile("^Νέος κωδικός")).fill("N3os!Kodikos")
    page.locator(".meter-text", has_text="Αποδεκτός").wait_for()
    page.get_by_label(re.compile("^Επιβεβαίωση")).fill("N3os!Kodikos")
    page.get_by_role("button", name="Αλλαγή κωδικού").click()
    page.wait_for_url(re.compile(r"/realms/eiep/password-changed"))

    # And the new password signs them in
    page.get_by_role("link", name="Συνέχεια").click()
    page.get_by_label(re.compile("^Email")).fill(email)
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill("N3os!Kodikos")
    page.get_by_role("button", name="Είσοδος", exact=True).click()
    page.wait_for_url(re.compile(r"/realms/eiep/home"))


def test_a_keyboard_alone_signs_in(site: Site, page: Any) -> None:
    # Given an NTUA account, and a visitor who uses only the keyboard
    passphrase = "tria poulakia kathontan sto kladi"
    site.account("ntua", username="kboard", email="kboard@example.gr", password=passphrase)
    page.goto(site.realm("ntua", "/login"))

    # When they tab to the skip link, the fields and the button, typing and pressing Enter
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")  # the realm's name
    page.keyboard.press("Tab")  # the language switch
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("kboard")
    page.keyboard.press("Tab")
    page.keyboard.type(passphrase)
    page.keyboard.press("Enter")

    # Then they are signed in
    page.wait_for_url(re.compile(r"/realms/ntua/home"))
    assert "kboard" in page.locator("[data-field=username]").inner_text()
