"""Changing one's e-mail (SPEC §2.10) with in-memory fakes: the realm rule, recent
authentication, the mails, the links (confirm and cancel), and the guard move."""

from __future__ import annotations

import dataclasses
import re

import pytest

from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.tokens import Purpose
from chalicelib.errors import (
    EmailTaken,
    Forbidden,
    InvalidEmail,
    InvalidInput,
    ReauthenticationRequired,
    TokenExpired,
    TokenInvalid,
)
from chalicelib.flows.sessions import Principal
from chalicelib.realms import get_realm
from tests.fakes import Kit, build_flows, make_identity

OLD = "maria@example.gr"
NEW = "maria.new@example.gr"


def signed_in(kit: Kit, identity: GsisIdentity, email: str = OLD) -> Principal:
    """An active e-IEP account with a session that has just proved who its person is."""
    account_id = kit.activated(identity, email).account_id
    pair = kit.sessions.open(kit.realm, account_id, ())
    return kit.sessions.authenticate(kit.realm, pair.access_token)


def link_token(kit: Kit, address: str, template: str) -> str:
    message = [m for m in kit.mailer.to(address) if m.template == template][-1]
    found = re.search(r"token=([A-Za-z0-9_-]+)", str(message.context["link"]))
    assert found is not None
    return found.group(1)


def test_asking_mails_a_link_to_the_new_address_and_a_cancel_link_to_the_old(kit: Kit, maria: GsisIdentity) -> None:
    # Given a signed-in person who just proved who they are
    principal = signed_in(kit, maria)

    # When they ask for a new address
    kit.flows.email_change.request(kit.realm, principal, NEW)

    # Then the new address gets a confirmation link, the old a notice with a cancel link
    verify = kit.mailer.to(NEW)
    notice = [m for m in kit.mailer.to(OLD) if m.template == "email_change_notice"]
    assert [m.template for m in verify] == ["email_change_verify"]
    assert "/realms/eiep/email-change/confirm?token=" in str(verify[0].context["link"])
    assert "/realms/eiep/email-change/cancel?token=" in str(notice[0].context["link"])
    # And nothing changed yet
    account = kit.accounts.get("eiep", principal.account_id)
    assert account is not None and account.email == OLD


def test_confirming_moves_the_address_and_the_username_and_frees_the_old_one(kit: Kit, maria: GsisIdentity) -> None:
    principal = signed_in(kit, maria)
    kit.flows.email_change.request(kit.realm, principal, NEW)

    changed = kit.flows.email_change.confirm(kit.realm, link_token(kit, NEW, "email_change_verify"))

    assert changed.email == NEW and changed.username == NEW
    assert kit.accounts.find_login("eiep", NEW) is not None
    assert kit.accounts.find_login("eiep", OLD) is None
    assert kit.accounts.find_by_unique("eiep", UniqueKind.EMAIL, OLD) is None
    assert kit.accounts.holders("eiep", [(UniqueKind.EMAIL, NEW)]) == {(UniqueKind.EMAIL, NEW): principal.account_id}
    # The old address hears of it; the session stays
    assert [m.template for m in kit.mailer.to(OLD)][-1] == "email_change_applied"
    assert kit.session_repository.live_families("eiep", principal.account_id, kit.clock.now())
    actions = [entry.action for entry in kit.store.audit if entry.account_id == principal.account_id]
    assert "email_changed" in actions


def test_a_confirmation_link_works_once(kit: Kit, maria: GsisIdentity) -> None:
    principal = signed_in(kit, maria)
    kit.flows.email_change.request(kit.realm, principal, NEW)
    token = link_token(kit, NEW, "email_change_verify")
    kit.flows.email_change.confirm(kit.realm, token)
    with pytest.raises(TokenInvalid):
        kit.flows.email_change.confirm(kit.realm, token)


def test_looking_at_a_link_changes_nothing(kit: Kit, maria: GsisIdentity) -> None:
    principal = signed_in(kit, maria)
    kit.flows.email_change.request(kit.realm, principal, NEW)
    token = link_token(kit, NEW, "email_change_verify")

    pending = kit.flows.email_change.pending(kit.realm, Purpose.EMAIL_CHANGE, token)

    assert pending.new_email == NEW and pending.username == OLD
    account = kit.accounts.get("eiep", principal.account_id)
    assert account is not None and account.email == OLD
    kit.flows.email_change.confirm(kit.realm, token)  # still works after the look


def test_an_expired_link_is_refused(kit: Kit, maria: GsisIdentity) -> None:
    principal = signed_in(kit, maria)
    kit.flows.email_change.request(kit.realm, principal, NEW)
    token = link_token(kit, NEW, "email_change_verify")
    kit.clock.advance(hours=24, seconds=1)
    with pytest.raises(TokenExpired):
        kit.flows.email_change.confirm(kit.realm, token)


def test_a_second_request_replaces_the_first(kit: Kit, maria: GsisIdentity) -> None:
    principal = signed_in(kit, maria)
    kit.flows.email_change.request(kit.realm, principal, NEW)
    first = link_token(kit, NEW, "email_change_verify")
    kit.flows.email_change.request(kit.realm, principal, "maria.other@example.gr")
    second = link_token(kit, "maria.other@example.gr", "email_change_verify")

    with pytest.raises(TokenInvalid):
        kit.flows.email_change.confirm(kit.realm, first)
    assert kit.flows.email_change.confirm(kit.realm, second).email == "maria.other@example.gr"


