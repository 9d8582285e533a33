"""Spreadsheet jobs over HTTP against the emulator (DynamoDB, S3, SQS, SES): upload in
the body or through a presigned S3 URL, follow the job, download the report as .xlsx or
CSV, receive the welcome mails; roles checked in our code; bad files fail the job."""

from __future__ import annotations

import csv
import io
import itertools
import random
from datetime import date, timedelta
from typing import Any

import requests

from chalicelib.domain.jobs import XLSX
from tests.integration.test_registrar_api import _staff_token
from tests.support.browser import Browser, Response
from tests.support.sheets import (
    GREEK_HEADERS,
    provisioning_xlsx,
    read_report,
    renewal_xlsx,
    student,
    xlsx,
)

API = "/api/v1/realms/ntua/admin"
_tags = itertools.count(random.randrange(10**5, 10**6))


def _tag() -> str:
    """Rows of each test apart from every other test's (the table is shared)."""
    return f"t{next(_tags)}x"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _upload(browser: Browser, token: str, data: bytes, path: str = "provisioning-jobs", query: str = "") -> Response:
    headers = {**_auth(token), "Content-Type": XLSX, "Content-Disposition": 'attachment; filename="ΔΠΜΣ.xlsx"'}
    return browser.post(f"{API}/{path}{query}", body=data, headers=headers)


def _finished(browser: Browser, token: str, job_id: str) -> dict[str, Any]:
    browser.run_tasks()  # the SQS worker runs the job, then the welcome mails
    status = browser.get(f"{API}/jobs/{job_id}", headers=_auth(token))
    assert status.status == 200, status.text
    return dict(status.json)


def test_a_secretariat_provisions_a_sheet_and_downloads_the_report(browser: Browser) -> None:
    # Given a secretariat member and a sheet with two valid rows and one breaking a rule
    token = _staff_token(browser)
    tag = _tag()
    records = [student(0, tag), student(1, tag), student(2, tag, external_email=f"{tag}@central.ntua.gr")]

    # When they upload it
    accepted = _upload(browser, token, provisioning_xlsx(records))

    # Then the job is queued, and after the worker ran it reports its counts
    assert accepted.status == 202, accepted.text
    assert accepted.json["status"] == "queued"
    job = _finished(browser, token, accepted.json["job_id"])
    assert (job["status"], job["total"], job["processed"], job["accepted"], job["rejected"]) == (
        "completed",
        3,
        3,
        2,
        1,
    )
    # and the report is the sheet with status and reason per row
    report = browser.get(f"{API}/jobs/{job['job_id']}/report", headers={**_auth(token), "Accept": XLSX})
    assert report.status == 200 and report.headers["content-type"] == XLSX
    rows = read_report(report.body)
    assert [row["status"] for row in rows] == ["created", "created", "rejected"]
    assert "outside the institution" in rows[2]["reason"]
    assert rows[0][GREEK_HEADERS["username"]] == records[0]["username"]
    # and the CSV report says the same, with Excel's byte-order mark
    as_csv = browser.get(f"{API}/jobs/{job['job_id']}/report", headers={**_auth(token), "Accept": "text/csv"})
    assert as_csv.status == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.body.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(as_csv.body.decode("utf-8-sig"))))
    assert [row["status"] for row in table] == ["created", "created", "rejected"]
    # and each created person got a welcome mail at the external address with a set-password link
    for record in records[:2]:
        [welcome] = browser.mail_to(record["external_email"])
        assert record["username"] in welcome["html"] and "set-password?token=" in welcome["html"]


def test_a_reuploaded_sheet_creates_no_duplicates(browser: Browser) -> None:
    token = _staff_token(browser)
    sheet = provisioning_xlsx([student(n, _tag()) for n in range(3)])
    first = _finished(browser, token, _upload(browser, token, sheet).json["job_id"])

    second = _finished(browser, token, _upload(browser, token, sheet).json["job_id"])

    assert first["accepted"] == 3 and first["already_applied"] == 0
    assert (second["accepted"], second["already_applied"], second["rejected"]) == (3, 3, 0)


def test_a_dry_run_writes_nothing(browser: Browser) -> None:
    token = _staff_token(browser)
    record = student(0, _tag())

    job = _finished(
        browser, token, _upload(browser, token, provisioning_xlsx([record]), query="?dry_run=true").json["job_id"]
    )

    assert job["dry_run"] is True and job["accepted"] == 1
    login = browser.post(
        "/api/v1/realms/ntua/password-resets", json={"username": record["username"], "email": record["external_email"]}
    )
    assert login.status == 202
    browser.run_tasks()
    assert browser.mail_to(record["external_email"]) == []  # no account: no mail of any kind


def test_a_large_file_goes_through_a_presigned_s3_upload(browser: Browser) -> None:
    token = _staff_token(browser)
    tag = _tag()

    # When the client asks for an upload URL, PUTs the file there and starts the job
    prepared = browser.post(f"{API}/provisioning-jobs?kind=doctoral", json={"upload": True}, headers=_auth(token))
    assert prepared.status == 202, prepared.text
    put = requests.put(
        prepared.json["upload_url"],
        data=provisioning_xlsx([student(0, tag)]),
        headers=prepared.json["upload_headers"],
        timeout=10,
    )
    assert put.status_code == 200
    started = browser.post(prepared.json["start_url"], headers=_auth(token))

    # Then the job runs like a direct upload
    assert started.status == 202 and started.json["awaiting_upload"] is False
    job = _finished(browser, token, prepared.json["job_id"])
    assert (job["status"], job["accepted"]) == ("completed", 1)


