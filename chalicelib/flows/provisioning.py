"""Provisioning and renewal rows (seed 004, SPEC §2.6): what each row of a sheet means.

A job hands this module one chunk of rows at a time. Every row ends with an outcome and,
when rejected, a reason a secretariat can act on. Reads and writes are batched per
chunk (one batched read of every username and e-mail, one batched create, one batched
audit write, one batched queue write), which is what keeps a 10 000-row file inside a
minute; the rules themselves are the registrar's (:mod:`chalicelib.flows.registrar`),
shared with the single-account API.

Re-running a chunk is safe: an account created for a row gets an id derived from the job
and the row, so a retry recognises its own earlier write; a row whose username and
e-mail already belong to one account is reported as already applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from chalicelib.domain.accounts import (
    REGISTRY_LINK,
    Account,
    AccountStatus,
    LoginRecord,
    UniqueKind,
    normalise_email,
)
from chalicelib.domain.emails import valid_email
from chalicelib.domain.given_names import is_given_name
from chalicelib.domain.jobs import Job, RowOutcome, RowStatus
from chalicelib.domain.registry import RegistryEntry, RegistryStatus
from chalicelib.domain.secrets import fingerprint
from chalicelib.domain.tasks import Task
from chalicelib.domain.transliteration import username_contains_surname
from chalicelib.errors import FlowError, InvalidInput
from chalicelib.flows.passwords import SETUP_MAIL
from chalicelib.flows.registrar import (
    GRADUATED_REASON,
    LIVE_REASON,
    Actor,
    NewAccount,
    Registrar,
    audit_entry,
    build_account,
)
from chalicelib.ports import AccountRepository, AuditLog, Clock, TaskQueue
from chalicelib.realms import RealmConfig
from chalicelib.sheets import PROVISIONING_COLUMNS, RENEWAL_COLUMNS, Column, SheetRow

log = logging.getLogger(__name__)

DETAIL_KEYS = ("address", "area", "postcode", "supervisor", "supervisor_email")
"""Contact columns kept with the account as they were written."""
_APPLIED = "an account with this username and external e-mail exists"

# Which sheet column a registrar field comes from, to name it in a reason.
_FIELD_COLUMN = {
    "first_name": "full_name",
    "last_name": "full_name",
    "expires_on": "end_date",
    "kind": "full_name",
}


def column_labels(columns: Sequence[Column]) -> dict[str, str]:
    return {column.key: column.describe() for column in columns}


_PROVISIONING_LABELS = column_labels(PROVISIONING_COLUMNS)
_RENEWAL_LABELS = column_labels(RENEWAL_COLUMNS)


def rejected(reason: str) -> RowOutcome:
    return RowOutcome(RowStatus.REJECTED, reason)


def reason_of(error: FlowError, labels: dict[str, str]) -> str:
    """A flow error as one line naming the sheet's columns: «Εκτός ΕΜΠ mail» (external
    e-mail): must be an address outside the institution."""
    if not error.errors:
        return str(error.detail or error.title)
    parts = []
    for key, messages in error.errors.items():
        label = labels.get(_FIELD_COLUMN.get(key, key), key)
        parts.append(f"{label}: {'; '.join(messages)}")
    return ". ".join(parts)


# --- the file as a whole ---------------------------------------------------------------------


def duplicates_in_file(rows: Sequence[SheetRow], keys: Iterable[str]) -> dict[int, str]:
    """Row index → reason, for every row repeating an earlier row's value of ``keys``.

    The first occurrence stays valid and each later one is rejected, naming the row it
    repeats, so the secretariat sees which two rows clash.
    """
    first_seen: dict[tuple[str, str], int] = {}
    found: dict[int, str] = {}
    wanted = tuple(keys)
    for index, row in enumerate(rows):
        for key in wanted:
            value = row.values.get(key)
            if not isinstance(value, str) or not value.strip():
                continue
            folded = normalise_email(value) if "email" in key else value.strip().casefold()
            earlier = first_seen.setdefault((key, folded), index)
            if earlier != index and index not in found:
                label = _PROVISIONING_LABELS.get(key) or _RENEWAL_LABELS.get(key, key)
                found[index] = f"duplicate of row {rows[earlier].number} ({label} repeated in the file)"
    return found


def split_full_name(full_name: str, username: str) -> tuple[str, str] | None:
    """(first names, surname) of «Ονοματεπώνυμο», using the username to tell them apart.

    Secretariats write the surname first («Παπαδόπουλος Γεώργιος») or last; the rule that
    the username contains the surname decides which. The longest surname the username
    contains wins, so a compound surname («Ζαχαρίου Παπά») is kept whole; at equal length
    the surname at the end is tried first. A "surname" made only of common given names
    («Γιώργος» for ``giorgos99``) does not count while another word could be the surname.
    None when no split makes the username contain a surname, or the name has one word.
    """
    words = full_name.split()
    if len(words) < 2:
        return None
    matching: list[tuple[str, str]] = []
    for size in range(len(words) - 1, 0, -1):
        for surname, first in (
            (words[-size:], words[:-size]),
            (words[:size], words[size:]),
        ):
            if username_contains_surname(username, " ".join(surname)):
                matching.append((" ".join(first), " ".join(surname)))
    if not matching:
        return None
    plausible = [split for split in matching if not all(is_given_name(word) for word in split[1].split())]
    if plausible:
        return plausible[0]
    if all(is_given_name(word) for word in words):
        return matching[0]  # every word is also a given name: nothing tells them apart
    return None


# --- provisioning ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    index: int
    new: NewAccount


@dataclass(frozen=True)
class Provisioning:
    """Creates (or reactivates) the accounts of one chunk of a provisioning sheet."""

    registrar: Registrar
    accounts: AccountRepository
    audit: AuditLog
    tasks: TaskQueue
    clock: Clock

    def chunk(
        self,
        realm: RealmConfig,
        job: Job,
        rows: Sequence[SheetRow],
        first_index: int,
        early: dict[int, str],
    ) -> list[RowOutcome]:
        """The outcome of every row of the chunk; writes unless ``job.dry_run``.

        ``first_index`` is the index of ``rows[0]`` in the sheet and ``early`` holds the
        rejections decided over the whole file (duplicates).
        """
        outcomes: list[RowOutcome | None] = [None] * len(rows)
        checked: list[_Checked] = []
        for offset, row in enumerate(rows):
            reason = early.get(first_index + offset)
            if reason is None:
                try:
                    checked.append(_Checked(offset, self._new_account(realm, job, row)))
                    continue
                except FlowError as error:
                    reason = reason_of(error, _PROVISIONING_LABELS)
            outcomes[offset] = rejected(reason)

        held = self._holders(realm, [(c.new.username or "", normalise_email(c.new.external_email)) for c in checked])
        registry = self._registry(realm, job, [c.new for c in checked])
        actor = Actor(f"job:{job.job_id}")
        now = self.clock.now()
        to_create: list[tuple[int, Account]] = []
        recovered: list[Account] = []
        for item in checked:
            new = item.new
            username = new.username or ""
            own_id = row_account_id(job, first_index + item.index)
            username_holder = held.get((UniqueKind.USERNAME, username))
            email_holder = held.get((UniqueKind.EMAIL, normalise_email(new.external_email)))
            if username_holder is not None and username_holder == own_id:
                # This job created it before a crash: finish what that attempt began.
                outcomes[item.index] = RowOutcome(RowStatus.CREATED)
                recovered.append(build_account(realm, new, account_id=own_id, username=username, now=now))
                continue
            if new.previous_username is not None:
                outcomes[item.index] = self._reactivation(realm, job, new, actor)
                continue
            if username_holder is not None and username_holder == email_holder:
                outcomes[item.index] = RowOutcome(RowStatus.ALREADY_APPLIED, _APPLIED)
            elif username_holder is not None:
                outcomes[item.index] = rejected(
                    f"{_PROVISIONING_LABELS['username']}: taken (usernames are never issued twice)"
                )
            elif email_holder is not None:
                outcomes[item.index] = rejected(
                    f"{_PROVISIONING_LABELS['external_email']}: another account has this address"
                )
            elif (refusal := _registry_refusal(registry.get(new.registry_number), own_id)) is not None:
                outcomes[item.index] = rejected(f"{_PROVISIONING_LABELS['registry_number']}: {refusal}")
            elif job.dry_run:
                outcomes[item.index] = RowOutcome(RowStatus.VALID)
            else:
                to_create.append((item.index, build_account(realm, new, account_id=own_id, username=username, now=now)))

        created = self._create(realm, to_create, outcomes, actor, now)
        if recovered:
            self._complete_recovered(realm, recovered, actor, now)
        self._after_create(realm, created)
        return [outcome or rejected("not processed") for outcome in outcomes]

    def _new_account(self, realm: RealmConfig, job: Job, row: SheetRow) -> NewAccount:
        values = row.values
        if row.problems:
            raise InvalidInput(errors=_problems_by_column(row.problems))
        username = _text(values.get("username")).casefold()
        full_name = _text(values.get("full_name"))
        missing = {
            key: ["is required"]
            for key in ("username", "full_name", "father_name", "mother_name", "external_email", "registry_number")
            if not _text(values.get(key))
        }
        if not isinstance(values.get("end_date"), date):
            missing["end_date"] = ["is required"]
        if missing:
            raise InvalidInput(errors=missing)
        split = split_full_name(full_name, username)
        if split is None:
            reason = (
                "must have a first name and a surname"
                if len(full_name.split()) < 2
                else "the username does not contain the surname in Latin letters (ELOT 743)"
            )
            raise InvalidInput(errors={"full_name": [reason]})
        supervisor_email = _text(values.get("supervisor_email"))
        if supervisor_email:
            valid_email(supervisor_email, field="supervisor_email")
        end_date = values.get("end_date")
        new = NewAccount(
            affiliation=job.affiliation,
            first_name=split[0],
            last_name=split[1],
            father_name=_text(values.get("father_name")),
            mother_name=_text(values.get("mother_name")),
            external_email=_text(values.get("external_email")),
            registry_number=_text(values.get("registry_number")),
            username=username,
            expires_on=end_date if isinstance(end_date, date) else None,
            mobile=_text(values.get("mobile")) or None,
            previous_username=_text(values.get("previous_username")) or None,
            details={key: _text(values.get(key)) for key in DETAIL_KEYS if _text(values.get(key))},
        )
        return self.registrar.check(realm, new)

    def _reactivation(self, realm: RealmConfig, job: Job, new: NewAccount, actor: Actor) -> RowOutcome:
        try:
            previous = self.registrar.previous_account(realm, new)
        except FlowError as error:
            return rejected(reason_of(error, _PROVISIONING_LABELS))
        if previous is None:
            # A graduate's undergraduate name is retired: the row's own username is used.
            return self._create_single(realm, job, replace(new, previous_username=None), actor)
        if previous.status is AccountStatus.DISABLED:
            return rejected(f"{_PROVISIONING_LABELS['previous_username']}: that account is disabled for good")
        if (
            previous.affiliation == new.affiliation
            and previous.expires_on == new.expires_on
            and previous.status is AccountStatus.ACTIVE
        ):
            return RowOutcome(RowStatus.ALREADY_APPLIED, f"the account {previous.username} was reactivated")
        if job.dry_run:
            return RowOutcome(RowStatus.VALID, f"would reactivate the account {previous.username}")
        self.registrar.reactivate(realm, previous, new, actor)
        return RowOutcome(RowStatus.REACTIVATED, f"the account {previous.username} gets the new role and expiry")

    def _create_single(self, realm: RealmConfig, job: Job, new: NewAccount, actor: Actor) -> RowOutcome:
        """A graduate's row: rare, so it takes the single-account path."""
        if job.dry_run:
            return RowOutcome(RowStatus.VALID)
        try:
            self.registrar.create(realm, new, actor)
        except FlowError as error:
            return rejected(reason_of(error, _PROVISIONING_LABELS))
        return RowOutcome(RowStatus.CREATED)

    def _create(
        self,
        realm: RealmConfig,
        to_create: list[tuple[int, Account]],
        outcomes: list[RowOutcome | None],
        actor: Actor,
        now: datetime,
    ) -> list[Account]:
        if not to_create:
            return []
        audits = [
            audit_entry(
                realm, account.account_id, "account_created", actor, now, {"affiliation": account.affiliation or ""}
            )
            for _, account in to_create
        ]
        conflicts = self.accounts.create_many([account for _, account in to_create], audits)
        # A refused row was free when the chunk read the guards: another writer took it
        # since. If one account now holds both its username and its e-mail, that writer
        # applied this very row (the same sheet uploaded twice, its two jobs running side
        # by side): report it as a re-run reports it, not as a clash with someone else.
        refused = [account for _, account in to_create if account.account_id in conflicts]
        held = self._holders(realm, [(account.username, normalise_email(account.email)) for account in refused])
        created: list[Account] = []
        for index, account in to_create:
            kind = conflicts.get(account.account_id)
            holder = held.get((UniqueKind.USERNAME, account.username))
            if kind is None:
                outcomes[index] = RowOutcome(RowStatus.CREATED)
                created.append(account)
            elif holder is not None and holder == held.get((UniqueKind.EMAIL, normalise_email(account.email))):
                outcomes[index] = RowOutcome(RowStatus.ALREADY_APPLIED, _APPLIED)
            elif kind == str(UniqueKind.EMAIL):
                outcomes[index] = rejected(
                    f"{_PROVISIONING_LABELS['external_email']}: another account has this address"
                )
            elif kind == REGISTRY_LINK:
                refusal = self.registrar.registry_refusal(realm, account.registry_number or "")
                outcomes[index] = rejected(f"{_PROVISIONING_LABELS['registry_number']}: {refusal}")
            else:
                outcomes[index] = rejected(
                    f"{_PROVISIONING_LABELS['username']}: taken (usernames are never issued twice)"
                )
        return created

    def _registry(self, realm: RealmConfig, job: Job, new: Sequence[NewAccount]) -> dict[str, RegistryEntry]:
        """The registry entries of the chunk's undergraduate rows (one batched read): a
        dry run reports the registry's refusals, and a real run need not try them. The
        create transaction is what enforces the rule."""
        if job.affiliation != "undergraduate":
            return {}
        numbers = [account.registry_number for account in new if account.registry_number]
        return self.registrar.registry.get_many(realm.id, numbers) if numbers else {}

    def _holders(self, realm: RealmConfig, pairs: Sequence[tuple[str, str]]) -> dict[tuple[UniqueKind, str], str]:
        """Who holds the username and the e-mail guard of each (username, e-mail) pair.

        A batched read is no snapshot: read while another writer's transaction creates a
        pair (the other job of a sheet uploaded twice), it may show one guard and not the
        other, and the row would pass for a clash. Pairs whose two guards disagree are
        read again, after that transaction, before anyone calls them a clash.
        """

        def keys(chosen: Sequence[tuple[str, str]]) -> list[tuple[UniqueKind, str]]:
            return [(UniqueKind.USERNAME, u) for u, _ in chosen] + [(UniqueKind.EMAIL, e) for _, e in chosen]

        held = self.accounts.holders(realm.id, keys(pairs)) if pairs else {}
        torn = [(u, e) for u, e in pairs if held.get((UniqueKind.USERNAME, u)) != held.get((UniqueKind.EMAIL, e))]
        if torn:
            for key in keys(torn):
                held.pop(key, None)
            held.update(self.accounts.holders(realm.id, keys(torn)))
        return held

    def _complete_recovered(self, realm: RealmConfig, accounts: list[Account], actor: Actor, now: datetime) -> None:
        """Accounts an interrupted attempt created (each audited in its own creating
        transaction): mail all again (their mail tasks share a ``once`` key with the ones
        it may have queued: one is sent)."""
        self._after_create(realm, accounts)

    def _after_create(self, realm: RealmConfig, accounts: list[Account]) -> None:
        # (An undergraduate's registry link was written with the account, in its transaction.)
        # One welcome mail per account: a chunk retried after its worker died queues the
        # mails of the accounts that run created again, not knowing whether it got to
        # queue them; the shared ``once`` key lets only the first one be sent.
        self.tasks.enqueue_many(
            [
                Task(SETUP_MAIL, {"realm": realm.id, "account_id": account.account_id}, once=welcome_key(account))
                for account in accounts
            ]
        )


