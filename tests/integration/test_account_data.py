"""The "Your data" tab over HTTP (SPEC §2.10): the export, self-deletion, its cancel by a
later sign-in, and the sweep that erases the person, through the Chalice test client
against the emulator. The erasure is checked by scanning the whole table."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from chalicelib.container import services
from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.helpdesk import TicketReply, TicketStatus
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.secrets import fingerprint
from chalicelib.realms import get_realm
from tests.fakes import arranged
from tests.support.arrange import account_in
from tests.support.browser import Browser, unique_email
from tests.support.mfa import claims, code

ROOT = Path(__file__).resolve().parents[2]
REALM = "eiep"
API = f"/api/v1/realms/{REALM}"
PASSWORD = "Kal0s!Kodikos"
_people = itertools.count(1)


def person(browser: Browser, realm: str = REALM) -> dict[str, str]:
    """An active account with a GSIS identity, signed in in ``browser``."""
    email = unique_email("data")
    identity = browser.new_identity()
    gsis = GsisIdentity(
        afm=identity.afm, last_name="ΔΙΑΓΡΑΦΟΠΟΥΛΟΥ", first_name="ΕΛΕΝΗ", father_name="", mother_name="", birth_year=""
    )
    username = email if realm == REALM else f"data{next(_people)}{id(browser) % 10000}"
    account_id = account_in(realm, username=username, email=email, password=PASSWORD, identity=gsis)
    signed = browser.post(f"/api/v1/realms/{realm}/sessions", json={"username": username, "password": PASSWORD})
    assert signed.status == 201, signed.text
    return {"account_id": account_id, "email": email, "username": username, "afm": identity.afm}


def stale(browser: Browser) -> None:
    """The browser's session last proved who its person is six minutes ago."""
    seen = claims(browser.jar["mitroo_session"])
    models = services().ports.sessions._m  # type: ignore[attr-defined]
    item = models.SessionFamilyItem(f"ACCOUNT#{seen['realm']}#{seen['sub']}", f"SESSION#{seen['sid']}")
    item.update(actions=[models.SessionFamilyItem.auth_time.set(datetime.now(UTC) - timedelta(minutes=6))])


