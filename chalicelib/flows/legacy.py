"""Loading e-IEP accounts from the old registry (SPEC §2.3).

Operators hand over a file of JSON lines, or a CSV with the same column names:
``registry_number, afm?, last_name, first_name, father_name?, mother_name?, email,
password_hash?``. Each good row becomes an active account that is *not* GSIS-verified, so
its first login asks for a one-time GSIS certification. A password hash in standard
argon2 or bcrypt form is kept as is (the hasher verifies both and upgrades to argon2id at
the first login); without one the person must reset their password.

The import is idempotent: the repository's uniqueness guards (e-mail, AFM, username)
turn a row that is already loaded, by an earlier run or an earlier line of the same file,
into a "duplicate" instead of a second account. Rows are checked one by one and a bad row
never stops the others; the report says what happened to each line, without repeating
personal data (no e-mail, AFM or hash appears in a reason or a log line).

Plain Python over the ports: reading and checking the rows is shared by the operator CLI
and an admin endpoint, and tested with in-memory fakes.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.identity import GsisIdentity, is_valid_afm
from chalicelib.flows.emails import valid_email
from chalicelib.flows.errors import DuplicateValue, InvalidEmail, InvalidInput
from chalicelib.ports import AccountRepository, Clock, SecretSource
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

LegacyFormat = Literal["jsonl", "csv"]
LegacyRow = tuple[int, dict[str, str] | str]
"""``(line number, fields)`` for a readable line, ``(line number, error message)`` otherwise."""

COLUMNS = (
    "registry_number",
    "afm",
    "last_name",
    "first_name",
    "father_name",
    "mother_name",
    "email",
    "password_hash",
)
REQUIRED_COLUMNS = ("registry_number", "last_name", "first_name", "email")
MAX_NAME_LENGTH = 100

_REGISTRY_NUMBER = re.compile(r"[0-9A-Za-z-]{1,32}")
_BOM = "\ufeff"

# --- password hashes in their standard string forms --------------------------------------

_B64 = r"[A-Za-z0-9+/]+={0,2}"
_ARGON2 = re.compile(
    rf"\$argon2(?:id|i|d)\$(?:v=(?:16|19)\$)?m=(?P<m>[0-9]{{1,10}}),t=(?P<t>[0-9]{{1,10}}),p=(?P<p>[0-9]{{1,10}})\${_B64}\${_B64}"
)
_BCRYPT = re.compile(r"\$2[aby]\$(?P<cost>[0-9]{2})\$[./A-Za-z0-9]{53}")

# Bounds on the work a stored hash may ask for. A hash arrives in an operator's file and
# is then verified on every login attempt, so an absurd cost (bcrypt 31, argon2 with
# gigabytes or thousands of passes) would let each attempt tie up a Lambda. Real
# deployments of the old registry used far less; such a row is rejected, and its owner
# resets their password instead.
ARGON2_MAX_MEMORY_KIB = 1024 * 1024
ARGON2_MAX_TIME_COST = 64
ARGON2_MAX_PARALLELISM = 64
BCRYPT_COSTS = range(4, 17)

HashScheme = Literal["argon2", "bcrypt"]


def hash_scheme(text: str) -> HashScheme | None:
    """Which algorithm a hash string in standard (PHC / modular crypt) form belongs to.

    Only the shape is checked, so the password hasher can route a stored hash to the
    right library without trying each in turn; ``None`` for anything else.
    """
    if _BCRYPT.fullmatch(text):
        return "bcrypt"
    if _ARGON2.fullmatch(text):
        return "argon2"
    return None


def is_supported_hash(text: str) -> bool:
    """True for an argon2 (``$argon2id$``, ``$argon2i$``, ``$argon2d$``) or bcrypt
    (``$2a$``, ``$2b$``, ``$2y$``) hash in its standard string form, at a cost that a login
    can afford to verify (see the bounds above).

    A pure function rather than a call into the hasher adapter: flows never import
    adapters, and validating an import file needs no hashing library.
    """
    bcrypt = _BCRYPT.fullmatch(text)
    if bcrypt:
        return int(bcrypt["cost"]) in BCRYPT_COSTS
    argon2 = _ARGON2.fullmatch(text)
    if argon2:
        memory, time_cost, parallelism = int(argon2["m"]), int(argon2["t"]), int(argon2["p"])
        return (
            1 <= parallelism <= ARGON2_MAX_PARALLELISM
            and 8 * parallelism <= memory <= ARGON2_MAX_MEMORY_KIB
            and 1 <= time_cost <= ARGON2_MAX_TIME_COST
        )
    return False


# --- reading files ---------------------------------------------------------------------------


class LegacyFileInvalid(InvalidInput):
    """The file as a whole cannot be read as an import (e.g. the CSV header lacks a column)."""


UnknownColumns = Callable[[list[str]], None]


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


def read_legacy_rows(
    text: str, fmt: LegacyFormat, *, on_unknown_columns: UnknownColumns | None = None
) -> Iterator[LegacyRow]:
    """The rows of an import file, in order, with their line numbers.

    A line that cannot be read becomes ``(line, message)`` and the others are still read,
    so one typo does not block a whole file. Column names are matched case-insensitively
    (spaces and dashes count as underscores); unknown columns are ignored, and reported
    once through ``on_unknown_columns`` (by default a log warning) so that a misspelt
    optional column does not go unnoticed.

    Raises
    ------
    LegacyFileInvalid
        (CSV, when iteration starts) the header lacks a required column or repeats one.
    """
    report = on_unknown_columns or _log_unknown_columns
    if fmt == "jsonl":
        return _read_jsonl(text, report)
    return _read_csv(text, report)


def _log_unknown_columns(names: list[str]) -> None:
    log.warning("legacy import: ignoring unknown columns", extra={"columns": names})


def _column(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lstrip(_BOM).strip()).casefold()


def _read_jsonl(text: str, report: UnknownColumns) -> Iterator[LegacyRow]:
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
        fields: dict[str, str] = {}
        problems: list[str] = []
        unknown: list[str] = []
        for raw_key, raw_value in value.items():
            key = _column(str(raw_key))
            if key not in COLUMNS:
                if key not in reported:
                    reported.add(key)
                    unknown.append(key)
                continue
            if raw_value is None:
                continue
            # Numbers are accepted for registry numbers and the like; an AFM written as a
            # number may have lost a leading zero, which the AFM check then catches.
            if isinstance(raw_value, bool) or not isinstance(raw_value, str | int):
                problems.append(f"{key}: must be a string")
                continue
            fields[key] = str(raw_value)
        if unknown:
            report(unknown)
        yield (number, "; ".join(problems)) if problems else (number, fields)


def _delimiter(header_line: str) -> str:
    """Comma unless the header is clearly separated otherwise (Greek Excel writes ``;``)."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in ",;\t"}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > 0 else ","


