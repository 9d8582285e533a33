"""The esep POSTs that create run once per request (SPEC §3): a client retrying with the same
``Idempotency-Key`` gets the first organisation or project again, not a second one; another
key, or another person, creates anew."""

from __future__ import annotations

import itertools
import random
import threading
from typing import Any
from urllib.parse import urlencode

from tests.support.browser import Browser, unique_email
from tests.support.esep import API, Member, active_teacher, nso, organisation, project_body, register, validate

_seeds = itertools.count(random.randrange(10**6, 10**7))


def school_body(**overrides: Any) -> dict[str, Any]:
    """A new school with a name no other test uses (so searching it counts only ours)."""
    body: dict[str, Any] = {
        "name": f"Γυμνάσιο Ιδεμποτίας {next(_seeds)}",
        "city": "Σκιάθος",
        "country": "GR",
        "kind": "school",
        "etwinning": False,
    }
    body.update(overrides)
    return body


def search(browser: Browser, name: str) -> list[str]:
    """The ids of the organisations of exactly this name, as the search finds them."""
    found = browser.get(f"{API}/organisations?{urlencode({'q': name, 'country': 'GR'})}")
    assert found.status == 200, found.text
    return [o["organisation_id"] for o in found.json["organisations"] if o["name"] == name]


def projects_of(owner: Member) -> list[str]:
    """Every project stored with this owner, read from the table itself (there is no
    listing endpoint to ask)."""
    import boto3

    from chalicelib.container import services

    settings = services().settings
    table = boto3.resource("dynamodb", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url).Table(
        settings.table_name
    )
    ids: list[str] = []
    scan: dict[str, Any] = {
        "FilterExpression": "owner_id = :owner AND begins_with(PK, :project)",
        "ExpressionAttributeValues": {":owner": owner.account_id, ":project": "PROJECT#"},
    }
    while True:
        page = table.scan(**scan)
        ids.extend(str(item["project_id"]) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(ids)
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def teacher(browser: Browser) -> Member:
    """A registered member of a new school (enough to register organisations)."""
    return register(browser, [organisation(browser, f"Δημοτικό {next(_seeds)}")])


def test_the_same_organisation_request_with_the_same_key_creates_one(browser: Browser) -> None:
    # Given a member and the form of a new school
    member = teacher(browser)
    body = school_body()
    headers = {**member.auth, "Idempotency-Key": f"org-{next(_seeds)}"}

    # When the client sends it twice with one Idempotency-Key (it never saw the first answer)
    first = browser.post(f"{API}/organisations", json=body, headers=headers)
    retry = browser.post(f"{API}/organisations", json=body, headers=headers)

    # Then both answers are the same organisation, and only one exists
    assert first.status == retry.status == 201, (first.text, retry.text)
    assert retry.json == first.json
    assert search(browser, body["name"]) == [first.json["organisation_id"]]


def test_different_keys_create_two_organisations(browser: Browser) -> None:
    # Given a member who really means to register two schools of the same name
    member = teacher(browser)
    body = school_body()

    # When each request carries its own key
    first = browser.post(f"{API}/organisations", json=body, headers={**member.auth, "Idempotency-Key": "a-1"})
    second = browser.post(f"{API}/organisations", json=body, headers={**member.auth, "Idempotency-Key": "a-2"})

    # Then there are two
    assert first.status == second.status == 201, (first.text, second.text)
    assert first.json["organisation_id"] != second.json["organisation_id"]
    assert sorted(search(browser, body["name"])) == sorted(
        [first.json["organisation_id"], second.json["organisation_id"]]
    )


def test_two_people_with_the_same_key_and_body_never_share_an_organisation(browser: Browser) -> None:
    # Given two members whose clients happen to choose the same key for the same form
    one, other = teacher(browser), teacher(browser)
    body = school_body()
    key = f"shared-{next(_seeds)}"

    # When each sends it
    first = browser.post(f"{API}/organisations", json=body, headers={**one.auth, "Idempotency-Key": key})
    second = browser.post(f"{API}/organisations", json=body, headers={**other.auth, "Idempotency-Key": key})

    # Then each gets an organisation of their own (neither the other's answer nor a refusal)
    assert first.status == second.status == 201, (first.text, second.text)
    assert first.json["organisation_id"] != second.json["organisation_id"]


def test_a_key_reused_for_another_organisation_is_refused(browser: Browser) -> None:
    member = teacher(browser)
    headers = {**member.auth, "Idempotency-Key": f"reuse-{next(_seeds)}"}
    first = browser.post(f"{API}/organisations", json=school_body(), headers=headers)
    other = browser.post(f"{API}/organisations", json=school_body(), headers=headers)
    assert first.status == 201, first.text
    assert other.status == 422 and "Idempotency-Key" in other.json["errors"]


def test_an_organisation_registered_during_sign_up_is_created_once_per_flow(browser: Browser) -> None:
    # Given two people in the middle of registration, each with an EU Login flow
    flows = [browser.eulogin_flow(browser.new_eulogin_person("GR"))[0] for _ in range(2)]
    body = school_body()
    key = f"signup-{next(_seeds)}"

    # When the first sends the new school twice with a key, and the second the same form with the same key
    first = browser.post(f"{API}/organisations", json={**body, "flow": flows[0]}, headers={"Idempotency-Key": key})
    retry = browser.post(f"{API}/organisations", json={**body, "flow": flows[0]}, headers={"Idempotency-Key": key})
    other = browser.post(f"{API}/organisations", json={**body, "flow": flows[1]}, headers={"Idempotency-Key": key})

    # Then the retry is the first school, and the other person has one of their own
    assert first.status == retry.status == other.status == 201, (first.text, retry.text, other.text)
    assert retry.json["organisation_id"] == first.json["organisation_id"]
    assert other.json["organisation_id"] != first.json["organisation_id"]
    assert len(search(browser, body["name"])) == 2


def two_teachers(browser: Browser) -> tuple[Member, Member, str]:
    """An active owner with an active partner among her contacts, and their validated school."""
    admin = nso(browser, "GR")
    school = organisation(browser, f"Γυμνάσιο Σκοπέλου {next(_seeds)}", city="Σκόπελος")
    validate(browser, admin, organisations=[school])
    owner, partner = active_teacher(browser, admin, school), active_teacher(browser, admin, school)
    assert browser.post(f"{API}/me/contacts", json={"account_id": partner.account_id}, headers=owner.auth).status == 201
    return owner, partner, school


def test_the_same_project_request_with_the_same_key_creates_one_draft(browser: Browser) -> None:
    # Given an owner ready to create a project
    owner, partner, school = two_teachers(browser)
    body = project_body(school, partner.account_id)
    headers = {**owner.auth, "Idempotency-Key": f"project-{next(_seeds)}"}

    # When the client sends the request twice with one key
    first = browser.post(f"{API}/projects", json=body, headers=headers)
    retry = browser.post(f"{API}/projects", json=body, headers=headers)

    # Then both answers name the same draft, and it is the only one
    assert first.status == retry.status == 201, (first.text, retry.text)
    assert retry.json["project_id"] == first.json["project_id"]
    assert retry.json == first.json
    assert projects_of(owner) == [first.json["project_id"]]


def test_different_keys_create_two_projects(browser: Browser) -> None:
    # Given an owner ready to create a project
    owner, partner, school = two_teachers(browser)
    body = project_body(school, partner.account_id)

    # When she sends the same project with two keys
    first = browser.post(f"{API}/projects", json=body, headers={**owner.auth, "Idempotency-Key": "p-1"})
    second = browser.post(f"{API}/projects", json=body, headers={**owner.auth, "Idempotency-Key": "p-2"})

    # Then there are two drafts
    assert first.status == second.status == 201, (first.text, second.text)
    assert first.json["project_id"] != second.json["project_id"]
    assert projects_of(owner) == sorted([first.json["project_id"], second.json["project_id"]])


def test_a_refused_project_is_not_remembered(browser: Browser) -> None:
    # Given a project refused (a partner who is not a contact), sent with a key
    owner, _partner, school = two_teachers(browser)
    stranger = register(browser, [school])
    headers = {**owner.auth, "Idempotency-Key": f"refused-{next(_seeds)}"}
    refused = browser.post(f"{API}/projects", json=project_body(school, stranger.account_id), headers=headers)
    assert refused.status == 422, refused.text

    # When the same request comes again
    again = browser.post(f"{API}/projects", json=project_body(school, stranger.account_id), headers=headers)

    # Then it is judged again (and refused again), and no draft exists
    assert again.status == 422 and again.json["errors"] == refused.json["errors"]
    assert projects_of(owner) == []


def test_a_project_refused_then_sent_again_after_adding_the_contact_is_created_while_tasks_run(
    browser: Browser,
) -> None:
    """Issue 12 through the test client: the task worker runs in a thread of its own (as
    ``make run``'s does, and as concurrent Lambda invocations do) while a second client
    keeps queueing mail; the retry of a refused project is judged again every time."""
    owner, _partner, school = two_teachers(browser)
    admin = nso(browser, "GR")
    partners = [active_teacher(browser, admin, school) for _ in range(20)]
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set():
            browser.run_tasks()

    def busy() -> None:
        other = Browser(browser.client, browser.gsis, browser.pump, browser.eulogin)
        while not stop.is_set():
            other.address = f"192.0.2.{next(_seeds) % 250 + 1}"  # no per-address limit stops it
            email = unique_email("busy")
            body = {"topic": "technical", "email": email, "description": "Δεν λαμβάνω το email ενεργοποίησης."}
            other.post("/api/v1/realms/eiep/support-tickets", json=body)

    threads = [threading.Thread(target=pump, daemon=True), threading.Thread(target=busy, daemon=True)]
    for thread in threads:
        thread.start()
    seen: list[tuple[int, int, int]] = []
    try:
        for n, partner in enumerate(partners):
            body = project_body(school, partner.account_id, title=f"Τα νερά της Ευρώπης {n}")
            # When the owner names a partner not yet a contact, adds them, and sends it again
            refused = browser.post(f"{API}/projects", json=body, headers=owner.auth)
            added = browser.post(f"{API}/me/contacts", json={"account_id": partner.account_id}, headers=owner.auth)
            again = browser.post(f"{API}/projects", json=body, headers=owner.auth)
            seen.append((refused.status, added.status, again.status))
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)

    # Then every journey ends with the project created
    assert seen == [(422, 201, 201)] * 20
