"""Job reports and the blank template (SPEC §2.6): the uploaded sheet comes back with a
status and reason per row, as .xlsx or CSV, with nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from chalicelib.sheets import (
    PROVISIONING_COLUMNS,
    RENEWAL_COLUMNS,
    Sheet,
    neutralise,
    read_csv,
    read_xlsx,
    report_csv,
    report_xlsx,
    template_xlsx,
)

# A carriage return is not among them: XML reads it back as a line feed, covered too.
HOSTILE = ['=HYPERLINK("http://example.invalid","click")', "+1", "-2", "@cmd", "\tx", "\nx"]


def renewal_sheet() -> Sheet:
    """A renewal upload with an extra notes column whose cells are all formula triggers."""
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.append(["Υπαρκτό όνομα χρήστη", "Ημερομηνία λήξης", "Σχόλια"])
    worksheet.append(["gpapadopoulos", datetime(2027, 6, 30), "πρώτος"])
    worksheet.append(["mnikolaou", "31/02/2027", 3118001])
    for text in HOSTILE:
        worksheet.append(["kkostas", "30/06/2027", None])
        # Written as text cells: openpyxl would otherwise store "=..." as a formula, which
        # the reader refuses; an upload carries such text as data.
        cell = worksheet.cell(row=worksheet.max_row, column=3, value=text)
        cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return read_xlsx(buffer.getvalue(), RENEWAL_COLUMNS)


def outcomes_for(sheet: Sheet) -> list[tuple[str, str]]:
    outcomes = [("accepted", ""), ("rejected", "expires_on: not a date: 31/02/2027")]
    return outcomes + [("rejected", text) for text in HOSTILE]


def test_neutralise_prefixes_formula_triggers_and_leaves_the_rest() -> None:
    # Given / When / Then
    assert [neutralise(text) for text in HOSTILE] == ["'" + text for text in HOSTILE]
    assert neutralise("\r=1+1") == "'\r=1+1"
    assert neutralise("gpapadopoulos") == "gpapadopoulos"
    assert neutralise("a=b") == "a=b"
    assert neutralise("'=already") == "'=already"
    assert neutralise(-2) == -2
    assert neutralise(None) is None
    assert neutralise(date(2027, 6, 30)) == date(2027, 6, 30)


def test_xlsx_report_is_the_sheet_with_status_and_reason_columns() -> None:
    # Given a read sheet and one outcome per row
    sheet = renewal_sheet()
    outcomes = outcomes_for(sheet)

    # When the report is written and opened again
    report = load_workbook(io.BytesIO(report_xlsx(sheet, outcomes))).worksheets[0]
    rows = list(report.iter_rows(values_only=True))

    # Then the original columns come first, then status and reason, in bold
    assert rows[0] == ("Υπαρκτό όνομα χρήστη", "Ημερομηνία λήξης", "Σχόλια", "status", "reason")
    assert all(cell.font.bold for cell in report[1])
    assert not report["A2"].font.bold
    # and each data row keeps its cells as uploaded, dates as dates, numbers as numbers
    assert rows[1] == ("gpapadopoulos", datetime(2027, 6, 30), "πρώτος", "accepted", None)
    assert report["B2"].is_date
    assert rows[2] == ("mnikolaou", "31/02/2027", 3118001, "rejected", "expires_on: not a date: 31/02/2027")
    assert len(rows) == 1 + len(sheet.rows)


def test_xlsx_report_neutralises_formula_like_cells_and_holds_no_formula() -> None:
    # Given uploaded text and reasons that start with formula triggers
    sheet = renewal_sheet()

    # When the report is written and read back with formulas visible
    report = load_workbook(io.BytesIO(report_xlsx(sheet, outcomes_for(sheet)))).worksheets[0]

    # Then every such cell comes back as text behind an apostrophe
    notes = [report.cell(row=row, column=3).value for row in range(4, 4 + len(HOSTILE))]
    reasons = [report.cell(row=row, column=5).value for row in range(4, 4 + len(HOSTILE))]
    assert notes == reasons == ["'" + text for text in HOSTILE]
    assert all(cell.data_type != "f" for row in report.iter_rows() for cell in row)


def test_csv_report_neutralises_formula_like_cells_and_writes_iso_dates() -> None:
    # Given the same sheet
    sheet = renewal_sheet()

    # When the CSV report is written
    data = report_csv(sheet, outcomes_for(sheet))

    # Then it starts with a BOM (Excel reads Greek correctly), and reads back as expected
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Υπαρκτό όνομα χρήστη", "Ημερομηνία λήξης", "Σχόλια", "status", "reason"]
    assert rows[1] == ["gpapadopoulos", "2027-06-30", "πρώτος", "accepted", ""]
    assert rows[2] == ["mnikolaou", "31/02/2027", "3118001", "rejected", "expires_on: not a date: 31/02/2027"]
    assert [row[2] for row in rows[3:]] == [row[4] for row in rows[3:]] == ["'" + text for text in HOSTILE]


def test_csv_report_neutralises_even_negative_numbers() -> None:
    # Given a numeric cell holding -2 (a number to openpyxl, only text in a CSV)
    sheet = Sheet(headers=("Υπαρκτό όνομα χρήστη",), keys=("username",), rows=(), raw=((-2,),))

    # When / Then
    rows = list(csv.reader(io.StringIO(report_csv(sheet, [("rejected", "x")]).decode("utf-8-sig"))))
    assert rows[1] == ["'-2", "rejected", "x"]


def test_a_report_of_a_csv_upload_survives_control_characters() -> None:
    # Given a CSV upload with characters XML cannot carry
    data = "Υπαρκτό όνομα χρήστη,Ημερομηνία λήξης\ng\x01papadopoulos,=1+1\x00\n".encode()
    sheet = read_csv(data, RENEWAL_COLUMNS)

    # When an xlsx report is written, Then they are dropped and the rest neutralised
    report = load_workbook(io.BytesIO(report_xlsx(sheet, [("rejected", "x")]))).worksheets[0]
    assert [cell.value for cell in report[2]] == ["gpapadopoulos", "'=1+1", "rejected", "x"]


def test_reports_refuse_a_wrong_number_of_outcomes() -> None:
    sheet = renewal_sheet()

    with pytest.raises(ValueError, match="outcomes"):
        report_xlsx(sheet, [("accepted", "")])
    with pytest.raises(ValueError, match="outcomes"):
        report_csv(sheet, [])


def test_a_report_can_be_uploaded_again() -> None:
    # Given the report of a renewal upload
    sheet = renewal_sheet()
    report = report_xlsx(sheet, outcomes_for(sheet))

    # When it is read as a renewal sheet (status and reason are unknown columns)
    again = read_xlsx(report, RENEWAL_COLUMNS)

    # Then it reads the same rows
    assert [row.values for row in again.rows] == [row.values for row in sheet.rows]
    assert again.keys[-2:] == (None, None)


def test_template_has_one_bold_header_row_of_greek_headers() -> None:
    # Given / When the provisioning template is opened
    template = load_workbook(io.BytesIO(template_xlsx(PROVISIONING_COLUMNS))).worksheets[0]

    # Then its only row holds each column's first (Greek) alias, in bold
    rows = list(template.iter_rows(values_only=True))
    assert rows == [tuple(column.label for column in PROVISIONING_COLUMNS)]
    assert all(cell.font.bold for cell in template[1])
    assert template.freeze_panes == "A2"
    # with columns wide enough, text columns as text (keeps leading zeros), dates as dates
    assert template.column_dimensions["K"].width >= len("Διευθυντής Μεταπτυχιακού / Επιβλέπων")
    assert template.column_dimensions["J"].number_format == "@"
    assert template.column_dimensions["M"].number_format == "dd/mm/yyyy"


def test_a_filled_template_reads_back() -> None:
    # Given the renewal template with one row typed in
    workbook = load_workbook(io.BytesIO(template_xlsx(RENEWAL_COLUMNS)))
    workbook.active.append(["gpapadopoulos", date(2027, 6, 30)])
    buffer = io.BytesIO()
    workbook.save(buffer)

    # When / Then
    sheet = read_xlsx(buffer.getvalue(), RENEWAL_COLUMNS)
    assert sheet.rows[0].values == {"username": "gpapadopoulos", "expires_on": date(2027, 6, 30)}