def test_an_address_another_account_holds_gets_a_notice_and_nothing_changes(
    kit: Kit, maria: GsisIdentity, nikos: GsisIdentity
) -> None:
    # Given another account at the address asked for
    kit.activated(nikos, NEW)
    principal = signed_in(kit, maria)
    before = len(kit.mailer.to(NEW))

    # When Maria asks for it, the request answers as for any other address
    kit.flows.email_change.request(kit.realm, principal, NEW)

    # Then that address gets a notice without a link or anything about Maria; nothing else
    mails = kit.mailer.to(NEW)[before:]
    assert [m.template for m in mails] == ["email_change_taken"]
    assert "link" not in mails[0].context and mails[0].context["username"] == ""
    assert not [m for m in kit.mailer.to(OLD) if m.template == "email_change_notice"]
    assert kit.challenge_repository.find_for_account("eiep", principal.account_id, Purpose.EMAIL_CHANGE) is None


def test_an_address_taken_after_the_request_refuses_the_confirmation(
    kit: Kit, maria: GsisIdentity, nikos: GsisIdentity
) -> None:
    principal = signed_in(kit, maria)
    kit.flows.email_change.request(kit.realm, principal, NEW)
    token = link_token(kit, NEW, "email_change_verify")
    kit.activated(nikos, NEW)  # someone registers the address in between

    with pytest.raises(EmailTaken):
        kit.flows.email_change.confirm(kit.realm, token)

    account = kit.accounts.get("eiep", principal.account_id)
    assert account is not None and account.email == OLD
    assert kit.accounts.find_login("eiep", OLD) is not None


def test_cancelling_drops_the_change_and_ends_every_session(kit: Kit, maria: GsisIdentity) -> None:
    principal = signed_in(kit, maria)
    kit.sessions.open(kit.realm, principal.account_id, ())  # another device
    kit.flows.email_change.request(kit.realm, principal, NEW)
    verify = link_token(kit, NEW, "email_change_verify")

    ended = kit.flows.email_change.cancel(kit.realm, link_token(kit, OLD, "email_change_notice"))

    assert ended == 2
    assert not kit.session_repository.live_families("eiep", principal.account_id, kit.clock.now())
    with pytest.raises(TokenInvalid):
        kit.flows.email_change.confirm(kit.realm, verify)


def test_a_change_needs_a_recent_authentication(kit: Kit, maria: GsisIdentity) -> None:
    principal = signed_in(kit, maria)
    kit.clock.advance(minutes=6)
    with pytest.raises(ReauthenticationRequired):
        kit.flows.email_change.request(kit.realm, principal, NEW)
    assert kit.mailer.to(NEW) == []


@pytest.mark.parametrize("address", ["not an address", "maria@", ""])
def test_an_invalid_address_is_a_field_error(kit: Kit, maria: GsisIdentity, address: str) -> None:
    principal = signed_in(kit, maria)
    with pytest.raises(InvalidEmail) as refused:
        kit.flows.email_change.request(kit.realm, principal, address)
    assert "email" in refused.value.errors


def test_the_current_address_is_not_a_change(kit: Kit, maria: GsisIdentity) -> None:
    principal = signed_in(kit, maria)
    with pytest.raises(InvalidInput) as refused:
        kit.flows.email_change.request(kit.realm, principal, OLD.upper())
    assert "email" in refused.value.errors


@pytest.mark.parametrize(("realm", "words"), [("ntua", "secretariat"), ("esep", "EU Login")])
def test_realms_whose_address_is_not_the_persons_refuse_with_the_reason(realm: str, words: str) -> None:
    kit = build_flows(realm)
    principal = Principal(realm, "a1", "s1", (), auth_time=kit.clock.now())
    with pytest.raises(Forbidden) as refused:
        kit.flows.email_change.request(get_realm(realm), principal, NEW)
    assert words in str(refused.value.detail)


def test_the_old_address_can_register_again_after_the_change(kit: Kit, maria: GsisIdentity) -> None:
    principal = signed_in(kit, maria)
    kit.flows.email_change.request(kit.realm, principal, NEW)
    kit.flows.email_change.confirm(kit.realm, link_token(kit, NEW, "email_change_verify"))
    kit.clock.advance(seconds=1)

    other = kit.activated(make_identity("090000045"), OLD)

    assert kit.accounts.find_by_unique("eiep", UniqueKind.EMAIL, OLD) is not None
    assert other.account_id != principal.account_id


def test_every_mail_of_a_change_renders_in_greek_and_english(
    kit: Kit, maria: GsisIdentity, nikos: GsisIdentity
) -> None:
    from chalicelib.mail.render import render

    principal = signed_in(kit, maria)
    kit.activated(nikos, "taken@example.gr")
    kit.flows.email_change.request(kit.realm, principal, "taken@example.gr")
    kit.flows.email_change.request(kit.realm, principal, NEW)
    kit.flows.email_change.confirm(kit.realm, link_token(kit, NEW, "email_change_verify"))
    sent = [m for m in kit.mailer.sent if m.template.startswith("email_change")]
    assert sorted({m.template for m in sent}) == [
        "email_change_applied",
        "email_change_notice",
        "email_change_taken",
        "email_change_verify",
    ]
    for message in sent:
        greek, english = (render(dataclasses.replace(message, language=lang)) for lang in ("el", "en"))
        assert greek.subject != english.subject and greek.text and english.html
