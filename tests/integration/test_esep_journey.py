"""Realm esep over real HTTP parts: EU Login stand-in (PS512, PKCE, client_secret_jwt),
moto, SES, Chalice — seed 003 «Α. Εγγραφή», national validation, projects and pupils."""

from __future__ import annotations

import re

import pytest

from chalicelib.domain.accounts import normalise_email
from tests.support.browser import Browser
from tests.support.esep import (
    API,
    active_teacher,
    nso,
    organisation,
    project_body,
    register,
    sign_in,
    validate,
)


def test_a_teacher_registers_through_eulogin_and_signs_in_later_with_one_session_per_flow(browser: Browser) -> None:
    # Given a school registered during the flow and a new EU Login user
    school = organisation(browser, "2ο Γυμνάσιο Άνδρου", city="Άνδρος")
    person = browser.new_eulogin_person("GR", given_name="Ελένη", family_name="Αντωνίου")

    # When she comes back from EU Login for the first time
    flow, page = browser.eulogin_flow(person)
    shown = browser.get(f"{API}/flows/{flow}")

    # Then she is sent to the registration page and the flow shows EU Login's identity
    assert page == "/realms/esep/register"
    assert shown.status == 200, shown.text
    assert shown.json["intent"] == "register"
    assert shown.json["identity"] == {
        "sub": person.sub,
        "email": person.email,
        "given_name": "Ελένη",
        "family_name": "Αντωνίου",
    }
    assert shown.json["legacy_account"] is None

    # When she registers as a teacher joining eTwinning with that school
    registered = browser.post(
        f"{API}/registrations",
        json={
            "flow": flow,
            "role": "teacher",
            "country": "gr",
            "join_etwinning": True,
            "organisation_ids": [school],
            "subjects": ["Μαθηματικά"],
        },
    )

    # Then she has an account waiting for national validation, and a session
    assert registered.status == 201, registered.text
    assert registered.json["status"] == "registered"
    token = registered.json["access_token"]
    mine = browser.get(f"{API}/me/etwinning", headers={"Authorization": f"Bearer {token}"})
    assert mine.status == 200, mine.text
    assert mine.json["status"] == "registered" and mine.json["country"] == "GR"
    assert [o["name"] for o in mine.json["organisations"]] == ["2ο Γυμνάσιο Άνδρου"]

    # And the flow cannot register twice
    again = browser.post(
        f"{API}/registrations",
        json={"flow": flow, "role": "teacher", "country": "GR", "organisation_ids": [school], "subjects": ["x"]},
    )
    assert again.status == 409 and again.json["code"] == "flow_used"

    # When she signs in through EU Login again
    flow2, page2 = browser.eulogin_flow(person)

    # Then she goes home, and the flow gives exactly one session
    assert page2 == "/realms/esep/home"
    assert browser.get(f"{API}/flows/{flow2}").json["intent"] == "login"
    first = browser.post(f"{API}/sessions", json={"flow": flow2})
    second = browser.post(f"{API}/sessions", json={"flow": flow2})
    assert first.status == 201, first.text
    assert second.status == 409 and second.json["code"] == "flow_used"


def test_the_profile_form_demands_what_each_role_needs(browser: Browser) -> None:
    # Given a new EU Login user
    flow, _ = browser.eulogin_flow(browser.new_eulogin_person("FR"))

    # When a teacher names no school and no subject, in a country eTwinning does not have
    refused = browser.post(
        f"{API}/registrations",
        json={"flow": flow, "role": "teacher", "country": "US", "join_etwinning": True},
    )

    # Then each problem is named
    assert refused.status == 422
    assert set(refused.json["errors"]) == {"country", "organisation_ids", "subjects"}

    # When company staff asks to join eTwinning
    company = browser.post(
        f"{API}/registrations",
        json={"flow": flow, "role": "company_staff", "country": "FR", "join_etwinning": True},
    )

    # Then only school roles may
    assert company.status == 422
    assert "join_etwinning" in company.json["errors"]

    # And the role "other" needs nothing more
    other = browser.post(f"{API}/registrations", json={"flow": flow, "role": "other", "country": "FR"})
    assert other.status == 201, other.text


