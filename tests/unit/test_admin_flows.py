"""The consoles' flows over the fakes: finding accounts (folded prefixes, pages, sealed
cursors, the exact AFM), acting on an account (each action audited with actor and
reason, sessions ending), the audit log (filters, CSV without formulas) and the
helpdesk's queue (a reply mailed with the ticket id in the subject)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.audit import origin
from chalicelib.domain.helpdesk import TicketStatus
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.registry import RegistryStatus
from chalicelib.errors import Forbidden, InvalidInput, NotFound, TooManyAttempts
from chalicelib.flows.admin.capabilities import Staff
from chalicelib.realms import get_realm
from tests.fakes import Kit, arranged, build_flows

ADMIN = Staff("admin-1", ("admin",))
SECRETARIAT = Staff("secretariat-1", ("secretariat",))
HELPDESK = Staff("helpdesk-1", ("helpdesk",))


@pytest.fixture
def ntua() -> Kit:
    return build_flows("ntua")


@pytest.fixture
def eiep() -> Kit:
    return build_flows("eiep")


def _account(kit: Kit, username: str, *, surname: str = "Παπαδόπουλος", **changes: Any) -> Account:
    now = kit.clock.now()
    values: dict[str, Any] = {
        "account_id": kit.secrets.identifier(),
        "realm": kit.realm.id,
        "username": username,
        "email": f"{username}@example.gr",
        "status": AccountStatus.ACTIVE,
        "created_at": now,
        "updated_at": now,
        "password_hash": kit.hasher.hash("correct horse battery staple ntua"),
        "identity": GsisIdentity("", surname, "Γιώργος", "", "", ""),
        "activated_at": now,
        "registry_number": None,
    }
    values.update(changes)
    account = Account(**values)
    kit.accounts.create(account, audit=arranged(account.realm, account.account_id))
    return account


# --- finding accounts -------------------------------------------------------------------------


def test_a_greek_surname_typed_without_accents_finds_the_account(ntua: Kit) -> None:
    # Given an account whose surname has accents and a final sigma
    person = _account(ntua, "gpapadopoulos", surname="Παπαδόπουλος")
    # When it is searched in lower case, without accents, with a medial sigma
    found = ntua.flows.admin_directory.search(ntua.realm, text="ΠΑΠΑΔΟΠΟΥΛΟΣ")
    # Then it is found, on its surname
    assert [(row.account_id, row.matched) for row in found.rows] == [(person.account_id, ("last_name",))]
    assert found.rows[0].name == "Γιώργος Παπαδόπουλος"


def test_a_username_that_begins_the_email_is_one_row_naming_both(ntua: Kit) -> None:
    person = _account(ntua, "gpapas", email="gpapas@gmail.com")
    found = ntua.flows.admin_directory.search(ntua.realm, text="gpap")
    assert [(row.account_id, set(row.matched)) for row in found.rows] == [(person.account_id, {"username", "email"})]


def test_usernames_emails_and_registry_numbers_are_prefixes(ntua: Kit) -> None:
    person = _account(ntua, "nkostas", registry_number="03119001", email="Nikos.K@Gmail.com")
    finder = ntua.flows.admin_directory
    for text in ("nkos", "nikos.k@gm", "0311900"):
        assert [row.account_id for row in finder.search(ntua.realm, text=text).rows] == [person.account_id], text


def test_pages_go_past_fifty_with_a_cursor_and_repeat_nobody(ntua: Kit) -> None:
    # Given 120 accounts whose usernames and e-mails share a prefix (240 index keys)
    people = {_account(ntua, f"mass{n:03d}", email=f"m.{n:03d}@mass.example.gr").account_id for n in range(120)}
    finder = ntua.flows.admin_directory
    seen: list[str] = []
    cursor = None
    pages = 0
    # When the pages are followed to the end
    while True:
        result = finder.search(ntua.realm, text="m", cursor=cursor)
        assert result.examined <= 50 and len(result.rows) <= 50
        seen += [row.account_id for row in result.rows]
        pages += 1
        cursor = result.cursor
        if cursor is None:
            break
    # Then every account came (once per page it matched on), over several pages
    assert set(seen) == people and pages >= 5


def test_a_tampered_or_foreign_cursor_is_refused(ntua: Kit) -> None:
    for n in range(60):
        _account(ntua, f"tamper{n:02d}")
    finder = ntua.flows.admin_directory
    cursor = finder.search(ntua.realm, text="tamper").cursor
    assert cursor is not None
    for bad, text in ((cursor[:-4] + "AAAA", "tamper"), ("not-a-cursor", "tamper"), (cursor, "tamp")):
        with pytest.raises(InvalidInput) as refused:
            finder.search(ntua.realm, text=text, cursor=bad)
        assert "cursor" in refused.value.errors


def test_bad_searches_are_invalid_input(ntua: Kit) -> None:
    finder = ntua.flows.admin_directory
    for kwargs, field in (
        ({"text": "x" * 65}, "q"),
        ({"text": "x" * 5000}, "q"),
        ({"text": "  "}, "q"),
        ({"text": "ab", "status": "sleeping"}, "status"),
        ({"text": "ab", "role": "root"}, "role"),
    ):
        with pytest.raises(InvalidInput) as refused:
            finder.search(ntua.realm, **kwargs)
        assert field in refused.value.errors, kwargs


def test_a_role_lists_its_holders_and_filters_narrow(ntua: Kit) -> None:
    staff = _account(ntua, "secone", roles=("secretariat",))
    _account(ntua, "secstudent")
    disabled = _account(ntua, "secdisabled", roles=("secretariat",), status=AccountStatus.DISABLED)
    finder = ntua.flows.admin_directory
    assert {r.account_id for r in finder.search(ntua.realm, text=None, role="secretariat").rows} == {
        staff.account_id,
        disabled.account_id,
    }
    narrowed = finder.search(ntua.realm, text="sec", role="secretariat", status="disabled")
    assert [r.account_id for r in narrowed.rows] == [disabled.account_id]


def test_only_an_admin_of_eiep_finds_by_exact_afm(eiep: Kit) -> None:
    afm = "090000045"
    person = _account(eiep, "teacher@example.gr", identity=GsisIdentity(afm, "Ζήση", "Άννα", "", "", ""))
    finder = eiep.flows.admin_directory
    as_admin = finder.search(eiep.realm, text=afm, viewer_roles=("admin",))
    assert [(r.account_id, r.matched) for r in as_admin.rows] == [(person.account_id, ("afm",))]
    assert finder.search(eiep.realm, text=afm, viewer_roles=("helpdesk",)).rows == []
    assert finder.search(eiep.realm, text=afm[:5], viewer_roles=("admin",)).rows == []  # never a prefix


def test_a_stale_entry_shows_nothing(ntua: Kit) -> None:
    person = _account(ntua, "renamed", surname="Παλαιός")
    # The surname changes behind the directory's back (the fake's entries follow the
    # accounts; the flow must check hits against the account either way).
    stored = ntua.store.accounts[("ntua", person.account_id)]
    ntua.store.accounts[("ntua", person.account_id)] = Account(
        **{**stored.__dict__, "identity": GsisIdentity("", "Νέος", "Γιώργος", "", "", "")}
    )
    assert ntua.flows.admin_directory.search(ntua.realm, text="παλαιος").rows == []


# --- acting on an account ---------------------------------------------------------------------


def _signed_in(kit: Kit, account: Account) -> str:
    pair = kit.sessions.open(kit.realm, account.account_id, account.roles)
    return pair.access_token


def test_disabling_ends_every_session_and_audits_actor_reason_and_address(ntua: Kit) -> None:
    # Given a signed-in person
    person = _account(ntua, "victim")
    token = _signed_in(ntua, person)
    assert ntua.sessions.authenticate(ntua.realm, token).account_id == person.account_id
    # When the secretariat disables the account with a reason
    with origin("192.0.2.7"):
        disabled = ntua.flows.admin_accounts.disable(
            ntua.realm, person.account_id, "  compromised   password ", SECRETARIAT
        )
    # Then it is disabled, its session is gone, and the entry says who, why and from where
    assert disabled.status is AccountStatus.DISABLED
    with pytest.raises(Exception) as refused:
        ntua.sessions.authenticate(ntua.realm, token)
    assert type(refused.value).__name__ == "Unauthorized"
    [entry] = [e for e in ntua.store.audit if e.action == "account_disabled"]
    assert (entry.actor, entry.address, entry.details["reason"], entry.details["previous"]) == (
        "secretariat-1",
        "192.0.2.7",
        "compromised password",
        "active",
    )
    # And a second disable changes nothing more
    ntua.flows.admin_accounts.disable(ntua.realm, person.account_id, "again", SECRETARIAT)
    assert len([e for e in ntua.store.audit if e.action == "account_disabled"]) == 1


def test_enabling_gives_back_what_was_before(ntua: Kit) -> None:
    active = _account(ntua, "back")
    pending = _account(ntua, "notyet", status=AccountStatus.PENDING_ACTIVATION, activated_at=None)
    admin = ntua.flows.admin_accounts
    for person in (active, pending):
        admin.disable(ntua.realm, person.account_id, "checking", SECRETARIAT)
    assert admin.enable(ntua.realm, active.account_id, None, SECRETARIAT).status is AccountStatus.ACTIVE
    assert admin.enable(ntua.realm, pending.account_id, "", SECRETARIAT).status is AccountStatus.PENDING_ACTIVATION
    with pytest.raises(InvalidInput):
        admin.enable(ntua.realm, active.account_id, None, SECRETARIAT)


def test_a_graduated_undergraduate_stays_retired(ntua: Kit) -> None:
    from chalicelib.flows.registrar import Actor

    person = _account(ntua, "grad", affiliation="undergraduate", registry_number="03100001")
    ntua.flows.registrar.set_registry(ntua.realm, "03100001", "undergraduate", RegistryStatus.GRADUATED, Actor("x"))
    with pytest.raises(Forbidden):
        ntua.flows.admin_accounts.enable(ntua.realm, person.account_id, "please", ADMIN)


def test_staff_accounts_are_for_admins_and_nobody_disables_themselves(ntua: Kit) -> None:
    colleague = _account(ntua, "colleague", roles=("secretariat",))
    admin = ntua.flows.admin_accounts
    with pytest.raises(Forbidden):
        admin.disable(ntua.realm, colleague.account_id, "a quarrel", SECRETARIAT)
    with pytest.raises(Forbidden):
        admin.disable(ntua.realm, colleague.account_id, "myself", Staff(colleague.account_id, colleague.roles))
    assert admin.disable(ntua.realm, colleague.account_id, "left", ADMIN).status is AccountStatus.DISABLED


def test_a_reason_is_required_to_take_something_away(ntua: Kit) -> None:
    person = _account(ntua, "noreason")
    for reason in (None, "", "  x "):
        with pytest.raises(InvalidInput) as refused:
            ntua.flows.admin_accounts.disable(ntua.realm, person.account_id, reason, SECRETARIAT)
        assert "reason" in refused.value.errors


def test_unknown_and_malformed_ids_are_not_found(ntua: Kit) -> None:
    for account_id in ("no-such-account", "../../etc", "x" * 200, ""):
        with pytest.raises(NotFound):
            ntua.flows.admin_accounts.details(ntua.realm, account_id)


def test_an_admin_reset_mails_a_link_that_sets_the_password(eiep: Kit) -> None:
    person = _account(eiep, "reset@example.gr", email="reset@example.gr")
    eiep.flows.admin_accounts.password_reset(eiep.realm, person.account_id, "forgot it on the phone", ADMIN)
    [mail] = [m for m in eiep.mailer.to("reset@example.gr") if m.template == "password_reset_admin"]
    token = mail.context["link"].split("token=")[1]
    eiep.flows.passwords.complete_reset(eiep.realm, token, "N3o!Kodikos", "N3o!Kodikos")
    assert [e.action for e in eiep.store.audit if e.account_id == person.account_id][-2:] == [
        "password_reset_sent",
        "password_reset",
    ]


def test_resend_sends_what_the_account_waits_for(ntua: Kit) -> None:
    welcome = _account(ntua, "welcome", password_hash=None)
    done = _account(ntua, "done")
    admin = ntua.flows.admin_accounts
    assert admin.resend(ntua.realm, welcome.account_id, SECRETARIAT) == "welcome"
    assert [m.template for m in ntua.mailer.to(welcome.email)] == ["password_setup"]
    with pytest.raises(InvalidInput):
        admin.resend(ntua.realm, done.account_id, SECRETARIAT)


def test_resend_of_a_pending_account_mails_a_new_activation(eiep: Kit) -> None:
    pending = _account(eiep, "p@example.gr", email="p@example.gr", status=AccountStatus.PENDING_ACTIVATION)
    assert eiep.flows.admin_accounts.resend(eiep.realm, pending.account_id, ADMIN) == "activation"
    assert [m.template for m in eiep.mailer.to("p@example.gr")] == ["activation"]


def test_unlock_lets_a_locked_out_owner_try_again_at_once(ntua: Kit) -> None:
    person = _account(ntua, "lockedout")
    for _ in range(5):
        with pytest.raises(Exception):
            ntua.sessions.login(ntua.realm, "lockedout", "wrong password entirely", "203.0.113.1")
    with pytest.raises(TooManyAttempts):
        ntua.sessions.login(ntua.realm, "lockedout", "correct horse battery staple ntua", "203.0.113.1")
    ntua.flows.admin_accounts.unlock(ntua.realm, person.account_id, "called the helpdesk", SECRETARIAT)
    assert ntua.sessions.login(ntua.realm, "lockedout", "correct horse battery staple ntua", "203.0.113.1")
    assert [e.action for e in ntua.store.audit if e.account_id == person.account_id][-1] == "account_unlocked"


def test_roles_change_end_sessions_and_an_nso_needs_a_country() -> None:
    esep = build_flows("esep")
    person = _account(esep, "subject-1", roles=("pupil",), password_hash=None)
    token = _signed_in(esep, person)
    admin = esep.flows.admin_accounts
    with pytest.raises(InvalidInput) as refused:
        admin.set_roles(esep.realm, person.account_id, ["nso"], None, ADMIN)
    assert "country" in refused.value.errors
    with pytest.raises(InvalidInput):
        admin.set_roles(esep.realm, person.account_id, ["secretariat"], None, ADMIN)  # not given in esep
    changed = admin.set_roles(esep.realm, person.account_id, ["nso"], "gr", ADMIN)
    assert set(changed.roles) == {"pupil", "nso"} and changed.extra["nso_country"] == "GR"
    with pytest.raises(Exception):
        esep.sessions.authenticate(esep.realm, token)
    own = _account(esep, "subject-admin", roles=("admin",), password_hash=None)
    with pytest.raises(Forbidden):
        admin.set_roles(esep.realm, own.account_id, [], None, Staff(own.account_id, own.roles))


def test_expiry_moves_at_most_two_years_and_brings_an_expired_account_back(ntua: Kit) -> None:
    today = ntua.clock.now().date()
    person = _account(ntua, "expired1", status=AccountStatus.EXPIRED, expires_on=today - timedelta(days=3))
    admin = ntua.flows.admin_accounts
    for bad in (today, today + timedelta(days=731)):
        with pytest.raises(InvalidInput):
            admin.set_expiry(ntua.realm, person.account_id, bad, None, SECRETARIAT)
    renewed = admin.set_expiry(ntua.realm, person.account_id, today + timedelta(days=365), "new programme", SECRETARIAT)
    assert renewed.status is AccountStatus.ACTIVE and renewed.expires_on == today + timedelta(days=365)
    with pytest.raises(NotFound):
        build_flows("eiep").flows.admin_accounts.set_expiry(get_realm("eiep"), "x", date(2030, 1, 1), None, ADMIN)


def test_factor_removal_needs_a_reason_and_an_account(ntua: Kit) -> None:
    person = _account(ntua, "nofactors")
    with pytest.raises(InvalidInput):
        ntua.flows.admin_accounts.remove_factors(ntua.realm, person.account_id, "", ADMIN)
    with pytest.raises(NotFound):
        ntua.flows.admin_accounts.remove_factors(ntua.realm, "nobody-here", "lost phone", ADMIN)


def test_the_account_page_says_why(ntua: Kit) -> None:
    person = _account(ntua, "why", password_hash=None, expires_on=ntua.clock.now().date() + timedelta(days=30))
    admin = ntua.flows.admin_accounts
    codes = [s.code for s in admin.details(ntua.realm, person.account_id).standing]
    assert codes == ["active", "no_password", "expires"]
    admin.disable(ntua.realm, person.account_id, "left the university", SECRETARIAT)
    details = admin.details(ntua.realm, person.account_id)
    assert details.standing[0].code == "disabled" and details.standing[0].params["reason"] == "left the university"
    assert "account_disabled" in [entry.action for entry in details.audit]


# --- the audit log ------------------------------------------------------------------------------


def test_the_log_needs_an_index_and_a_sane_period(ntua: Kit) -> None:
    reader = ntua.flows.admin_audit
    for kwargs, field in (
        ({}, "account"),
        ({"action": "DROP TABLE"}, "action"),
        ({"action": "x", "start": "yesterday"}, "from"),
        ({"action": "x", "start": "2025-03-05", "end": "2025-03-04"}, "to"),
    ):
        values = {"account": None, "actor": None, "action": None, "start": None, "end": None, **kwargs}
        with pytest.raises(InvalidInput) as refused:
            reader.parse(ntua.realm, **values)
        assert field in refused.value.errors


def test_a_username_stands_for_its_account_and_a_day_for_all_of_it(ntua: Kit) -> None:
    person = _account(ntua, "findme")
    wanted = ntua.flows.admin_audit.parse(
        ntua.realm, account="FindMe", actor=None, action=None, start="2025-03-03", end="2025-03-03"
    )
    assert wanted.query.account == person.account_id
    assert wanted.query.end is not None and wanted.query.start is not None
    assert wanted.query.end - wanted.query.start == timedelta(days=1)


def test_the_csv_export_neutralises_formulas(ntua: Kit) -> None:
    person = _account(ntua, "formula")
    ntua.flows.admin_accounts.disable(ntua.realm, person.account_id, '=HYPERLINK("http://evil","x")', SECRETARIAT)
    reader = ntua.flows.admin_audit
    data, cut = reader.export(
        ntua.realm, reader.parse(ntua.realm, account=person.account_id, actor=None, action=None, start=None, end=None)
    )
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    [disabled] = [row for row in rows if row["action"] == "account_disabled"]
    assert not cut and disabled["reason"] == '\'=HYPERLINK("http://evil","x")'
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


# --- the helpdesk --------------------------------------------------------------------------------


def test_a_reply_is_kept_and_mailed_with_the_ticket_id_in_the_subject(eiep: Kit) -> None:
    # Given a ticket opened through the support form
    ticket_id = eiep.flows.support.open(
        eiep.realm,
        topic="technical",
        email="asker@example.gr",
        afm=None,
        description="Το Moodle δεν ανοίγει.",
        language="el",
    )
    helpdesk = eiep.flows.helpdesk
    [queued] = helpdesk.queue(eiep.realm, "open").tickets
    # When the helpdesk answers it (found by its hash, as the queue links it)
    answered = helpdesk.reply(eiep.realm, queued.ticket_hash, "Δοκιμάστε ξανά τώρα.", HELPDESK)
    # Then the reply is on the ticket, which is answered, and the person got it by mail
    assert answered.status is TicketStatus.ANSWERED and [r.message for r in answered.replies] == [
        "Δοκιμάστε ξανά τώρα."
    ]
    [mail] = [m for m in eiep.mailer.to("asker@example.gr") if m.template == "support_reply"]
    rendered = eiep.mailer.rendered[eiep.mailer.sent.index(mail)]
    assert rendered is not None and ticket_id in rendered.subject
    assert mail.reply_to == eiep.realm.support.mailbox  # type: ignore[union-attr]
    # And the ticket id itself finds the ticket too; closing it takes it off the queue
    assert helpdesk.ticket(eiep.realm, ticket_id).ticket_hash == queued.ticket_hash
    helpdesk.set_status(eiep.realm, ticket_id, "closed", "solved", HELPDESK)
    assert helpdesk.queue(eiep.realm, "open").tickets == []
    with pytest.raises(InvalidInput):
        helpdesk.reply(eiep.realm, ticket_id, "one more thing", HELPDESK)
    actions = [e.action for e in eiep.store.audit if e.account_id == f"ticket:{queued.ticket_hash}"]
    assert actions == ["ticket_replied", "ticket_status"]


def test_bad_ticket_references_and_messages(eiep: Kit) -> None:
    helpdesk = eiep.flows.helpdesk
    for reference in ("nope", "0" * 64, "../x", "a" * 500):
        with pytest.raises(NotFound):
            helpdesk.ticket(eiep.realm, reference)
    with pytest.raises(InvalidInput):
        helpdesk.queue(eiep.realm, "pending")
    ticket_id = eiep.flows.support.open(
        eiep.realm, topic="technical", email="a@example.gr", afm=None, description="long enough text", language="el"
    )
    for message in ("", "x", "y" * 5001):
        with pytest.raises(InvalidInput):
            helpdesk.reply(eiep.realm, ticket_id, message, HELPDESK)


def _with_factors(kit: Kit, account: Account, count: int) -> None:
    """``count`` confirmed authenticator apps on the account, stored as enrolment stores them."""
    from chalicelib.domain.mfa import Factor, FactorKind

    for n in range(count):
        factor = Factor(
            kit.realm.id,
            account.account_id,
            f"f{n}",
            FactorKind.WEBAUTHN,
            f"key {n}",
            kit.clock.now(),
            credential_id=f"cred-{account.account_id}-{n}",
        )
        kit.flows.admin_accounts.factors.add(factor, login_key=account.login_key, audit=arranged(kit.realm.id, "x"))


def test_removing_factors_ends_sessions_mails_the_owner_and_is_audited(ntua: Kit) -> None:
    # Given a person with two factors, signed in
    person = _account(ntua, "lostphone")
    _with_factors(ntua, person, 2)
    token = _signed_in(ntua, person)
    admin = ntua.flows.admin_accounts
    assert [f["kind"] for f in admin.details(ntua.realm, person.account_id).factors] == ["webauthn", "webauthn"]
    # When an admin removes them with a reason
    removed = admin.remove_factors(ntua.realm, person.account_id, "lost the phone", ADMIN)
    # Then both are gone, the session ended, the owner is told, and the entry names the reason
    assert removed == 2 and admin.details(ntua.realm, person.account_id).factors == []
    with pytest.raises(Exception):
        ntua.sessions.authenticate(ntua.realm, token)
    assert [m.template for m in ntua.mailer.to(person.email)] == ["mfa_reset"]
    [entry] = [e for e in ntua.store.audit if e.action == "mfa_reset"]
    assert (entry.actor, entry.details["reason"]) == ("admin-1", "lost the phone")
    # And nobody strips their own factors, nor does a secretariat strip an admin's
    with pytest.raises(Forbidden):
        admin.remove_factors(ntua.realm, person.account_id, "again", Staff(person.account_id, ("admin",)))
    colleague = _account(ntua, "colleagueadmin", roles=("admin",))
    with pytest.raises(Forbidden):
        admin.remove_factors(ntua.realm, colleague.account_id, "lost it", SECRETARIAT)
