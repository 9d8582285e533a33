"""The eTwinning pages (SPEC §2.12) through the Chalice test client: each page, each of
its forms posted as a browser posts them (form-encoded, CSRF token, ``form_page``), the
303 that follows a success and the page that comes back, filled in, after a refusal.

Seed 003's «Συχνά προβλήματα» are asserted where the pages answer them: why a member is
``registered``, which school is not validated, the «Request eTwinning validation»
button, and each eligibility rule a refused colleague fails, with who can fix it.
"""

from __future__ import annotations

import re

from tests.integration.test_esep_project_image import png
from tests.support.browser import Browser
from tests.support.esep import (
    API,
    Member,
    active_teacher,
    nso,
    organisation,
    project_body,
    register,
    validate,
)
from tests.support.esep_pages import PAGES, as_member, csrf_of, field_error, open_page, submit, text_of, upload


def _pair_with_contact(browser: Browser) -> tuple[Member, Member, Member, str]:
    """An NSO of Greece, two active teachers of one validated school, the second in the
    first's contacts; and the school's id."""
    admin = nso(browser, "GR")
    school = organisation(browser, "2ο Γυμνάσιο Νάξου", city="Νάξος")
    validate(browser, admin, organisations=[school])
    owner, partner = active_teacher(browser, admin, school), active_teacher(browser, admin, school)
    added = browser.post(f"{API}/me/contacts", json={"account_id": partner.account_id}, headers=owner.auth)
    assert added.status == 201, added.text
    return admin, owner, partner, school


# --- profile ---------------------------------------------------------------------------------


def test_a_registered_member_sees_why_and_requests_validation_on_the_card(browser: Browser) -> None:
    # Given a registered teacher whose school is new (pending, not in eTwinning)
    school = organisation(browser, "Γυμνάσιο Ιθάκης", city="Ιθάκη")
    teacher = register(browser, [school])
    as_member(browser, teacher)

    # When she opens her profile
    page = open_page(browser, f"{PAGES}/profile")
    shown = text_of(page)

    # Then it says she waits for the NSO of Greece, names the school not validated, and
    # the school's card carries «Request eTwinning validation»
    assert "Εθνικός Οργανισμός Υποστήριξης" in shown and "Ελλάδα" in shown
    assert "Δεν έχουν επικυρωθεί ακόμη: Γυμνάσιο Ιθάκης." in shown
    assert 'data-rule="not_active"' in page.text and 'data-rule="organisation_not_validated"' in page.text
    request = f"{API}/me/organisations/{school}/validation-requests"
    assert f'action="{request}"' in page.text
    assert 'href="/realms/esep/account"' in page.text and 'aria-current="page"' in page.text

    # When she presses it
    pressed = submit(browser, f"{PAGES}/profile", request, {}, page=page)

    # Then she is back on her profile, the request noted and the button gone
    assert pressed.status == 303 and pressed.location == f"{PAGES}/profile"
    again = open_page(browser, f"{PAGES}/profile")
    assert "data-requested" in again.text and f'action="{request}"' not in again.text


def test_a_member_leaves_an_organisation_and_joins_it_again_from_the_profile(browser: Browser) -> None:
    # Given a teacher of a school
    school = organisation(browser, "Δημοτικό Σχολείο Κύθνου", city="Κύθνος")
    teacher = register(browser, [school])
    as_member(browser, teacher)

    # When she leaves it (the seed's first remedy: leave, then add the same organisation)
    left = submit(browser, f"{PAGES}/profile", f"{API}/me/organisations/{school}/leave", {})

    # Then it is gone from her profile
    assert left.status == 303 and left.location == f"{PAGES}/profile"
    assert browser.get(f"{API}/me/etwinning").json["organisations"] == []

    # When she searches it on the profile and adds it
    found = open_page(browser, f"{PAGES}/profile?q=κυθνου")
    assert f'name="organisation_id" value="{school}"' in found.text
    joined = submit(
        browser, f"{PAGES}/profile?q=κυθνου", f"{API}/me/organisations", {"organisation_id": school}, page=found
    )

    # Then it is hers again
    assert joined.status == 303
    assert [o["organisation_id"] for o in browser.get(f"{API}/me/etwinning").json["organisations"]] == [school]


