"""Reading provisioning and renewal sheets (SPEC §2.6): header matching, the rules that
refuse a whole file, cell conversion, and speed. Workbooks are built with openpyxl in each
test; no binary fixture is committed."""

from __future__ import annotations

import io
import random
import subprocess
import sys
import time
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from chalicelib.sheets import (
    PROVISIONING_COLUMNS,
    RENEWAL_COLUMNS,
    Column,
    SheetInvalid,
    fold_header,
    read_csv,
    read_xlsx,
)
from chalicelib.sheets.columns import alias_index
from chalicelib.sheets.reader import excel_serial_date, parse_date_text
from tests.support.sheets import GREEK_HEADERS, xlsx

REQUIRED_KEYS = ("username", "full_name", "father_name", "mother_name", "external_email", "registry_number", "end_date")

GIORGOS: dict[str, Any] = {
    "username": "gpapadopoulos",
    "full_name": "Γιώργος Παπαδόπουλος",
    "father_name": "Νικόλαος",
    "mother_name": "Ελένη",
    "address": "Ηρώων Πολυτεχνείου 9",
    "area": "Ζωγράφου",
    "postcode": 15780,
    "mobile": 6912345678,
    "external_email": "giorgos@example.gr",
    "registry_number": 3118001,
    "supervisor": "Α. Καθηγήτρια",
    "supervisor_email": "prof@example.gr",
    "end_date": datetime(2027, 6, 30),
    "previous_username": None,
}
GIORGOS_READ: dict[str, Any] = {
    **GIORGOS,
    "postcode": "15780",
    "mobile": "6912345678",
    "registry_number": "3118001",
    "end_date": date(2027, 6, 30),
}


def provisioning_rows(
    headers: dict[str, str], *records: dict[str, Any], extra: dict[str, object] | None = None
) -> list[list[object]]:
    """A header row in the order of ``headers`` (then any ``extra`` columns) and one row per
    record."""
    extra = extra or {}
    rows: list[list[object]] = [[*headers.values(), *extra]]
    for record in records:
        rows.append([record.get(key) for key in headers] + list(extra.values()))
    return rows


def without(headers: dict[str, str], *keys: str) -> dict[str, str]:
    return {key: header for key, header in headers.items() if key not in keys}


def reason_of(data: bytes, columns: Sequence[Column] = PROVISIONING_COLUMNS, **options: Any) -> str:
    with pytest.raises(SheetInvalid) as caught:
        read_xlsx(data, columns, **options)
    assert str(caught.value) == caught.value.reason
    return caught.value.reason


# --- the column sets ------------------------------------------------------------------------


def test_column_sets_name_the_seed_columns_with_greek_first_and_unambiguous_aliases() -> None:
    # Given the two column sets
    # When their aliases are indexed (which refuses an alias shared by two columns)
    alias_index(PROVISIONING_COLUMNS)
    alias_index(RENEWAL_COLUMNS)

    # Then each column's first alias is the seed's Greek header, and the required flags
    # follow seed 004
    assert {column.key: column.label for column in PROVISIONING_COLUMNS} == GREEK_HEADERS
    assert {column.key for column in PROVISIONING_COLUMNS if column.required} == set(REQUIRED_KEYS)
    assert [(column.key, column.label) for column in RENEWAL_COLUMNS] == [
        ("username", "Υπαρκτό όνομα χρήστη"),
        ("expires_on", "Ημερομηνία λήξης"),
    ]
    assert all(column.required for column in RENEWAL_COLUMNS)


def test_an_alias_shared_by_two_columns_is_a_definition_error() -> None:
    # Given two columns that both answer to "e-mail" once folded
    columns = (Column("a", ("Email",)), Column("b", ("E-mail",)))

    # When / Then indexing them refuses the ambiguity
    with pytest.raises(ValueError, match="names both"):
        alias_index(columns)


def test_folding_ignores_accents_case_punctuation_and_the_spelling_of_email() -> None:
    # Given / When / Then
    assert fold_header("  ΜΗΤΡΏΝΥΜΟ ") == fold_header("μητρωνυμο") == "μητρωνυμο"
    assert fold_header("Father's  Name") == fold_header("fathers name")
    assert fold_header("E-Mail Διευθυντή/Επιβλέποντα") == fold_header("email διευθυντη επιβλεποντα")
    assert fold_header("Εκτός ΕΜΠ mail") == fold_header("εκτος εμπ e-mail")


