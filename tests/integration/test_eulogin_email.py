"""esep people change their e-mail at EU Login (realm rule ``email_change = "eulogin"``):
Mitroo takes the new address at their next sign-in, guard and member record included,
but never an address another account holds."""

from __future__ import annotations

import dataclasses

from tests.support.browser import Browser
from tests.support.esep import API, register, sign_in


def _stored(account_id: str) -> tuple[str, str]:
    from chalicelib.container import services

    ports = services().ports
    account = ports.accounts.get("esep", account_id)
    member = ports.esep.get_member(account_id)
    assert account is not None and member is not None
    return account.email, member.email


def test_a_new_address_at_eu_login_becomes_the_accounts_at_the_next_sign_in(browser: Browser) -> None:
    from chalicelib.container import services
    from chalicelib.domain.accounts import UniqueKind

    # Given a member registered with the address EU Login gave then
    person = browser.new_eulogin_person()
    member = register(browser, [], role="other", person=person)
    old = person.email

    # When they change it at EU Login and sign in again
    moved = dataclasses.replace(person, email=f"moved.{person.email}")
    sign_in(browser, moved, member.account_id)

    # Then the account and the member record carry the new address, the guard moved with it
    assert _stored(member.account_id) == (moved.email, moved.email)
    accounts = services().ports.accounts
    found = accounts.find_by_unique("esep", UniqueKind.EMAIL, moved.email)
    assert found is not None and found.account_id == member.account_id
    assert accounts.find_by_unique("esep", UniqueKind.EMAIL, old) is None
    # and the change is audited as EU Login's
    entries = services().ports.audit.entries("esep", member.account_id)
    assert [entry.actor for entry in entries if entry.action == "email_changed"] == ["eulogin"]


def test_an_address_another_account_holds_is_not_taken_over(browser: Browser) -> None:
    # Given two members
    first = register(browser, [], role="other", person=browser.new_eulogin_person())
    second_person = browser.new_eulogin_person()
    second = register(browser, [], role="other", person=second_person)

    # When the second one's EU Login profile now shows the first one's address
    claimed = dataclasses.replace(second_person, email=first.person.email)
    signed_in = sign_in(browser, claimed, second.account_id)

    # Then they still sign in, with the address they had; the first keeps theirs
    assert browser.get(f"{API}/me", headers=signed_in.auth).status == 200
    assert _stored(second.account_id) == (second_person.email, second_person.email)
    assert _stored(first.account_id) == (first.person.email, first.person.email)