def test_a_new_organisation_registered_from_the_profile_is_found_to_join(browser: Browser) -> None:
    # Given a teacher on her profile
    teacher = register(browser, [organisation(browser, "Γυμνάσιο Σερίφου", city="Σέριφος")])
    as_member(browser, teacher)

    # When she registers another school without a city
    fields = {"name": "ΕΠΑΛ Σερίφου", "city": "", "country": "GR", "kind": "vocational_school", "etwinning": "true"}
    refused = submit(browser, f"{PAGES}/profile", f"{API}/organisations", fields)

    # Then the profile comes back with the problem at the city and the name kept
    assert refused.status == 422, refused.text[:500]
    assert field_error(refused, "city") and 'value="ΕΠΑΛ Σερίφου"' in refused.text

    # When she gives the city
    created = submit(browser, f"{PAGES}/profile", f"{API}/organisations", {**fields, "city": "Σέριφος"})

    # Then she is on her profile's search, the new school there to join
    assert created.status == 303 and created.location.startswith(f"{PAGES}/profile?q=")
    found = open_page(browser, created.location.split("#")[0])
    assert "ΕΠΑΛ Σερίφου" in found.text and 'name="organisation_id"' in found.text


def test_the_profile_fields_are_saved_and_a_refusal_keeps_what_was_typed(browser: Browser) -> None:
    # Given an active teacher available for projects
    _, owner, _, _ = _pair_with_contact(browser)
    as_member(browser, owner)

    # When she gives a subject longer than allowed
    fields = {"available_for_projects": "false", "searchable": "true", "subjects": "Φυσική, " + "Χ" * 90,
              "languages": "Ελληνικά", "bio": "Καθηγήτρια φυσικής."}  # fmt: skip
    refused = submit(browser, f"{PAGES}/profile", f"{API}/me/profile", fields)

    # Then the page says so at the subjects, with her bio kept, and nothing changed
    assert refused.status == 422
    assert field_error(refused, "subjects") and "Καθηγήτρια φυσικής." in refused.text
    assert browser.get(f"{API}/me/etwinning").json["available_for_projects"] is True

    # When she unticks «available for projects» and saves good values
    saved = submit(browser, f"{PAGES}/profile", f"{API}/me/profile", {**fields, "subjects": "Φυσική, Χημεία"})

    # Then they are stored, and the page now names the rule she fails and how to fix it
    assert saved.status == 303 and saved.location == f"{PAGES}/profile"
    me = browser.get(f"{API}/me/etwinning").json
    assert me["available_for_projects"] is False and me["subjects"] == ["Φυσική", "Χημεία"]
    assert me["bio"] == "Καθηγήτρια φυσικής." and me["languages"] == ["Ελληνικά"]
    assert 'data-rule="not_available_for_projects"' in open_page(browser, f"{PAGES}/profile").text


def test_member_pages_send_strangers_to_sign_in_and_are_not_in_other_realms(browser: Browser) -> None:
    # Given nobody signed in
    browser.jar.clear()
    for path in ("profile", "people", "contacts", "projects", "projects/new", "invitations", "admin/desk"):
        # When a page is opened, Then it leads to the EU Login start page
        answer = browser.get(f"{PAGES}/{path}", html=True)
        assert answer.status == 303 and answer.location == PAGES, path
    # And other realms have no such pages
    assert browser.get("/realms/eiep/profile", html=True).status == 404
    assert browser.get("/realms/ntua/admin/desk", html=True).status == 404


# --- people and contacts ---------------------------------------------------------------------


