"""The "Your data" flows over the in-memory fakes (SPEC §2.10): the export, scheduling and
cancelling a deletion, and the sweep that erases what fell due, on a clock moved by hand."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pyotp
import pytest

from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.helpdesk import TicketReply, TicketStatus
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.secrets import fingerprint
from chalicelib.errors import DeletionScheduled, Forbidden, NotFound, ReauthenticationRequired
from chalicelib.flows.sessions import Principal
from chalicelib.realms import get_realm
from tests.fakes import Kit

EMAIL, PASSWORD = "maria@example.gr", "Passw0rd!"


def signed_in(kit: Kit, maria: GsisIdentity) -> Principal:
    kit.activated(maria, EMAIL, PASSWORD)
    return kit.sessions.authenticate(kit.realm, kit.sessions.login(kit.realm, EMAIL, PASSWORD).access_token)


def with_ticket(kit: Kit) -> str:
    """A support ticket sent from Maria's address, answered once by the helpdesk."""
    ticket_id = kit.flows.support.open(
        kit.realm,
        topic="technical",
        email=EMAIL,
        afm=None,
        description="Δεν μπορώ να συνδεθώ στο Moodle.",
        language="el",
    )
    reply = TicketReply(at=kit.clock.now(), author="helpdesk-1", message="Δοκιμάστε ξανά τώρα.")
    assert kit.flows.support.helpdesk.reply(
        kit.realm.id, fingerprint(ticket_id), reply, TicketStatus.ANSWERED, audit=_audit(kit, "helpdesk.reply")
    )
    return ticket_id


def _audit(kit: Kit, action: str):  # type: ignore[no-untyped-def]
    from chalicelib.domain.audit import AuditEntry

    return AuditEntry(kit.realm.id, "helpdesk-1", action, "helpdesk-1", kit.clock.now())


def test_the_export_holds_what_is_stored_about_the_person_and_no_secret(kit: Kit, maria: GsisIdentity) -> None:
    # Given Maria, signed in with an authenticator app, who wrote to the helpdesk
    principal = signed_in(kit, maria)
    started = kit.flows.mfa_enrolment.start_totp(kit.realm, principal)
    kit.flows.mfa_enrolment.confirm_totp(
        kit.realm, principal, started.factor_id, pyotp.TOTP(started.secret).at(kit.clock.now())
    )
    with_ticket(kit)

    # When she exports her data
    document = kit.flows.data_export.export(kit.realm, principal)

    # Then it has her profile and identity, the factor without its secret, her session,
    # the audit trail and the ticket with its reply, and nothing secret
    assert document["account"]["email"] == EMAIL and document["account"]["identity"]["afm"] == maria.afm
    [factor] = document["second_factors"]["factors"]
    assert factor["kind"] == "totp" and set(factor) == {"kind", "label", "confirmed", "created_at", "last_used_at"}
    assert [session["current"] for session in document["sessions"]] == [True]
    assert [entry["action"] for entry in document["audit"]][:3] == [
        "account_registered",
        "account_activated",
        "mfa_factor_added",
    ]
    [ticket] = document["support_tickets"]
    assert ticket["replies"][0]["message"] == "Δοκιμάστε ξανά τώρα." and "author" not in ticket["replies"][0]
    text = json.dumps(document, ensure_ascii=False)
    assert started.secret not in text and "password_hash" not in text and "$" not in text


def test_the_export_needs_a_recent_authentication(kit: Kit, maria: GsisIdentity) -> None:
    # Given a session six minutes old
    principal = signed_in(kit, maria)
    kit.clock.advance(minutes=6)

    # When the export is asked for, then it is refused until the person confirms it is them
    with pytest.raises(ReauthenticationRequired):
        kit.flows.data_export.export(kit.realm, principal)
    kit.flows.reauthentication.reauthenticate(kit.realm, principal, password=PASSWORD)
    principal = kit.sessions.authenticate(kit.realm, kit.sessions.login(kit.realm, EMAIL, PASSWORD).access_token)
    assert kit.flows.data_export.export(kit.realm, principal)["account"]["email"] == EMAIL