def _registry_refusal(entry: RegistryEntry | None, own_id: str) -> str | None:
    """Why the registry refuses an undergraduate row (None: it does not)."""
    if entry is None:
        return None
    if entry.status is RegistryStatus.GRADUATED:
        return GRADUATED_REASON
    if entry.account_id not in (None, own_id):
        return LIVE_REASON
    return None


def welcome_key(account: Account) -> str:
    """The ``once`` key of an account's welcome (set-password) mail."""
    return f"welcome:{account.realm}:{account.account_id}"


def row_account_id(job: Job, index: int) -> str:
    """The id of the account row ``index`` of ``job`` creates: the same on every attempt."""
    return fingerprint(f"{job.job_id}:{index}")[:32]


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _problems_by_column(problems: Iterable[str]) -> dict[str, list[str]]:
    """``"end_date: not a date: 31/02/2025"`` → {"end_date": ["not a date: 31/02/2025"]}."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        key, _, message = problem.partition(": ")
        found.setdefault(key, []).append(message or problem)
    return found


# --- renewal ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Renewal:
    """Moves the expiry of existing accounts (seed 004, «Μαζική ανανέωση κωδικών»); each
    move is audited in the transaction that makes it."""

    accounts: AccountRepository
    clock: Clock

    def chunk(
        self,
        realm: RealmConfig,
        job: Job,
        rows: Sequence[SheetRow],
        first_index: int,
        early: dict[int, str],
    ) -> list[RowOutcome]:
        assert realm.registrar is not None
        today = self.clock.now().date()
        latest = today + realm.registrar.max_renewal
        usernames = [_text(row.values.get("username")).casefold() for row in rows]
        records = self.accounts.find_logins(realm.id, [name for name in usernames if name])
        actor = Actor(f"job:{job.job_id}")
        outcomes: list[RowOutcome] = []
        changes: list[tuple[str, date]] = []
        for offset, (row, username) in enumerate(zip(rows, usernames, strict=True)):
            outcome = self._row(row, username, records, early.get(first_index + offset), today, latest, job)
            if outcome is None:
                expires_on = row.values["expires_on"]
                assert isinstance(expires_on, date)
                changes.append((records[username].account_id, expires_on))
                outcome = RowOutcome(RowStatus.RENEWED, f"expires on {expires_on:%d/%m/%Y}")
            outcomes.append(outcome)
        now = self.clock.now()
        for account_id, expires_on in changes:
            # Change and audit record in one transaction: a worker killed between them would
            # leave a renewal the redelivery sees as "already applied", never audited.
            entry = audit_entry(
                realm, account_id, "account_renewed", actor, now, {"expires_on": expires_on.isoformat()}
            )
            self.accounts.set_expiry(realm.id, account_id, expires_on, now, reactivate=True, audit=entry)
        return outcomes

    def _row(
        self,
        row: SheetRow,
        username: str,
        records: dict[str, LoginRecord],
        early: str | None,
        today: date,
        latest: date,
        job: Job,
    ) -> RowOutcome | None:
        """The outcome of a row that changes nothing; None for a row to apply."""
        if early is not None:
            return rejected(early)
        if row.problems:
            return rejected(". ".join(_label_problem(problem) for problem in row.problems))
        if not username:
            return rejected(f"{_RENEWAL_LABELS['username']}: is required")
        expires_on = row.values.get("expires_on")
        if not isinstance(expires_on, date):
            return rejected(f"{_RENEWAL_LABELS['expires_on']}: is required")
        record = records.get(username)
        if record is None:
            return rejected(f"{_RENEWAL_LABELS['username']}: no account has this username")
        if record.status is AccountStatus.DISABLED:
            return rejected(f"{_RENEWAL_LABELS['username']}: the account is disabled for good")
        if expires_on <= today:
            return rejected(f"{_RENEWAL_LABELS['expires_on']}: must be in the future")
        if expires_on > latest:
            return rejected(
                f"{_RENEWAL_LABELS['expires_on']}: at most two years from today (no later than {latest:%d/%m/%Y})"
            )
        if record.expires_on == expires_on and record.status is not AccountStatus.EXPIRED:
            return RowOutcome(RowStatus.ALREADY_APPLIED, f"already expires on {expires_on:%d/%m/%Y}")
        if job.dry_run:
            return RowOutcome(RowStatus.VALID, f"would expire on {expires_on:%d/%m/%Y}")
        return None


def _label_problem(problem: str) -> str:
    key, _, message = problem.partition(": ")
    label = _RENEWAL_LABELS.get(key) or _PROVISIONING_LABELS.get(key) or key
    return f"{label}: {message}"


ChunkHandler = Callable[[RealmConfig, Job, Sequence[SheetRow], int, dict[int, str]], list[RowOutcome]]