def _read_csv(text: str, report: UnknownColumns) -> Iterator[LegacyRow]:
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
            header = _csv_header(cells, report)
            continue
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            yield start, f"has {len(cells)} fields but the header has {len(header)}"
            continue
        fields = {
            name: cell for name, cell in zip(header, cells, strict=False) if name in COLUMNS and cell.strip() != ""
        }
        yield start, fields


def _csv_header(cells: list[str], report: UnknownColumns) -> list[str]:
    header = [_column(cell) for cell in cells]
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    problems = []
    if missing:
        problems.append("the header lacks " + ", ".join(missing))
    if repeated:
        problems.append("the header repeats " + ", ".join(repeated))
    if problems:
        raise LegacyFileInvalid("; ".join(problems), errors={"file": problems})
    unknown = [name for name in header if name and name not in COLUMNS]
    if unknown:
        report(unknown)
    return header


# --- loading ------------------------------------------------------------------------------

RowStatus = Literal["created", "duplicate", "rejected"]

_DUPLICATE_REASONS = {
    "email": "email already registered",
    "afm": "AFM already registered",
    "username": "username already registered",
}


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


def require_legacy_realm(realm: RealmConfig) -> None:
    """Legacy accounts exist only in a GSIS realm whose username is the e-mail (e-IEP):
    they are certified through GSIS at first login and log in with their e-mail.

    Raises
    ------
    InvalidInput
        any other realm.
    """
    if realm.identity_source != "gsis" or realm.username != "email":
        raise InvalidInput(
            f"realm {realm.id} does not take legacy accounts (only GSIS realms with e-mail usernames do)",
            errors={"realm": ["does not take legacy accounts"]},
        )