def test_the_nso_validates_users_and_organisations_of_its_country_only(browser: Browser) -> None:
    # Given a teacher of a new school in Greece, and the NSOs of Greece and Cyprus
    school = organisation(browser, "Δημοτικό Σχολείο Σίφνου", city="Σίφνος")
    teacher = register(browser, [school])
    greek, cypriot = nso(browser, "GR"), nso(browser, "CY")

    # When the Greek NSO opens its list
    pending = browser.get(f"{API}/admin/pending", headers=greek.auth)

    # Then both wait there, and nothing of Greece waits for Cyprus
    assert pending.status == 200, pending.text
    assert teacher.account_id in [u["account_id"] for u in pending.json["users"]]
    assert school in [o["organisation_id"] for o in pending.json["organisations"]]
    elsewhere = browser.get(f"{API}/admin/pending", headers=cypriot.auth).json
    assert teacher.account_id not in [u["account_id"] for u in elsewhere["users"]]

    # When Cyprus tries to validate the Greek teacher, and the teacher tries the NSO's list
    foreign = browser.post(
        f"{API}/admin/users/{teacher.account_id}/validation", json={"decision": "validate"}, headers=cypriot.auth
    )
    not_nso = browser.get(f"{API}/admin/pending", headers=teacher.auth)

    # Then neither may
    assert foreign.status == 404
    assert not_nso.status == 403 and not_nso.json["code"] == "forbidden"

    # When Greece rejects without a reason
    unreasoned = browser.post(
        f"{API}/admin/users/{teacher.account_id}/validation", json={"decision": "reject"}, headers=greek.auth
    )
    assert unreasoned.status == 422 and "reason" in unreasoned.json["errors"]

    # When Greece validates the school and the teacher
    validate(browser, greek, organisations=[school], users=[teacher.account_id])

    # Then they leave the list, the teacher is active and was told by mail
    after = browser.get(f"{API}/admin/pending", headers=greek.auth).json
    assert teacher.account_id not in [u["account_id"] for u in after["users"]]
    assert school not in [o["organisation_id"] for o in after["organisations"]]
    me = browser.get(f"{API}/me/etwinning", headers=teacher.auth).json
    assert me["status"] == "active" and me["organisations"][0]["status"] == "validated"
    mails = browser.mail_to(normalise_email(teacher.person.email))
    assert any("επικυρώθηκε" in mail["subject"] for mail in mails), [m["subject"] for m in mails]


def test_a_non_etwinning_organisation_asks_for_validation_and_the_nso_adds_it(browser: Browser) -> None:
    # Given a validated school outside the eTwinning list and one of its teachers
    admin = nso(browser, "GR")
    school = organisation(browser, "Ιδιωτικό Εκπαιδευτήριο Ρόδου", city="Ρόδος")
    validate(browser, admin, organisations=[school])
    teacher = register(browser, [school])

    # When the teacher requests eTwinning validation for it
    asked = browser.post(f"{API}/me/organisations/{school}/validation-requests", headers=teacher.auth)

    # Then it waits in the NSO's list, and validating puts it in eTwinning
    assert asked.status == 202, asked.text
    assert asked.json["etwinning_requested"] is True
    waiting = browser.get(f"{API}/admin/pending", headers=admin.auth).json["organisations"]
    assert school in [o["organisation_id"] for o in waiting]
    validate(browser, admin, organisations=[school])
    found = browser.get(f"{API}/organisations?q=ΡΟΔΟΥ&country=GR").json["organisations"]
    assert [o["etwinning"] for o in found if o["organisation_id"] == school] == [True]


def test_organisations_are_found_without_accents_or_case_and_can_be_left_and_rejoined(browser: Browser) -> None:
    # Given a school with accents in its name and a teacher in it
    school = organisation(browser, "Γυμνάσιο Άνω Σύρου", city="Σύρος")
    teacher = register(browser, [school])

    # When someone searches without accents, in capitals
    found = browser.get(f"{API}/organisations?q=ΑΝΩ%20ΣΥΡΟΥ")

    # Then the school is found
    assert found.status == 200
    assert school in [o["organisation_id"] for o in found.json["organisations"]]

    # When the teacher leaves it and joins it again
    left = browser.delete(f"{API}/me/organisations/{school}", headers=teacher.auth)
    rejoined = browser.post(f"{API}/me/organisations", json={"organisation_id": school}, headers=teacher.auth)

    # Then both work
    assert left.status == 204
    assert rejoined.status == 201 and [o["organisation_id"] for o in rejoined.json["organisations"]] == [school]