# --- header matching ------------------------------------------------------------------------


def test_greek_headers_in_any_order_with_accent_and_case_variations_map_to_keys() -> None:
    # Given Greek headers typed carelessly, in shuffled order
    variants = {
        "username": "ΟΝΟΜΑ ΧΡΗΣΤΗ",
        "full_name": "ονοματεπωνυμο",
        "father_name": " Πατρώνυμο ",
        "mother_name": "ΜΗΤΡΏΝΥΜΟ",
        "address": "Διεύθυνση   κατοικίας",
        "area": "περιοχη",
        "postcode": "Τ.Κ.",
        "mobile": "Τηλέφωνο - κινητό",
        "external_email": "Εκτός ΕΜΠ e-mail",
        "registry_number": "Αριθμός μητρώου:",
        "supervisor": "Διευθυντής μεταπτυχιακού/επιβλέπων",
        "supervisor_email": "E-mail Διευθυντή/Επιβλέποντα",
        "end_date": "ημερομηνία ΛΗΞΗΣ",
        "previous_username": "Προηγούμενο όνομα χρήστη (αν υπάρχει)",
    }
    order = list(variants)
    random.Random(4).shuffle(order)
    headers = {key: variants[key] for key in order}

    # When the sheet is read
    sheet = read_xlsx(xlsx(provisioning_rows(headers, GIORGOS)), PROVISIONING_COLUMNS)

    # Then every header is recognised, in the file's order, and the row is keyed by column
    assert sheet.keys == tuple(order)
    assert sheet.headers == tuple(headers.values())
    assert sheet.rows[0].values == GIORGOS_READ
    assert sheet.rows[0].number == 2
    assert sheet.rows[0].problems == ()


def test_english_headers_map_to_the_same_keys() -> None:
    # Given an English header row
    english = {
        "username": "Username",
        "full_name": "Full name",
        "father_name": "Father's name",
        "mother_name": "MOTHER'S NAME",
        "address": "Address",
        "area": "Area",
        "postcode": "Postal code",
        "mobile": "Mobile",
        "external_email": "External email",
        "registry_number": "Registry number",
        "supervisor": "Programme director",
        "supervisor_email": "Supervisor e-mail",
        "end_date": "Programme end date",
        "previous_username": "Previous username",
    }

    # When it is read
    sheet = read_xlsx(xlsx(provisioning_rows(english, GIORGOS)), PROVISIONING_COLUMNS)

    # Then it reads exactly like the Greek one
    assert sheet.keys == tuple(english)
    assert sheet.rows[0].values == GIORGOS_READ


def test_a_header_with_a_parenthesised_note_is_recognised() -> None:
    # Given the seed's own wording, «Όνομα χρήστη (username)», and a date hint
    headers = {**GREEK_HEADERS, "username": "Όνομα χρήστη (username)", "end_date": "Ημερομηνία λήξης (ηη/μμ/εεεε)"}

    # When the sheet is read
    sheet = read_xlsx(xlsx(provisioning_rows(headers, GIORGOS)), PROVISIONING_COLUMNS)

    # Then both headers name their columns
    assert sheet.keys[0] == "username"
    assert sheet.rows[0].values["end_date"] == date(2027, 6, 30)


def test_a_note_in_parentheses_alone_does_not_name_a_column() -> None:
    # Given a comment column whose note mentions a known column
    rows = provisioning_rows(GREEK_HEADERS, GIORGOS, extra={"Σχόλια (username)": "νέος"})

    # When / Then it stays an unknown column rather than a second username column
    assert read_xlsx(xlsx(rows), PROVISIONING_COLUMNS).keys[-1] is None


