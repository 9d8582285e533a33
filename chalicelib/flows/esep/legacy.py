"""Loading accounts of the old eTwinning / School Education Gateway into realm esep
(SPEC §2.7: "a legacy … account with the same e-mail is migrated into the new one once").

Operators hand over JSON lines, or a CSV with the same column names:
``email, given_name, family_name, country, role, organisation_ids?, subjects?, languages?,
bio?, available_for_projects?``. Each good row becomes a
:class:`~chalicelib.domain.esep.LegacyMember` keyed on its normalised e-mail; the EU Login
user who later signs in with that e-mail is offered to take it over (profile and
organisations) at registration. In JSON lines the three list columns are arrays (a string
is split as in CSV); in a CSV cell their items are separated by ``|`` or ``;``.
``available_for_projects`` is a JSON boolean, or ``true``/``false``/``yes``/``no``/``1``/``0``.

A re-run is safe: a row whose e-mail already has an esep account, or a legacy record
(loaded by an earlier run or an earlier line of the same file), is reported as a
duplicate and nothing is written for it. Rows are checked one by one and a bad row never
stops the others; reasons name the problem, never the row's e-mail.

The file is read, and the report (:class:`~chalicelib.flows.legacy_rows.LegacyReport`) made,
by :mod:`chalicelib.flows.legacy_rows` as for e-IEP, so the CLI and any admin endpoint print
both the same way. Plain Python over the ports.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from chalicelib.domain.accounts import UniqueKind, normalise_email
from chalicelib.domain.emails import valid_email
from chalicelib.domain.esep import EsepRole, LegacyMember, OrganisationStatus
from chalicelib.errors import InvalidEmail
from chalicelib.flows import legacy_rows
from chalicelib.flows.esep.network import BIO_LENGTH
from chalicelib.flows.esep.rules import clean_country, clean_list
from chalicelib.flows.legacy_rows import LegacyFileInvalid, LegacyFormat, LegacyReport, LegacyRowResult, UnknownColumns
from chalicelib.ports import AccountRepository, Clock, EsepRepository
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

Value = str | bool | list[str]
EsepLegacyRow = legacy_rows.ReadRow[dict[str, Value]]

COLUMNS = (
    "email",
    "given_name",
    "family_name",
    "country",
    "role",
    "organisation_ids",
    "subjects",
    "languages",
    "bio",
    "available_for_projects",
)
REQUIRED_COLUMNS = ("email", "given_name", "family_name", "country", "role")
LIST_COLUMNS = frozenset({"organisation_ids", "subjects", "languages"})
FLAG_COLUMN = "available_for_projects"
EIEP_COLUMNS = ("registry_number", "afm", "password_hash")
"""Columns of an e-IEP registry export. A file carrying them is the wrong file: it holds
tax numbers and password hashes, which realm esep must never receive, so it is refused
as a whole before anything is written."""

_TRUE = frozenset({"true", "yes", "y", "1", "ναι"})
_FALSE = frozenset({"false", "no", "n", "0", "όχι", "οχι", ""})
_ITEM_SEPARATOR = re.compile(r"[|;]")


# --- reading files ---------------------------------------------------------------------------


def read_esep_legacy_rows(
    text: str, fmt: LegacyFormat, *, on_unknown_columns: UnknownColumns | None = None
) -> Iterator[EsepLegacyRow]:
    """The rows of an eTwinning import file, in order, with their line numbers.

    Read as e-IEP's files are (:mod:`chalicelib.flows.legacy_rows`): a line that cannot be
    read becomes ``(line, message)`` and the others are still read; column names match
    case-insensitively (spaces and dashes count as underscores); unknown columns are
    ignored and reported once through ``on_unknown_columns``.

    Raises
    ------
    LegacyFileInvalid
        (when iteration reaches it) a CSV header lacks a required column or repeats one, or
        the file carries e-IEP columns (see :data:`EIEP_COLUMNS`). Read the whole file
        before loading it, as the CLI does, so that nothing is written from such a file.
    """
    report = on_unknown_columns or _log_unknown_columns
    return _read_jsonl(text, report) if fmt == "jsonl" else _read_csv(text, report)


def _log_unknown_columns(names: list[str]) -> None:
    log.warning("esep legacy import: ignoring unknown columns", extra={"columns": names})


def _refuse_eiep_columns(names: Iterable[str]) -> None:
    found = [name for name in EIEP_COLUMNS if name in set(names)]
    if found:
        message = (
            f"realm esep does not take legacy accounts with e-IEP columns ({', '.join(found)}): "
            "this looks like an e-IEP registry file"
        )
        raise LegacyFileInvalid(message, errors={"file": [message]})


def _split_items(text: str) -> list[str]:
    return [item for item in (part.strip() for part in _ITEM_SEPARATOR.split(text)) if item]


def _read_jsonl(text: str, report: UnknownColumns) -> Iterator[EsepLegacyRow]:
    for number, row in legacy_rows.json_rows(text, COLUMNS, report, check_names=_refuse_eiep_columns):
        # A column named twice (``Email`` and ``email``) keeps its last value.
        if isinstance(row, str):
            yield number, row
        else:
            yield number, legacy_rows.typed_fields(dict(row).items(), COLUMNS, _json_value, _expected)


_JSON_SHAPES = {
    "list": "must be a list of strings",
    "flag": "must be true or false",
    "text": "must be a string",
}


def _expected(key: str) -> str:
    return _JSON_SHAPES[_shape(key)]


def _shape(key: str) -> str:
    return "list" if key in LIST_COLUMNS else "flag" if key == FLAG_COLUMN else "text"


def _json_value(key: str, raw: object) -> Value | None:
    """The value in the row's own terms, or None when its JSON type does not fit."""
    shape = _shape(key)
    if shape == "list":
        if isinstance(raw, str):
            return _split_items(raw)
        if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            return list(raw)
        return None
    if shape == "flag":
        return raw if isinstance(raw, bool | str) else None
    return raw if isinstance(raw, str) else None


