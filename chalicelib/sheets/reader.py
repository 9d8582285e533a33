"""Reading an uploaded provisioning or renewal sheet (SPEC §2.6).

A secretariat's .xlsx becomes a :class:`Sheet`: the headers as written, the column each
header names, one :class:`SheetRow` per non-empty data row with its cells converted
(text tidied, dates as :class:`datetime.date`), and the cells as read, so that the report
can give the file back with a verdict per row.

Two kinds of trouble are kept apart. A file that cannot be processed at all (not a
workbook, a zip bomb, a required column missing, a formula, too many rows) raises
:class:`SheetInvalid` and the whole job fails with its ``reason``; the reason is English,
names columns and cells but never repeats a cell's content, since it ends up in job
records and logs. A bad value in one row (a date that is not a date) only becomes a
``problem`` of that row, so that one typo does not block a hundred good rows.

openpyxl is imported inside the functions that need it: it takes long to import and the
app imports this package at cold start, when no sheet is being read.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from chalicelib.sheets.columns import Column, alias_index, match_header

MAX_ROWS = 50_000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
"""Unpacked/packed size above which an archive counts as a zip bomb. Real workbooks
compress about 5–15:1; a sheet of 100 000 formatted empty rows about 12:1."""
RATIO_CHECK_FLOOR = 1024 * 1024
"""Below this unpacked size the ratio is not checked: a small file cannot hurt, however
well it compresses."""
MAX_COLUMNS = 200
"""Columns a sheet may use. Provisioning needs 14; the bound keeps a stray cell typed far
to the right (column XFD is the 16 384th) from widening every row of the report."""
EMPTY_ROWS_END_SHEET = 1_000
"""This many consecutive empty rows end the sheet. Spreadsheets often carry tens of
thousands of formatted but empty rows below the data; reading on through them would cost
seconds for nothing."""

NOT_XLSX = "The file is not an .xlsx workbook"

_MIB = 1024 * 1024
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and encrypted .xlsx
_SCAN_CHUNK = 1024 * 1024
_SCAN_OVERLAP = 4096
_MAX_SHOWN = 40


class SheetInvalid(ValueError):
    """The uploaded file cannot be processed at all; the job fails with ``reason``.

    The reason is meant for the secretariat that uploaded the file, in plain English, and
    carries no cell content (no personal data): only column names, cell references and
    limits.
    """

    reason: str

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SheetRow:
    """One non-empty data row.

    ``number`` is the row number a person sees in the spreadsheet (1-based, counting the
    header and any empty rows), so a report reason can point at it. ``values`` holds every
    column of the column set, ``None`` when the sheet lacks that column or the cell is
    empty. ``problems`` lists cells that could not be read as their column's kind (e.g.
    ``"end_date: not a date: 31/02/2025"``); the caller rejects such a row.
    """

    number: int
    values: dict[str, str | date | None]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sheet:
    """A sheet as read: ``headers`` as written in the file, ``keys`` the column each header
    names (``None`` for a column we do not know, which is kept for the report and
    otherwise ignored), and for every data row its :class:`SheetRow` and, at the same
    index of ``raw``, its cells as read (as wide as ``headers``)."""

    headers: tuple[str, ...]
    keys: tuple[str | None, ...]
    rows: tuple[SheetRow, ...]
    raw: tuple[tuple[object, ...], ...]


# --- .xlsx -----------------------------------------------------------------------------------


def read_xlsx(
    data: bytes,
    columns: Sequence[Column],
    *,
    max_rows: int = MAX_ROWS,
    max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES,
) -> Sheet:
    """Read the first visible worksheet of an .xlsx workbook.

    The archive is checked with :mod:`zipfile` before openpyxl sees it (see
    :func:`_check_archive`). openpyxl then reads in read-only mode, which streams the
    sheet instead of building every cell, and with ``data_only=False`` so that formulas
    show up as formulas and can be refused: a report must never carry one, and the cached
    result of a formula is whatever the last program to save the file computed.

    Raises
    ------
    SheetInvalid
        not a zip or not a workbook; a zip that unpacks beyond ``max_uncompressed_bytes``
        or more than 100:1; no worksheet; an empty sheet or one without data rows; merged
        cells in the header row; no recognised header, a required column missing, or a
        column given twice; a formula in any cell; more than ``max_rows`` data rows or
        more than :data:`MAX_COLUMNS` columns; a damaged worksheet part.
    """
    _check_archive(data, max_uncompressed_bytes)

    from openpyxl import load_workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    with warnings.catch_warnings():
        # openpyxl warns about every extension it does not implement (data validation,
        # conditional formatting, …): noise in the logs for a file we only read values of.
        warnings.filterwarnings("ignore", module=r"openpyxl\.")
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
        except Exception as exc:  # anything openpyxl trips over in an untrusted file
            raise SheetInvalid(NOT_XLSX) from exc
        try:
            worksheet = _first_worksheet(workbook)
            merged = _merged_ranges(data, worksheet._worksheet_path)
            # Read-only mode trusts the size the file declares, and some writers declare
            # "A1" for a full sheet; without the declared size openpyxl reads what is there.
            worksheet.reset_dimensions()
            return _build_sheet(
                _xlsx_rows(worksheet),
                columns,
                max_rows=max_rows,
                merged=merged,
                date1904=workbook.epoch == CALENDAR_MAC_1904,
            )
        except SheetInvalid:
            raise
        except Exception as exc:  # a damaged sheet part fails while it streams
            raise SheetInvalid("The worksheet could not be read; the file may be damaged") from exc
        finally:
            workbook.close()


def _check_archive(data: bytes, max_uncompressed_bytes: int) -> None:
    """Refuse what is not a zip, what unpacks too big, and what is not a workbook.

    The sizes come from the zip's central directory, which the uploader controls; they
    are still a hard bound, because :mod:`zipfile` (which openpyxl reads through) stops a
    member at its declared size and then fails its CRC. So summing declared sizes is
    enough to know the most that openpyxl can ever unpack.
    """
    if data.startswith(_OLE_SIGNATURE):
        raise SheetInvalid(
            f"{NOT_XLSX} (it is an old .xls file or a password-protected workbook); save it as an unprotected .xlsx"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise SheetInvalid(NOT_XLSX) from exc
    unpacked = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members)
    if unpacked > max_uncompressed_bytes:
        raise SheetInvalid(f"The file expands to more than {_megabytes(max_uncompressed_bytes)} MB when unpacked")
    if unpacked > RATIO_CHECK_FLOOR and unpacked > MAX_COMPRESSION_RATIO * max(packed, 1):
        raise SheetInvalid(
            f"The file expands more than {MAX_COMPRESSION_RATIO} times when unpacked; "
            "it is refused as a possible zip bomb"
        )
    if not any(member.filename == "[Content_Types].xml" for member in members):
        raise SheetInvalid(NOT_XLSX)


def _megabytes(size: int) -> str:
    return f"{size / _MIB:.0f}" if size >= _MIB else f"{size / _MIB:.2f}"


def _first_worksheet(workbook: Any) -> Any:
    """The first *visible* worksheet: templates often keep their lookup lists on a hidden
    first sheet, and the secretariat means the sheet they see."""
    sheets = list(workbook.worksheets)
    if not sheets:
        raise SheetInvalid("The workbook has no worksheet")
    return next((sheet for sheet in sheets if sheet.sheet_state == "visible"), sheets[0])


_MERGE_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref\s*=\s*[\"']"
    rb"[A-Za-z]{1,3}([0-9]{1,7})(?::[A-Za-z]{1,3}([0-9]{1,7}))?[\"']"
)


def _merged_ranges(data: bytes, path: str) -> tuple[tuple[int, int], ...]:
    """``(first row, last row)`` of every merged range of a worksheet.

    Read-only openpyxl does not load merged cells, and loading the sheet in normal mode
    to get them would build every cell. The ``<mergeCell ref="A1:C1"/>`` elements are
    found by scanning the sheet's XML in chunks instead; a literal "<mergeCell" cannot
    occur in cell text, where XML escapes "<".
    """
    ranges: set[tuple[int, int]] = set()
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(path.lstrip("/")) as member:
        tail = b""
        while chunk := member.read(_SCAN_CHUNK):
            buffer = tail + chunk
            if b"mergeCell" in buffer:
                for match in _MERGE_CELL.finditer(buffer):
                    first = int(match[1])
                    last = int(match[2]) if match[2] else first
                    ranges.add((min(first, last), max(first, last)))
            tail = buffer[-_SCAN_OVERLAP:]
    return tuple(sorted(ranges))


def _xlsx_rows(worksheet: Any) -> Iterator[tuple[int, list[object]]]:
    """``(row number, cell values)`` for every row, refusing formulas.

    The rows come from the worksheet parser that ``iter_rows()`` itself reads through,
    not from ``iter_rows()``, which pads each row with an empty cell for every column up
    to the row's last stored cell: one styled, empty cell in column XFD made a row 16 384
    cells wide, so a 140 kB upload of 10 000 such rows took 21 s to read, and 50 000 of
    them about two minutes in every slice of the job (the worker gets five minutes a
    slice). Here only the cells the file stores are visited (0.4 s for those 10 000
    rows), and a row is built at most one cell past :data:`MAX_COLUMNS`, which is enough
    for :func:`_build_sheet` to refuse it. Rows the file leaves out come back empty, and
    a row number that goes backwards is skipped, as ``iter_rows()`` does.

    The parser's cell type, not the value, tells a formula from a text that happens to
    start with "=" (which is data, and is neutralised in reports).
    """
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import WorkSheetParser

    workbook = worksheet.parent
    expected = 1
    with worksheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            worksheet._shared_strings,
            data_only=False,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for number, cells in parser.parse():
            if number < expected:
                continue
            for missing in range(expected, number):
                yield missing, []
            expected = number + 1
            values: list[object] = []
            for cell in cells:
                column, value = cell["column"], cell["value"]
                if cell["data_type"] == "f":
                    raise SheetInvalid(
                        f"Formulas are not accepted: cell {get_column_letter(column)}{number}; paste values instead"
                    )
                if column > MAX_COLUMNS:
                    if not _blank(value) and len(values) <= MAX_COLUMNS:
                        values.extend([None] * (MAX_COLUMNS - len(values)))
                        values.append(value)  # one cell past the limit: the row is refused
                    continue
                if column > len(values):
                    values.extend([None] * (column - 1 - len(values)))
                    values.append(value)
                else:
                    values[column - 1] = value
            yield number, values


# --- .csv ------------------------------------------------------------------------------------


def read_csv(data: bytes, columns: Sequence[Column], *, max_rows: int = MAX_ROWS) -> Sheet:
    """Read a UTF-8 CSV (a byte-order mark is fine) with the same headers as the .xlsx.

    For tests and operators. The delimiter is whichever of comma, semicolon and tab the
    header line uses most: Excel in a Greek locale saves CSV with semicolons. Every cell is
    text, so dates must be written as text (``dd/mm/yyyy`` or ``yyyy-mm-dd``).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetInvalid("The CSV file is not UTF-8 text; save it as «CSV UTF-8»") from exc
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    return _build_sheet(_csv_rows(reader), columns, max_rows=max_rows)


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: first.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _csv_rows(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, record
    except csv.Error as exc:
        raise SheetInvalid(f"The CSV file is malformed at record {number + 1}") from exc


# --- shared: header, rows, cells -------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    headers: tuple[str, ...]
    keys: tuple[str | None, ...]
    positions: dict[str, int]


def _build_sheet(
    rows: Iterable[tuple[int, Sequence[object]]],
    columns: Sequence[Column],
    *,
    max_rows: int,
    merged: Sequence[tuple[int, int]] = (),
    date1904: bool = False,
) -> Sheet:
    """The header is the first non-empty row; every later non-empty row is data, until
    :data:`EMPTY_ROWS_END_SHEET` empty rows in a row end the sheet."""
    header: _Header | None = None
    width = 0
    sheet_rows: list[SheetRow] = []
    raw: list[list[object]] = []
    empty_run = 0
    for number, values in rows:
        filled = _filled_width(values)
        if not filled:
            empty_run += 1
            if empty_run >= EMPTY_ROWS_END_SHEET:
                break
            continue
        empty_run = 0
        if filled > MAX_COLUMNS:
            raise SheetInvalid(
                f"Row {number} has cells beyond column {column_letter(MAX_COLUMNS - 1)}; "
                f"a sheet may use at most {MAX_COLUMNS} columns"
            )
        if header is None:
            header = _read_header(number, values[:filled], columns, merged)
            width = len(header.headers)
            continue
        if len(sheet_rows) >= max_rows:
            raise SheetInvalid(f"The sheet has more than {max_rows} data rows; split it into smaller files")
        sheet_rows.append(_read_row(number, values, columns, header.positions, date1904))
        raw.append(list(values[:filled]))
        width = max(width, filled)
    if header is None:
        raise SheetInvalid("The sheet is empty")
    if not sheet_rows:
        raise SheetInvalid("The sheet has a header row but no data rows")
    extra = width - len(header.headers)
    for cells in raw:
        cells.extend([None] * (width - len(cells)))
    return Sheet(
        headers=header.headers + ("",) * extra,
        keys=header.keys + (None,) * extra,
        rows=tuple(sheet_rows),
        raw=tuple(tuple(cells) for cells in raw),
    )


def _filled_width(values: Sequence[object]) -> int:
    """How many cells up to the last non-blank one; 0 for an empty row."""
    width = len(values)
    while width and _blank(values[width - 1]):
        width -= 1
    return width


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_header(
    number: int, values: Sequence[object], columns: Sequence[Column], merged: Sequence[tuple[int, int]]
) -> _Header:
    if any(first <= number <= last for first, last in merged):
        raise SheetInvalid(
            f"Merged header cells are not accepted (row {number}); unmerge them so that each column has its own header"
        )
    index = alias_index(columns)
    headers = tuple(_header_text(value) for value in values)
    keys: list[str | None] = []
    positions: dict[str, int] = {}
    for position, text in enumerate(headers):
        column = match_header(text, index) if text.strip() else None
        if column is None:
            keys.append(None)
            continue
        if column.key in positions:
            raise SheetInvalid(
                f"The column {column.describe()} appears twice, in columns "
                f"{column_letter(positions[column.key])} and {column_letter(position)}"
            )
        positions[column.key] = position
        keys.append(column.key)
    if not positions:
        raise SheetInvalid(
            f"Row {number}, the first non-empty row, must hold the column headers, but none of them is a known "
            f"column (such as {columns[0].describe()})"
        )
    missing = [column.describe() for column in columns if column.required and column.key not in positions]
    if missing:
        noun = "column is" if len(missing) == 1 else "columns are"
        raise SheetInvalid(f"A required {noun} missing: {', '.join(missing)}")
    return _Header(headers=headers, keys=tuple(keys), positions=positions)


def _header_text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else scalar_text(value)


def _read_row(
    number: int,
    values: Sequence[object],
    columns: Sequence[Column],
    positions: dict[str, int],
    date1904: bool,
) -> SheetRow:
    converted: dict[str, str | date | None] = {}
    problems: list[str] = []
    for column in columns:
        position = positions.get(column.key)
        cell = values[position] if position is not None and position < len(values) else None
        value, problem = _convert(column, cell, date1904)
        converted[column.key] = value
        if problem:
            problems.append(problem)
    return SheetRow(number=number, values=converted, problems=tuple(problems))


def _convert(column: Column, cell: object, date1904: bool) -> tuple[str | date | None, str | None]:
    """A cell as its column's kind, and the problem if it cannot be."""
    if column.kind == "date":
        return _date_cell(column, cell, date1904)
    text = cell_text(cell)
    if text is not None and column.kind == "email" and text[:7].casefold() == "mailto:":
        # A cell turned into a link by Excel's autocorrect may come back as its target.
        text = text[7:].strip() or None
    return text, None


def cell_text(cell: object) -> str | None:
    """A cell as tidy text: whitespace stripped and collapsed, ``None`` when blank.

    Numbers become their digits without a trailing ``.0``: registry numbers, postcodes and
    phone numbers are often typed into number cells, and Excel saves 6912345678 as a
    number. (A leading zero lost that way cannot be recovered; the template formats its
    text columns as text so that it is not lost in the first place.)
    """
    if cell is None:
        return None
    if isinstance(cell, str):
        return " ".join(cell.split()) or None
    return scalar_text(cell)


def scalar_text(value: object) -> str:
    """A non-text cell value written out as a person would type it."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"  # Excel's spelling
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    return " ".join(str(value).split())


def _date_cell(column: Column, cell: object, date1904: bool) -> tuple[str | date | None, str | None]:
    if cell is None:
        return None, None
    if isinstance(cell, datetime):
        return cell.date(), None
    if isinstance(cell, date):
        return cell, None
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        serial = excel_serial_date(cell, date1904=date1904)
        if serial is not None:
            return serial, None
    text = cell_text(cell)
    if text is None:
        return None, None
    parsed = parse_date_text(text)
    if parsed is not None:
        return parsed, None
    shown = text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"
    return text, f"{column.key}: not a date: {shown}"


_DAY_FIRST = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})(?:\s+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?")


def parse_date_text(text: str) -> date | None:
    """A date written as text: ``dd/mm/yyyy``, ``d/m/yyyy``, ``dd-mm-yyyy``,
    ``dd.mm.yyyy`` (day first, as in Greece; never month first) or ISO ``yyyy-mm-dd``,
    optionally followed by a time, which is dropped. ``None`` for anything else, including
    dates that do not exist (31/02/2025) and two-digit years, which are ambiguous."""
    text = text.strip()
    if match := _DAY_FIRST.fullmatch(text):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
    elif match := _ISO_DATE.fullmatch(text):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


_EXCEL_MAX_SERIAL = 2_958_465  # 9999-12-31


def excel_serial_date(serial: float, *, date1904: bool = False) -> date | None:
    """The date an Excel serial number stands for (a date typed into a cell formatted as a
    number shows as e.g. 45000 = 2023-03-15); the time of day is dropped.

    In the 1900 date system, serial 1 is 1900-01-01 and Excel counts a 29 February 1900
    that never was (serial 60, refused here); workbooks saved by old Mac Excel count from
    1904-01-01 instead, which the workbook itself declares.
    """
    if not math.isfinite(serial):
        return None
    days = math.floor(serial)
    if date1904:
        base, lowest = date(1904, 1, 1), 0
    elif days == 60:
        return None
    else:
        base, lowest = (date(1899, 12, 30) if days > 60 else date(1899, 12, 31)), 1
    if not lowest <= days <= _EXCEL_MAX_SERIAL:
        return None
    try:
        return base + timedelta(days=days)
    except OverflowError:
        return None


def column_letter(position: int) -> str:
    """Spreadsheet column name of a 0-based position: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    number = position + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters
