"""Reading the audit log (SPEC §2.11 ``GET /admin/audit?account=&actor=&action=&from=&to=``).

A query names an account, an actor or an action — each an index (the account's own
partition, GSI1, GSI2), so a page reads what it lists and nothing of the rest of the
realm's log — within an optional period; the other two criteria narrow further. A page
examines at most :data:`PAGE_SIZE` entries (newest first) and says where the next one
starts with a sealed cursor (``cursors.py``). ``account`` and ``actor`` may be given as
an account id or as a username (the page's form is filled in by people).

The CSV export is the same query read to its end (at most :data:`MAX_EXPORT` entries):
every cell that a spreadsheet would run as a formula is neutralised first
(``sheets.report.neutralise``), since reasons and details are typed by people.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.audit import AuditEntry, AuditQuery
from chalicelib.errors import InvalidInput
from chalicelib.flows.admin.cursors import open_cursor, seal_cursor
from chalicelib.ports import AccountRepository, AuditSearch, Sealer
from chalicelib.realms import RealmConfig

PAGE_SIZE = 50
EXPORT_PAGE = 500
MAX_EXPORT = 10_000
CSV_COLUMNS = ("at", "account_id", "action", "actor", "address", "reason", "details")
_NAME = re.compile(r"[A-Za-z0-9@._:+-]{1,128}")
_ACTION = re.compile(r"[a-z0-9_.:-]{1,64}")


@dataclass(frozen=True)
class AuditFilter:
    """A query as asked (``account``/``actor`` resolved to account ids)."""

    query: AuditQuery
    asked: dict[str, str]
    """The filter as the person gave it (the cursor is bound to it)."""


@dataclass(frozen=True)
class AuditResult:
    entries: list[AuditEntry]
    cursor: str | None
    filter: AuditFilter


def _day_or_time(value: str, name: str, errors: dict[str, list[str]], *, end: bool) -> datetime | None:
    """``YYYY-MM-DD`` (a whole day: from its start, or to its end) or an ISO time, in UTC."""
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(), tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        parsed = datetime.fromisoformat(text)
    except ValueError:
        errors[name] = ["must be a date (YYYY-MM-DD) or a time (ISO 8601)"]
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True)
class AuditLogReader:
    search: AuditSearch
    accounts: AccountRepository
    sealer: Sealer

    def parse(
        self,
        realm: RealmConfig,
        *,
        account: str | None,
        actor: str | None,
        action: str | None,
        start: str | None,
        end: str | None,
    ) -> AuditFilter:
        """The query these filters make.

        Raises
        ------
        InvalidInput
            malformed values, a period that ends before it starts, or none of account,
            actor and action.
        """
        errors: dict[str, list[str]] = {}
        asked = {
            "account": (account or "").strip(),
            "actor": (actor or "").strip(),
            "action": (action or "").strip(),
            "from": (start or "").strip(),
            "to": (end or "").strip(),
        }
        for name in ("account", "actor"):
            if asked[name] and not _NAME.fullmatch(asked[name]):
                errors[name] = ["must be an account id or a username (at most 128 characters)"]
        if asked["action"] and not _ACTION.fullmatch(asked["action"]):
            errors["action"] = ["must be an action name (letters, digits, _ . : -)"]
        period_start = _day_or_time(asked["from"], "from", errors, end=False)
        period_end = _day_or_time(asked["to"], "to", errors, end=True)
        if period_start and period_end and period_end <= period_start:
            errors["to"] = ["must be after from"]
        if not errors and not (asked["account"] or asked["actor"] or asked["action"]):
            errors["account"] = ["name an account, an actor or an action (each is an index of the log)"]
        if errors:
            raise InvalidInput(errors=errors)
        query = AuditQuery(
            account=self._account_id(realm, asked["account"]) if asked["account"] else None,
            actor=self._account_id(realm, asked["actor"]) if asked["actor"] else None,
            action=asked["action"] or None,
            start=period_start,
            end=period_end,
        )
        return AuditFilter(query, asked)

    def _account_id(self, realm: RealmConfig, given: str) -> str:
        """An account id as given, or the id of the account with that username (actors
        such as ``system:expiry`` or ``operator:cli`` are taken as they are)."""
        if ":" in given or self.accounts.get(realm.id, given) is not None:
            return given
        holder = self.accounts.find_by_unique(realm.id, UniqueKind.USERNAME, given.casefold())
        return holder.account_id if holder is not None else given

    def page(self, realm: RealmConfig, wanted: AuditFilter, cursor: str | None = None) -> AuditResult:
        """One page, newest first. Raises InvalidInput for a cursor not of this query."""
        bound = {"realm": realm.id, **wanted.asked}
        after = open_cursor(self.sealer, cursor, bound)
        found = self.search.search(realm.id, wanted.query, limit=PAGE_SIZE, after=after)
        return AuditResult(found.entries, seal_cursor(self.sealer, bound, found.after), wanted)

    def export(self, realm: RealmConfig, wanted: AuditFilter) -> tuple[bytes, bool]:
        """The whole query as CSV (UTF-8 with a BOM, so spreadsheet programs read the
        Greek right), and whether it was cut at :data:`MAX_EXPORT` entries."""
        from chalicelib.sheets.report import neutralise  # the sheet writers: not at cold start

        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        written, after = 0, None
        while True:
            found = self.search.search(realm.id, wanted.query, limit=EXPORT_PAGE, after=after)
            for entry in found.entries:
                if written >= MAX_EXPORT:
                    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), True
                writer.writerow([neutralise(cell) for cell in csv_row(entry)])
                written += 1
            if found.after is None:
                return ("\ufeff" + buffer.getvalue()).encode("utf-8"), False
            after = found.after


def csv_row(entry: AuditEntry) -> list[str]:
    details = {key: value for key, value in sorted(entry.details.items()) if key != "reason"}
    return [
        entry.at.isoformat(),
        entry.account_id,
        entry.action,
        entry.actor,
        entry.address,
        entry.details.get("reason", ""),
        "; ".join(f"{key}={value}" for key, value in details.items()),
    ]