def test_people_are_found_by_name_country_and_subject_and_become_contacts(browser: Browser) -> None:
    # Given two teachers, one teaching a rare subject in Cyprus
    seeker = register(browser, [organisation(browser, "Γυμνάσιο Πάρου", city="Πάρος")])
    person = browser.new_eulogin_person("CY", given_name="Ανδρέας", family_name="Κυπριανού")
    school = organisation(browser, "Λύκειο Λεμεσού", city="Λεμεσός", country="CY")
    found_one = register(browser, [school], country="CY", person=person, subjects=["Αστρονομία"])
    as_member(browser, seeker)

    # When the seeker searches by name, country and subject
    page = open_page(browser, f"{PAGES}/people?q=κυπριανου&country=CY&subject=Αστρονομία")

    # Then the teacher is listed with the country's name and «add to contacts»
    assert "Ανδρέας Κυπριανού" in page.text and "Κύπρος" in page.text
    assert f'name="account_id" value="{found_one.account_id}"' in page.text

    # When a country code that is not eTwinning's is typed into the address
    odd = open_page(browser, f"{PAGES}/people?country=US")
    assert "Επιλέξτε χώρα από τη λίστα." in odd.text

    # When she adds the teacher
    path = f"{PAGES}/people?q=κυπριανου&country=CY&subject=Αστρονομία"
    added = submit(browser, path, f"{API}/me/contacts", {"account_id": found_one.account_id}, page=page)

    # Then she is back on the same results, the teacher now a contact
    assert added.status == 303 and added.location == path
    assert "Στις επαφές σας" in open_page(browser, path).text
    contacts = open_page(browser, f"{PAGES}/contacts")
    assert "Ανδρέας Κυπριανού" in contacts.text and f"projects/new?partner={found_one.account_id}" in contacts.text

    # When she removes the contact
    removed = submit(browser, f"{PAGES}/contacts", f"{API}/me/contacts/{found_one.account_id}/remove", {})

    # Then the contacts page is empty again
    assert removed.status == 303 and removed.location == f"{PAGES}/contacts"
    assert "Ανδρέας Κυπριανού" not in open_page(browser, f"{PAGES}/contacts").text


# --- the wizard, the preview, the invitation, approval, members, pupils --------------------------


def test_the_wizard_asks_the_school_only_of_a_teacher_with_more_than_one(browser: Browser) -> None:
    # Given a teacher of one school with a contact, and a teacher of two schools
    _, owner, partner, school = _pair_with_contact(browser)
    other_school = organisation(browser, "Γυμνάσιο Σύρου", city="Σύρος")
    two = register(browser, [school, other_school])

    # When the teacher of one school starts the wizard
    as_member(browser, owner)
    one_school = open_page(browser, f"{PAGES}/projects/new")

    # Then it goes straight to the partner, from her contacts
    assert 'type="radio" id="school-' not in one_school.text
    assert f'name="partner" value="{partner.account_id}"' in one_school.text

    # When the teacher of two schools starts it
    as_member(browser, two)
    two_schools = open_page(browser, f"{PAGES}/projects/new")

    # Then it asks which school first
    assert f'name="organisation" value="{school}"' in two_schools.text
    assert f'name="organisation" value="{other_school}"' in two_schools.text