def test_people_search_shows_only_those_who_allow_it_and_contacts_come_and_go(browser: Browser) -> None:
    # Given two teachers, one of whom hides from search
    school = organisation(browser, "Λύκειο Νάξου", city="Νάξος")
    seeker = register(browser, [school])
    shown = register(browser, [school], person=browser.new_eulogin_person("GR", family_name="Ζαφειρίου"))
    hidden = register(browser, [school], person=browser.new_eulogin_person("GR", family_name="Ζαφειρίου"))
    assert browser.request("PATCH", f"{API}/me", json={"searchable": False}, headers=hidden.auth).status == 200

    # When the seeker searches by surname without accents
    people = browser.get(f"{API}/people?q=ζαφειριου&country=GR", headers=seeker.auth)

    # Then only the one who allows it is found
    assert people.status == 200, people.text
    ids = [p["account_id"] for p in people.json["people"]]
    assert shown.account_id in ids and hidden.account_id not in ids

    # When the seeker adds and removes that contact
    added = browser.post(f"{API}/me/contacts", json={"account_id": shown.account_id}, headers=seeker.auth)
    removed = browser.delete(f"{API}/me/contacts/{shown.account_id}", headers=seeker.auth)
    hidden_add = browser.post(f"{API}/me/contacts", json={"account_id": hidden.account_id}, headers=seeker.auth)

    # Then the contact list follows, and a hidden person cannot be added
    assert added.status == 201 and added.json["contacts"] == [shown.account_id]
    assert removed.status == 204
    assert browser.get(f"{API}/me/etwinning", headers=seeker.auth).json["contacts"] == []
    assert hidden_add.status == 404


def test_a_project_goes_from_draft_to_active_and_its_pupils_see_only_it(browser: Browser) -> None:
    # Given two active teachers of validated schools in Greece, contacts of each other
    admin = nso(browser, "GR")
    school_a = organisation(browser, "1ο Γυμνάσιο Χανίων", city="Χανιά")
    school_b = organisation(browser, "3ο Γυμνάσιο Βόλου", city="Βόλος")
    validate(browser, admin, organisations=[school_a, school_b])
    owner = active_teacher(browser, admin, school_a)
    partner = active_teacher(browser, admin, school_b)
    assert browser.post(f"{API}/me/contacts", json={"account_id": partner.account_id}, headers=owner.auth).status == 201

    # When the owner creates a draft, previews and submits it
    draft = browser.post(f"{API}/projects", json=project_body(school_a, partner.account_id), headers=owner.auth)
    assert draft.status == 201, draft.text
    project = draft.json["project_id"]
    preview = browser.get(f"{API}/projects/{project}", headers=owner.auth)
    submitted = browser.post(f"{API}/projects/{project}/submit", headers=owner.auth)

    # Then the partner is invited by mail
    assert preview.status == 200 and preview.json["status"] == "draft"
    assert submitted.status == 200 and submitted.json["status"] == "submitted"
    invitations = browser.mail_to(normalise_email(partner.person.email))
    assert any("Τα νερά της Ευρώπης" in mail["subject"] for mail in invitations)

    # When the partner accepts and the NSO approves
    accepted = browser.post(f"{API}/projects/{project}/invitation", json={"decision": "accept"}, headers=partner.auth)
    waiting = browser.get(f"{API}/admin/pending", headers=admin.auth).json["projects"]
    approved = browser.post(
        f"{API}/admin/projects/{project}/approval", json={"decision": "approve"}, headers=admin.auth
    )

    # Then the project is active with both teachers as members
    assert accepted.status == 200 and accepted.json["status"] == "accepted"
    assert project in [p["project_id"] for p in waiting]
    assert approved.status == 200 and approved.json["status"] == "active"
    active = browser.get(f"{API}/projects/{project}", headers=partner.auth).json
    assert set(active["members"]) == {owner.account_id, partner.account_id}

    # When the owner creates a pupil login and the pupil signs in
    pupil = browser.post(f"{API}/projects/{project}/pupils", json={"display_name": "Νίκος Π."}, headers=owner.auth)
    assert pupil.status == 201, pupil.text
    credentials = {"username": pupil.json["username"], "password": pupil.json["password"]}
    session = browser.post(f"{API}/pupil-sessions", json=credentials)
    assert session.status == 201, session.text
    pupil_auth = {"Authorization": f"Bearer {session.json['access_token']}"}

    # Then the pupil sees the project, but not another project nor the members' area
    assert browser.get(f"{API}/projects/{project}", headers=pupil_auth).status == 200
    other = browser.post(
        f"{API}/projects", json=project_body(school_a, partner.account_id, title="Άλλο έργο"), headers=owner.auth
    ).json["project_id"]
    assert browser.get(f"{API}/projects/{other}", headers=pupil_auth).status == 404
    assert browser.get(f"{API}/people?q=x", headers=pupil_auth).status == 404
    wrong = browser.post(f"{API}/pupil-sessions", json={**credentials, "password": "wrong-pass-word"})
    assert wrong.status == 401

    # And the pupils' page of the realm signs a pupil in with the same credentials
    login_page = browser.get("/realms/esep/login", html=True)
    assert login_page.status == 200 and "Είσοδος μαθητή" in login_page.text
    assert f'action="{API}/pupil-sessions"' in login_page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text)
    assert csrf is not None
    form = {"csrf_token": csrf.group(1), "form_page": "/realms/esep/login", **credentials}
    signed_in = browser.post(f"{API}/pupil-sessions", form=form, html=True)
    assert signed_in.status == 303 and signed_in.location.endswith("/realms/esep/home")


