"""Job reports and the blank template (SPEC §2.6).

A report is the uploaded sheet given back with two columns added, ``status`` and
``reason``, one verdict per data row, as .xlsx or as CSV. The secretariat opens it in a
spreadsheet program, so every cell is passed through :func:`neutralise` first: the file
carries text from the upload (and reasons that quote it), and a cell such as
``=HYPERLINK("http://evil", "click")`` must reach the reader as text, never as a formula
(OWASP "CSV injection"; openpyxl, too, would write any text starting with "=" as a
formula).

openpyxl is imported inside the functions, for the cold-start reason given in
:mod:`chalicelib.sheets.reader`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from chalicelib.sheets.columns import Column
from chalicelib.sheets.reader import Sheet, scalar_text

REPORT_COLUMNS = ("status", "reason")
# OWASP's list, plus a line feed: XML turns a carriage return in an .xlsx cell into one,
# so a CR typed into the upload arrives as LF and must stay covered.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_XLSX_MAX_TEXT = 32_767  # Excel's limit for one cell; longer text makes it "repair" the file
# Control characters XML 1.0 cannot carry (a CSV upload may contain them); openpyxl
# refuses them rather than dropping them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MIN_WIDTH, _MAX_WIDTH = 10, 60


def neutralise(value: object) -> object:
    """A text that a spreadsheet would run as a formula, made inert with a leading "'".

    Any text starting with =, +, -, @, a tab, a carriage return (OWASP's list) or a line
    feed gets the apostrophe; everything else, including numbers and dates, is returned unchanged. The
    apostrophe stays visible, which is the point: the cell shows what was uploaded.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def report_xlsx(sheet: Sheet, outcomes: Sequence[tuple[str, str]]) -> bytes:
    """The sheet with ``status`` and ``reason`` after its own columns, bold headers.

    Written in openpyxl's write-only mode, which streams rows to the file instead of
    keeping a cell object for each of 50 000 × 17 cells. Dates stay dates.
    """
    _check_outcomes(sheet, outcomes)
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet("report")
    headers = (*sheet.headers, *REPORT_COLUMNS)
    _set_widths(worksheet, [_width(header) for header in headers])
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(worksheet, value=_xlsx_value(header))
        cell.font = bold
        header_cells.append(cell)
    worksheet.append(header_cells)
    for cells, (status, reason) in zip(sheet.raw, outcomes, strict=True):
        worksheet.append([_xlsx_value(value) for value in (*cells, status, reason)])
    return _save(workbook)


def report_csv(sheet: Sheet, outcomes: Sequence[tuple[str, str]]) -> bytes:
    """The same report as CSV: UTF-8 with a byte-order mark, without which Excel reads the
    file in the local code page and garbles Greek; comma-separated, dates as
    ``yyyy-mm-dd``."""
    _check_outcomes(sheet, outcomes)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([_csv_value(header) for header in (*sheet.headers, *REPORT_COLUMNS)])
    for cells, (status, reason) in zip(sheet.raw, outcomes, strict=True):
        writer.writerow([_csv_value(value) for value in (*cells, status, reason)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(columns: Sequence[Column]) -> bytes:
    """An empty sheet to fill in: one header row with each column's first (Greek) alias.

    Text columns are formatted as text, so that a registry number such as 03118001 keeps
    its leading zero when typed; date columns show dd/mm/yyyy. The header row is bold and
    frozen, and columns are wide enough for their headers.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet("Sheet1")
    _set_widths(worksheet, [max(_width(column.label), 14) for column in columns])
    for position, column in enumerate(columns, start=1):
        dimension = worksheet.column_dimensions[get_column_letter(position)]
        dimension.number_format = "dd/mm/yyyy" if column.kind == "date" else "@"
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for column in columns:
        cell = WriteOnlyCell(worksheet, value=column.label)
        cell.font = bold
        header_cells.append(cell)
    worksheet.append(header_cells)
    return _save(workbook)


def _check_outcomes(sheet: Sheet, outcomes: Sequence[tuple[str, str]]) -> None:
    if len(outcomes) != len(sheet.raw):
        raise ValueError(f"{len(outcomes)} outcomes for {len(sheet.raw)} data rows")


def _xlsx_value(value: object) -> object:
    if isinstance(value, str):
        text = _ILLEGAL_XML.sub("", value)[:_XLSX_MAX_TEXT]
        return neutralise(text) if text else None
    if isinstance(value, datetime) and value.time() == time():
        return value.date()  # written with a date format rather than "yyyy-mm-dd h:mm:ss"
    if value is None or isinstance(value, bool | int | float | date | time):
        return value
    return neutralise(scalar_text(value))


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else scalar_text(value)
    # Neutralised as text: in a CSV even a negative number is only text to the reader.
    return str(neutralise(text))


def _width(text: str) -> float:
    return float(min(max(len(text) + 2, _MIN_WIDTH), _MAX_WIDTH))


def _set_widths(worksheet: Any, widths: Sequence[float]) -> None:
    from openpyxl.utils import get_column_letter

    for position, width in enumerate(widths, start=1):
        worksheet.column_dimensions[get_column_letter(position)].width = width


def _save(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