def test_a_project_goes_through_the_pages_from_wizard_to_pupils(browser: Browser) -> None:
    # Given two teachers of a validated school, contacts, and their NSO
    admin, owner, partner, school = _pair_with_contact(browser)
    as_member(browser, owner)
    wizard = f"{PAGES}/projects/new?organisation={school}&partner={partner.account_id}"

    # When she fills the description but leaves the title empty and the ages reversed
    body = project_body(school, partner.account_id)
    fields = {"organisation_id": school, "partner_id": partner.account_id, "title": "", "language": "en",
              "description": body["description"], "pupils.count": "24", "pupils.age_min": "15",
              "pupils.age_max": "12", "subjects": "Φυσική, Γεωγραφία", "vocational_subjects": "",
              "goals": body["goals"], "process": body["process"], "outcomes": body["outcomes"]}  # fmt: skip
    refused = submit(browser, wizard, f"{API}/projects", fields)

    # Then the description comes back with each problem at its field and the rest kept
    assert refused.status == 422, refused.text[:800]
    assert field_error(refused, "title") and body["goals"] in refused.text
    fixed_title = {**fields, "title": "Τα νερά της Ευρώπης"}
    ages = submit(browser, wizard, f"{API}/projects", fixed_title)
    assert ages.status == 422 and field_error(ages, "pupils.age_min")

    # When she corrects them
    created = submit(
        browser, wizard, f"{API}/projects", {**fixed_title, "pupils.age_min": "12", "pupils.age_max": "14"}
    )

    # Then she sees the preview of the draft, with «Submit»
    assert created.status == 303, created.text[:800]
    project_page = created.location
    project_id = project_page.rsplit("/", 1)[1]
    preview = open_page(browser, project_page)
    assert "Τα νερά της Ευρώπης" in preview.text and "24 μαθητές, 12 έως 14 ετών" in text_of(preview)
    assert f'action="{API}/projects/{project_id}/submit"' in preview.text

    # When she uploads a text file as the image, then a PNG
    wrong = upload(browser, f"{project_page}/image", "image", b"not an image", "image/png", csrf_of(preview))
    assert wrong.status == 422 and field_error(wrong, "image")
    image = upload(browser, f"{project_page}/image", "image", png(), "image/png", csrf_of(preview))

    # Then the preview shows the image, which only the project's people may fetch
    assert image.status == 303 and image.location == project_page
    assert f'src="{project_page}/image"' in open_page(browser, project_page).text
    fetched = browser.get(f"{project_page}/image", headers={"Accept": "image/avif,image/webp,image/*,*/*;q=0.8"})
    assert fetched.status == 200 and fetched.headers["content-type"] == "image/png" and fetched.body == png()

    # When she submits
    submitted = submit(browser, project_page, f"{API}/projects/{project_id}/submit", {})
    assert submitted.status == 303 and submitted.location == project_page

    # Then the partner's invitation mail leads to the invitations page, where she accepts it
    mail = browser.mail_to(partner.person.email.lower())
    assert any("/realms/esep/invitations" in (m.get("html") or m.get("text") or "") for m in mail), mail
    as_member(browser, partner)
    invitations = open_page(browser, f"{PAGES}/invitations")
    assert "Τα νερά της Ευρώπης" in invitations.text
    accepted = submit(
        browser, f"{PAGES}/invitations", f"{API}/projects/{project_id}/invitation", {"decision": "accept"}
    )
    assert accepted.status == 303 and "Τα νερά της Ευρώπης" not in open_page(browser, f"{PAGES}/invitations").text

    # When the NSO approves it on the desk
    as_member(browser, admin)
    desk = open_page(browser, f"{PAGES}/admin/desk")
    assert f"item-{project_id}" in desk.text
    approved = submit(browser, f"{PAGES}/admin/desk?item={project_id}", f"{API}/admin/projects/{project_id}/approval",
                      {"decision": "approve"}, page=desk)  # fmt: skip
    assert approved.status == 303

    # Then it is active in the owner's list of projects
    as_member(browser, owner)
    mine = open_page(browser, f"{PAGES}/projects")
    assert "Ενεργό" in mine.text and project_page in mine.text

    # When she adds a colleague of a school not validated, who is not validated either
    new_school = organisation(browser, "Νέο Γυμνάσιο Νάξου", city="Νάξος")
    colleague = register(browser, [new_school], person=browser.new_eulogin_person(given_name="Κώστας"))
    assert (
        browser.post(f"{API}/me/contacts", json={"account_id": colleague.account_id}, headers=owner.auth).status == 201
    )
    as_member(browser, owner)
    added = submit(browser, project_page, f"{API}/projects/{project_id}/members", {"account_id": colleague.account_id})

    # Then the project page names each rule that fails and who can fix it (the NSO of Greece)
    assert added.status == 422, added.text[:500]
    shown = text_of(added)
    assert 'data-rule="not_active"' in added.text and 'data-rule="organisation_not_validated"' in added.text
    assert 'data-rule="not_teacher"' not in added.text
    assert "δεν μπορεί να προστεθεί" in shown and "Εθνικός Οργανισμός Υποστήριξης της χώρας του/της (Ελλάδα)" in shown

    # When she asks for a pupil login without a name
    pupils = f"/realms/esep/projects/{project_id}/pupils"
    nameless = submit(browser, project_page, pupils, {"display_name": "   "})

    # Then the project page says so at the name
    assert nameless.status == 422 and field_error(nameless, "display_name")

    # When she creates a pupil login
    created_pupil = submit(
        browser, project_page, f"/realms/esep/projects/{project_id}/pupils", {"display_name": "Νίκος Π."}
    )

    # Then the card shows it once, not kept by the browser
    assert created_pupil.status == 200, created_pupil.text[:500]
    assert created_pupil.headers["cache-control"] == "no-store"
    username = re.search(r'data-field="username">([^<]+)<', created_pupil.text)
    password = re.search(r'data-field="password">([^<]+)<', created_pupil.text)
    assert username and password

    # When the pupil signs in on the pupils' page
    browser.jar.clear()
    login = open_page(browser, f"{PAGES}/login")
    assert f'href="{PAGES}/pupil"' in login.text
    signed_in = submit(browser, f"{PAGES}/login", f"{API}/pupil-sessions",
                       {"username": username.group(1), "password": password.group(1)}, page=login)  # fmt: skip
    assert signed_in.status == 303

    # Then the pupil's link leads to the project, which the pupil reads
    to_project = browser.get(f"{PAGES}/pupil", html=True)
    assert to_project.status == 303 and to_project.location == project_page
    assert "Τα νερά της Ευρώπης" in open_page(browser, project_page).text
    assert browser.get(f"{PAGES}/profile", html=True).location == f"{PAGES}/pupil"


