"""EU Login subjects are case-sensitive (OIDC Core §2: ``sub`` is compared as a string)
(issue 11 §6).

The sign-in looked accounts up by the casefolded ``sub``, and the account's guard held the
casefolded form: the EU Login user ``abc…`` was signed in to the account of ``ABC…`` (a
different person), and could never register one of their own. New accounts are keyed by
the exact subject; accounts stored the old way (casefolded guard) still sign in, but only
for the subject they were registered with, exactly.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

from tests.fakes import arranged
from tests.support.browser import Browser
from tests.support.esep import API, register, sign_in


def test_a_subject_differing_only_in_case_is_another_person(browser: Browser) -> None:
    # Given an eTwinning member whose EU Login subject has capitals
    owner = browser.new_eulogin_person(sub=f"Nx{uuid.uuid4().hex[:10]}Q")
    member = register(browser, [], role="other", person=owner)

    # When another EU Login user, whose subject is the same but for case, signs in
    other = browser.new_eulogin_person(sub=owner.sub.lower())
    flow, page = browser.eulogin_flow(other)

    # Then they are asked to register (not signed in to the first member's account)
    assert page == "/realms/esep/register"
    session = browser.post(f"{API}/sessions", json={"flow": flow})
    assert session.status != 201
    # and they can register an account of their own; the first member still signs in to theirs
    mine = register(browser, [], role="other", person=other)
    assert mine.account_id != member.account_id
    assert sign_in(browser, owner, member.account_id).account_id == member.account_id
    me = browser.get(f"{API}/me", headers=mine.auth)
    assert me.status == 200 and me.json["account_id"] == mine.account_id, me.text


def test_an_account_stored_with_the_casefolded_key_still_signs_in_by_its_exact_subject(browser: Browser) -> None:
    from chalicelib.container import services
    from chalicelib.domain.accounts import Account, AccountStatus

    # Given an esep account stored before subjects were case-sensitive: username = the
    # subject, its guard keyed by the casefolded subject, no subject of its own
    sub = f"Old{uuid.uuid4().hex[:10]}X"
    now = datetime.now(UTC)
    stored = Account(
        account_id=uuid.uuid4().hex,
        realm="esep",
        username=sub,
        email=f"{sub.lower()}@school.example",
        status=AccountStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        activated_at=now,
    )
    services().ports.accounts.create(stored, audit=arranged("esep", stored.account_id))

    # When its owner signs in with the exact subject, Then it is their account
    flow, page = browser.eulogin_flow(browser.new_eulogin_person(sub=sub, email=stored.email))
    assert page == "/realms/esep/home"
    session = browser.post(f"{API}/sessions", json={"flow": flow})
    assert session.status == 201, session.text

    # And a subject that differs only in case is not let in
    _flow, other_page = browser.eulogin_flow(browser.new_eulogin_person(sub=sub.lower()))
    assert other_page == "/realms/esep/register"


def test_the_operator_grants_a_role_to_the_exact_subject(browser: Browser) -> None:
    from chalicelib.cli import Console, main

    owner = browser.new_eulogin_person(sub=f"Gr{uuid.uuid4().hex[:10]}Z")
    register(browser, [], role="other", person=owner)

    def grant(subject: str) -> int:
        out, err = io.StringIO(), io.StringIO()
        argv = ["grant-role", "--realm", "esep", "--subject", subject, "--role", "nso", "--country", "GR"]
        return main(argv, Console(stdin=io.StringIO(), stdout=out, stderr=err))

    assert grant(owner.sub.lower()) == 1  # another subject: no such account
    assert grant(owner.sub) == 0
