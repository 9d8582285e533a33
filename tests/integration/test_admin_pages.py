"""Secretariat pages over the test client: sign-in and roles, the upload form's checks
(CSRF token, file required, size), and the job page."""

from __future__ import annotations

import re
from typing import Any

from urllib3 import encode_multipart_formdata

from tests.integration.test_registrar_api import PASSPHRASE, _staff_token
from tests.support.arrange import account_in, second_factor_passed
from tests.support.browser import Browser, Response, unique_email
from tests.support.sheets import provisioning_xlsx, student

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sign_in(browser: Browser, role: str = "secretariat") -> None:
    email = unique_email("page")
    username = "page" + email.split(".")[1].split("@")[0]
    account_in("ntua", username=username, email=email, password=PASSPHRASE, roles=(role,))
    browser.get("/realms/ntua/login", html=True)  # the login page sets the CSRF cookie its form's token matches
    form = {"csrf_token": browser.jar["mitroo_csrf"], "username": username, "password": PASSPHRASE}
    answer = browser.post("/api/v1/realms/ntua/sessions", form=form, html=True)
    assert answer.status == 303, answer.text
    second_factor_passed(browser.jar["mitroo_session"])  # staff roles need a second factor (SPEC §2.9)


def _form_token(browser: Browser) -> str:
    page = browser.get("/realms/ntua/admin/jobs", html=True)
    assert page.status == 200, page.text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def _upload(browser: Browser, fields: dict[str, Any]) -> Response:
    body, content_type = encode_multipart_formdata(fields)
    return browser.post("/realms/ntua/admin/jobs", body=body, headers={"Content-Type": content_type}, html=True)


def test_a_signed_in_secretariat_uploads_and_lands_on_the_job_page(browser: Browser) -> None:
    _sign_in(browser)
    token = _form_token(browser)
    sheet = provisioning_xlsx([student(0, unique_email("u").split("@")[0].replace(".", ""))])

    answer = _upload(
        browser,
        {"csrf_token": token, "kind": "provisioning", "affiliation": "doctoral", "file": ("s.xlsx", sheet, XLSX)},
    )

    assert answer.status == 303
    job_page = browser.get(answer.location, html=True)
    assert job_page.status == 200 and 'data-field="status"' in job_page.text
    browser.run_tasks()
    finished = browser.get(answer.location, html=True)
    assert "Ολοκληρώθηκε" in finished.text and "/report" in finished.text


def test_the_upload_form_checks_its_token_and_its_file(browser: Browser) -> None:
    _sign_in(browser)
    token = _form_token(browser)

    forged = _upload(browser, {"csrf_token": "not-the-token", "file": ("s.xlsx", b"PK", XLSX)})
    no_file = _upload(browser, {"csrf_token": token, "kind": "provisioning"})
    too_big = _upload(browser, {"csrf_token": token, "file": ("s.xlsx", b"PK" + b"\0" * (4 * 1024 * 1024), XLSX)})

    assert forged.status == 403 and "problem-summary" in forged.text
    assert no_file.status == 422 and 'id="file-error"' in no_file.text
    assert too_big.status == 413


def test_the_pages_need_a_signed_in_secretariat(browser: Browser) -> None:
    anonymous = browser.get("/realms/ntua/admin/jobs", html=True)
    assert anonymous.status == 303 and anonymous.location.endswith("/realms/ntua/login")
    _sign_in(browser, role="nso")
    assert browser.get("/realms/ntua/admin/jobs", html=True).status == 403
    assert browser.get("/realms/eiep/admin/jobs", html=True).status == 404


def test_the_report_is_also_served_as_csv_for_links(browser: Browser) -> None:
    token = _staff_token(browser)
    tag = unique_email("c").split("@")[0].replace(".", "")
    upload = browser.post(
        "/api/v1/realms/ntua/admin/provisioning-jobs",
        body=provisioning_xlsx([student(0, tag)]),
        headers={"Authorization": f"Bearer {token}", "Content-Type": XLSX},
    )
    browser.run_tasks()
    report = browser.get(
        f"/api/v1/realms/ntua/admin/jobs/{upload.json['job_id']}/report?format=csv",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert report.status == 200 and report.headers["content-type"].startswith("text/csv")