def test_the_preview_changes_the_description_of_a_draft_until_it_is_submitted(browser: Browser) -> None:
    # Given a draft
    _, owner, partner, school = _pair_with_contact(browser)
    draft = browser.post(f"{API}/projects", json=project_body(school, partner.account_id), headers=owner.auth)
    project_id = draft.json["project_id"]
    as_member(browser, owner)
    preview = open_page(browser, f"{PAGES}/projects/{project_id}")
    assert f"projects/new?draft={project_id}" in preview.text

    # When she opens «change the description»
    wizard = f"{PAGES}/projects/new?draft={project_id}"
    shown = open_page(browser, wizard)

    # Then the description step shows the draft, posting to the draft
    assert 'value="Τα νερά της Ευρώπης"' in shown.text and 'value="24"' in shown.text
    action = f"{API}/projects/{project_id}/description"
    assert f'action="{action}"' in shown.text

    # When she empties the title, Then it comes back with the problem and the rest kept
    body = project_body(school, partner.account_id)
    fields = {"organisation_id": school, "partner_id": partner.account_id, "title": "", "language": "fr",
              "description": body["description"], "pupils.count": "30", "pupils.age_min": "12",
              "pupils.age_max": "14", "subjects": "Φυσική", "vocational_subjects": "",
              "goals": body["goals"], "process": body["process"], "outcomes": body["outcomes"]}  # fmt: skip
    refused = submit(browser, wizard, action, fields, page=shown)
    assert refused.status == 422 and field_error(refused, "title") and 'value="30"' in refused.text

    # When she gives a new title, Then the preview shows the changed draft
    changed = submit(browser, wizard, action, {**fields, "title": "Τα ποτάμια της Ευρώπης"}, page=shown)
    assert changed.status == 303 and changed.location == f"{PAGES}/projects/{project_id}"
    stored = browser.get(f"{API}/projects/{project_id}", headers=owner.auth).json
    assert (stored["title"], stored["language"], stored["pupils"]["count"]) == ("Τα ποτάμια της Ευρώπης", "fr", 30)

    # When it is submitted, Then its description no longer changes
    assert browser.post(f"{API}/projects/{project_id}/submit", headers=owner.auth).status == 200
    assert browser.get(wizard, html=True).status == 404
    late = browser.put(
        f"{API}/projects/{project_id}", json=project_body(school, partner.account_id), headers=owner.auth
    )
    assert late.status == 422 and "project" in late.json["errors"]

    # And nobody but the owner changes a draft, nor its partner through it
    other_body = project_body(school, partner.account_id, title="Ένα άλλο έργο")
    other = browser.post(f"{API}/projects", json=other_body, headers=owner.auth)
    other_id = other.json["project_id"]
    by_partner = browser.put(
        f"{API}/projects/{other_id}", json=project_body(school, partner.account_id), headers=partner.auth
    )
    assert by_partner.status == 404
    swapped = browser.put(f"{API}/projects/{other_id}", json=project_body(school, owner.account_id), headers=owner.auth)
    assert swapped.status == 422 and "partner_id" in swapped.json["errors"]


