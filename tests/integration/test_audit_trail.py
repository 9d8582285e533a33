"""Every flow that changes an account leaves its audit entry: who, what, when, from where
(SPEC §3, issue 11 §5). Before, registration, activation, password resets and setups,
GSIS certification, create-admin, grant-role, legacy imports and eTwinning registration
wrote none (a register → activate → reset left the account's trail empty).

Each entry is written in the same transaction as its change (the repositories take it
as an argument), so these tests read the trail through the app's own audit log.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from chalicelib.container import services
from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.audit import AuditEntry
from standins.gsis import make_afm
from tests.integration.test_cli import PASSPHRASE, run_cli
from tests.support.arrange import account_in, second_factor_passed
from tests.support.browser import STRONG_PASSWORD, Browser, unique_email

EIEP, NTUA, ESEP = "/api/v1/realms/eiep", "/api/v1/realms/ntua", "/api/v1/realms/esep"
NEW_PASSWORD = "N3w!Kodikos"


def _trail(realm: str, account_id: str) -> list[AuditEntry]:
    return [e for e in services().ports.audit.entries(realm, account_id) if e.actor != "test"]


def _account_id(realm: str, kind: UniqueKind, value: str) -> str:
    account = services().ports.accounts.find_by_unique(realm, kind, value)
    assert account is not None
    return account.account_id


def test_register_activate_reset_and_sign_in_each_leave_an_entry_from_the_persons_address(browser: Browser) -> None:
    # Given a teacher who registers through GSIS and activates by the mailed link
    identity = browser.new_identity()
    email = unique_email("audited")
    assert browser.register(browser.gsis_flow(identity), email).status == 201
    token, _ = browser.activation_mail(email)
    assert browser.post(f"{EIEP}/activations", json={"token": token}).status == 200

    # When she resets her password through GSIS
    started = browser.post(f"{EIEP}/password-resets", json={"email": email}).json
    reset = parse_qs(urlsplit(started["gsis_url"]).query)["reset"][0]
    back = browser.get(f"/realms/eiep/gsis/start?intent=reset-password&reset={reset}", html=True)
    authorize = {k: v[0] for k, v in parse_qs(urlsplit(back.location).query).items()}
    flow = parse_qs(urlsplit(browser.callback(browser.choose_at_gsis(authorize, identity.key)).location).query)["flow"]
    body = {"flow": flow[0], "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD}
    assert browser.post(f"{EIEP}/password-resets/complete", json=body).status == 200

    # Then the trail says each change, done by her, from her address, in order
    account_id = _account_id("eiep", UniqueKind.EMAIL, email)
    trail = _trail("eiep", account_id)
    assert [(e.action, e.actor, e.address) for e in trail] == [
        ("account_registered", account_id, browser.address),
        ("account_activated", account_id, browser.address),
        ("password_reset", account_id, browser.address),
    ]
    assert trail[1].details == {"by": "link"} and trail[2].details == {"via": "gsis"}
    # and no entry holds the e-mail, the AFM or the password
    text = repr(trail)
    assert email not in text and identity.afm not in text and NEW_PASSWORD not in text


def test_an_ntua_set_password_and_a_reset_by_mail_are_audited(browser: Browser) -> None:
    # Given an account a secretariat created (its creation audited by the registrar)
    staff = unique_email("sec").split("@")[0].replace(".", "")
    account_in("ntua", username=staff, email=f"{staff}@example.gr", password=PASSPHRASE, roles=("secretariat",))
    bearer = browser.post(f"{NTUA}/sessions", json={"username": staff, "password": PASSPHRASE}).json["access_token"]
    second_factor_passed(bearer)  # staff roles need a second factor (SPEC §2.9)
    external = unique_email("student")
    created = browser.post(
        f"{NTUA}/admin/accounts",
        json={
            "kind": "staff",
            "first_name": "Μαρία",
            "last_name": "Παπαδοπούλου",
            "father_name": "Γεώργιος",
            "mother_name": "Ελένη",
            "external_email": external,
            "registry_number": f"R{make_afm(1)[:6]}",
            "expires_on": (datetime.now(UTC).date() + timedelta(days=200)).isoformat(),
        },
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert created.status == 201, created.text
    account_id, username = created.json["account_id"], created.json["username"]

    # When the person sets a password from the welcome mail, then resets it by mail
    token = re.search(r"set-password\?token=([A-Za-z0-9_-]+)", browser.mail_to(external)[0]["html"])
    assert token
    body = {"token": token.group(1), "password": PASSPHRASE, "password_confirmation": PASSPHRASE}
    assert browser.post(f"{NTUA}/password-setups", json=body).status == 200
    assert browser.post(f"{NTUA}/password-resets", json={"username": username, "email": external}).status == 202
    reset = next(m for m in browser.mail_to(external) if "reset-password?token=" in (m["html"] or ""))
    token = re.search(r"reset-password\?token=([A-Za-z0-9_-]+)", reset["html"])
    assert token
    body = {"token": token.group(1), "password": PASSPHRASE + " new", "password_confirmation": PASSPHRASE + " new"}
    assert browser.post(f"{NTUA}/password-resets/complete", json=body).status == 200

    # Then the trail has the creation by the secretariat, the setup and the reset by the person
    staff_id = _account_id("ntua", UniqueKind.USERNAME, staff)
    assert [(e.action, e.actor) for e in _trail("ntua", account_id)] == [
        ("account_created", staff_id),
        ("password_set", account_id),
        ("password_reset", account_id),
    ]


def test_a_legacy_certification_is_audited_with_the_names_of_the_overwritten_fields(browser: Browser) -> None:
    # Given a legacy account whose registry spells the name differently from GSIS
    identity = browser.new_identity()
    email = unique_email("legacy")
    from chalicelib.domain.identity import GsisIdentity

    account_id = account_in(
        "eiep",
        username=email,
        email=email,
        password=STRONG_PASSWORD,
        identity=GsisIdentity(identity.afm, "ΑΛΛΟ", identity.first_name, "", "", ""),
        gsis_verified=False,
    )

    # When she signs in and certifies through GSIS
    ticket = browser.login(email).json["ticket"]
    start = browser.get(f"/realms/eiep/gsis/start?intent=certify&ticket={ticket}", html=True)
    authorize = {k: v[0] for k, v in parse_qs(urlsplit(start.location).query).items()}
    flow = parse_qs(urlsplit(browser.callback(browser.choose_at_gsis(authorize, identity.key)).location).query)
    assert browser.post(f"{EIEP}/certifications", json={"flow": flow["flow"][0], "decision": "certify"}).status == 201

    # Then the entry names the fields overwritten, never their values
    [entry] = [e for e in _trail("eiep", account_id) if e.action == "account_certified"]
    assert entry.actor == account_id and entry.address == browser.address
    assert "last_name" in entry.details["overwritten"].split(",")
    assert "ΑΛΛΟ" not in repr(entry) and identity.last_name not in repr(entry)


def test_create_admin_and_legacy_import_are_audited_as_the_operators(browser: Browser, tmp_path: Path) -> None:
    # Given an operator at the command line
    username = unique_email("op").split("@")[0].replace(".", "")
    created = run_cli(
        "create-admin",
        "--realm",
        "ntua",
        "--username",
        username,
        "--email",
        f"{username}@example.gr",
        "--role",
        "secretariat",
        "--password-stdin",
        stdin=PASSPHRASE + "\n",
    )
    assert created.returncode == 0, created.stderr
    account_id = created.stdout.strip()

    # Then the administrator's creation is the operator's, from the command line
    [entry] = _trail("ntua", account_id)
    assert (entry.action, entry.actor, entry.address, entry.details) == (
        "account_created",
        "operator:cli",
        "cli",
        {"roles": "secretariat"},
    )

    # And an old-registry account loaded from a file is an import by the operator
    email = unique_email("imported")
    rows = tmp_path / "legacy.jsonl"
    rows.write_text(json.dumps({"registry_number": "R-9", "last_name": "Α", "first_name": "Β", "email": email}) + "\n")
    loaded = run_cli("load-legacy", "--realm", "eiep", str(rows))
    assert loaded.returncode == 0, loaded.stderr
    [entry] = _trail("eiep", _account_id("eiep", UniqueKind.EMAIL, email.casefold()))
    assert (entry.action, entry.actor, entry.address) == ("account_imported", "operator:cli", "cli")


def test_an_esep_registration_and_an_nso_grant_are_audited(browser: Browser) -> None:
    # Given a teacher registering through EU Login
    person = browser.new_eulogin_person()
    flow, _ = browser.eulogin_flow(person)
    registered = browser.post(f"{ESEP}/registrations", json={"flow": flow, "role": "other", "country": "GR"})
    assert registered.status == 201
    account_id = registered.json["account_id"]

    # When an operator makes her the NSO of Greece
    granted = run_cli("grant-role", "--realm", "esep", "--subject", person.sub, "--role", "nso", "--country", "GR")
    assert granted.returncode == 0, granted.stderr

    # Then both are on her trail, hers from her address and the grant from the command line,
    # and the session she signed in with ended with the grant (its token carried no nso)
    trail = _trail("esep", account_id)
    assert [(e.action, e.actor, e.address) for e in trail] == [
        ("account_registered", account_id, browser.address),
        ("roles_granted", "operator:cli", "cli"),
        ("session.ended", "operator:cli", "cli"),
    ]
    assert trail[1].details == {"roles": "nso", "nso_country": "GR"}
