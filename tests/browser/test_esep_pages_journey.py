"""Seed 003 «Β. Δημιουργία έργου» in Chromium, one person per browser: a teacher registers,
fills her profile and requests eTwinning validation; the NSO validates on its desk; two
teachers become contacts; the wizard (by keyboard only) creates a project, the preview
takes an image, Submit; the partner accepts from the invitations page; the NSO approves;
a colleague who is not validated is refused with the rules named; a pupil login is
created and the pupil signs in to the project. Every new page is checked for
accessibility in Greek and English on the way.
"""

from __future__ import annotations

import os
import re
import secrets
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

from tests.browser.conftest import ARTIFACTS, ROOT, Site
from tests.browser.test_accessibility import CONTRAST_SCRIPT, UNLABELLED_SCRIPT
from tests.support.clicks import press

ESEP = "/realms/esep"


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x30\x80\xc0" * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class People:
    """Browser contexts, one per person (their own cookies), all photographed at the end."""

    def __init__(self, chromium: Any, site: Site) -> None:
        self.chromium, self.site, self.contexts = chromium, site, []
        self.errors: list[str] = []

    def open(self) -> Any:
        context = self.chromium.new_context(locale="el-GR", viewport={"width": 1000, "height": 900})
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def eulogin(page: Any, site: Site, sub: str, given: str, family: str) -> None:
    """Through the EU Login stand-in's own form; lands on registration or home."""
    page.goto(site.realm("esep"))
    page.get_by_role("link", name="Είσοδος / εγγραφή με EU Login").click()
    page.get_by_label("Subject (uid)").fill(sub)
    page.get_by_label("E-mail").fill(f"{sub}@school.example")
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/realms/esep/(register|home)"))
    if "/home?flow=" in page.url and page.locator("main form button").count():  # a login flow spent by POST
        page.locator("main form button").first.click()
        page.wait_for_url(re.compile(r"/realms/esep/(home|account/security)$"))
    if page.url.endswith("/account/security"):  # an NSO's role needs a second factor (SPEC §2.9)
        session = next(c["value"] for c in page.context.cookies() if c["name"] == "mitroo_session")
        site.second_factor_passed(session)  # as enrolling one would (tests/browser/test_mfa.py does it for real)
        page.goto(site.realm("esep", "/home"))


def register(page: Any, site: Site, sub: str, given: str, family: str, *, school: str, role: str = "teacher") -> None:
    """The registration page: find (or register) the school, then finish as ``role``."""
    eulogin(page, site, sub, given, family)
    if school:
        page.get_by_label("Αναζήτηση σχολείου ή οργανισμού (όνομα ή πόλη)").fill(school)
        press(page, page.get_by_role("button", name="Αναζήτηση"))
        if page.get_by_label(re.compile(re.escape(school))).count() == 0:
            page.get_by_label("Όνομα οργανισμού", exact=True).fill(school)
            page.get_by_label("Πόλη", exact=True).fill("Νάξος")
            page.get_by_role("button", name=re.compile("^Καταχώριση")).click()
            page.wait_for_url(re.compile(r"q="))
        page.get_by_label(re.compile(re.escape(school))).check()
    page.get_by_label("Ρόλος").select_option(role)
    beside_its_label(page, "join_etwinning")
    if role == "teacher":
        page.get_by_label("Μαθήματα που διδάσκετε").fill("Φυσική")
        page.get_by_label("Θέλω να συμμετέχω στο eTwinning").check()
        page.get_by_label("Είμαι διαθέσιμος/η για έργα").check()
    page.get_by_role("button", name="Ολοκλήρωση εγγραφής").click()
    page.wait_for_url(re.compile(r"/realms/esep/home$"))


def beside_its_label(page: Any, name: str) -> None:
    """The checkbox sits to the left of its label, on the same line (issue 11 §6: they
    stood centred above their labels)."""
    box = page.locator(f"input#{name}").bounding_box()
    label = page.locator(f"label[for={name}]").bounding_box()
    assert box is not None and label is not None
    assert box["x"] + box["width"] <= label["x"] and box["width"] < 40, (box, label)
    assert abs((box["y"] + box["height"] / 2) - (label["y"] + label["height"] / 2)) < label["height"], (box, label)