def test_a_teacher_who_cannot_accept_an_invitation_is_told_why(browser: Browser) -> None:
    # Given a submitted project whose partner then stops being available for projects
    _, owner, partner, school = _pair_with_contact(browser)
    project = browser.post(f"{API}/projects", json=project_body(school, partner.account_id), headers=owner.auth)
    project_id = project.json["project_id"]
    assert browser.post(f"{API}/projects/{project_id}/submit", headers=owner.auth).status == 200
    patched = browser.request("PATCH", f"{API}/me", json={"available_for_projects": False}, headers=partner.auth)
    assert patched.status == 200

    # When the partner accepts on the invitations page
    as_member(browser, partner)
    answer = submit(browser, f"{PAGES}/invitations", f"{API}/projects/{project_id}/invitation", {"decision": "accept"})

    # Then the page says which rule fails and how to fix it herself
    assert answer.status == 422
    assert 'data-rule="not_available_for_projects"' in answer.text
    assert "Επιλέξτε το στα «Στοιχεία προφίλ»" in text_of(answer)


# --- the NSO desk ------------------------------------------------------------------------------


def test_the_desk_shows_the_seeds_cases_and_mails_a_rejection_with_its_reason(browser: Browser) -> None:
    # Given a teacher of a new school, and a validated school asking for eTwinning
    admin = nso(browser, "GR")
    new_school = organisation(browser, "Γυμνάσιο Λειψών", city="Λειψοί")
    teacher = register(browser, [new_school])
    outside = organisation(browser, "Ιδιωτικό Σχολείο Λέρου", city="Λέρος")
    validate(browser, admin, organisations=[outside])
    member = register(browser, [outside])
    assert browser.post(f"{API}/me/organisations/{outside}/validation-requests", headers=member.auth).status == 202

    # When the NSO opens the desk
    as_member(browser, admin)
    desk = open_page(browser, f"{PAGES}/admin/desk")

    # Then the teacher is marked «not all schools validated», the school «asks for eTwinning»
    card = desk.text[desk.text.index(f'id="item-{teacher.account_id}"') :]
    assert 'data-faq="schools"' in card[: card.index("</article>")]
    assert 'data-faq="etwinning"' in desk.text and 'data-faq="new"' in desk.text

    # When the NSO rejects the teacher without a reason
    path = f"{PAGES}/admin/desk?item={teacher.account_id}"
    action = f"{API}/admin/users/{teacher.account_id}/validation"
    refused = submit(browser, path, action, {"decision": "reject", "reason": " "}, page=desk)

    # Then the desk comes back with the problem at that item's reason only
    assert refused.status == 422
    assert 'id="reason-error"' in refused.text and refused.text.count('class="field-error"') == 1

    # When the NSO gives the reason
    rejected = submit(browser, path, action, {"decision": "reject", "reason": "Λάθος σχολείο."}, page=desk)

    # Then the teacher is told by mail, with the reason
    assert rejected.status == 303 and rejected.location == f"{PAGES}/admin/desk"
    mail = browser.mail_to(teacher.person.email.lower())
    assert any("Λάθος σχολείο." in (m.get("html") or m.get("text") or "") for m in mail), mail