def test_unknown_columns_are_kept_for_the_report_but_not_read() -> None:
    # Given a sheet with the required columns only, plus two columns of its own
    headers = {key: GREEK_HEADERS[key] for key in REQUIRED_KEYS}
    rows = provisioning_rows(headers, GIORGOS, extra={"Σχόλια": "έλεγχος", "Α/Α": 1})

    # When it is read
    sheet = read_xlsx(xlsx(rows), PROVISIONING_COLUMNS)

    # Then the extra columns keep their place, with no key, and their cells stay in raw
    assert sheet.headers[-2:] == ("Σχόλια", "Α/Α")
    assert sheet.keys[-2:] == (None, None)
    assert sheet.raw[0][-2:] == ("έλεγχος", 1)
    # and the optional columns the sheet lacks read as None
    values = sheet.rows[0].values
    assert set(values) == {column.key for column in PROVISIONING_COLUMNS}
    assert values["mobile"] is None and values["previous_username"] is None
    assert values["username"] == "gpapadopoulos"


def test_cells_beyond_the_last_header_are_kept_under_an_empty_header() -> None:
    # Given a data row with a note written past the last header
    rows = provisioning_rows(GREEK_HEADERS, GIORGOS)
    rows[1] += [None, "σημείωση"]

    # When it is read
    sheet = read_xlsx(xlsx(rows), PROVISIONING_COLUMNS)

    # Then headers, keys and raw cells all widen to carry it
    assert sheet.headers[-2:] == ("", "")
    assert sheet.keys[-2:] == (None, None)
    assert len(sheet.raw[0]) == len(sheet.headers)
    assert sheet.raw[0][-1] == "σημείωση"


def test_renewal_sheet_reads_username_and_new_expiry() -> None:
    # Given the two-column renewal sheet of seed 004
    rows: list[list[object]] = [
        ["Υπαρκτό όνομα χρήστη", "Ημερομηνία λήξης"],
        ["gpapadopoulos", "30/06/2027"],
        ["mnikolaou", 46000],
    ]

    # When it is read
    sheet = read_xlsx(xlsx(rows), RENEWAL_COLUMNS)

    # Then
    assert [row.values for row in sheet.rows] == [
        {"username": "gpapadopoulos", "expires_on": date(2027, 6, 30)},
        {"username": "mnikolaou", "expires_on": date(2025, 12, 9)},
    ]


# --- whole-file rules -------------------------------------------------------------------------


def test_a_missing_required_column_invalidates_the_file_naming_it() -> None:
    # Given a sheet without the father's name
    data = xlsx(provisioning_rows(without(GREEK_HEADERS, "father_name"), GIORGOS))

    # When / Then the reason names the column by its Greek header
    reason = reason_of(data)
    assert "«Πατρώνυμο»" in reason
    assert "missing" in reason


def test_several_missing_columns_are_all_named() -> None:
    data = xlsx(provisioning_rows(without(GREEK_HEADERS, "father_name", "end_date"), GIORGOS))

    reason = reason_of(data)

    assert "«Πατρώνυμο»" in reason and "«Ημερομηνία λήξης»" in reason


def test_a_column_given_twice_invalidates_the_file() -> None:
    # Given the username column twice, once in Greek and once in English
    rows = provisioning_rows(GREEK_HEADERS, GIORGOS, extra={"Username": "x"})

    # When / Then
    reason = reason_of(xlsx(rows))
    assert "«Όνομα χρήστη»" in reason and "twice" in reason
    assert "columns A and O" in reason


def test_a_header_row_of_unknown_columns_says_where_the_headers_should_be() -> None:
    # Given a title line above the real headers
    rows: list[list[object]] = [["Λίστα ΔΠΜΣ 2025"], *provisioning_rows(GREEK_HEADERS, GIORGOS)]

    # When / Then the file is refused with a reason pointing at row 1
    reason = reason_of(xlsx(rows))
    assert reason.startswith("Row 1, the first non-empty row, must hold the column headers")


def test_merged_header_cells_invalidate_the_file() -> None:
    # Given a header row where one header spans three columns
    def merge(_: Workbook, sheet: Any) -> None:
        sheet.merge_cells("E1:G1")

    data = xlsx(provisioning_rows(GREEK_HEADERS, GIORGOS), merge)

    # When / Then
    assert reason_of(data).startswith("Merged header cells are not accepted")