def test_a_declined_invitation_ends_the_project_and_tells_the_owner(browser: Browser) -> None:
    # Given a submitted project
    admin = nso(browser, "GR")
    school = organisation(browser, "Γυμνάσιο Καλύμνου", city="Κάλυμνος")
    validate(browser, admin, organisations=[school])
    owner, partner = active_teacher(browser, admin, school), active_teacher(browser, admin, school)
    browser.post(f"{API}/me/contacts", json={"account_id": partner.account_id}, headers=owner.auth)
    project = browser.post(f"{API}/projects", json=project_body(school, partner.account_id), headers=owner.auth)
    project_id = project.json["project_id"]
    browser.post(f"{API}/projects/{project_id}/submit", headers=owner.auth)

    # When the partner declines (and the owner tries to answer for them)
    impostor = browser.post(f"{API}/projects/{project_id}/invitation", json={"decision": "accept"}, headers=owner.auth)
    declined = browser.post(
        f"{API}/projects/{project_id}/invitation", json={"decision": "decline"}, headers=partner.auth
    )

    # Then only the partner could answer, the project is declined and the owner knows
    assert impostor.status == 404
    assert declined.status == 200 and declined.json["status"] == "declined"
    assert any("απορρίφθηκε" in m["subject"] for m in browser.mail_to(normalise_email(owner.person.email)))
    approval = browser.post(
        f"{API}/admin/projects/{project_id}/approval", json={"decision": "approve"}, headers=admin.auth
    )
    assert approval.status == 422


def test_a_legacy_account_with_the_same_email_is_migrated_once_when_confirmed(browser: Browser) -> None:
    # Given a legacy eTwinning account loaded by an operator, with a validated school
    from datetime import UTC, datetime

    from chalicelib.container import services
    from chalicelib.domain.esep import EsepRole, LegacyMember

    admin = nso(browser, "GR")
    school = organisation(browser, "Γυμνάσιο Λέρου", city="Λέρος")
    validate(browser, admin, organisations=[school])
    person = browser.new_eulogin_person("GR")
    services().ports.esep.put_legacy(
        LegacyMember(
            email=normalise_email(person.email),
            given_name="Ελένη",
            family_name="Αντωνίου",
            country="GR",
            role=EsepRole.TEACHER,
            created_at=datetime(2015, 9, 1, tzinfo=UTC),
            organisation_ids=(school,),
            subjects=("Ιστορία",),
            bio="Καθηγήτρια από το 2005.",
            available_for_projects=True,
        )
    )

    # When the person with that e-mail comes from EU Login
    flow, _ = browser.eulogin_flow(person)
    offered = browser.get(f"{API}/flows/{flow}").json["legacy_account"]

    # Then the old account is offered
    assert offered is not None and offered["organisations"] == 1

    # When she confirms the migration
    registered = browser.post(
        f"{API}/registrations",
        json={"flow": flow, "role": "teacher", "country": "GR", "migrate_legacy": True},
    )

    # Then profile and organisations came over, and the old account is gone
    assert registered.status == 201, registered.text
    assert registered.json["migrated"] is True
    auth = {"Authorization": f"Bearer {registered.json['access_token']}"}
    me = browser.get(f"{API}/me/etwinning", headers=auth).json
    assert [o["organisation_id"] for o in me["organisations"]] == [school]
    assert me["subjects"] == ["Ιστορία"] and me["bio"] == "Καθηγήτρια από το 2005."
    assert services().ports.esep.get_legacy(normalise_email(person.email)) is None


