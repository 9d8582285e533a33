"""Who may read a spreadsheet job (issue 11 §4): its creator and the realm's admins.

A job's report is the uploaded sheet with every row's status: names, parents' names,
addresses, mobiles and e-mails of every person in it. Any secretariat of the realm could
read any job and its report. Now another secretariat is answered 404 ``not_found``, as
for a job that does not exist: 403 would confirm that the id it holds names someone
else's upload. Every report download is audited in the reader's own trail (who, which
job, which format, from where).
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.jobs import XLSX
from tests.integration.test_provisioning_api import _auth, _finished, _tag, _upload
from tests.support.browser import Browser, unique_email
from tests.support.sheets import provisioning_xlsx, student

API = "/api/v1/realms/ntua/admin"
PASSPHRASE = "a long passphrase for the secretariat"


def _staff(browser: Browser, role: str) -> tuple[str, str]:
    """(account id, access token) of a new staff member of ntua with ``role``."""
    from tests.support.arrange import account_in, second_factor_passed

    email = unique_email("staff")
    username = "staff" + email.split(".")[1].split("@")[0]
    account_id = account_in("ntua", username=username, email=email, password=PASSPHRASE, roles=(role,))
    login = browser.post("/api/v1/realms/ntua/sessions", json={"username": username, "password": PASSPHRASE})
    assert login.status == 201, login.text
    second_factor_passed(login.json["access_token"])  # staff roles need a second factor (SPEC §2.9)
    return account_id, str(login.json["access_token"])


def _audit(account_id: str) -> list[Any]:
    from chalicelib.container import services

    return [entry for entry in services().ports.audit.entries("ntua", account_id) if entry.action.startswith("job_")]


def test_another_secretariat_cannot_read_a_job_or_its_report_but_an_admin_can(browser: Browser) -> None:
    # Given a job a secretariat member ran
    _creator_id, creator = _staff(browser, "secretariat")
    _other_id, other = _staff(browser, "secretariat")
    _admin_id, admin = _staff(browser, "admin")
    job_id = _upload(browser, creator, provisioning_xlsx([student(0, _tag())])).json["job_id"]
    assert _finished(browser, creator, job_id)["status"] == "completed"

    # When another secretariat member of the realm asks for it, its report, or to start it
    status = browser.get(f"{API}/jobs/{job_id}", headers=_auth(other))
    report = browser.get(f"{API}/jobs/{job_id}/report", headers={**_auth(other), "Accept": XLSX})
    csv = browser.get(f"{API}/jobs/{job_id}/report?format=csv", headers=_auth(other))
    start = browser.post(f"{API}/jobs/{job_id}/start", headers=_auth(other))
    page = browser.get(f"/realms/ntua/admin/jobs/{job_id}", headers=_auth(other), html=True)

    # Then each is told there is no such job, and nothing of the sheet is in any answer
    for answer in (status, report, csv, start):
        assert (answer.status, answer.json["code"]) == (404, "not_found"), answer.text
    assert page.status == 404
    assert student(0, "x")["father_name"] not in page.text

    # And the creator and a realm admin read both
    for token in (creator, admin):
        assert browser.get(f"{API}/jobs/{job_id}", headers=_auth(token)).status == 200
        assert browser.get(f"{API}/jobs/{job_id}/report", headers={**_auth(token), "Accept": XLSX}).status == 200


def test_every_report_download_is_audited_in_the_readers_trail(browser: Browser) -> None:
    creator_id, creator = _staff(browser, "secretariat")
    admin_id, admin = _staff(browser, "admin")
    job_id = _upload(browser, creator, provisioning_xlsx([student(0, _tag())])).json["job_id"]
    _finished(browser, creator, job_id)
    assert _audit(creator_id) == []

    # When the creator downloads the .xlsx and an admin the CSV
    assert browser.get(f"{API}/jobs/{job_id}/report", headers={**_auth(creator), "Accept": XLSX}).status == 200
    assert browser.get(f"{API}/jobs/{job_id}/report?format=csv", headers=_auth(admin)).status == 200

    # Then each download is in its reader's audit trail: which job, which format, from where
    [mine] = _audit(creator_id)
    [admins] = _audit(admin_id)
    assert (mine.action, mine.actor, mine.details["job_id"], mine.details["format"]) == (
        "job_report_downloaded",
        creator_id,
        job_id,
        "xlsx",
    )
    assert (admins.actor, admins.details["job_id"], admins.details["format"]) == (admin_id, job_id, "csv")
    assert admins.details["created_by"] == creator_id and mine.address == browser.address
    # and a refused reader leaves no entry
    other_id, other = _staff(browser, "secretariat")
    browser.get(f"{API}/jobs/{job_id}/report", headers={**_auth(other), "Accept": XLSX})
    assert _audit(other_id) == []
