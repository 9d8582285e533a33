"""The "Your data" tab in Chromium (SPEC §2.10): the export downloads as a file, and a
deletion asked for (through its confirm step) is cancelled by signing in again and
choosing "keep my account". No script is needed for any of it."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from chalicelib.domain.identity import GsisIdentity
from tests.fakes import afm_with_check_digit
from tests.support.site import Site

PASSWORD = "Kal0s!Kodikos"
_people = itertools.count(1)


def _person(site: Site) -> str:
    email = f"browser.data{next(_people)}.{id(site) % 100000}@example.gr"
    afm = afm_with_check_digit(f"{(id(email) + next(_people)) % 10**8:08d}")
    identity = GsisIdentity(
        afm=afm, last_name="ΔΕΔΟΜΕΝΟΥ", first_name="ΕΛΕΝΗ", father_name="", mother_name="", birth_year=""
    )
    site.account("eiep", username=email, email=email, password=PASSWORD, identity=identity)
    return email


def _sign_in(page: Any, site: Site, email: str) -> None:
    page.goto(site.realm("eiep", "/login"))
    page.get_by_label(re.compile("^Email")).fill(email)
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(PASSWORD)
    page.get_by_role("button", name="Είσοδος", exact=True).click()
    page.wait_for_url(re.compile(r"/realms/eiep/home"))


def test_the_data_is_downloaded_and_a_deletion_is_cancelled_by_signing_in(site: Site, page: Any) -> None:
    # Given Eleni, signed in, on the Your data tab
    email = _person(site)
    _sign_in(page, site, email)
    page.goto(site.realm("eiep", "/account/data"))
    assert page.locator("nav.account-tabs a[aria-current='page']").inner_text() == "Τα δεδομένα σας"

    # When she downloads her data
    with page.expect_download() as download:
        page.get_by_role("link", name="Λήψη των δεδομένων μου").click()

    # Then it is a JSON file named after the realm and the day, with her address in it
    assert re.fullmatch(r"mitroo-eiep-\d{4}-\d{2}-\d{2}\.json", download.value.suggested_filename)
    with open(download.value.path(), encoding="utf-8") as saved:
        assert json.load(saved)["account"]["email"] == email

    # When she deletes her account, through the confirmation
    page.get_by_role("link", name="Διαγραφή του λογαριασμού μου…").click()
    page.get_by_role("button", name="Ναι, διαγραφή του λογαριασμού μου").click()

    # Then the page says when it will be erased
    page.wait_for_url(re.compile(r"/account/data\?done=scheduled"))
    assert page.locator("[data-notice='deletion-scheduled']").is_visible()

    # When she signs out, signs in again and keeps her account
    page.goto(site.realm("eiep", "/home"))
    page.get_by_role("button", name="Αποσύνδεση").click()
    page.wait_for_url(re.compile(r"/realms/eiep$"))
    _sign_in(page, site, email)
    page.get_by_role("button", name="Διατήρηση του λογαριασμού μου").click()

    # Then the deletion is cancelled and no notice is left
    page.wait_for_url(re.compile(r"/account/data\?done=kept"))
    assert page.locator("[data-notice='kept']").is_visible()
    assert page.locator("[data-notice='deletion-scheduled']").count() == 0
