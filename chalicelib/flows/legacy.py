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

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.audit import OPERATOR, audit
from chalicelib.domain.emails import valid_email
from chalicelib.domain.identity import GsisIdentity, is_valid_afm
from chalicelib.domain.password_hashes import is_supported_hash
from chalicelib.errors import DuplicateValue, InvalidEmail
from chalicelib.flows.legacy_rows import (
    MAX_NAME_LENGTH,
    LegacyFormat,
    LegacyReport,
    LegacyRowResult,
    ReadRow,
    UnknownColumns,
    clean_name,
    csv_rows,
    json_rows,
    load_rows,
    realm_refused,
    typed_fields,
)
from chalicelib.flows.legacy_rows import LegacyFileInvalid as LegacyFileInvalid  # re-exported: CLI, tests
from chalicelib.flows.legacy_rows import detect_format as detect_format  # re-exported: CLI, tests
from chalicelib.ports import AccountRepository, Clock, SecretSource
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

LegacyRow = ReadRow[dict[str, str]]

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

_REGISTRY_NUMBER = re.compile(r"[0-9A-Za-z-]{1,32}")

# --- reading files ---------------------------------------------------------------------------


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
    return csv_rows(text, COLUMNS, REQUIRED_COLUMNS, report)


def _log_unknown_columns(names: list[str]) -> None:
    log.warning("legacy import: ignoring unknown columns", extra={"columns": names})


def _read_jsonl(text: str, report: UnknownColumns) -> Iterator[LegacyRow]:
    for number, row in json_rows(text, COLUMNS, report):
        yield number, row if isinstance(row, str) else typed_fields(row, COLUMNS, _json_text, _must_be_a_string)


def _json_text(key: str, raw: object) -> str | None:
    # Numbers are accepted for registry numbers and the like; an AFM written as a number
    # may have lost a leading zero, which the AFM check then catches.
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return None
    return str(raw)


def _must_be_a_string(key: str) -> str:
    return "must be a string"


# --- loading ------------------------------------------------------------------------------

_DUPLICATE_REASONS = {
    "email": "email already registered",
    "afm": "AFM already registered",
    "username": "username already registered",
}


def require_legacy_realm(realm: RealmConfig) -> None:
    """Legacy accounts exist only in a GSIS realm whose username is the e-mail (e-IEP):
    they are certified through GSIS at first login and log in with their e-mail.

    Raises
    ------
    InvalidInput
        any other realm.
    """
    if realm.identity_source != "gsis" or realm.username != "email":
        raise realm_refused(realm, "legacy accounts", "GSIS realms with e-mail usernames")


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
        actor: str = OPERATOR,
        on_progress: Callable[[int], None] | None = None,
    ) -> LegacyReport:
        """Create an account for each good row (audited as ``actor``'s import); report every row.

        ``on_progress`` is called with the number of rows processed so far after each row
        (a progress bar; the rows may be a lazy iterator of unknown length).

        Raises
        ------
        InvalidInput
            the realm does not take legacy accounts (checked before any row is read).
        """
        require_legacy_realm(realm)
        return load_rows(
            realm,
            rows,
            lambda line, row: self._load_row(realm, line, row, actor),
            on_progress=on_progress,
            logger=log,
            finished="legacy import finished",
        )

    def _load_row(self, realm: RealmConfig, line: int, row: dict[str, str], actor: str) -> LegacyRowResult:
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
        entry = audit(realm.id, account.account_id, "account_imported", actor=actor, at=now, source="legacy")
        try:
            self.accounts.create(account, audit=entry)
        except DuplicateValue as exc:
            return LegacyRowResult(
                line, "duplicate", _DUPLICATE_REASONS.get(exc.kind, f"{exc.kind} already registered")
            )
        return LegacyRowResult(line, "created", account_id=account.account_id)


def _check_row(row: dict[str, str]) -> _Checked | str:
    """The row's fields checked and normalised, or the reasons it is rejected (joined)."""
    problems: list[str] = []
    registry_number = (row.get("registry_number") or "").strip()
    if not registry_number:
        problems.append("registry_number is required")
    elif not _REGISTRY_NUMBER.fullmatch(registry_number):
        problems.append("registry_number must be 1 to 32 letters, digits or dashes")

    names = {key: clean_name(row.get(key)) for key in ("last_name", "first_name", "father_name", "mother_name")}
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
