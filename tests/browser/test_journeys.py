"""Whole journeys in a real browser, as a teacher or a secretariat would click them."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import Site

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
    page.get_by_label("Κωδικός πρόσβασης", exact=True).fill(PASSWORD)
    page.get_by_label("Επιβεβαίωση κωδικού").fill(PASSWORD)
    page.get_by_role("button", name="Εγγραφή").click()

    # Then they are told to check their mail, which the mailbox page shows with its link
    page.wait_for_url(re.compile(r"/realms/eiep/registered"))
    open_mail_link(page, site, email, "/realms/eiep/activate?token=")

    # When they confirm on the activation page and sign in
    page.get_by_role("button", name=re.compile("Ενεργοποίηση")).click()
    page.wait_for_url(re.compile(r"/realms/eiep/activated"))
    page.goto(site.realm("eiep", "/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Κωδικός πρόσβασης").fill(PASSWORD)
    page.get_by_role("button", name="Είσοδος").click()

    # Then their profile shows who they are
    page.wait_for_url(re.compile(r"/realms/eiep/home"))
    assert email in page.content()