def grant_nso(site: Site, sub: str) -> None:
    """What an operator runs, against the site's own table."""
    env = {**os.environ, "AWS_ENDPOINT_URL": site.endpoint, "MITROO_TABLE_NAME": site.table_name}
    command = [sys.executable, "-m", "chalicelib.cli", "grant-role", "--realm", "esep", "--subject", sub]
    done = subprocess.run(
        [*command, "--role", "nso", "--country", "GR"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def audit(page: Any, language_after: str = "el") -> None:
    """The page (a GET) in both languages: AA contrast, every field labelled, one h1, the
    right ``lang``; then back in ``language_after``."""
    url = re.sub(r"[?&]lang=\w+", "", page.url)
    for language in ("en", "el"):
        separator = "&" if "?" in url else "?"
        answer = page.goto(f"{url}{separator}lang={language}")
        assert answer is not None and answer.status == 200, url
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, url
        assert answer.headers["x-frame-options"] == "DENY" and answer.headers["referrer-policy"] == "no-referrer"
        assert page.locator("html").get_attribute("lang") == language, url
        assert page.evaluate(CONTRAST_SCRIPT) == [], (url, language)
        assert page.evaluate(UNLABELLED_SCRIPT) == [], (url, language)
        assert page.get_by_role("heading", level=1).count() == 1, (url, language)
    if language_after != "el":
        page.goto(f"{url}{'&' if '?' in url else '?'}lang={language_after}")


def shot(page: Any, name: str) -> None:
    """A picture of the page for people to look at (``tests/artifacts/``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"esep_{name}.png"), full_page=True)


def tab_to(page: Any, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the element ``selector`` names has the focus (as a keyboard user)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_project_from_profile_to_pupil_in_the_browser(site: Site, chromium: Any, page: Any, tmp_path: Path) -> None:
    people = People(chromium, site)
    suffix = secrets.token_hex(3)
    school = f"Γυμνάσιο Απειράνθου {suffix}"
    title = f"Τα νερά της Ευρώπης {suffix}"
    try:
        # Given the NSO of Greece (registered, then granted the role by an operator)
        nso = people.open()
        register(nso, site, f"nso{suffix}", "Ελένη", f"Εθνική {suffix}", school="", role="other")
        grant_nso(site, f"nso{suffix}")

        # When a teacher registers with a new school
        sofia = page
        sofia.on("pageerror", lambda error: people.errors.append(str(error)))
        register(sofia, site, f"sofia{suffix}", "Σοφία", f"Μαυρίδου {suffix}", school=school)

        # Then home sends her to her profile, which says why she cannot take part yet
        sofia.get_by_role("link", name="Δείτε γιατί και τι να κάνετε").click()
        sofia.wait_for_url(re.compile(r"/realms/esep/profile$"))
        assert sofia.locator("[data-rule=not_active]").count() == 1
        assert school in sofia.locator("[data-not-validated]").inner_text()
        audit(sofia)

        # When she fills her profile and requests eTwinning validation on the school's card
        sofia.get_by_label("Είμαι διαθέσιμος/η για έργα").check()
        sofia.get_by_label("Μαθήματα που διδάσκετε").fill("Φυσική, Χημεία")
        sofia.get_by_label("Λίγα λόγια για μένα").fill("Καθηγήτρια φυσικής στη Νάξο.")
        press(sofia, sofia.get_by_role("button", name="Αποθήκευση"))
        assert sofia.get_by_label("Είμαι διαθέσιμος/η για έργα").is_checked()
        press(sofia, sofia.get_by_role("button", name="Αίτηση επικύρωσης eTwinning"))
        assert sofia.locator("[data-requested]").count() == 1
        shot(sofia, "profile")

        # And a second teacher of the same school registers
        nikos = people.open()
        register(nikos, site, f"nikos{suffix}", "Νίκος", f"Ραφαηλίδης {suffix}", school=school)

        # When the NSO signs in again (its new role) and validates both and the school
        eulogin(nso, site, f"nso{suffix}", "Ελένη", f"Εθνική {suffix}")
        nso.get_by_role("link", name="Γραφείο Εθνικού Οργανισμού").click()
        nso.wait_for_url(re.compile(r"/admin/desk$"))
        audit(nso)
        organisation_card = nso.locator("article", has=nso.get_by_role("heading", name=school))
        assert organisation_card.locator("[data-faq]").count() == 1
        shot(nso, "desk")
        press(nso, organisation_card.get_by_role("button", name="Επικύρωση"))
        for name in (f"Σοφία Μαυρίδου {suffix}", f"Νίκος Ραφαηλίδης {suffix}"):
            card = nso.locator("article", has=nso.get_by_role("heading", name=name))
            press(nso, card.get_by_role("button", name="Επικύρωση"))

        # Then Sofia may take part in projects
        sofia.goto(site.realm("esep", "/profile"))
        assert sofia.locator("[data-rule]").count() == 0

        # When she finds Nikos in People and adds him to her contacts
        sofia.get_by_role("link", name="Άνθρωποι").click()
        sofia.get_by_label("Όνομα").fill(f"ραφαηλιδης {suffix}")
        sofia.get_by_role("button", name="Αναζήτηση").click()
        press(sofia, sofia.get_by_role("button", name="Προσθήκη στις επαφές"))
        assert sofia.get_by_text("Στις επαφές σας", exact=True).count() == 1
        audit(sofia)
        press(sofia, sofia.get_by_role("link", name="Επαφές"))
        assert sofia.get_by_role("heading", name=f"Νίκος Ραφαηλίδης {suffix}").count() == 1
        audit(sofia)

        # When she creates a project with the keyboard alone (one school: no school step)
        sofia.get_by_role("link", name="Έργα").click()
        audit(sofia)
        sofia.get_by_role("link", name="Δημιουργία έργου").click()
        sofia.wait_for_url(re.compile(r"/projects/new$"))
        audit(sofia)
        assert sofia.locator("input[name=partner]").first.is_checked()
        tab_to(sofia, "main button[type=submit]")
        sofia.keyboard.press("Enter")
        sofia.wait_for_url(re.compile(r"/projects/new\?organisation=.*partner="))
        audit(sofia)
        fields = {
            "#title": title,
            "#description": "Μαθητές δύο σχολείων μετρούν την ποιότητα του νερού.",
            "[id='pupils.count']": "24",
            "[id='pupils.age_min']": "12",
            "[id='pupils.age_max']": "14",
            "#subjects": "Φυσική, Γεωγραφία",
            "#goals": "Να μάθουν να μετρούν και να συγκρίνουν.",
            "#process": "Μετρήσεις κάθε μήνα και κοινός πίνακας.",
            "#outcomes": "Κοινή αναφορά και χάρτης ποιότητας νερού.",
        }
        for selector, value in fields.items():
            tab_to(sofia, selector)
            sofia.keyboard.type(value)
        tab_to(sofia, "main form button[type=submit]")
        sofia.keyboard.press("Enter")

        # Then the preview shows the project; she adds an image and submits
        sofia.wait_for_url(re.compile(r"/projects/[0-9a-f]+$"))
        project_url = sofia.url
        assert sofia.get_by_role("heading", name=title, level=1).count() == 1
        audit(sofia)
        picture = tmp_path / "project.png"
        picture.write_bytes(_png())
        sofia.get_by_label("Μια αντιπροσωπευτική εικόνα").set_input_files(str(picture))
        with sofia.expect_navigation():  # back to the same address: wait for the new page
            sofia.get_by_role("button", name="Ανέβασμα εικόνας").click()
        assert sofia.locator("img.project-image").evaluate("img => img.complete && img.naturalWidth") == 8
        tab_to(sofia, "form[action$='/submit'] button")
        with sofia.expect_navigation():
            sofia.keyboard.press("Enter")
        assert sofia.locator("[data-status]").get_attribute("data-status") == "submitted"
        shot(sofia, "project_submitted")

        # When Nikos accepts from his invitations page
        nikos.goto(site.realm("esep", "/invitations"))
        audit(nikos)
        press(nikos, nikos.get_by_role("button", name="Αποδοχή"))
        assert nikos.get_by_text("Καμία πρόσκληση δεν περιμένει απάντηση.").count() == 1

        # And the NSO approves the project on the desk
        nso.goto(site.realm("esep", "/admin/desk"))
        press(
            nso, nso.locator("article", has=nso.get_by_role("link", name=title)).get_by_role("button", name="Έγκριση")
        )

        # Then it is active
        sofia.goto(project_url)
        assert sofia.locator("[data-status]").get_attribute("data-status") == "active"
        audit(sofia)

        # When she adds a colleague who is not validated yet
        maria = people.open()
        register(maria, site, f"maria{suffix}", "Μαρία", f"Κονδύλη {suffix}", school=school)
        sofia.goto(site.realm("esep", f"/people?q=κονδυλη {suffix}"))
        press(sofia, sofia.get_by_role("button", name="Προσθήκη στις επαφές"))
        sofia.goto(project_url)
        sofia.get_by_label("Προσθήκη εκπαιδευτικού από τις επαφές σας").select_option(
            label=f"Μαρία Κονδύλη {suffix} (Ελλάδα)"
        )
        press(sofia, sofia.get_by_role("button", name="Προσθήκη", exact=True))

        # Then she is refused, and the rule and who can fix it are named
        refusal = sofia.locator("#problem")
        assert "Μαρία Κονδύλη" in refusal.inner_text()
        assert refusal.locator("[data-rule=not_active]").count() == 1
        assert "Εθνικός Οργανισμός Υποστήριξης της χώρας του/της (Ελλάδα)" in refusal.inner_text()
        shot(sofia, "member_refused")

        # When she creates a pupil's login
        sofia.goto(project_url)
        sofia.get_by_label("Όνομα μαθητή").fill("Γιάννης Κ.")
        sofia.get_by_role("button", name="Δημιουργία λογαριασμού").click()
        username = sofia.locator("[data-field=username]").inner_text()
        password = sofia.locator("[data-field=password]").inner_text()
        assert sofia.evaluate(CONTRAST_SCRIPT) == [] and sofia.get_by_role("heading", level=1).count() == 1

        # Then the pupil signs in with the card and reaches the project from the sign-in page
        pupil = people.open()
        pupil.goto(site.realm("esep", "/login"))
        audit(pupil)
        pupil.get_by_label("Όνομα χρήστη").fill(username)
        pupil.get_by_label("Κωδικός πρόσβασης").fill(password)
        pupil.get_by_role("button", name="Είσοδος").click()
        pupil.wait_for_url(re.compile(r"/realms/esep/home$"))
        pupil.get_by_role("link", name="Το έργο μου").click()
        pupil.wait_for_url(project_url)
        assert pupil.get_by_role("heading", name=title, level=1).count() == 1

        assert people.errors == []
    finally:
        people.close()


def test_a_teacher_of_two_schools_chooses_one_by_keyboard(site: Site, page: Any) -> None:
    # Given a teacher registered with one school who adds a second on her profile
    suffix = secrets.token_hex(3)
    first, second = f"Γυμνάσιο Φιλωτίου {suffix}", f"Λύκειο Φιλωτίου {suffix}"
    register(page, site, f"anna{suffix}", "Άννα", f"Σκαρλάτου {suffix}", school=first)
    page.goto(site.realm("esep", "/profile"))
    page.get_by_label("Αναζήτηση σχολείου ή οργανισμού (όνομα ή πόλη)").fill(second)
    page.get_by_role("button", name="Αναζήτηση").click()
    # (nothing found: the form to register it is open, the name already typed in)
    assert page.get_by_label("Όνομα οργανισμού").input_value() == second
    page.locator("#city").fill("Φιλώτι")
    press(page, page.get_by_role("button", name=re.compile("^Καταχώριση")))
    press(page, page.get_by_role("button", name="Προσθήκη στους οργανισμούς μου"))
    assert page.get_by_role("heading", name=second, level=4).count() == 1

    # When she starts the wizard
    page.get_by_role("link", name="Έργα").click()
    page.get_by_role("link", name="Δημιουργία έργου").click()
    page.wait_for_url(re.compile(r"/projects/new$"))

    # Then it asks which school, and she chooses the second with the keyboard alone
    audit(page)
    tab_to(page, "input[name=organisation]:checked")
    page.keyboard.press("ArrowDown")
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "organisation=" in page.url
    chosen = page.url.split("organisation=", 1)[1].split("&", 1)[0]
    assert second in page.inner_text("main") and chosen

    # And without contacts the partner step says where to find one
    assert page.get_by_role("link", name="Αναζήτηση ανθρώπων").count() == 1
    audit(page)