@dataclass(frozen=True)
class _Checked:
    registry_number: str
    afm: str
    last_name: str
    first_name: str
    father_name: str
    mother_name: str
    email: str
    password_hash: str | None


@dataclass(frozen=True)
class LegacyImport:
    accounts: AccountRepository
    clock: Clock
    secrets: SecretSource

    def load(
        self,
        realm: RealmConfig,
        rows: Iterable[LegacyRow],
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> LegacyReport:
        """Create an account for each good row; report every row.

        ``on_progress`` is called with the number of rows processed so far after each row
        (a progress bar; the rows may be a lazy iterator of unknown length).

        Raises
        ------
        InvalidInput
            the realm does not take legacy accounts (checked before any row is read).
        """
        require_legacy_realm(realm)
        results: list[LegacyRowResult] = []
        for line, row in rows:
            results.append(self._load_row(realm, line, row))
            if on_progress is not None:
                on_progress(len(results))
        report = LegacyReport(tuple(results))
        log.info(
            "legacy import finished",
            extra={
                # Not "created": that name is taken by every LogRecord (and would raise).
                "realm": realm.id,
                "rows_created": report.created,
                "rows_duplicate": report.duplicates,
                "rows_rejected": report.rejected,
            },
        )
        return report

    def _load_row(self, realm: RealmConfig, line: int, row: dict[str, str] | str) -> LegacyRowResult:
        if isinstance(row, str):
            return LegacyRowResult(line, "rejected", row)
        checked = _check_row(row)
        if isinstance(checked, str):
            return LegacyRowResult(line, "rejected", checked)
        now = self.clock.now()
        account = Account(
            account_id=self.secrets.identifier(),
            realm=realm.id,
            username=checked.email.casefold(),
            email=checked.email,
            status=AccountStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            password_hash=checked.password_hash,
            identity=GsisIdentity(
                afm=checked.afm,
                last_name=checked.last_name,
                first_name=checked.first_name,
                father_name=checked.father_name,
                mother_name=checked.mother_name,
                birth_year="",
            ),
            gsis_verified=False,
            registry_number=checked.registry_number,
            language=realm.default_language,
            extra={"source": "legacy"},
        )
        try:
            self.accounts.create(account)
        except DuplicateValue as exc:
            return LegacyRowResult(
                line, "duplicate", _DUPLICATE_REASONS.get(exc.kind, f"{exc.kind} already registered")
            )
        return LegacyRowResult(line, "created", account_id=account.account_id)


def _clean_name(value: str | None) -> str:
    """Trimmed, with runs of whitespace (tabs, double spaces from old exports) made one space."""
    return " ".join((value or "").split())


def _check_row(row: dict[str, str]) -> _Checked | str:
    """The row's fields checked and normalised, or the reasons it is rejected (joined)."""
    problems: list[str] = []
    registry_number = (row.get("registry_number") or "").strip()
    if not registry_number:
        problems.append("registry_number is required")
    elif not _REGISTRY_NUMBER.fullmatch(registry_number):
        problems.append("registry_number must be 1 to 32 letters, digits or dashes")

    names = {key: _clean_name(row.get(key)) for key in ("last_name", "first_name", "father_name", "mother_name")}
    for key in ("last_name", "first_name"):
        if not names[key]:
            problems.append(f"{key} is required")
    for key, value in names.items():
        if len(value) > MAX_NAME_LENGTH:
            problems.append(f"{key} must be at most {MAX_NAME_LENGTH} characters")

    afm = (row.get("afm") or "").strip()
    if afm and not is_valid_afm(afm):
        problems.append("afm is not a valid Greek tax number")

    email = (row.get("email") or "").strip()
    if not email:
        problems.append("email is required")
    else:
        try:
            email = valid_email(email)
        except InvalidEmail:
            # email_validator's messages quote parts of the address: keep them out.
            problems.append("email is not a valid address")

    password_hash = (row.get("password_hash") or "").strip() or None
    if password_hash is not None and not is_supported_hash(password_hash):
        problems.append("password_hash is not an argon2 or bcrypt hash in standard form")

    if problems:
        return "; ".join(problems)
    return _Checked(
        registry_number=registry_number,
        afm=afm,
        last_name=names["last_name"],
        first_name=names["first_name"],
        father_name=names["father_name"],
        mother_name=names["mother_name"],
        email=email,
        password_hash=password_hash,
    )
