"""e-IEP registration: a pending account from a GSIS flow plus what the person types.

Proves: identity fields come from the flow only; registry number defaults to the AFM;
the address is normalised; every field and password rule is enforced before anything is
written; duplicates map to EmailTaken / AfmRegistered; a flow registers one account; the
activation mail goes out (and a failed mail loses nothing).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from chalicelib.domain.accounts import AccountStatus, UniqueKind
from chalicelib.domain.flows import Intent
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.tokens import Purpose
from chalicelib.errors import (
    AfmRegistered,
    EmailTaken,
    FlowExpired,
    FlowNotFound,
    FlowUsed,
    InvalidEmail,
    InvalidInput,
    PasswordPolicyViolation,
    PasswordsMismatch,
)
from chalicelib.flows.registration import Registered, RegistrationRequest
from tests.fakes import BROWSER, Kit, afm_with_check_digit, make_identity, race


def _request(flow: str, **changes: Any) -> RegistrationRequest:
    base = RegistrationRequest(
        flow=flow,
        email="maria@example.gr",
        password="Passw0rd!",
        password_confirmation="Passw0rd!",
        gender="female",
        browser_binding=BROWSER,
    )
    return dataclasses.replace(base, **changes)


def _only_account(kit: Kit) -> Any:
    assert len(kit.store.accounts) == 1
    return next(iter(kit.store.accounts.values()))


def test_registration_creates_a_pending_account_with_the_gsis_identity(kit: Kit, maria: GsisIdentity) -> None:
    # Given a register flow for Maria
    flow = kit.gsis_flow(maria)
    # When she registers
    registered = kit.registration.register(kit.realm, _request(flow, mobile="+30 691-234 5678", registry_number="A-77"))
    # Then a pending, GSIS-verified account holds the flow's identity and her fields
    assert registered.status is AccountStatus.PENDING_ACTIVATION and registered.mail_queued
    account = kit.accounts.get("eiep", registered.account_id)
    assert account is not None and account == _only_account(kit)
    assert account.identity == maria and account.gsis_verified
    assert (account.gender, account.registry_number, account.mobile) == ("female", "A-77", "+306912345678")
    assert account.language == "el" and account.created_at == kit.clock.now()
    assert kit.hasher.verify(account.password_hash or "", "Passw0rd!")


def test_the_registry_number_defaults_to_the_afm(kit: Kit, maria: GsisIdentity) -> None:
    kit.registration.register(kit.realm, _request(kit.gsis_flow(maria), registry_number="  "))
    assert _only_account(kit).registry_number == maria.afm


def test_the_address_is_normalised_and_the_username_casefolded(kit: Kit, maria: GsisIdentity) -> None:
    kit.registration.register(kit.realm, _request(kit.gsis_flow(maria), email="  Maria.P@Example.GR "))
    account = _only_account(kit)
    assert account.email == "Maria.P@example.gr" and account.username == "maria.p@example.gr"
    assert kit.accounts.find_by_unique("eiep", UniqueKind.EMAIL, "maria.p@example.gr") == account


def test_gender_is_case_insensitive(kit: Kit, maria: GsisIdentity) -> None:
    kit.registration.register(kit.realm, _request(kit.gsis_flow(maria), gender=" Male "))
    assert _only_account(kit).gender == "male"


def test_the_chosen_language_is_kept(kit: Kit, maria: GsisIdentity) -> None:
    kit.registration.register(kit.realm, _request(kit.gsis_flow(maria), language="en"))
    assert _only_account(kit).language == "en"
    assert kit.mailer.sent[-1].language == "en"


def test_the_flow_is_marked_used(kit: Kit, maria: GsisIdentity) -> None:
    flow = kit.gsis_flow(maria)
    kit.registration.register(kit.realm, _request(flow))
    assert kit.signin.load(kit.realm, flow, BROWSER).used_at == kit.clock.now()


def test_mismatched_passwords_are_refused(kit: Kit, maria: GsisIdentity) -> None:
    with pytest.raises(PasswordsMismatch) as raised:
        kit.registration.register(kit.realm, _request(kit.gsis_flow(maria), password_confirmation="Passw0rd?"))
    assert "password_confirmation" in raised.value.errors
    assert not kit.store.accounts


@pytest.mark.parametrize(
    ("password", "violation"),
    [
        ("Pa0!", "too_short"),
        ("Passw0rd!Passw0rd", "too_long"),
        ("PASSW0RD!", "missing_lowercase"),
        ("passw0rd!", "missing_uppercase"),
        ("Password!", "missing_digit"),
        ("Passw0rdd", "missing_symbol"),
        ("Passw0rd!ά", "invalid_characters"),
    ],
)
def test_each_composition_rule_is_enforced(kit: Kit, maria: GsisIdentity, password: str, violation: str) -> None:
    request = _request(kit.gsis_flow(maria), password=password, password_confirmation=password)
    with pytest.raises(PasswordPolicyViolation) as raised:
        kit.registration.register(kit.realm, request)
    assert violation in raised.value.extra["violations"]
    assert raised.value.errors["password"]
    assert not kit.store.accounts


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"gender": "unknown"}, "gender"),
        ({"gender": ""}, "gender"),
        ({"mobile": "12345"}, "mobile"),
        ({"mobile": "69x1234567"}, "mobile"),
        ({"registry_number": "A/77"}, "registry_number"),
        ({"registry_number": "1" * 21}, "registry_number"),
        ({"language": "fr"}, "language"),
    ],
)
def test_invalid_fields_are_refused(kit: Kit, maria: GsisIdentity, changes: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        kit.registration.register(kit.realm, _request(kit.gsis_flow(maria), **changes))
    assert field in raised.value.errors
    assert not kit.store.accounts


@pytest.mark.parametrize("email", ["", "maria", "maria@", "maria@@example.gr"])
def test_an_invalid_address_is_refused(kit: Kit, maria: GsisIdentity, email: str) -> None:
    with pytest.raises(InvalidEmail):
        kit.registration.register(kit.realm, _request(kit.gsis_flow(maria), email=email))
    assert not kit.store.accounts


def test_a_taken_address_is_email_taken(kit: Kit, maria: GsisIdentity, nikos: GsisIdentity) -> None:
    kit.register(maria, "shared@example.gr")
    with pytest.raises(EmailTaken):
        kit.registration.register(kit.realm, _request(kit.gsis_flow(nikos), email="SHARED@example.gr"))
    assert len(kit.store.accounts) == 1


def test_a_registered_afm_is_afm_registered_and_leaves_the_flow_unused(kit: Kit, maria: GsisIdentity) -> None:
    kit.register(maria, "maria@example.gr")
    flow = kit.gsis_flow(maria)
    with pytest.raises(AfmRegistered):
        kit.registration.register(kit.realm, _request(flow, email="other@example.gr"))
    assert kit.signin.load(kit.realm, flow, BROWSER).used_at is None
    assert kit.accounts.find_by_unique("eiep", UniqueKind.EMAIL, "other@example.gr") is None


def test_a_flow_registers_only_one_account(kit: Kit, maria: GsisIdentity) -> None:
    flow = kit.gsis_flow(maria)
    kit.registration.register(kit.realm, _request(flow))
    with pytest.raises(FlowUsed):
        kit.registration.register(kit.realm, _request(flow, email="again@example.gr"))
    assert len(kit.store.accounts) == 1


def test_the_flow_is_checked_before_the_fields(kit: Kit, maria: GsisIdentity) -> None:
    flow = kit.gsis_flow(maria)
    kit.registration.register(kit.realm, _request(flow))
    with pytest.raises(FlowUsed):
        kit.registration.register(kit.realm, _request(flow, email="bad", gender="bad"))


def test_an_expired_flow_cannot_register(kit: Kit, maria: GsisIdentity) -> None:
    flow = kit.gsis_flow(maria)
    kit.clock.advance(minutes=15)
    with pytest.raises(FlowExpired):
        kit.registration.register(kit.realm, _request(flow))
    assert not kit.store.accounts


def test_an_unknown_flow_cannot_register(kit: Kit) -> None:
    with pytest.raises(FlowNotFound):
        kit.registration.register(kit.realm, _request("no-such-flow"))


def test_a_flow_for_another_intent_cannot_register(kit: Kit, maria: GsisIdentity) -> None:
    flow = kit.gsis_flow(maria, Intent.RECOVER_EMAIL)
    with pytest.raises(InvalidInput) as raised:
        kit.registration.register(kit.realm, _request(flow))
    assert "flow" in raised.value.errors
    assert not kit.store.accounts


def test_registration_mails_an_activation_link_and_code(kit: Kit, maria: GsisIdentity) -> None:
    registered = kit.register(maria, "maria@example.gr")
    [message] = kit.mailer.sent
    assert message.template == "activation" and message.to == "maria@example.gr" and message.language == "el"
    challenge = kit.challenge_repository.find_for_account("eiep", registered.account_id, Purpose.ACTIVATION)
    assert challenge is not None
    context = message.context
    assert context["link"].startswith("http://127.0.0.1:8000/realms/eiep/activate?token=")
    assert context["code"] == "100001" and context["first_name"] == maria.first_name
    assert context["login_url"] == "http://127.0.0.1:8000/realms/eiep/login"
    assert context["expires_at"] == challenge.expires_at == kit.clock.now() + kit.realm.lifetimes.activation
    rendered = kit.mailer.rendered[0]
    assert context["link"] in rendered.text and "100001" in rendered.text


def test_a_failed_mail_still_registers_the_account(kit: Kit, maria: GsisIdentity) -> None:
    # Given the mail provider refuses the next message
    kit.mailer.fail_next(1)
    # When Maria registers
    registered = kit.register(maria, "maria@example.gr")
    # Then the account exists, pending; the mail task failed and waits for a retry
    assert registered.status is AccountStatus.PENDING_ACTIVATION
    assert kit.accounts.get("eiep", registered.account_id) is not None
    assert kit.mailer.sent == []
    assert [task.kind for task, _ in kit.tasks.failed] == ["activation.send"]
    # And asking again sends the mail
    kit.activation.resend(kit.realm, "maria@example.gr")
    assert len(kit.mailer.to("maria@example.gr")) == 1


def test_a_queue_outage_still_registers_the_account(kit: Kit, maria: GsisIdentity) -> None:
    # Given the task queue refuses work
    kit.tasks.refuse = True
    # When Maria registers
    registered = kit.register(maria, "maria@example.gr")
    # Then the account exists and the result says the mail was not queued
    assert registered.mail_queued is False
    assert kit.accounts.get("eiep", registered.account_id) is not None


def test_concurrent_registrations_with_one_flow_create_one_account(kit: Kit, maria: GsisIdentity) -> None:
    # Given one flow submitted ten times at once (double clicks, retries) with different addresses
    flow = kit.gsis_flow(maria)
    requests = [_request(flow, email=f"maria{index}@example.gr") for index in range(10)]
    # When they race
    outcomes = race(10, lambda index: kit.registration.register(kit.realm, requests[index]))
    # Then one account exists and every other attempt was told the flow is used
    assert sum(isinstance(outcome, Registered) for outcome in outcomes) == 1
    assert all(isinstance(o, FlowUsed) for o in outcomes if not isinstance(o, Registered)), outcomes
    assert len(kit.store.accounts) == 1


def test_concurrent_registrations_with_one_address_create_one_account(kit: Kit) -> None:
    people = [make_identity(afm_with_check_digit(f"3000000{index}")) for index in range(10)]
    requests = [_request(kit.gsis_flow(person)) for person in people]
    outcomes = race(10, lambda index: kit.registration.register(kit.realm, requests[index]))
    assert sum(isinstance(outcome, Registered) for outcome in outcomes) == 1
    assert all(isinstance(o, EmailTaken) for o in outcomes if not isinstance(o, Registered)), outcomes
