"""Path traversal in upload names and in ids that become S3 keys.

Every S3 key Mitroo writes is made of a realm and an id it generated
(``jobs/{realm}/{job_id}/input.xlsx``, ``…/report.xlsx``; ``projects/{id}/image`` after
the project is found to be the caller's). A file name the client sends, in a multipart
form or a ``Content-Disposition`` header, is only a label: it is kept as its last path
segment without control characters, and never reaches a key. An id in the path that is
not one of ours is 404 before any storage is touched.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import boto3
import pytest
from urllib3 import encode_multipart_formdata

from chalicelib.container import services
from chalicelib.domain.jobs import XLSX
from tests.integration.test_admin_pages import _form_token, _sign_in
from tests.integration.test_registrar_api import _staff_token
from tests.support.browser import Browser
from tests.support.esep import API as ESEP
from tests.support.esep import register
from tests.support.sheets import renewal_xlsx

API = "/api/v1/realms/ntua/admin"
JOB_KEY = re.compile(r"jobs/ntua/[0-9a-f]{32}/(input|report)\.xlsx")
# What the job keeps of each name. Backslashes never arrive: the form parser reads the
# quoted file name as RFC 822 does, where "\x" stands for "x" (browsers send them raw).
HOSTILE_NAMES = {
    "../../../etc/passwd": "passwd",
    "..\\..\\..\\windows\\win.ini": "......windowswin.ini",
    "/var/task/app.py": "app.py",
    "C:\\fakepath\\Φοιτητές.xlsx": "C:fakepathΦοιτητές.xlsx",
    "jobs/ntua/other-job/input.xlsx": "input.xlsx",
    "evil\x00.xlsx": "evil.xlsx",
    "report\u202exslx.exe": "reportxslx.exe",
}


def _bucket_keys() -> set[str]:
    settings = services().settings
    s3 = boto3.client("s3", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.upload_bucket):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


class NewKeys:
    """The S3 keys written since this was made, or since :meth:`forget`."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        self._before = _bucket_keys()

    def __call__(self) -> set[str]:
        return _bucket_keys() - self._before


@pytest.fixture
def new_keys(browser: Browser) -> NewKeys:
    return NewKeys()


def _stored_name(job_id: str) -> str:
    job = services().ports.jobs.get("ntua", job_id)
    assert job is not None
    return job.file_name


def _sheet() -> bytes:
    return renewal_xlsx([("nobody", "30/06/2030")])


def test_multipart_file_names_are_kept_as_labels_and_never_reach_a_key(browser: Browser, new_keys: NewKeys) -> None:
    # Given a secretariat member on the upload page
    _sign_in(browser)
    token = _form_token(browser)

    for name, kept in HOSTILE_NAMES.items():
        # When a sheet is uploaded under a name that is a path (or hides characters)
        body, content_type = encode_multipart_formdata(
            {"csrf_token": token, "kind": "renewal", "file": (name, _sheet(), XLSX)}
        )
        answer = browser.post("/realms/ntua/admin/jobs", body=body, headers={"Content-Type": content_type}, html=True)

        # Then the job is created, its name is the last segment, cleaned
        assert answer.status == 303, answer.text
        job_id = answer.location.rsplit("/", 1)[-1]
        assert _stored_name(job_id) == kept, name
        assert kept in browser.get(answer.location, html=True).text
        # and the only thing stored is the job's own input under its own key
        assert new_keys() == {f"jobs/ntua/{job_id}/input.xlsx"}, name
        browser.run_tasks()  # the report goes under the job's key too
        assert new_keys() == {f"jobs/ntua/{job_id}/input.xlsx", f"jobs/ntua/{job_id}/report.xlsx"}, name
        new_keys.forget()


def test_content_disposition_file_names_are_labels_too(browser: Browser, new_keys: NewKeys) -> None:
    # Given a secretariat member's API uploads with a path in their file names
    auth = {"Authorization": f"Bearer {_staff_token(browser)}"}
    for disposition in (
        'attachment; filename="../../../etc/passwd"',
        "attachment; filename*=UTF-8''..%2F..%2F..%2Fetc%2Fpasswd",
        'attachment; filename="..\\\\..\\\\boot.ini"',
    ):
        # When one is uploaded, and the worker runs it and writes its report
        headers = {**auth, "Content-Type": XLSX, "Content-Disposition": disposition}
        accepted = browser.post(f"{API}/renewal-jobs", body=_sheet(), headers=headers)
        assert accepted.status == 202, accepted.text
        job_id = accepted.json["job_id"]
        browser.run_tasks()

        # Then the name holds no path, and input and report are under the job's own keys
        assert "/" not in _stored_name(job_id) and "\\" not in _stored_name(job_id), disposition
        assert new_keys() == {f"jobs/ntua/{job_id}/input.xlsx", f"jobs/ntua/{job_id}/report.xlsx"}
        new_keys.forget()
        report = browser.get(f"{API}/jobs/{job_id}/report", headers={**auth, "Accept": XLSX})
        assert report.status == 200, report.text
        assert report.headers["content-disposition"] == f'attachment; filename="report-{job_id}.xlsx"'


def test_a_presigned_upload_url_is_for_the_jobs_own_key(browser: Browser) -> None:
    # Given a secretariat member asking for an upload URL, with a path in every header
    # and parameter that could name the file
    headers = {
        "Authorization": f"Bearer {_staff_token(browser)}",
        "Content-Disposition": 'attachment; filename="../../../x.xlsx"',
        "X-Amz-Meta-Key": "../../../x.xlsx",
    }

    # When / Then the URL is for jobs/ntua/{job_id}/input.xlsx, whatever was sent
    prepared = browser.post(f"{API}/provisioning-jobs?key=..%2F..%2Fx", json={"upload": True}, headers=headers)
    assert prepared.status == 202, prepared.text
    path = urlsplit(prepared.json["upload_url"]).path
    assert path.endswith(f"/jobs/ntua/{prepared.json['job_id']}/input.xlsx"), path
    assert ".." not in prepared.json["upload_url"]


def test_job_ids_that_are_paths_are_not_found(browser: Browser, new_keys: NewKeys) -> None:
    auth = {"Authorization": f"Bearer {_staff_token(browser)}"}
    for job_id in ("../../etc/passwd", "..", "../ntua", "%2e%2e", "x/../../y"):
        for method, suffix in (("GET", ""), ("GET", "/report"), ("POST", "/start")):
            answer = browser.request(method, f"{API}/jobs/{quote(job_id, safe='')}{suffix}", headers=auth)
            assert answer.status == 404, (job_id, method, suffix, answer.text)
            assert answer.json["code"] == "not_found"
    assert new_keys() == set()


def test_a_project_image_for_a_project_id_that_is_a_path_writes_nothing(browser: Browser, new_keys: NewKeys) -> None:
    # Given an eTwinning member, and a PNG
    member = register(browser, [], role="other")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

    # When the image is put to project ids that are paths into other objects' keys
    for project_id in ("../jobs/ntua/x/input.xlsx", "..", "x/../../jobs"):
        answer = browser.put(
            f"{ESEP}/projects/{quote(project_id, safe='')}/image",
            body=png,
            headers={**member.auth, "Content-Type": "image/png"},
        )

        # Then there is no such project, and nothing is stored
        assert answer.status == 404, answer.text
        assert answer.json["code"] == "not_found"
    assert new_keys() == set()
    assert all(JOB_KEY.fullmatch(key) or key.startswith("projects/") for key in _bucket_keys())
