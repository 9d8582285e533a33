"""Spreadsheets for NTUA provisioning and renewal jobs (SPEC §2.6).

Secretariats upload .xlsx files; :func:`read_xlsx` (or :func:`read_csv`) turns one into a
:class:`Sheet` of rows keyed by column, or refuses the whole file with
:class:`SheetInvalid`; the job then checks each row, and :func:`report_xlsx` /
:func:`report_csv` give the sheet back with a ``status`` and ``reason`` per row.
:func:`template_xlsx` is the blank sheet the secretariat starts from.

Importing this package does not import openpyxl (a cold-start budget: the app imports it
on every container start, while sheets are read only by jobs); the functions import it
when called.
"""

from chalicelib.sheets.columns import (
    PROVISIONING_COLUMNS,
    RENEWAL_COLUMNS,
    Column,
    ColumnKind,
    fold_header,
)
from chalicelib.sheets.reader import (
    MAX_ROWS,
    MAX_UNCOMPRESSED_BYTES,
    Sheet,
    SheetInvalid,
    SheetRow,
    read_csv,
    read_xlsx,
)
from chalicelib.sheets.report import neutralise, report_csv, report_xlsx, template_xlsx

__all__ = [
    "MAX_ROWS",
    "MAX_UNCOMPRESSED_BYTES",
    "PROVISIONING_COLUMNS",
    "RENEWAL_COLUMNS",
    "Column",
    "ColumnKind",
    "Sheet",
    "SheetInvalid",
    "SheetRow",
    "fold_header",
    "neutralise",
    "read_csv",
    "read_xlsx",
    "report_csv",
    "report_xlsx",
    "template_xlsx",
]