def test_a_declined_migration_is_not_offered_again(browser: Browser) -> None:
    # Given a legacy account and a person with its e-mail who declines
    from datetime import UTC, datetime

    from chalicelib.container import services
    from chalicelib.domain.esep import EsepRole, LegacyMember

    person = browser.new_eulogin_person("GR")
    services().ports.esep.put_legacy(
        LegacyMember(
            email=normalise_email(person.email),
            given_name="Νίκος",
            family_name="Ρήγας",
            country="GR",
            role=EsepRole.OTHER,
            created_at=datetime(2016, 1, 1, tzinfo=UTC),
        )
    )
    flow, _ = browser.eulogin_flow(person)
    assert browser.get(f"{API}/flows/{flow}").json["legacy_account"] is not None
    registered = browser.post(f"{API}/registrations", json={"flow": flow, "role": "other", "country": "GR"})
    assert registered.status == 201 and registered.json["migrated"] is False

    # When she signs in again
    again, page = browser.eulogin_flow(person)

    # Then she simply goes home; the offer is not repeated to anyone
    assert page == "/realms/esep/home"
    assert browser.get(f"{API}/flows/{again}").json["legacy_account"] is None
    legacy = services().ports.esep.get_legacy(normalise_email(person.email))
    assert legacy is not None and legacy.declined_by == person.sub


def test_sign_in_refuses_what_eulogin_did_not_really_sign(browser: Browser) -> None:
    # Given an EU Login that answers with a defective ID token, one defect at a time
    assert browser.eulogin is not None
    person = browser.new_eulogin_person("GR")
    for defect in ({"audience": "someone-else"}, {"expired": True}, {"nonce": "wrong"}, {"unknown_key": True}):
        with browser.eulogin.behaving(**defect):
            # When the browser comes back with the code
            callback = browser.callback(browser.eulogin.authorize(browser.start_eulogin(), person))

        # Then no flow is made: the sign-in is refused as an identity-provider error
        assert callback.status == 400, (defect, callback.text)
        assert "flow=" not in callback.text

    # When a good callback is replayed
    good = browser.eulogin.authorize(browser.start_eulogin(), person)
    first, replay = browser.callback(good), browser.callback(good)

    # Then only the first one counts
    assert first.status == 303
    assert replay.status == 400


def test_tampered_pkce_is_refused_by_the_provider(browser: Browser) -> None:
    # Given a sign-in whose authorize URL lost its PKCE challenge on the way
    assert browser.eulogin is not None
    authorize = browser.start_eulogin()
    stripped = authorize.replace("code_challenge=", "x_code_challenge=")

    # When EU Login is asked with it
    callback = browser.eulogin.authorize(stripped, browser.new_eulogin_person("GR"))

    # Then EU Login refuses, and Mitroo shows the refusal, not a session
    assert "error=" in callback
    answered = browser.callback(callback)
    assert answered.status == 400


def test_other_realms_have_no_esep_routes_and_esep_has_no_password_login(browser: Browser) -> None:
    # When eTwinning routes are asked of e-IEP, and a password login of esep
    foreign = browser.get("/api/v1/realms/eiep/organisations?q=x")
    password = browser.post(f"{API}/sessions", json={"username": "someone", "password": "secret-secret"})

    # Then they do not exist there: 404, and a 422 naming the flow esep needs
    assert foreign.status == 404
    assert password.status == 422 and "flow" in password.json["errors"]


def test_sign_in_again_after_registration_keeps_the_same_account(browser: Browser) -> None:
    # Given a registered member
    member = register(browser, [], role="other")

    # When she signs in through EU Login again
    again = sign_in(browser, member.person, member.account_id)

    # Then it is the same account
    me = browser.get(f"{API}/me/etwinning", headers=again.auth)
    assert me.status == 200 and me.json["account_id"] == member.account_id