def test_merged_cells_below_the_header_are_read_as_values() -> None:
    # Given a merged range in the data only
    def merge(_: Workbook, sheet: Any) -> None:
        sheet.merge_cells("E2:G2")

    # When the sheet is read, Then it is accepted
    sheet = read_xlsx(xlsx(provisioning_rows(GREEK_HEADERS, GIORGOS), merge), PROVISIONING_COLUMNS)
    assert sheet.rows[0].values["address"] == "Ηρώων Πολυτεχνείου 9"


def test_a_formula_anywhere_invalidates_the_file_naming_the_cell() -> None:
    # Given six good rows and a formula in C7, a column we do not even read
    rows = provisioning_rows(without(GREEK_HEADERS, "area"), *[GIORGOS] * 6)

    def add_formula(_: Workbook, sheet: Any) -> None:
        sheet.insert_cols(3)
        sheet["C7"] = '=HYPERLINK("http://example.invalid", "click")'

    # When / Then
    assert reason_of(xlsx(rows, add_formula)) == "Formulas are not accepted: cell C7; paste values instead"


def test_text_that_only_looks_like_a_formula_is_data() -> None:
    # Given a text cell starting with "=" (typed with a leading apostrophe in Excel)
    def text_cell(_: Workbook, sheet: Any) -> None:
        sheet["E2"].value = "=not a formula"
        sheet["E2"].data_type = "s"

    # When the sheet is read
    sheet = read_xlsx(xlsx(provisioning_rows(GREEK_HEADERS, GIORGOS), text_cell), PROVISIONING_COLUMNS)

    # Then it is kept as text (the report neutralises it)
    assert sheet.rows[0].values["address"] == "=not a formula"


def test_bytes_that_are_not_a_zip_are_not_a_workbook() -> None:
    assert reason_of(b"username,full name\r\n") == "The file is not an .xlsx workbook"


def test_an_old_xls_file_is_told_to_be_saved_as_xlsx() -> None:
    # Given the OLE signature that starts .xls files (and encrypted .xlsx)
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)

    reason = reason_of(data)

    assert reason.startswith("The file is not an .xlsx workbook") and "save it as an unprotected .xlsx" in reason


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    # Given a real zip archive holding a text file
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "hello")

    # When / Then
    assert reason_of(buffer.getvalue()) == "The file is not an .xlsx workbook"


def test_a_zip_with_content_types_but_no_workbook_is_refused() -> None:
    # Given something like a .docx: an OOXML package without a workbook part
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", "<document/>")

    assert reason_of(buffer.getvalue()) == "The file is not an .xlsx workbook"


def with_member(data: bytes, name: str, size: int) -> bytes:
    """``data`` (a zip) with one more member of ``size`` zero bytes, deflated."""
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, bytes(size))
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_before_openpyxl_unpacks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a valid workbook carrying a 50 MB member of zeros (about 50 KB packed)
    data = with_member(xlsx(provisioning_rows(GREEK_HEADERS, GIORGOS)), "xl/media/zeros.bin", 50 * 1024 * 1024)
    assert len(data) < 200_000
    # and an openpyxl that must not be reached
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: pytest.fail("openpyxl opened a zip bomb"))

    # When it is read with a 10 MB limit
    started = time.perf_counter()
    reason = reason_of(data, max_uncompressed_bytes=10 * 1024 * 1024)

    # Then it is refused by size, at once
    assert reason == "The file expands to more than 10 MB when unpacked"
    assert time.perf_counter() - started < 1


def test_an_absurd_compression_ratio_is_refused_under_the_size_limit() -> None:
    # Given a workbook with 5 MB of zeros, well under the 200 MB limit but ~1000:1
    data = with_member(xlsx(provisioning_rows(GREEK_HEADERS, GIORGOS)), "xl/media/zeros.bin", 5 * 1024 * 1024)

    # When / Then
    assert "possible zip bomb" in reason_of(data)


