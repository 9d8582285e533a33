"""What every realm's legacy loader does the same way: reading the file, and reporting.

e-IEP (:mod:`chalicelib.flows.legacy`) and esep (:mod:`chalicelib.flows.esep.legacy`)
take different columns and different rules, but an operator hands both the same kind of
file, gets the same kind of report, and reads the same messages for the same mistakes.
That common part lives here, once, so that a fix to the reading (a BOM, a delimiter, a
line number) or to the report reaches both realms:

* the file: :func:`detect_format`, the JSON-lines and CSV readers (line numbers, column
  names matched case-insensitively, unknown columns reported once, a CSV header that
  lacks or repeats a column refused as :class:`LegacyFileInvalid`);
* the report: :class:`LegacyRowResult` per line and :class:`LegacyReport` over them, and
  the loop that turns rows into a report (:func:`load_rows`).

Which columns exist, how a JSON value becomes a field, which rows are good and what a
good row writes stay with each realm. Plain Python, no I/O.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from chalicelib.errors import InvalidInput
from chalicelib.realms import RealmConfig

LegacyFormat = Literal["jsonl", "csv"]
UnknownColumns = Callable[[list[str]], None]
"""Told, once per file and column, the (normalised) names of columns that are ignored."""
CheckNames = Callable[[list[str]], None]
"""A realm's check of a file's column names; raises :class:`LegacyFileInvalid` to refuse it."""

MAX_NAME_LENGTH = 100

_BOM = "\ufeff"

F = TypeVar("F", bound=Mapping[str, object])
V = TypeVar("V")

ReadRow = tuple[int, F | str]
"""``(line number, fields)`` for a readable line, ``(line number, error message)`` otherwise."""


class LegacyFileInvalid(InvalidInput):
    """The file as a whole cannot be read as an import (e.g. the CSV header lacks a column)."""


def detect_format(filename: str, text: str) -> LegacyFormat:
    """The format a file name announces (``.jsonl``, ``.json``, ``.ndjson``, ``.csv``);
    otherwise a guess from the content: a first line that opens a JSON object is JSON lines."""
    name = filename.lower()
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    for line in text.lstrip(_BOM).splitlines():
        if line.strip():
            return "jsonl" if line.lstrip().startswith("{") else "csv"
    return "csv"


def column_name(name: str) -> str:
    """A column name as the readers compare it: casefolded, spaces and dashes as underscores."""
    return re.sub(r"[\s-]+", "_", name.strip().lstrip(_BOM).strip()).casefold()


def clean_name(value: str | None) -> str:
    """Trimmed, with runs of whitespace (tabs, double spaces from old exports) made one space."""
    return " ".join((value or "").split())


# --- JSON lines -------------------------------------------------------------------------------


def json_rows(
    text: str, columns: Collection[str], report: UnknownColumns, *, check_names: CheckNames | None = None
) -> Iterator[tuple[int, list[tuple[str, object]] | str]]:
    """Each object of a JSON-lines file as ``(line, [(column name, raw value), …])`` in the
    object's order (a name may come twice when two keys normalise alike), or ``(line,
    message)`` for a line that is not an object. ``check_names`` sees each object's names
    first; names outside ``columns`` are then reported once per file."""
    reported: set[str] = set()
    # Split on line feeds only: str.splitlines() would also split inside a JSON string
    # holding U+2028 or a form feed, both valid there.
    for number, line in enumerate(text.lstrip(_BOM).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            yield number, "not a valid JSON object"
            continue
        if not isinstance(value, dict):
            yield number, "not a JSON object (the file must hold one object per line)"
            continue
        pairs = [(column_name(str(key)), raw) for key, raw in value.items()]
        names = list(dict.fromkeys(name for name, _ in pairs))
        if check_names is not None:
            check_names(names)
        unknown = [name for name in names if name not in columns and name not in reported]
        if unknown:
            reported.update(unknown)
            report(unknown)
        yield number, pairs


def typed_fields(
    pairs: Iterable[tuple[str, object]],
    columns: Collection[str],
    convert: Callable[[str, object], V | None],
    expected: Callable[[str], str],
) -> dict[str, V] | str:
    """A JSON object's known, non-null fields through ``convert``; when it returns None for
    some, the reasons ``"column: <expected(column)>"`` joined instead."""
    fields: dict[str, V] = {}
    problems: list[str] = []
    for key, raw in pairs:
        if key not in columns or raw is None:
            continue
        converted = convert(key, raw)
        if converted is None:
            problems.append(f"{key}: {expected(key)}")
        else:
            fields[key] = converted
    return "; ".join(problems) if problems else fields


# --- CSV --------------------------------------------------------------------------------------


def _delimiter(header_line: str) -> str:
    """Comma unless the header is clearly separated otherwise (Greek Excel writes ``;``)."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in ",;\t"}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > 0 else ","