def test_a_deletion_is_due_after_the_grace_period_audited_and_announced(kit: Kit, maria: GsisIdentity) -> None:
    # Given Maria, signed in
    principal = signed_in(kit, maria)

    # When she deletes her account
    due = kit.flows.account_deletion.schedule(kit.realm, principal)

    # Then it is due after the realm's 14 days, audited, and she is told by mail
    assert due == kit.clock.now().date() + timedelta(days=14)
    account = kit.accounts.get(kit.realm.id, principal.account_id)
    assert account is not None and account.deletion_due == due
    assert kit.store.audit[-1].action == "account.deletion_scheduled" and kit.store.audit[-1].details == {
        "due": due.isoformat()
    }
    assert kit.mailer.to(EMAIL)[-1].template == "account_deletion_scheduled"


def test_asking_twice_keeps_the_first_day(kit: Kit, maria: GsisIdentity) -> None:
    # Given a deletion scheduled yesterday
    principal = signed_in(kit, maria)
    due = kit.flows.account_deletion.schedule(kit.realm, principal)
    kit.clock.advance(days=1)
    principal = kit.sessions.authenticate(kit.realm, kit.sessions.login(kit.realm, EMAIL, PASSWORD).access_token)

    # When she asks again, then the answer names the day already set, which does not move
    with pytest.raises(DeletionScheduled) as refused:
        kit.flows.account_deletion.schedule(kit.realm, principal)
    assert refused.value.extra == {"deletion_due": due.isoformat()}
    account = kit.accounts.get(kit.realm.id, principal.account_id)
    assert account is not None and account.deletion_due == due


def test_registrar_accounts_cannot_be_deleted_by_their_owner(kit: Kit) -> None:
    # Given a person of ntua, whose account is the registrar's
    ntua = get_realm("ntua")
    principal = Principal("ntua", "some-account", "some-session", (), ("pwd",), kit.clock.now())

    # When they ask for deletion, then it is refused, saying why
    with pytest.raises(Forbidden, match="registrar"):
        kit.flows.account_deletion.schedule(ntua, principal)


def test_keeping_the_account_cancels_the_deletion(kit: Kit, maria: GsisIdentity) -> None:
    # Given a scheduled deletion, and a sign-in days later (not recent any more: none is needed)
    principal = signed_in(kit, maria)
    kit.flows.account_deletion.schedule(kit.realm, principal)
    kit.clock.advance(days=3)

    # When she keeps her account
    kit.flows.account_deletion.cancel(kit.realm, principal)

    # Then nothing is due, the cancel is audited and mailed, the sweep erases nothing,
    # and a second cancel finds nothing to cancel
    account = kit.accounts.get(kit.realm.id, principal.account_id)
    assert account is not None and account.deletion_due is None
    assert kit.store.audit[-1].action == "account.deletion_cancelled"
    assert kit.mailer.to(EMAIL)[-1].template == "account_deletion_cancelled"
    [report] = [
        r for r in kit.flows.deletion_sweep.sweep_all(kit.clock.now().date() + timedelta(days=30)) if r.realm == "eiep"
    ]
    assert report.due == 0 and kit.accounts.get(kit.realm.id, principal.account_id) is not None
    with pytest.raises(NotFound):
        kit.flows.account_deletion.cancel(kit.realm, principal)


def test_the_sweep_erases_what_fell_due_and_releases_the_guards(kit: Kit, maria: GsisIdentity) -> None:
    # Given Maria's scheduled deletion, her ticket and a second live session
    principal = signed_in(kit, maria)
    with_ticket(kit)
    kit.sessions.login(kit.realm, EMAIL, PASSWORD)
    due = kit.flows.account_deletion.schedule(kit.realm, principal)
    account_id = principal.account_id

    # When the sweep runs the day before, then on the day
    early = kit.flows.deletion_sweep.sweep(kit.realm, due - timedelta(days=1))
    kit.clock.advance(days=14)
    report = kit.flows.deletion_sweep.sweep(kit.realm, due)

    # Then only the second run erases: the account, its guards, sessions and ticket are
    # gone, one tombstone without personal data is all the audit keeps
    assert (early.due, early.erased) == (0, 0) and (report.due, report.erased) == (1, 1)
    assert kit.accounts.get("eiep", account_id) is None
    assert kit.accounts.holders("eiep", [(UniqueKind.EMAIL, EMAIL), (UniqueKind.AFM, maria.afm)]) == {}
    assert kit.session_repository.live_families("eiep", account_id, kit.clock.now()) == []
    assert kit.flows.support.helpdesk.sent_from("eiep", EMAIL) == []
    [tombstone] = [entry for entry in kit.store.audit if entry.account_id == account_id]
    assert (tombstone.action, tombstone.address, tombstone.details) == ("account.erased", "", {})

    # And the e-mail and AFM can register again; a second run has nothing to do
    kit.activated(maria, EMAIL, PASSWORD)
    again = kit.flows.deletion_sweep.sweep(kit.realm, due)
    assert (again.due, again.erased) == (0, 0)