def replace_member(data: bytes, name: str, content: bytes) -> bytes:
    """``data`` (a zip) with member ``name`` replaced by ``content``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            archive.writestr(member.filename, content if member.filename == name else source.read(member.filename))
    return buffer.getvalue()


def test_xml_entity_declarations_are_refused() -> None:
    # Given a worksheet part that declares entities (the start of a "billion laughs")
    data = xlsx(provisioning_rows(GREEK_HEADERS, GIORGOS))
    part = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    doctype = b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'

    # When / Then openpyxl's defusedxml parser refuses it and so do we
    with pytest.raises(SheetInvalid):
        read_xlsx(replace_member(data, "xl/worksheets/sheet1.xml", doctype + part), PROVISIONING_COLUMNS)


def test_a_damaged_worksheet_is_refused() -> None:
    # Given a worksheet part cut in half
    data = xlsx(provisioning_rows(GREEK_HEADERS, *[GIORGOS] * 20))
    part = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")

    # When / Then
    assert reason_of(replace_member(data, "xl/worksheets/sheet1.xml", part[: len(part) // 2])) == (
        "The worksheet could not be read; the file may be damaged"
    )


def test_a_cell_far_to_the_right_invalidates_the_file() -> None:
    # Given a stray value in column XFD of a data row
    def stray(_: Workbook, sheet: Any) -> None:
        sheet["XFD2"] = "x"

    # When / Then
    assert reason_of(xlsx(provisioning_rows(GREEK_HEADERS, GIORGOS), stray)) == (
        "Row 2 has cells beyond column GR; a sheet may use at most 200 columns"
    )


def test_more_rows_than_the_limit_invalidate_the_file() -> None:
    data = xlsx(provisioning_rows(GREEK_HEADERS, *[GIORGOS] * 4))

    assert reason_of(data, max_rows=3) == "The sheet has more than 3 data rows; split it into smaller files"
    assert len(read_xlsx(data, PROVISIONING_COLUMNS, max_rows=4).rows) == 4


def test_an_empty_sheet_and_a_sheet_without_data_are_refused() -> None:
    assert reason_of(xlsx([])) == "The sheet is empty"
    assert reason_of(xlsx(provisioning_rows(GREEK_HEADERS))) == "The sheet has a header row but no data rows"


def test_the_first_visible_worksheet_is_read() -> None:
    # Given a hidden first sheet of lookup lists before the data sheet
    def hide_first(workbook: Workbook, sheet: Any) -> None:
        lists = workbook.create_sheet("lists", 0)
        lists.append(["Τμήματα"])
        lists.sheet_state = "hidden"

    # When the workbook is read, Then the visible sheet is the one read
    sheet = read_xlsx(xlsx(provisioning_rows(GREEK_HEADERS, GIORGOS), hide_first), PROVISIONING_COLUMNS)
    assert sheet.rows[0].values["username"] == "gpapadopoulos"


# --- rows ---------------------------------------------------------------------------------


def test_empty_rows_above_and_between_are_skipped_and_row_numbers_are_the_sheets() -> None:
    # Given two empty rows, the headers in row 3, data in rows 4 and 7
    header, row = provisioning_rows(GREEK_HEADERS, GIORGOS)
    rows: list[list[object]] = [[None], [""], header, row, [None], ["  "], [*row[:1], "Μαρία Νικολάου", *row[2:]]]

    # When
    sheet = read_xlsx(xlsx(rows), PROVISIONING_COLUMNS)

    # Then
    assert [data.number for data in sheet.rows] == [4, 7]
    assert len(sheet.raw) == 2
    assert sheet.rows[1].values["full_name"] == "Μαρία Νικολάου"


def test_100_000_formatted_empty_rows_after_the_data_read_as_three_rows_fast() -> None:
    # Given three data rows followed by 100 000 rows that hold only a styled empty cell
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet()
    for row in provisioning_rows(GREEK_HEADERS, GIORGOS, GIORGOS, GIORGOS):
        worksheet.append(row)
    styled = WriteOnlyCell(worksheet, value=None)
    styled.font = Font(bold=True)
    for _ in range(100_000):
        worksheet.append([styled])
    buffer = io.BytesIO()
    workbook.save(buffer)

    # When it is read
    started = time.perf_counter()
    sheet = read_xlsx(buffer.getvalue(), PROVISIONING_COLUMNS)
    elapsed = time.perf_counter() - started

    # Then only the data rows count, and the empty tail is not walked through
    print(f"\n3 rows + 100 000 empty rows read in {elapsed:.2f} s")
    assert len(sheet.rows) == 3
    assert elapsed < 10


def test_text_is_stripped_and_whitespace_collapsed() -> None:
    record = {**GIORGOS, "full_name": "  Γιώργος \n  Παπαδόπουλος ", "address": "   "}

    values = read_xlsx(xlsx(provisioning_rows(GREEK_HEADERS, record)), PROVISIONING_COLUMNS).rows[0].values

    assert values["full_name"] == "Γιώργος Παπαδόπουλος"
    assert values["address"] is None


def test_numbers_in_text_columns_become_their_digits() -> None:
    # Given registry numbers, postcodes and phones typed as numbers, some saved as floats
    record = {**GIORGOS, "registry_number": 3118001.0, "postcode": 15780, "mobile": 6912345678.0, "area": 12.5}

    # When
    values = read_xlsx(xlsx(provisioning_rows(GREEK_HEADERS, record)), PROVISIONING_COLUMNS).rows[0].values

    # Then
    assert (values["registry_number"], values["postcode"], values["mobile"]) == ("3118001", "15780", "6912345678")
    assert values["area"] == "12.5"


def test_a_mailto_link_in_an_email_column_reads_as_the_address() -> None:
    record = {**GIORGOS, "external_email": "mailto:giorgos@example.gr"}

    values = read_xlsx(xlsx(provisioning_rows(GREEK_HEADERS, record)), PROVISIONING_COLUMNS).rows[0].values

    assert values["external_email"] == "giorgos@example.gr"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (datetime(2027, 6, 30), date(2027, 6, 30)),
        (datetime(2027, 6, 30, 14, 5), date(2027, 6, 30)),
        (date(2027, 6, 30), date(2027, 6, 30)),
        ("30/06/2027", date(2027, 6, 30)),
        ("1/7/2027", date(2027, 7, 1)),
        ("30-06-2027", date(2027, 6, 30)),
        ("30.06.2027", date(2027, 6, 30)),
        (" 2027-06-30 ", date(2027, 6, 30)),
        ("30/06/2027 00:00", date(2027, 6, 30)),
        (45000, date(2023, 3, 15)),
        (45000.75, date(2023, 3, 15)),
    ],
)
def test_dates_are_read_from_date_cells_text_and_serial_numbers(cell: object, expected: date) -> None:
    # Given an end date written one way or another
    data = xlsx(provisioning_rows(GREEK_HEADERS, {**GIORGOS, "end_date": cell}))

    # When
    row = read_xlsx(data, PROVISIONING_COLUMNS).rows[0]

    # Then
    assert row.values["end_date"] == expected
    assert row.problems == ()


@pytest.mark.parametrize("cell", ["31/02/2025", "06/30/2027", "30/06/27", "σύντομα", "30/06-2027", True])
def test_a_value_that_is_not_a_date_is_a_row_problem_not_a_file_error(cell: object) -> None:
    # Given one bad end date next to a good row
    data = xlsx(provisioning_rows(GREEK_HEADERS, {**GIORGOS, "end_date": cell}, GIORGOS))

    # When the sheet is read
    sheet = read_xlsx(data, PROVISIONING_COLUMNS)

    # Then the file is accepted; that row keeps the text and says what is wrong
    bad, good = sheet.rows
    shown = "TRUE" if cell is True else cell
    assert bad.values["end_date"] == shown
    assert bad.problems == (f"end_date: not a date: {shown}",)
    assert good.problems == ()


def test_serial_dates_follow_the_1900_system_and_its_phantom_leap_day() -> None:
    assert excel_serial_date(1) == date(1900, 1, 1)
    assert excel_serial_date(59) == date(1900, 2, 28)
    assert excel_serial_date(60) is None  # 29 February 1900, which Excel counts
    assert excel_serial_date(61) == date(1900, 3, 1)
    assert excel_serial_date(45000) == date(2023, 3, 15)
    assert excel_serial_date(0) is None and excel_serial_date(10**7) is None
    assert excel_serial_date(0, date1904=True) == date(1904, 1, 1)


def test_a_1904_workbook_reads_serials_in_its_own_system() -> None:
    # Given a workbook saved in the 1904 date system, with a serial typed as a number
    def use_1904(workbook: Workbook, _: Any) -> None:
        workbook.epoch = datetime(1904, 1, 1)

    data = xlsx(provisioning_rows(GREEK_HEADERS, {**GIORGOS, "end_date": 45000}), use_1904)

    # When / Then the serial counts from 1904-01-01
    assert read_xlsx(data, PROVISIONING_COLUMNS).rows[0].values["end_date"] == date(2027, 3, 16)


def test_text_dates_are_day_first_and_must_exist() -> None:
    assert parse_date_text("02/03/2027") == date(2027, 3, 2)
    assert parse_date_text("29/02/2028") == date(2028, 2, 29)
    assert parse_date_text("29/02/2027") is None
    assert parse_date_text("2027-13-01") is None


# --- CSV ----------------------------------------------------------------------------------


def test_csv_with_a_byte_order_mark_reads_like_the_workbook() -> None:
    # Given a UTF-8 CSV as Excel saves it, BOM first, Greek headers
    text = ",".join(GREEK_HEADERS.values()) + "\r\n"
    text += ",".join("" if value is None else str(value) for value in GIORGOS.values()).replace(
        "2027-06-30 00:00:00", "30/06/2027"
    )
    data = ("\ufeff" + text + "\r\n").encode("utf-8")

    # When
    sheet = read_csv(data, PROVISIONING_COLUMNS)

    # Then the BOM is not part of the first header, and values read as from the workbook
    assert sheet.headers[0] == "Όνομα χρήστη"
    assert sheet.rows[0].values == GIORGOS_READ
    assert sheet.raw[0][0] == "gpapadopoulos"


def test_csv_separated_by_semicolons_is_read() -> None:
    # Given the semicolons Excel uses in a Greek locale
    data = "Υπαρκτό όνομα χρήστη;Ημερομηνία λήξης\ngpapadopoulos;2027-06-30\n".encode()

    sheet = read_csv(data, RENEWAL_COLUMNS)

    assert sheet.rows[0].values == {"username": "gpapadopoulos", "expires_on": date(2027, 6, 30)}


def test_csv_that_is_not_utf8_is_refused() -> None:
    data = "Υπαρκτό όνομα χρήστη,Ημερομηνία λήξης\n".encode("cp1253")

    with pytest.raises(SheetInvalid, match="not UTF-8"):
        read_csv(data, RENEWAL_COLUMNS)


def test_csv_follows_the_same_header_rules() -> None:
    with pytest.raises(SheetInvalid, match="«Ημερομηνία λήξης»"):
        read_csv(b"username\r\ngpapadopoulos\r\n", RENEWAL_COLUMNS)


# --- speed and import cost ----------------------------------------------------------------


def test_reading_10_000_rows_of_15_columns_is_fast() -> None:
    # Given 10 000 rows × 15 columns (the 14 known ones and a note), built in write-only mode
    headers = {**GREEK_HEADERS}
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet()
    worksheet.append([*headers.values(), "Σχόλια"])
    for number in range(10_000):
        record = {**GIORGOS, "username": f"user{number}", "registry_number": 3118000 + number}
        worksheet.append([record.get(key) for key in headers] + [f"σχόλιο {number}"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    # When it is read
    started = time.perf_counter()
    sheet = read_xlsx(buffer.getvalue(), PROVISIONING_COLUMNS)
    elapsed = time.perf_counter() - started

    # Then every row is there, well within the budget (< 5 s on 2 cores; loose bound here)
    print(f"\n10 000 rows × 15 columns read in {elapsed:.2f} s")
    assert len(sheet.rows) == 10_000
    assert sheet.rows[-1].values["registry_number"] == "3127999"
    assert elapsed < 15


def test_importing_the_package_does_not_import_openpyxl() -> None:
    # Given a fresh interpreter
    code = "import chalicelib.sheets, sys; print('openpyxl' in sys.modules)"

    # When it imports the package
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    # Then openpyxl stays unloaded until a sheet is read
    assert result.stdout.strip() == "False"