def test_a_project_its_image_and_its_forms_are_not_for_strangers(browser: Browser) -> None:
    # Given a draft with an image, and a teacher who is not in the project
    _, owner, partner, school = _pair_with_contact(browser)
    project_id = browser.post(
        f"{API}/projects", json=project_body(school, partner.account_id), headers=owner.auth
    ).json["project_id"]
    image = browser.put(
        f"{API}/projects/{project_id}/image", body=png(), headers={**owner.auth, "Content-Type": "image/png"}
    )
    assert image.status == 200, image.text
    stranger = register(browser, [school])
    as_member(browser, stranger)

    # When the stranger opens the project, its image, or posts an image to it
    page = browser.get(f"{PAGES}/projects/{project_id}", html=True)
    picture = browser.get(f"{PAGES}/projects/{project_id}/image", headers={"Accept": "image/*,*/*"})
    profile = open_page(browser, f"{PAGES}/profile")
    posted = upload(browser, f"{PAGES}/projects/{project_id}/image", "image", png(), "image/png", csrf_of(profile))

    # Then each is not found, and the owner's image is unchanged
    assert page.status == 404 and picture.status == 404 and posted.status == 404
    as_member(browser, owner)
    assert browser.get(f"{PAGES}/projects/{project_id}/image", headers={"Accept": "image/*,*/*;q=0.8"}).body == png()


def test_a_form_page_outside_the_realm_is_not_where_a_browser_is_sent(browser: Browser) -> None:
    # Given a teacher on her profile
    teacher = register(browser, [organisation(browser, "Γυμνάσιο Αμοργού", city="Αμοργός")])
    as_member(browser, teacher)
    page = open_page(browser, f"{PAGES}/profile")

    # When a saved form names another site, another realm, or a split header as its page
    for target in (
        "https://evil.example/x",
        "//evil.example/x",
        "/realms/eiep/home",
        "/realms/esep/x\r\nSet-Cookie: a=b",
    ):
        form = {"csrf_token": csrf_of(page), "form_page": target, "bio": "x"}
        answer = browser.post(f"{API}/me/profile", form=form, html=True)

        # Then the browser goes to the profile instead
        assert answer.status == 303 and answer.location == f"{PAGES}/profile", target


def test_the_desk_is_only_for_nso_administrators(browser: Browser) -> None:
    # Given a teacher who is not an NSO
    teacher = register(browser, [organisation(browser, "Γυμνάσιο Πάτμου", city="Πάτμος")])
    as_member(browser, teacher)

    # When she opens the desk, Then it is refused, and her navigation has no desk link
    assert browser.get(f"{PAGES}/admin/desk", html=True).status == 403
    assert "/admin/desk" not in open_page(browser, f"{PAGES}/profile").text


# --- names, not codes ----------------------------------------------------------------------------


def test_country_choices_show_names_in_the_page_language(browser: Browser) -> None:
    # Given a person back from EU Login
    flow, page = browser.eulogin_flow(browser.new_eulogin_person("GR"))

    # When the registration page is read in Greek and in English
    greek = open_page(browser, f"{page}?flow={flow}")
    english = open_page(browser, f"{page}?flow={flow}&lang=en")

    # Then the countries are names in that language, the values codes
    assert '<option value="GR" selected>Ελλάδα</option>' in greek.text
    assert '<option value="GR" selected>Greece</option>' in english.text
    assert ">GR<" not in greek.text
