"""Spreadsheets built to exhaust the job worker: zip bombs, and sheets with a huge number
of rows or columns. Each fails its job with a reason, its report is 422
``spreadsheet_invalid``, no account is touched, and the worker spends bounded time and
memory on it (``chalicelib/sheets/reader.py``: 200 MB unpacked, 100:1, 50 000 rows, 200
columns).

The files are real .xlsx workbooks (an openpyxl renewal sheet) whose worksheet part is
replaced by the hostile one; they go up in the request body, as a secretariat's would.
"""

from __future__ import annotations

import functools
import io
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from chalicelib.domain.jobs import XLSX
from tests.abuse.conftest import Ledger
from tests.integration.test_registrar_api import _staff_token
from tests.support.browser import Browser
from tests.support.sheets import RENEWAL_HEADERS, renewal_xlsx

API = "/api/v1/realms/ntua/admin"
SHEET = "xl/worksheets/sheet1.xml"
HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<dimension ref="A1:B2"/><sheetData>'
)
"""As Excel starts a worksheet; the dimension is what a writer claims, and the reader does
not trust it (without one, openpyxl parses the whole sheet once more just to size it)."""
TAIL = b"</sheetData></worksheet>"
MIB = 1024 * 1024


def _text(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def _header_row() -> bytes:
    username, expiry = RENEWAL_HEADERS.values()
    return b'<row r="1">' + _text("A1", username) + _text("B1", expiry) + b"</row>"


def _workbook(sheet: Iterable[bytes]) -> bytes:
    """A renewal workbook whose worksheet is ``sheet`` (streamed in, so a bomb is never
    held in memory)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(renewal_xlsx([("placeholder", "30/06/2030")]))) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for item in source.infolist():
            if item.filename != SHEET:
                target.writestr(item, source.read(item))
                continue
            with target.open(SHEET, "w") as member:
                for chunk in sheet:
                    member.write(chunk)
    return out.getvalue()


def _declaring(data: bytes, size: int) -> bytes:
    """``data`` with the zip's central directory lying about the worksheet's unpacked size."""
    # Central directory entry: signature, …, unpacked size at byte 24, name at byte 46.
    [entry] = [
        position
        for position in _central_entries(data)
        if data[position + 46 : position + 46 + struct.unpack_from("<H", data, position + 28)[0]] == SHEET.encode()
    ]
    patched = bytearray(data)
    struct.pack_into("<I", patched, entry + 24, size)
    return bytes(patched)


def _central_entries(data: bytes) -> list[int]:
    positions, start = [], 0
    while (found := data.find(b"PK\x01\x02", start)) != -1:
        positions.append(found)
        start = found + 4
    return positions


def _bomb_sheet(unpacked: int) -> Iterable[bytes]:
    """A header row, then ``unpacked`` bytes of spaces: legal XML, 1000:1 deflated."""
    yield HEAD + _header_row()
    blank = b" " * MIB
    for _ in range(unpacked // MIB):
        yield blank
    yield TAIL


@functools.cache
def _bomb() -> bytes:
    """A workbook whose worksheet unpacks to 300 MB (built once: deflating takes a while)."""
    return _workbook(_bomb_sheet(300 * MIB))


def _rows(count: int, extra: Callable[[int], bytes] = lambda _: b"") -> Iterable[bytes]:
    """A header row and ``count`` renewal rows, each with ``extra``: the username a number
    (read as its digits) and the date a serial number (47 299 is 30/06/2029), which
    openpyxl parses several times faster than inline text."""
    yield HEAD + _header_row()
    for number in range(2, count + 2):
        yield (
            f'<row r="{number}"><c r="A{number}"><v>{number}</v></c><c r="B{number}"><v>47299</v></c>'.encode()
            + extra(number)
            + b"</row>"
        )
    yield TAIL


class Secretariat:
    """A secretariat member uploading renewal sheets through the API."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.auth = {"Authorization": f"Bearer {_staff_token(browser)}"}

    def upload(self, data: bytes, *, trace_memory: bool = True) -> Job:
        """Upload ``data`` and let the worker run the job; memory is traced (which slows
        Python down severalfold) unless told not to."""
        accepted = self.browser.post(f"{API}/renewal-jobs", body=data, headers={**self.auth, "Content-Type": XLSX})
        assert accepted.status == 202, accepted.text
        return Job(self, accepted.json["job_id"], trace_memory)


class Job:
    """One job, run by the worker and measured."""

    def __init__(self, secretariat: Secretariat, job_id: str, trace_memory: bool) -> None:
        self.secretariat, self.job_id = secretariat, job_id
        self.peak_mib = 0.0
        if trace_memory:
            tracemalloc.start()
        started = time.perf_counter()
        try:
            secretariat.browser.run_tasks()
            self.seconds = time.perf_counter() - started
            if trace_memory:
                self.peak_mib = tracemalloc.get_traced_memory()[1] / MIB
        finally:
            tracemalloc.stop()
        status = secretariat.browser.get(f"{API}/jobs/{job_id}", headers=secretariat.auth)
        self.status: dict[str, Any] = status.json

    def assert_refused(self, *reasons: str, seconds: float, peak_mib: float = 0) -> None:
        """Failed for one of ``reasons``, its report 422 ``spreadsheet_invalid``, within
        ``seconds`` and (when traced) ``peak_mib``."""
        assert self.status["status"] == "failed", self.status
        assert any(reason in self.status["reason"] for reason in reasons), self.status["reason"]
        headers = {**self.secretariat.auth, "Accept": XLSX}
        report = self.secretariat.browser.get(f"{API}/jobs/{self.job_id}/report", headers=headers)
        assert (report.status, report.json["code"]) == (422, "spreadsheet_invalid"), report.text
        assert self.seconds < seconds, f"the worker took {self.seconds:.1f} s"
        assert self.peak_mib <= peak_mib or not peak_mib, f"the worker peaked at {self.peak_mib:.0f} MiB"


@pytest.fixture
def secretariat(browser: Browser) -> Secretariat:
    return Secretariat(browser)


def _only_the_job_was_written(ledger: Ledger) -> None:
    """The job's own record is all: no account, no audit entry."""
    assert all(key.startswith("JOB#") for key, _ in ledger.changes()), ledger.changes()


def test_a_worksheet_that_unpacks_to_300_mb_is_refused_unread(
    secretariat: Secretariat, written: Callable[[], Ledger]
) -> None:
    # Given a 300 MB worksheet deflated to well under the upload limit
    data = _bomb()
    assert len(data) < MIB
    ledger = written()

    # When it is uploaded and the worker takes the job
    job = secretariat.upload(data)

    # Then it is refused for its unpacked size, before anything is unpacked
    job.assert_refused("expands to more than 200 MB", seconds=5, peak_mib=32)
    _only_the_job_was_written(ledger)


@pytest.mark.parametrize("declared", [1024, 2 * MIB])
def test_a_zip_that_lies_about_its_unpacked_size_is_read_no_further_than_declared(
    secretariat: Secretariat, written: Callable[[], Ledger], declared: int
) -> None:
    # Given the same bomb, its central directory claiming a small worksheet
    data = _declaring(_bomb(), declared)
    ledger = written()

    # When the worker takes the job
    job = secretariat.upload(data)

    # Then unpacking stops at the declared size, where the checksum fails: the file is
    # damaged (openpyxl may already trip on it while opening the workbook), and the
    # worker never held the 300 MB
    job.assert_refused("could not be read", "not an .xlsx workbook", seconds=5, peak_mib=64)
    _only_the_job_was_written(ledger)


def test_a_sheet_over_50_000_rows_is_refused(secretariat: Secretariat, written: Callable[[], Ledger]) -> None:
    # Given 50 001 renewal rows (about 3 MB of XML, 0.3 MB deflated)
    data = _workbook(_rows(50_001))
    ledger = written()

    # When / Then the job fails naming the limit, after reading no further; no account
    # is renewed (not traced: tracing would triple the time)
    job = secretariat.upload(data, trace_memory=False)
    job.assert_refused("more than 50000 data rows", seconds=30)
    _only_the_job_was_written(ledger)


def test_rows_reaching_column_xfd_are_read_in_bounded_time(
    secretariat: Secretariat, written: Callable[[], Ledger]
) -> None:
    # Given 10 000 rows that each hold a styled empty cell in column XFD (the sheet's
    # last, the 16 384th), and a last row with a value there: 140 kB. Before the reader
    # visited only stored cells, each row came back 16 384 cells wide and this file took
    # 21 s to read (50 000 rows: two minutes, in every slice of the job).
    def far_right(number: int) -> bytes:
        return f'<c r="XFD{number}" s="0"/>'.encode() if number < 10_001 else _text(f"XFD{number}", "stray")

    data = _workbook(_rows(10_000, far_right))
    assert len(data) < 200 * 1024
    ledger = written()

    # When / Then the job fails for the stray cell, after well under a second of reading
    job = secretariat.upload(data, trace_memory=False)
    job.assert_refused("Row 10001 has cells beyond column GR", seconds=10)
    _only_the_job_was_written(ledger)


def test_a_header_row_16_384_columns_wide_is_refused(secretariat: Secretariat, written: Callable[[], Ledger]) -> None:
    # Given a header row with a value in every column Excel has
    from openpyxl.utils import get_column_letter

    header = b"".join(_text(f"{get_column_letter(column)}1", f"h{column}") for column in range(1, 16_385))
    data = _workbook([HEAD + b'<row r="1">' + header + b"</row>", TAIL])
    ledger = written()

    # When / Then it is refused for its width
    job = secretariat.upload(data, trace_memory=False)
    job.assert_refused("Row 1 has cells beyond column GR", seconds=10)
    _only_the_job_was_written(ledger)