def _read_csv(text: str, report: UnknownColumns) -> Iterator[EsepLegacyRow]:
    for number, row in legacy_rows.csv_rows(text, COLUMNS, REQUIRED_COLUMNS, report, check_names=_refuse_eiep_columns):
        if isinstance(row, str):
            yield number, row
        else:
            yield number, {name: _split_items(cell) if name in LIST_COLUMNS else cell for name, cell in row.items()}


# --- loading ------------------------------------------------------------------------------


def require_esep_legacy_realm(realm: RealmConfig) -> None:
    """eTwinning legacy accounts wait for an EU Login user with the same e-mail, so only an
    EU Login realm takes them.

    Raises
    ------
    InvalidInput
        any other realm.
    """
    if realm.identity_source != "eulogin":
        raise legacy_rows.realm_refused(realm, "eTwinning legacy accounts", "EU Login realms")


@dataclass(frozen=True)
class EsepLegacyImport:
    esep: EsepRepository
    accounts: AccountRepository
    clock: Clock

    def load(
        self,
        realm: RealmConfig,
        rows: Iterable[EsepLegacyRow],
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> LegacyReport:
        """Store a legacy record for each good row; report every row.

        ``on_progress`` gets the number of rows processed so far after each row.

        Raises
        ------
        InvalidInput
            the realm does not take eTwinning legacy accounts (checked before any row is read).
        """
        require_esep_legacy_realm(realm)
        organisations = _Organisations(self.esep)
        return legacy_rows.load_rows(
            realm,
            rows,
            lambda line, row: self._load_row(realm, line, row, organisations),
            on_progress=on_progress,
            logger=log,
            finished="esep legacy import finished",
        )

    def _load_row(
        self, realm: RealmConfig, line: int, row: dict[str, Value], organisations: _Organisations
    ) -> LegacyRowResult:
        checked = _check_row(row, organisations)
        if isinstance(checked, str):
            return LegacyRowResult(line, "rejected", checked)
        if self.accounts.find_by_unique(realm.id, UniqueKind.EMAIL, checked.email) is not None:
            return LegacyRowResult(line, "duplicate", "email already registered")
        if self.esep.get_legacy(checked.email) is not None:
            return LegacyRowResult(line, "duplicate", "legacy account already loaded")
        # Two runs at once could both pass the check above; the later put then stores the
        # same person again, which is harmless (the record is only an offer).
        self.esep.put_legacy(
            LegacyMember(
                email=checked.email,
                given_name=checked.given_name,
                family_name=checked.family_name,
                country=checked.country,
                role=checked.role,
                created_at=self.clock.now(),
                organisation_ids=checked.organisation_ids,
                subjects=checked.subjects,
                languages=checked.languages,
                bio=checked.bio,
                available_for_projects=checked.available_for_projects,
            )
        )
        return LegacyRowResult(line, "created")


@dataclass
class _Organisations:
    """Organisations looked up once per import: files name the same schools again and again."""

    esep: EsepRepository
    known: dict[str, OrganisationStatus | None] = field(default_factory=dict)

    def statuses(self, organisation_ids: tuple[str, ...]) -> dict[str, OrganisationStatus | None]:
        wanted = [oid for oid in organisation_ids if oid not in self.known]
        if wanted:
            found = self.esep.get_organisations(wanted)
            for oid in wanted:
                self.known[oid] = found[oid].status if oid in found else None
        return {oid: self.known[oid] for oid in organisation_ids}


@dataclass(frozen=True)
class _Checked:
    email: str
    given_name: str
    family_name: str
    country: str
    role: EsepRole
    organisation_ids: tuple[str, ...]
    subjects: tuple[str, ...]
    languages: tuple[str, ...]
    bio: str
    available_for_projects: bool


def _text(row: dict[str, Value], key: str) -> str:
    value = row.get(key)
    return legacy_rows.clean_name(value) if isinstance(value, str) else ""


def _items(row: dict[str, Value], key: str) -> list[str]:
    value = row.get(key)
    return value if isinstance(value, list) else []


def _flag(value: Value | None) -> bool | None:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().casefold()
    return True if text in _TRUE else False if text in _FALSE else None


def _role(text: str) -> EsepRole | None:
    try:
        return EsepRole(re.sub(r"[\s-]+", "_", text.strip()).casefold())
    except ValueError:
        return None


def _check_row(row: dict[str, Value], organisations: _Organisations) -> _Checked | str:
    """The row's fields checked and normalised, or the reasons it is rejected (joined, in
    the order of the columns)."""
    problems: list[str] = []

    def take(errors: dict[str, list[str]]) -> None:
        """Reasons from the shared esep cleaners (``{field: [message]}``)."""
        problems.extend(f"{key}: {message}" for key, messages in errors.items() for message in messages)

    email = _text(row, "email")
    if not email:
        problems.append("email: is required")
    else:
        try:
            email = normalise_email(valid_email(email))
        except InvalidEmail:
            problems.append("email: is not a valid address")  # the validator's words quote the address

    names = {key: _text(row, key) for key in ("given_name", "family_name")}
    for key, value in names.items():
        if not value:
            problems.append(f"{key}: is required")
        elif len(value) > legacy_rows.MAX_NAME_LENGTH:
            problems.append(f"{key}: must be at most {legacy_rows.MAX_NAME_LENGTH} characters")

    country = _text(row, "country")
    if not country:
        problems.append("country: is required")
    else:
        errors: dict[str, list[str]] = {}
        country = clean_country(country, errors)
        take(errors)

    role_text = _text(row, "role")
    role = _role(role_text)
    if not role_text:
        problems.append("role: is required")
    elif role is None:
        problems.append(f"role: must be one of {', '.join(str(r) for r in EsepRole)}")

    lists: dict[str, tuple[str, ...]] = {}
    for key in ("organisation_ids", "subjects", "languages"):
        errors = {}
        lists[key] = clean_list(_items(row, key), key, errors)
        take(errors)
        if key == "organisation_ids" and lists[key] and not errors:
            for oid, status in organisations.statuses(lists[key]).items():
                if status is None:
                    problems.append(f"organisation_ids: unknown organisation {oid}")
                elif status is OrganisationStatus.REJECTED:
                    # Registration refuses to join it, so taking the account over would fail.
                    problems.append(f"organisation_ids: organisation {oid} was rejected by its NSO")

    bio = str(row.get("bio") or "").strip()
    if len(bio) > BIO_LENGTH:
        problems.append(f"bio: must be at most {BIO_LENGTH} characters")

    available = _flag(row.get(FLAG_COLUMN))
    if available is None:
        problems.append(f"{FLAG_COLUMN}: must be true or false")

    if problems or role is None:
        return "; ".join(problems)
    return _Checked(
        email=email,
        given_name=names["given_name"],
        family_name=names["family_name"],
        country=country,
        role=role,
        organisation_ids=lists["organisation_ids"],
        subjects=lists["subjects"],
        languages=lists["languages"],
        bio=bio,
        available_for_projects=bool(available),
    )