def scan_for(*needles: str) -> list[dict[str, Any]]:
    """Every item of the main table whose text holds one of ``needles``."""
    client = boto3.client("dynamodb", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
    found, start = [], None
    while True:
        page = client.scan(TableName=os.environ["MITROO_TABLE_NAME"], **({"ExclusiveStartKey": start} if start else {}))
        for item in page["Items"]:
            text = json.dumps(item, ensure_ascii=False).casefold()
            if any(needle.casefold() in text for needle in needles):
                found.append(item)
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


def test_the_export_is_a_file_of_the_persons_data_without_secrets(browser: Browser) -> None:
    # Given Eleni with an authenticator app, who wrote to the helpdesk and got a reply
    eleni = person(browser)
    started = browser.post(f"{API}/me/mfa/totp", json={"label": "Phone"})
    secret = started.json["secret"]
    browser.post(f"{API}/me/mfa/totp/{started.json['factor_id']}/confirm", json={"code": code(secret)})
    opened = browser.post(
        f"{API}/support-tickets",
        json={"topic": "technical", "email": eleni["email"], "description": "Δεν βλέπω τα μαθήματά μου."},
    )
    assert opened.status in (201, 202), opened.text
    [ticket] = services().ports.helpdesk.sent_from(REALM, eleni["email"])
    reply = TicketReply(at=datetime.now(UTC), author="helpdesk", message="Ανανεώστε τη σελίδα.")
    assert services().ports.helpdesk.reply(
        REALM, ticket.ticket_hash, reply, TicketStatus.ANSWERED, audit=arranged(REALM, eleni["account_id"])
    )

    # When she downloads her data
    response = browser.get(f"{API}/me/export")

    # Then it is a JSON attachment named after the realm and the day, with her profile,
    # identity, the factor (no secret), her session, the audit trail and the ticket
    assert response.status == 200, response.text
    today = datetime.now(UTC).date().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="mitroo-{REALM}-{today}.json"'
    assert response.headers["content-type"].startswith("application/json")
    document = response.json
    assert document["account"]["email"] == eleni["email"]
    assert document["account"]["identity"]["afm"] == eleni["afm"]
    assert [factor["kind"] for factor in document["second_factors"]["factors"]] == ["totp"]
    assert [session["current"] for session in document["sessions"]] == [True]
    assert {"user_agent", "address", "started_at", "last_used_at"} <= set(document["sessions"][0])
    assert "mfa_factor_added" in [entry["action"] for entry in document["audit"]]
    [exported] = document["support_tickets"]
    assert exported["replies"][0]["message"] == "Ανανεώστε τη σελίδα."
    assert secret not in response.text and "argon2" not in response.text


def test_export_and_deletion_need_a_recent_authentication(browser: Browser) -> None:
    # Given a session whose last check of the person is six minutes old
    person(browser)
    stale(browser)

    # When the export and the deletion are asked for, then both are refused
    for response in (browser.get(f"{API}/me/export"), browser.delete(f"{API}/me")):
        assert response.status == 401 and response.json["code"] == "reauthentication_required"

    # And after the password is typed again they are allowed
    assert browser.post(f"{API}/me/reauthenticate", json={"password": PASSWORD}).status == 200
    assert browser.get(f"{API}/me/export").status == 200


def test_deleting_schedules_once_and_a_sign_in_offers_to_cancel(browser: Browser) -> None:
    # Given Eleni, signed in
    eleni = person(browser)

    # When she deletes her account, twice
    first = browser.delete(f"{API}/me")
    second = browser.delete(f"{API}/me")

    # Then it is due in 14 days, the second answer says so without moving it, and she is told
    due = (datetime.now(UTC).date() + timedelta(days=14)).isoformat()
    assert first.status == 202 and first.json == {"deletion_due": due, "grace_days": 14}
    assert second.status == 409 and second.json["code"] == "deletion_scheduled"
    assert second.json["deletion_due"] == due
    assert "διαγραφεί" in browser.mail_to(eleni["email"])[0]["subject"]

    # When she signs in again (a new session), the home page offers to keep the account
    browser.jar.clear()
    anonymous = browser
    signed = anonymous.post(f"{API}/sessions", json={"username": eleni["username"], "password": PASSWORD})
    assert signed.status == 201
    home = anonymous.get(f"/realms/{REALM}/home", html=True)
    assert 'data-notice="deletion-scheduled"' in home.text
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert csrf_token
    kept = anonymous.post(
        f"{API}/me/deletion/cancel",
        form={"csrf_token": csrf_token.group(1), "form_page": f"/realms/{REALM}/home"},
        html=True,
    )

    # Then the deletion is cancelled, audited and announced
    assert kept.status == 303 and kept.location.endswith("/account/data?done=kept")
    account = services().ports.accounts.get(REALM, eleni["account_id"])
    assert account is not None and account.deletion_due is None
    actions = [entry.action for entry in services().ports.audit.entries(REALM, eleni["account_id"])]
    assert actions[-2:] == ["account.deletion_scheduled", "account.deletion_cancelled"]
    assert anonymous.delete(f"{API}/me/deletion").status == 404
    assert 'data-notice="deletion-scheduled"' not in anonymous.get(f"/realms/{REALM}/home", html=True).text


def test_registrar_accounts_cannot_delete_themselves(browser: Browser) -> None:
    # Given a person of ntua
    person(browser, realm="ntua")

    # When they ask for deletion, then it is refused with the reason
    refused = browser.delete("/api/v1/realms/ntua/me")
    assert refused.status == 403 and refused.json["code"] == "forbidden"
    assert "registrar" in refused.json["detail"]


def test_the_sweep_erases_the_person_and_frees_the_address(browser: Browser) -> None:
    # Given Eleni's deletion, scheduled today
    eleni = person(browser)
    assert browser.delete(f"{API}/me").status == 202
    account_id = eleni["account_id"]

    # When the sweep runs on the day before it is due, then on the day
    sweep = services().flows.deletion_sweep
    today = datetime.now(UTC).date()
    before = sweep.sweep(get_realm(REALM), today + timedelta(days=13))
    assert services().ports.accounts.get(REALM, account_id) is not None
    report = sweep.sweep(get_realm(REALM), today + timedelta(days=14))

    # Then her session no longer works, and nothing in the table holds her e-mail,
    # username or AFM; her id is left on the tombstone, and on the spent refresh tokens
    # of her ended sessions (keyed by their hash, unusable, gone with their TTL)
    assert account_id not in before.failed and report.erased >= 1 and account_id not in report.failed
    assert browser.get(f"{API}/me").status == 401
    assert scan_for(eleni["email"], eleni["afm"], fingerprint(eleni["afm"]), fingerprint(eleni["email"])) == []
    left = scan_for(account_id)
    [tombstone] = [item for item in left if item["kind"]["S"] == "audit"]
    assert tombstone["action"]["S"] == "account.erased"
    assert tombstone.get("address", {}).get("S", "") == "" and not tombstone.get("details", {}).get("M")
    tokens = [item for item in left if item["kind"]["S"] == "refresh"]
    assert len(left) == 1 + len(tokens) and all("purge_at" in item for item in tokens)

    # And the address and the AFM can hold an account again
    again = account_in(
        REALM,
        username=eleni["email"],
        email=eleni["email"],
        password=PASSWORD,
        identity=GsisIdentity(
            afm=eleni["afm"], last_name="Α", first_name="Β", father_name="", mother_name="", birth_year=""
        ),
    )
    assert services().ports.accounts.find_by_unique(REALM, UniqueKind.EMAIL, eleni["email"]).account_id == again  # type: ignore[union-attr]


def test_the_cli_erases_as_of_a_given_day(browser: Browser, aws_endpoint: str) -> None:
    # Given a scheduled deletion
    eleni = person(browser)
    assert browser.delete(f"{API}/me").status == 202
    as_of: date = datetime.now(UTC).date() + timedelta(days=20)

    # When the operator runs the sweep as of a day past it
    result = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "delete-accounts", "--as-of", as_of.isoformat(), "--realm", REALM],
        cwd=ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=120,
    )

    # Then it reports what it erased, and the account is gone
    assert result.returncode == 0, result.stderr
    assert re.match(rf"{REALM}: as of {as_of.isoformat()}, due \d+, erased [1-9]\d*, failed 0", result.stdout)
    assert services().ports.accounts.get(REALM, eleni["account_id"]) is None