def test_starting_before_the_upload_is_not_found(browser: Browser) -> None:
    token = _staff_token(browser)
    prepared = browser.post(f"{API}/provisioning-jobs", json={"upload": True}, headers=_auth(token))
    started = browser.post(prepared.json["start_url"], headers=_auth(token))
    assert started.status == 404 and started.json["code"] == "not_found"


def test_a_file_that_is_not_a_workbook_fails_the_job_with_the_reason(browser: Browser) -> None:
    token = _staff_token(browser)
    merged = xlsx([[*GREEK_HEADERS.values()], ["x"]], prepare=lambda _, sheet: sheet.merge_cells("A1:B1"))

    for data, reason in ((b"Name,Email\n", "not an .xlsx workbook"), (merged, "Merged header cells")):
        job = _finished(browser, token, _upload(browser, token, data).json["job_id"])
        assert job["status"] == "failed" and reason in job["reason"]
        report = browser.get(f"{API}/jobs/{job['job_id']}/report", headers={**_auth(token), "Accept": XLSX})
        assert report.status == 422 and report.json["code"] == "spreadsheet_invalid"


def test_bad_requests_get_problem_codes(browser: Browser) -> None:
    token = _staff_token(browser)
    too_big = _upload(browser, token, b"PK" + b"\0" * (4 * 1024 * 1024))
    bad_flag = _upload(browser, token, b"PK", query="?dry_run=maybe")
    bad_kind = _upload(browser, token, b"PK", query="?kind=professor")
    empty = _upload(browser, token, b"")
    no_upload = browser.post(f"{API}/provisioning-jobs", json={"upload": False}, headers=_auth(token))
    unknown = browser.get(f"{API}/jobs/0123456789abcdef", headers=_auth(token))
    odd_id = browser.get(f"{API}/jobs/..%2F..%2Fetc", headers=_auth(token))

    assert (too_big.status, too_big.json["code"]) == (413, "payload_too_large")
    assert (bad_flag.status, bad_flag.json["code"]) == (422, "invalid_input")
    assert (bad_kind.status, bad_kind.json["code"]) == (422, "invalid_input")
    assert (empty.status, empty.json["code"]) == (422, "spreadsheet_invalid")
    assert (no_upload.status, no_upload.json["code"]) == (422, "invalid_input")
    assert (unknown.status, unknown.json["code"]) == (404, "not_found")
    assert odd_id.status == 404


def test_jobs_need_a_registrar_role_of_this_realm(browser: Browser) -> None:
    sheet = provisioning_xlsx([student(0, _tag())])
    no_token = browser.post(f"{API}/provisioning-jobs", body=sheet, headers={"Content-Type": XLSX})
    no_role = _upload(browser, _staff_token(browser, role="nso"), sheet)
    other_realm = _upload(browser, _staff_token(browser, realm="eiep", role="admin"), sheet)
    job_id = _upload(browser, _staff_token(browser), sheet).json["job_id"]
    eiep_view = browser.get(
        f"/api/v1/realms/eiep/admin/jobs/{job_id}", headers=_auth(_staff_token(browser, realm="eiep", role="admin"))
    )

    assert (no_token.status, no_token.json["code"]) == (401, "unauthorized")
    assert (no_role.status, no_role.json["code"]) == (403, "forbidden")
    assert other_realm.status == 401
    assert eiep_view.status == 404


def test_the_templates_hold_the_expected_headers(browser: Browser) -> None:
    token = _staff_token(browser)
    for path, first in (("provisioning-jobs", "Όνομα χρήστη"), ("renewal-jobs", "Υπαρκτό όνομα χρήστη")):
        # A browser's download sends Accept: */*; binary answers need a matching Accept.
        answer = browser.get(f"{API}/{path}/template.xlsx", headers={**_auth(token), "Accept": "*/*"})
        assert answer.status == 200 and answer.headers["content-type"] == XLSX
        from openpyxl import load_workbook

        headers = [cell.value for cell in load_workbook(io.BytesIO(answer.body)).worksheets[0][1]]
        assert headers[0] == first


def test_a_renewal_sheet_moves_expiry_dates(browser: Browser) -> None:
    token = _staff_token(browser)
    tag = _tag()
    _finished(browser, token, _upload(browser, token, provisioning_xlsx([student(0, tag)])).json["job_id"])
    username = student(0, tag)["username"]
    new_expiry = date.today() + timedelta(days=400)

    job = _finished(
        browser,
        token,
        _upload(
            browser, token, renewal_xlsx([(username, new_expiry), ("nobody" + tag, new_expiry)]), "renewal-jobs"
        ).json["job_id"],
    )

    assert (job["accepted"], job["rejected"]) == (1, 1)
    from chalicelib.container import services
    from chalicelib.domain.accounts import UniqueKind

    account = services().ports.accounts.find_by_unique("ntua", UniqueKind.USERNAME, username)
    assert account is not None and account.expires_on == new_expiry