def test_one_failing_account_does_not_stop_the_others(kit: Kit, maria: GsisIdentity, nikos: GsisIdentity) -> None:
    # Given two deletions due, the first of which the store fails to erase once
    first = signed_in(kit, maria)
    kit.flows.account_deletion.schedule(kit.realm, first)
    kit.activated(nikos, "nikos@example.gr", PASSWORD)
    second = kit.sessions.authenticate(
        kit.realm, kit.sessions.login(kit.realm, "nikos@example.gr", PASSWORD).access_token
    )
    due = kit.flows.account_deletion.schedule(kit.realm, second)
    store = kit.flows.deletion_sweep.personal_data
    real_erase = store.erase
    calls: list[str] = []

    def flaky(realm: str, account_id: str, **kwargs: object) -> bool:
        calls.append(account_id)
        if account_id == first.account_id and calls.count(account_id) == 1:
            raise ConnectionError("the table went away")
        return real_erase(realm, account_id, **kwargs)  # type: ignore[arg-type]

    sweep = replace(kit.flows.deletion_sweep, personal_data=_Wrapped(store, flaky))

    # When the sweep runs twice
    report = sweep.sweep(kit.realm, due)
    retry = sweep.sweep(kit.realm, due)

    # Then the second account is erased on the first run, the first on the retry
    assert report.erased == 1 and report.failed == [first.account_id]
    assert retry.erased == 1 and retry.failed == []
    assert kit.accounts.get("eiep", first.account_id) is None and kit.accounts.get("eiep", second.account_id) is None


class _Wrapped:
    """The store with ``erase`` replaced."""

    def __init__(self, inner: object, erase: object) -> None:
        self._inner, self.erase = inner, erase

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def test_etwinning_data_is_exported_and_erased_with_the_account() -> None:
    # Given an eTwinning teacher with a school and a project
    from chalicelib.domain.accounts import Account, AccountStatus
    from chalicelib.domain.esep import (
        EsepRole,
        Member,
        MemberStatus,
        Organisation,
        OrganisationStatus,
        Project,
        ProjectStatus,
    )
    from tests.fakes import arranged, build_flows

    kit = build_flows("esep")
    now = kit.clock.now()
    teacher = Account("t1", "esep", "sub-t1", "eleni@example.org", AccountStatus.ACTIVE, now, now, subject="sub-t1")
    kit.accounts.create(teacher, audit=arranged("esep", "t1"))
    esep = kit.flows.esep_network.esep
    esep.create_organisation(
        Organisation("s1", "Σχολείο Νάξου", "Νάξος", "GR", "school", True, OrganisationStatus.VALIDATED, "t1", now, now)
    )
    esep.members["t1"] = Member(  # type: ignore[attr-defined]
        "t1", "sub-t1", "eleni@example.org", "Ελένη", "Νάξου", "GR", EsepRole.TEACHER, True, MemberStatus.ACTIVE,
        now, now, organisation_ids=("s1",),
    )  # fmt: skip
    esep.create_project(
        Project("p1", "t1", "s1", "t2", "Έργο", "Περιγραφή", "en", 20, 12, 14, ("Φυσική",), "Στόχοι", "Διαδικασία",
                "Αποτελέσματα", ProjectStatus.ACCEPTED, "GR", now, now)
    )  # fmt: skip
    principal = Principal("esep", "t1", "session-1", (), ("fed",), now)

    # When she exports her data, then deletes her account and the sweep comes
    document = kit.flows.data_export.export(kit.realm, principal)
    due = kit.flows.account_deletion.schedule(kit.realm, principal)
    kit.flows.deletion_sweep.sweep(kit.realm, due)

    # Then the export had her member record, school and project; the erasure took her
    # member record and her project links, and left the school and the project to the others
    assert document["etwinning"]["member"]["family_name"] == "Νάξου"
    assert [school["name"] for school in document["etwinning"]["organisations"]] == ["Σχολείο Νάξου"]
    assert [project["title"] for project in document["etwinning"]["projects"]] == ["Έργο"]
    assert esep.get_member("t1") is None and esep.projects_of("t1") == []
    assert esep.get_project("p1") is not None and esep.get_organisation("s1") is not None