def _csrf(page_text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page_text)
    assert found, page_text
    return found.group(1)


def test_the_page_asks_again_inline_and_comes_back_to_itself(browser: Browser) -> None:
    # Given a visitor who is not signed in, then a person whose session is not recent
    assert browser.get(f"/realms/{REALM}/account/data", html=True).location == f"/realms/{REALM}/login"
    person(browser)
    stale(browser)

    # When they open the tab, it offers no download yet but a password field
    shown = browser.get(f"/realms/{REALM}/account/data", html=True)
    assert shown.status == 200 and 'data-action="export"' not in shown.text
    assert 'action="/api/v1/realms/eiep/me/reauthenticate"' in shown.text

    # When they type the password there, they come back to the tab, which now offers both
    back = browser.post(
        f"{API}/me/reauthenticate",
        form={"csrf_token": _csrf(shown.text), "form_page": f"/realms/{REALM}/account/data", "password": PASSWORD},
        html=True,
    )
    assert back.status == 303 and back.location == f"/realms/{REALM}/account/data"
    again = browser.get(f"/realms/{REALM}/account/data?confirm=1", html=True)
    assert 'data-action="export"' in again.text and 'data-action="confirm-delete"' in again.text

    # And the confirmation's form schedules the deletion
    done = browser.post(
        f"{API}/me/delete",
        form={"csrf_token": _csrf(again.text), "form_page": f"/realms/{REALM}/account/data?confirm=1"},
        html=True,
    )
    assert done.status == 303 and done.location.endswith("/account/data?done=scheduled")


def test_the_registrar_realms_page_explains_instead_of_offering_deletion(browser: Browser) -> None:
    # Given a person of ntua on the tab, then, when it shows, it explains and offers no deletion
    person(browser, realm="ntua")
    shown = browser.get("/realms/ntua/account/data", html=True)
    assert 'data-field="no-self-deletion"' in shown.text and 'data-action="delete"' not in shown.text