def test_a_browser_registers_on_the_page_after_eulogin_and_comes_back_signed_in(browser: Browser) -> None:
    # Given a person back from EU Login for the first time, whose school is not listed yet
    person = browser.new_eulogin_person("GR", given_name="Μαρία", family_name="Βλάχου")
    flow, page = browser.eulogin_flow(person)
    shown = browser.get(f"{page}?flow={flow}&q=Αμοργού", html=True)
    assert shown.status == 200, shown.text
    assert "Μαρία Βλάχου" in shown.text and person.email in shown.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
    assert csrf is not None
    form_page = f"{page}?flow={flow}&q=Αμοργού"

    # When she registers the school from the page
    created = browser.post(
        f"{API}/organisations",
        form={"csrf_token": csrf.group(1), "form_page": form_page, "flow": flow, "name": "Γυμνάσιο Αμοργού",
              "city": "Αμοργός", "country": "GR", "kind": "school"},
        html=True,
    )  # fmt: skip

    # Then she is back on the form, the school found (searched without accents)
    assert created.status == 303, created.text
    back = browser.get(created.location, html=True)
    school = re.search(r'name="organisation_ids" value="([0-9a-f]+)"', back.text)
    assert school is not None, back.text

    # When she finishes as a teacher but forgets her subjects
    fields = {"csrf_token": csrf.group(1), "form_page": form_page, "flow": flow, "organisation_ids": school.group(1),
              "role": "teacher", "country": "GR", "join_etwinning": "true"}  # fmt: skip
    refused = browser.post(f"{API}/registrations", form=fields, html=True)

    # Then the form comes back with the problem and her choices kept
    assert refused.status == 422, refused.text
    assert 'id="subjects-error"' in refused.text and '<option value="teacher" selected>' in refused.text

    # When she gives them
    posted = browser.post(f"{API}/registrations", form={**fields, "subjects": "Μαθηματικά, Φυσική"}, html=True)

    # Then she is signed in at home, a member waiting for validation
    assert posted.status == 303, posted.text
    assert posted.location.endswith("/realms/esep/home")
    me = browser.get(f"{API}/me/etwinning")
    assert me.status == 200 and me.json["subjects"] == ["Μαθηματικά", "Φυσική"]
    assert me.json["status"] == "registered" and me.json["join_etwinning"] is True

    # When she signs in again later, the callback's home page asks her to continue
    browser.jar.clear()
    again, home = browser.eulogin_flow(person)
    landed = browser.get(f"{home}?flow={again}", html=True)
    assert landed.status == 200 and 'name="flow"' in landed.text
    assert browser.get(f"{API}/me/etwinning").status == 401  # opening the page signed nobody in

    # Then its button opens the session, once
    fields = {"flow": again, "csrf_token": browser.jar["mitroo_csrf"], "form_page": f"{home}?flow={again}"}
    continued = browser.post(f"{API}/sessions", form=fields, html=True)
    assert continued.status == 303 and continued.location.endswith("/realms/esep/home")
    assert browser.get(f"{API}/me/etwinning").status == 200
    assert browser.post(f"{API}/sessions", form=fields, html=True).status == 409


@pytest.mark.parametrize(
    ("rule", "candidate_setup"),
    [
        ("not_active", {"validated": False}),
        ("not_teacher", {"role": "head_teacher"}),
        ("not_available_for_projects", {"available_for_projects": False}),
        ("organisation_not_validated", {"school_validated": False}),
    ],
)
def test_each_eligibility_rule_failing_alone_is_named(browser: Browser, rule: str, candidate_setup: dict) -> None:
    # Given an active project
    admin = nso(browser, "GR")
    school = organisation(browser, "Γυμνάσιο Τήνου", city="Τήνος")
    validate(browser, admin, organisations=[school])
    owner, partner = active_teacher(browser, admin, school), active_teacher(browser, admin, school)
    browser.post(f"{API}/me/contacts", json={"account_id": partner.account_id}, headers=owner.auth)
    project = browser.post(f"{API}/projects", json=project_body(school, partner.account_id), headers=owner.auth)
    project_id = project.json["project_id"]
    browser.post(f"{API}/projects/{project_id}/submit", headers=owner.auth)
    browser.post(f"{API}/projects/{project_id}/invitation", json={"decision": "accept"}, headers=partner.auth)
    approved = browser.post(
        f"{API}/admin/projects/{project_id}/approval", json={"decision": "approve"}, headers=admin.auth
    )
    assert approved.json["status"] == "active"

    # And a candidate who fails exactly one rule
    their_school = school
    if candidate_setup.get("school_validated") is False:
        their_school = organisation(browser, "Νέο Σχολείο Τήνου", city="Τήνος")
    candidate = register(
        browser,
        [their_school],
        role=candidate_setup.get("role", "teacher"),
        available_for_projects=candidate_setup.get("available_for_projects", True),
    )
    if candidate_setup.get("validated", True):
        validate(browser, admin, users=[candidate.account_id])

    # When the owner adds the candidate
    added = browser.post(
        f"{API}/projects/{project_id}/members", json={"account_id": candidate.account_id}, headers=owner.auth
    )

    # Then the refusal names that rule, and only it
    assert added.status == 422, added.text
    assert added.json["code"] == "not_eligible"
    assert added.json["errors"]["rules"] == [rule]
