"""Spreadsheets for tests, written with openpyxl as a secretariat's Excel would save them."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook

GREEK_HEADERS = {
    "username": "Όνομα χρήστη",
    "full_name": "Ονοματεπώνυμο",
    "father_name": "Πατρώνυμο",
    "mother_name": "Μητρώνυμο",
    "address": "Διεύθυνση κατοικίας",
    "area": "Περιοχή",
    "postcode": "ΤΚ",
    "mobile": "Τηλέφωνο κινητό",
    "external_email": "Εκτός ΕΜΠ mail",
    "registry_number": "Αριθμός Μητρώου",
    "supervisor": "Διευθυντής Μεταπτυχιακού / Επιβλέπων",
    "supervisor_email": "Email Διευθυντή / Επιβλέποντα",
    "end_date": "Ημερομηνία λήξης",
    "previous_username": "Προηγούμενο όνομα χρήστη",
}
RENEWAL_HEADERS = {"username": "Υπαρκτό όνομα χρήστη", "expires_on": "Ημερομηνία λήξης"}

# Real Greek surnames with digraphs (ου, μπ, ντ, γκ, αυ, ευ) and final ς, and their ELOT 743 forms.
SURNAMES = (
    ("Παπαδόπουλος", "papadopoulos"),
    ("Μπακογιάννης", "bakogiannis"),
    ("Ντόκας", "ntokas"),
    ("Γκίκας", "gkikas"),
    ("Ευαγγέλου", "evangelou"),
    ("Αυγερινός", "avgerinos"),
    ("Κωνσταντίνου", "konstantinou"),
    ("Σπυρόπουλος", "spyropoulos"),
)
FIRST_NAMES = ("Γιώργος", "Μαρία", "Νίκος", "Ελένη", "Δημήτρης", "Κατερίνα", "Κώστας", "Σοφία")


def xlsx(rows: Sequence[Sequence[object]], prepare: Callable[[Workbook, Any], None] | None = None) -> bytes:
    """A workbook whose first sheet holds ``rows`` from A1; ``prepare`` may then edit it."""
    workbook = Workbook()
    worksheet = workbook.active
    for row in rows:
        worksheet.append(list(row))
    if prepare is not None:
        prepare(workbook, worksheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def student(number: int, tag: str = "s", **changes: Any) -> dict[str, Any]:
    """A valid provisioning row: surname first (as registries write it), a username that
    contains it, a personal e-mail; ``tag`` keeps rows of different tests apart."""
    surname, latin = SURNAMES[number % len(SURNAMES)]
    record: dict[str, Any] = {
        "username": f"{latin}{tag}{number}",
        "full_name": f"{surname} {FIRST_NAMES[number % len(FIRST_NAMES)]}",
        "father_name": "Νικόλαος",
        "mother_name": "Ελένη",
        "address": "Ηρώων Πολυτεχνείου 9",
        "area": "Ζωγράφου",
        "postcode": 15780,
        "mobile": 6912345678,
        "external_email": f"{latin}.{tag}{number}@example.gr",
        "registry_number": f"{tag.upper()}{number:07d}"[-32:],
        "supervisor": "Α. Καθηγήτρια",
        "supervisor_email": "prof@example.gr",
        "end_date": datetime(2031, 6, 30),
    }
    record.update(changes)
    return record


def sheet_rows(headers: dict[str, str], records: Sequence[dict[str, Any]]) -> list[list[object]]:
    """A header row in the order of ``headers`` and one row per record."""
    return [list(headers.values()), *([record.get(key) for key in headers] for record in records)]


def provisioning_xlsx(records: Sequence[dict[str, Any]], headers: dict[str, str] = GREEK_HEADERS) -> bytes:
    return xlsx(sheet_rows(headers, records))


def renewal_xlsx(rows: Sequence[tuple[object, object]]) -> bytes:
    return xlsx([list(RENEWAL_HEADERS.values()), *(list(row) for row in rows)])


def read_report(data: bytes) -> list[dict[str, Any]]:
    """A report's rows as dicts keyed by its headers (``status`` and ``reason`` last)."""
    from openpyxl import load_workbook

    # Not read-only: that mode trusts the declared sheet size and drops trailing empty cells.
    worksheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(worksheet.iter_rows(values_only=True))
    headers = [str(cell) if cell is not None else "" for cell in rows[0]]
    return [dict(zip(headers, row, strict=False)) for row in rows[1:]]
