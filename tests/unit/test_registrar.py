"""Registrar accounts (seed 004 rules): external e-mail, surname in the username, usernames
never reissued, graduation retires an undergraduate account, earlier accounts return."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.domain.accounts import AccountStatus
from chalicelib.domain.registry import RegistryStatus
from chalicelib.errors import InvalidInput, UsernameTaken
from chalicelib.flows.registrar import Actor, ForbiddenEmailDomain, NewAccount
from tests.fakes import Kit, arranged, build_flows

SECRETARIAT = Actor("secretariat-1", "192.0.2.10")
NEXT_YEAR = date(2026, 6, 30)


@pytest.fixture
def ntua() -> Kit:
    return build_flows("ntua")


def _new(**changes: Any) -> NewAccount:
    values: dict[str, Any] = {
        "affiliation": "postgraduate",
        "first_name": "Γιώργος",
        "last_name": "Παπαδόπουλος",
        "father_name": "Νικόλαος",
        "mother_name": "Μαρία",
        "external_email": "g.papadopoulos@gmail.com",
        "registry_number": "03123456",
        "username": "gpapadopoulos",
        "expires_on": NEXT_YEAR,
    }
    values.update(changes)
    return NewAccount(**values)


def test_an_account_is_created_active_without_password_and_gets_a_welcome_mail(ntua: Kit) -> None:
    outcome = ntua.flows.registrar.create(ntua.realm, _new(), SECRETARIAT)
    account = outcome.account
    assert outcome.created and account.status is AccountStatus.ACTIVE and account.password_hash is None
    assert (account.username, account.email, account.expires_on) == (
        "gpapadopoulos",
        "g.papadopoulos@gmail.com",
        NEXT_YEAR,
    )
    [welcome] = [m for m in ntua.mailer.sent if m.template == "password_setup"]
    assert welcome.to == "g.papadopoulos@gmail.com" and welcome.context["username"] == "gpapadopoulos"
    assert "/realms/ntua/set-password?token=" in welcome.context["link"]
    [entry] = ntua.flows.registrar.audit.entries("ntua", account.account_id)
    assert (entry.action, entry.actor, entry.address) == ("account_created", "secretariat-1", "192.0.2.10")


@pytest.mark.parametrize("address", ["g@central.ntua.gr", "g@mail.ntua.gr", "g@ece.ntua.gr", "g@NTUA.GR"])
def test_institutional_addresses_are_refused(ntua: Kit, address: str) -> None:
    with pytest.raises(ForbiddenEmailDomain):
        ntua.flows.registrar.create(ntua.realm, _new(external_email=address), SECRETARIAT)


@pytest.mark.parametrize("username", ["gpapadakis", "giorgos", "g.papa", "9papadopoulos", "ab"])
def test_a_username_without_the_full_surname_is_refused(ntua: Kit, username: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        ntua.flows.registrar.create(ntua.realm, _new(username=username), SECRETARIAT)
    assert "username" in refused.value.errors


def test_a_username_is_assigned_from_initial_and_surname_when_omitted(ntua: Kit) -> None:
    first = ntua.flows.registrar.create(ntua.realm, _new(username=None), SECRETARIAT).account
    second = ntua.flows.registrar.create(
        ntua.realm, _new(username=None, external_email="other@gmail.com", registry_number="R2"), SECRETARIAT
    ).account
    assert (first.username, second.username) == ("gpapadopoulos", "gpapadopoulos2")


def test_the_expiry_must_be_in_the_future(ntua: Kit) -> None:
    today = ntua.clock.now().date()
    with pytest.raises(InvalidInput) as refused:
        ntua.flows.registrar.create(ntua.realm, _new(expires_on=today), SECRETARIAT)
    assert "expires_on" in refused.value.errors


def test_graduation_retires_an_undergraduate_for_good(ntua: Kit) -> None:
    # Given an undergraduate account
    student = ntua.flows.registrar.create(
        ntua.realm, _new(affiliation="undergraduate", username="el20001papadopoulos", expires_on=None), SECRETARIAT
    ).account

    # When the registry declares the student a graduate
    ntua.flows.registrar.set_registry(ntua.realm, "03123456", "undergraduate", RegistryStatus.GRADUATED, SECRETARIAT)

    # Then the account is disabled, and its username can never be issued again
    retired = ntua.accounts.get("ntua", student.account_id)
    assert retired is not None and retired.status is AccountStatus.DISABLED
    with pytest.raises(UsernameTaken):
        ntua.flows.registrar.create(
            ntua.realm,
            _new(username="el20001papadopoulos", external_email="new@gmail.com", registry_number="R9"),
            SECRETARIAT,
        )


def test_a_declared_undergraduate_username_needs_graduation_first(ntua: Kit) -> None:
    ntua.flows.registrar.create(
        ntua.realm, _new(affiliation="undergraduate", username="el20001papadopoulos", expires_on=None), SECRETARIAT
    )
    postgraduate = _new(previous_username="el20001papadopoulos", external_email="pg@gmail.com", registry_number="PG1")
    with pytest.raises(InvalidInput) as refused:
        ntua.flows.registrar.create(ntua.realm, postgraduate, SECRETARIAT)
    assert refused.value.errors == {"previous_username": ["not yet declared a graduate"]}

    # Once graduated, a new postgraduate account is made (the old name stays retired)
    ntua.flows.registrar.set_registry(ntua.realm, "03123456", "undergraduate", RegistryStatus.GRADUATED, SECRETARIAT)
    outcome = ntua.flows.registrar.create(ntua.realm, postgraduate, SECRETARIAT)
    assert outcome.created and outcome.account.username == "gpapadopoulos"


def test_an_earlier_non_undergraduate_account_is_reactivated_with_the_new_role(ntua: Kit) -> None:
    # Given an expired account from an earlier postgraduate programme
    earlier = ntua.flows.registrar.create(ntua.realm, _new(), SECRETARIAT).account
    ntua.accounts.set_status(
        "ntua",
        earlier.account_id,
        AccountStatus.EXPIRED,
        expected=AccountStatus.ACTIVE,
        now=ntua.clock.now(),
        audit=arranged("x", "x"),
    )

    # When a doctoral row declares it
    later = NEXT_YEAR + timedelta(days=900)
    outcome = ntua.flows.registrar.create(
        ntua.realm,
        _new(
            affiliation="doctoral", username="giorgos.papadopoulos", previous_username="GPapadopoulos", expires_on=later
        ),
        SECRETARIAT,
    )

    # Then the same account comes back, active, doctoral, with the new expiry
    assert not outcome.created and outcome.account.account_id == earlier.account_id
    assert (outcome.account.status, outcome.account.affiliation, outcome.account.expires_on) == (
        AccountStatus.ACTIVE,
        "doctoral",
        later,
    )


def test_an_unknown_previous_username_is_refused(ntua: Kit) -> None:
    with pytest.raises(InvalidInput) as refused:
        ntua.flows.registrar.create(ntua.realm, _new(previous_username="nobody"), SECRETARIAT)
    assert "previous_username" in refused.value.errors


def test_realms_without_a_registrar_refuse(ntua: Kit) -> None:
    from chalicelib.errors import NotFound
    from chalicelib.realms import get_realm

    with pytest.raises(NotFound):
        ntua.flows.registrar.create(get_realm("eiep"), _new(), SECRETARIAT)
