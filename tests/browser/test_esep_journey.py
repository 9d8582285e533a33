"""eTwinning in a real browser: EU Login → profile → organisation → finish (seed 003)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from tests.browser.conftest import Site


def test_esep_eulogin_then_profile_then_a_new_organisation_then_finish(site: Site, page: Any) -> None:
    # Given a teacher on the eTwinning start page
    page.goto(site.realm("esep"))

    # When she signs in at EU Login as someone new (the stand-in's own form)
    page.get_by_role("link", name="Είσοδος / εγγραφή με EU Login").click()
    suffix = secrets.token_hex(3)
    page.get_by_label("Subject (uid)").fill(f"n{suffix}")
    page.get_by_label("E-mail").fill(f"sofia.{suffix}@school-gr.example")
    page.get_by_label("Given name").fill("Σοφία")
    page.get_by_label("Family name").fill("Μαυρίδου")
    page.get_by_role("button", name="Sign in").click()

    # Then the registration page shows what EU Login said
    page.wait_for_url(re.compile(r"/realms/esep/register\?flow="))
    assert "Σοφία Μαυρίδου" in page.locator("dd[data-field=name]").inner_text()

    # When her school is not found, she registers it from the page
    school = f"Γυμνάσιο Φολεγάνδρου {suffix}"
    page.get_by_label("Αναζήτηση σχολείου ή οργανισμού (όνομα ή πόλη)").fill(f"φολεγανδρου {suffix}")
    page.get_by_role("button", name="Αναζήτηση").click()
    page.get_by_label("Όνομα οργανισμού", exact=True).fill(school)
    page.get_by_label("Πόλη", exact=True).fill("Φολέγανδρος")
    page.get_by_role("button", name=re.compile("^Καταχώριση")).click()

    # Then she is back on the form with the new school chosen
    page.wait_for_url(re.compile(r"/realms/esep/register\?flow=.*q="))
    assert page.get_by_label(re.compile(school)).is_checked()

    # When she completes her profile as a teacher and finishes
    page.get_by_label("Ρόλος").select_option("teacher")
    page.get_by_label("Μαθήματα που διδάσκετε").fill("Γεωγραφία, Ιστορία")
    page.get_by_label("Θέλω να συμμετέχω στο eTwinning").check()
    page.get_by_label("Είμαι διαθέσιμος/η για έργα").check()
    page.get_by_role("button", name="Ολοκλήρωση εγγραφής").click()

    # Then she is signed in at home
    page.wait_for_url(re.compile(r"/realms/esep/home$"))
    assert f"sofia.{suffix}@school-gr.example" in page.content()