def csv_rows(
    text: str,
    columns: Collection[str],
    required: Iterable[str],
    report: UnknownColumns,
    *,
    check_names: CheckNames | None = None,
) -> Iterator[tuple[int, dict[str, str] | str]]:
    """Each record of a CSV file after its header as ``(first line, {column: cell})`` with
    the known, non-blank cells, or ``(line, message)`` for a record that cannot be read.

    Raises
    ------
    LegacyFileInvalid
        (when iteration reaches the header) ``check_names`` refuses it, or it lacks a
        ``required`` column or repeats one.
    """
    text = text.lstrip(_BOM)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    header: list[str] | None = None
    previous_end = 0
    while True:
        start = previous_end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The csv module cannot resume after a broken record: report it and stop.
            yield start, f"unreadable CSV: {exc}"
            return
        previous_end = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = _csv_header(cells, columns, required, report, check_names)
            continue
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            yield start, f"has {len(cells)} fields but the header has {len(header)}"
            continue
        yield (
            start,
            {name: cell for name, cell in zip(header, cells, strict=False) if name in columns and cell.strip() != ""},
        )


def _csv_header(
    cells: list[str],
    columns: Collection[str],
    required: Iterable[str],
    report: UnknownColumns,
    check_names: CheckNames | None,
) -> list[str]:
    header = [column_name(cell) for cell in cells]
    if check_names is not None:
        check_names(header)
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    missing = [name for name in required if name not in header]
    problems = []
    if missing:
        problems.append("the header lacks " + ", ".join(missing))
    if repeated:
        problems.append("the header repeats " + ", ".join(repeated))
    if problems:
        raise LegacyFileInvalid("; ".join(problems), errors={"file": problems})
    unknown = [name for name in header if name and name not in columns]
    if unknown:
        report(unknown)
    return header


def realm_refused(realm: RealmConfig, accounts: str, only: str) -> InvalidInput:
    """The error for a realm that does not take ``accounts`` (``only`` say which realms do);
    whether it takes them is each realm's own rule."""
    return InvalidInput(
        f"realm {realm.id} does not take {accounts} (only {only} do)",
        errors={"realm": [f"does not take {accounts}"]},
    )


# --- the report -------------------------------------------------------------------------------

RowStatus = Literal["created", "duplicate", "rejected"]


@dataclass(frozen=True)
class LegacyRowResult:
    """What became of one line; ``reason`` never repeats the line's personal data."""

    line: int
    status: RowStatus
    reason: str | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class LegacyReport:
    results: tuple[LegacyRowResult, ...]

    def _count(self, status: RowStatus) -> int:
        return sum(1 for result in self.results if result.status == status)

    @property
    def created(self) -> int:
        return self._count("created")

    @property
    def duplicates(self) -> int:
        return self._count("duplicate")

    @property
    def rejected(self) -> int:
        return self._count("rejected")

    @property
    def ok(self) -> bool:
        """Nothing was rejected: duplicates alone mean the rows are already loaded."""
        return self.rejected == 0

    @property
    def problems(self) -> tuple[LegacyRowResult, ...]:
        """The rows that did not create an account, in file order."""
        return tuple(result for result in self.results if result.status != "created")


def load_rows(
    realm: RealmConfig,
    rows: Iterable[ReadRow[F]],
    load_row: Callable[[int, F], LegacyRowResult],
    *,
    on_progress: Callable[[int], None] | None,
    logger: logging.Logger,
    finished: str,
) -> LegacyReport:
    """``load_row`` for each readable row (an unreadable one is rejected with its message),
    ``on_progress`` after each row, and the counts logged as ``finished`` through the
    realm's own ``logger``."""
    results: list[LegacyRowResult] = []
    for line, row in rows:
        results.append(LegacyRowResult(line, "rejected", row) if isinstance(row, str) else load_row(line, row))
        if on_progress is not None:
            on_progress(len(results))
    report = LegacyReport(tuple(results))
    logger.info(
        finished,
        extra={
            # Not "created": that name is taken by every LogRecord (and would raise).
            "realm": realm.id,
            "rows_created": report.created,
            "rows_duplicate": report.duplicates,
            "rows_rejected": report.rejected,
        },
    )
    return report
