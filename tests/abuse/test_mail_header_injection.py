"""Header injection through e-mail fields: an address or a name carrying CR/LF (or a
second address) must never add a recipient or a header to a mail.

Mitroo sends with SES's ``SendEmail``, which takes the recipients, Reply-To and subject
as separate fields and builds the MIME headers itself; so the defence is that no such
field ever holds a line break or a second address. Each test records what the app's SES
client puts on the wire (``ses_wire``) and checks those fields, and asks the emulator
whether anything reached the attacker. Every endpoint that takes an address is covered:
registration, resend, both password resets, support tickets, NTUA accounts (external
and supervisor e-mail, and the names that go into the mail), both legacy loads, and the
e-mail EU Login asserts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.container import services
from chalicelib.flows.esep.legacy import read_esep_legacy_rows
from chalicelib.realms import get_realm
from tests.abuse.conftest import Ledger
from tests.integration.test_registrar_api import _body, _staff_token
from tests.support.arrange import account_in, second_factor_passed
from tests.support.browser import Browser, unique_email

ATTACKER = "evil@attacker.example"
Wire = list[dict[str, list[str]]]

# What an attacker appends to an address to smuggle a header (SMTP/MIME line breaks in
# every spelling), or puts around it to make it two recipients.
INJECTIONS = [
    "{0}\r\nBcc: " + ATTACKER,
    "{0}\nBcc: " + ATTACKER,
    "{0}\rBcc: " + ATTACKER,
    "{0}\r\n\r\nInjected body",
    "{0}\u2028Bcc: " + ATTACKER,
    "{0}, " + ATTACKER,
    "{0};" + ATTACKER,
    '"Evil" <' + ATTACKER + ">",
    "=?utf-8?q?=0D=0ABcc=3A_" + ATTACKER + "?= <{0}>",
]
HEADER_FIELDS = ("Source", "Destination.", "ReplyToAddresses.", "ReturnPath", "Message.Subject.")


def _injected(address: str) -> list[str]:
    return [pattern.format(address) for pattern in INJECTIONS]


def _assert_no_injection(browser: Browser, wire: Wire, allowed: set[str] | None = None) -> None:
    """No field SES turns into a header holds a line break or the attacker, every
    recipient is one clean address (among ``allowed`` when given), and the emulator's SES
    delivered nothing to the attacker."""
    browser.run_tasks()
    for request in wire:
        for name, values in request.items():
            if not name.startswith(HEADER_FIELDS):
                continue
            for value in values:
                assert not set(value) & {"\r", "\n", "\u2028", "\u2029"}, (name, value)
                assert ATTACKER not in value, (name, value)
            if name.startswith(("Destination.", "ReplyToAddresses.")) and allowed is not None:
                assert set(values) <= allowed, (name, values)
    assert browser.mail_to(ATTACKER) == []


def _staff_auth(browser: Browser, wire: Wire) -> dict[str, str]:
    """A secretariat member's bearer header. Their sign-in from this new browser mails them
    a notice (SPEC §2.10); it is sent and forgotten here, so the wire holds only the mail
    the test is about."""
    auth = {"Authorization": f"Bearer {_staff_token(browser)}"}
    browser.run_tasks()
    wire.clear()
    return auth


def test_registration_refuses_an_address_with_a_header_in_it(
    browser: Browser, written: Callable[[], Ledger], ses_wire: Wire
) -> None:
    # Given a GSIS flow, ready to register
    flow = browser.gsis_flow()
    ledger = written()

    # When every injected spelling of an address is registered with it
    for email in _injected(unique_email()):
        answer = browser.register(flow, email)

        # Then each is 422 invalid_email
        assert answer.status == 422, (email, answer.text)
        assert answer.json["code"] == "invalid_email", email

    # and no account was written, no mail sent
    assert ledger.changes() == []
    _assert_no_injection(browser, ses_wire, allowed=set())
    assert ses_wire == []


def test_a_trailing_line_break_is_trimmed_and_the_mail_goes_to_the_clean_address(
    browser: Browser, ses_wire: Wire
) -> None:
    # Given / When an address with a trailing CR LF registers
    email = unique_email()
    assert browser.register(browser.gsis_flow(), email + "\r\n").status == 201

    # Then the activation mail goes to that address alone
    _assert_no_injection(browser, ses_wire, allowed={email})
    assert [request["Destination.ToAddresses.member.1"] for request in ses_wire] == [[email]]


def test_resend_and_both_password_resets_mail_nobody_for_an_injected_address(
    browser: Browser, written: Callable[[], Ledger], ses_wire: Wire
) -> None:
    # Given a pending e-IEP account and an NTUA account with their real addresses
    pending = unique_email()
    assert browser.register(browser.gsis_flow(), pending).status == 201
    ntua_email = unique_email("student")
    ntua_user = "u" + ntua_email.split(".")[1].split("@")[0]
    account_in("ntua", username=ntua_user, email=ntua_email, password="agapw poly th mairh kai pali")
    browser.run_tasks()
    ses_wire.clear()
    ledger = written()

    for pending_injected, ntua_injected in zip(_injected(pending), _injected(ntua_email), strict=True):
        # When the injected addresses are sent where the owners' addresses go
        resend = browser.post("/api/v1/realms/eiep/activations/resend", json={"email": pending_injected})
        eiep_reset = browser.post("/api/v1/realms/eiep/password-resets", json={"email": pending_injected})
        ntua_reset = browser.post(
            "/api/v1/realms/ntua/password-resets", json={"username": ntua_user, "email": ntua_injected}
        )

        # Then resend and the e-IEP reset refuse the malformed address (which says
        # nothing about any account), the NTUA reset answers 202 as it always does
        assert (resend.status, resend.json["code"]) == (422, "invalid_email"), resend.text
        assert (eiep_reset.status, eiep_reset.json["code"]) == (422, "invalid_email"), eiep_reset.text
        assert ntua_reset.status == 202, ntua_reset.text

    # and nobody is mailed: an injected address is not the owner's
    assert ledger.changes() == []
    _assert_no_injection(browser, ses_wire, allowed=set())
    assert ses_wire == []


def test_support_tickets_refuse_injected_addresses_and_reply_to_stays_clean(
    browser: Browser, written: Callable[[], Ledger], ses_wire: Wire
) -> None:
    # Given injected addresses on the helpdesk form
    ledger = written()
    ticket = {"topic": "technical", "description": "Δεν μπορώ να συνδεθώ στο e-IEP."}
    for email in _injected(unique_email()):
        # When each is sent / Then 422 invalid_email, nothing stored
        answer = browser.post("/api/v1/realms/eiep/support-tickets", json={**ticket, "email": email})
        assert (answer.status, answer.json["code"]) == (422, "invalid_email"), (email, answer.text)
    assert ledger.changes() == []
    assert ses_wire == []

    # And a good ticket mails the helpdesk with Reply-To the person, a clean header
    email = unique_email()
    assert browser.post("/api/v1/realms/eiep/support-tickets", json={**ticket, "email": email}).status == 201
    helpdesk = get_realm("eiep").support.mailbox  # type: ignore[union-attr]
    _assert_no_injection(browser, ses_wire, allowed={email, helpdesk})
    assert sorted(request.get("ReplyToAddresses.member.1", [""])[0] for request in ses_wire) == sorted(["", email])


@pytest.mark.parametrize("field", ["external_email", "supervisor_email"])
def test_ntua_accounts_refuse_injected_addresses(
    browser: Browser, written: Callable[[], Ledger], ses_wire: Wire, field: str
) -> None:
    # Given a secretariat member
    auth = _staff_auth(browser, ses_wire)
    ledger = written()

    for email in _injected(unique_email("student")):
        # When an account is created with an injected address
        answer = browser.post("/api/v1/realms/ntua/admin/accounts", json=_body(**{field: email}), headers=auth)

        # Then 422 invalid_email naming the field, and no account
        assert (answer.status, answer.json["code"]) == (422, "invalid_email"), (field, email, answer.text)
        assert field in answer.json["errors"]
    assert ledger.changes() == []
    _assert_no_injection(browser, ses_wire, allowed=set())


def test_line_breaks_in_names_never_reach_a_header(browser: Browser, ses_wire: Wire) -> None:
    # Given a secretariat member creating an account whose every name and detail
    # carries a header after a line break
    auth = _staff_auth(browser, ses_wire)
    body = _body(
        first_name="Γιώργος\r\nBcc: " + ATTACKER,
        father_name="Νικόλαος\nSubject: free money",
        mother_name="Μαρία\r\n\r\nInjected body",
        supervisor="Dr X\r\nBcc: " + ATTACKER,
        address="Ηρώων Πολυτεχνείου 9\r\nBcc: " + ATTACKER,
    )

    # When it is created and its welcome mail sent
    created = browser.post("/api/v1/realms/ntua/admin/accounts", json=body, headers=auth)

    # Then the names are stored on one line (the line breaks become spaces) …
    assert created.status == 201, created.text
    stored = services().ports.accounts.get("ntua", created.json["account_id"])
    assert stored is not None and stored.identity is not None
    assert stored.identity.first_name == "Γιώργος Bcc: " + ATTACKER
    assert stored.identity.father_name == "Νικόλαος Subject: free money"
    kept = json.dumps(stored.extra, ensure_ascii=False)
    assert "\\r" not in kept and "\\n" not in kept, kept
    # … and the only mail goes to the external address, with no header added
    _assert_no_injection(browser, ses_wire, allowed={body["external_email"]})
    assert len(ses_wire) == 1


def test_legacy_loads_reject_rows_with_injected_addresses(browser: Browser, written: Callable[[], Ledger]) -> None:
    # Given an e-IEP administrator, and legacy rows whose addresses carry headers
    admin = unique_email("admin")
    account_in("eiep", username=admin, email=admin, password="Kal0s!Kodikos", roles=("admin",))
    token = browser.login(admin).json["access_token"]
    second_factor_passed(token)  # staff roles need a second factor (SPEC §2.9)
    eiep_rows = [
        {
            "registry_number": f"R{index}{unique_email().split('.')[1][:6]}",
            "last_name": "ΠΑΠΑΣ",
            "first_name": "ΝΙΚΟΣ",
            "email": email,
        }
        for index, email in enumerate(_injected(unique_email("legacy")))
    ]
    esep_rows: list[dict[str, Any]] = [
        {"email": email, "given_name": "Ελένη", "family_name": "Αντωνίου", "country": "GR", "role": "teacher"}
        for email in _injected(unique_email("etwinning"))
    ]
    ledger = written()

    # When the e-IEP rows go through the admin endpoint, and the eTwinning rows through
    # the load that ``cli load-legacy --realm esep`` runs
    content = "\n".join(json.dumps(row, ensure_ascii=False) for row in eiep_rows)
    answer = browser.post(
        "/api/v1/realms/eiep/admin/legacy-accounts",
        json={"format": "jsonl", "content": content},
        headers={"Authorization": f"Bearer {token}"},
    )
    esep_text = "\n".join(json.dumps(row, ensure_ascii=False) for row in esep_rows)
    esep_report = services().flows.esep_legacy.load(get_realm("esep"), read_esep_legacy_rows(esep_text, "jsonl"))

    # Then every row is rejected for its address, and nothing is written
    assert answer.status == 200, answer.text
    assert (answer.json["created"], answer.json["rejected"]) == (0, len(eiep_rows))
    assert all("email" in (problem["reason"] or "") for problem in answer.json["problems"]), answer.text
    assert (esep_report.created, esep_report.rejected) == (0, len(esep_rows))
    assert ledger.changes() == []


def test_an_eu_login_e_mail_with_a_header_in_it_is_an_idp_error(
    browser: Browser, written: Callable[[], Ledger]
) -> None:
    # Given EU Login (or something posing as it) asserting an address with a header
    person = browser.new_eulogin_person("GR", email="teacher@school.example\r\nBcc: " + ATTACKER)
    ledger = written()

    # When the sign-in comes back
    assert browser.eulogin is not None
    answer = browser.callback(browser.eulogin.authorize(browser.start_eulogin(), person))

    # Then it is refused as the identity provider's error, and no flow is stored
    assert answer.status == 400, answer.text
    assert 'data-code="idp_error"' in answer.text
    assert ledger.changes() == []
