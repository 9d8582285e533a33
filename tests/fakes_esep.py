"""In-memory :class:`~chalicelib.ports.EsepRepository`, behaving as DynamoEsepRepository.

``tests/contract/test_esep_repository.py`` runs the same cases against both. The fake
shares the :class:`~tests.fakes.InMemoryStore` (and its lock) of the account and flow
fakes, so a registration is one all-or-nothing step with the account's guards and the
flow, checked in the order DynamoDB reports them: a used flow, then a taken value, then
a vanished legacy record. Values go in and come out as copies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from chalicelib.domain.accounts import Account, normalise_email
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.esep import (
    LegacyMember,
    Member,
    MemberStatus,
    Organisation,
    OrganisationStatus,
    Project,
    ProjectStatus,
    search_key,
)
from chalicelib.errors import DuplicateValue, FlowAlreadyUsed, StaleRecord
from tests.fakes import InMemoryAccountRepository, InMemoryFlowRepository

REALM = "esep"
SEARCH_KEY_CHARS = 256
"""As DynamoEsepRepository: the name order looks at this much of the search text."""

R = TypeVar("R", Member, Organisation, Project)


class FakeEsepRepository:
    def __init__(self, accounts: InMemoryAccountRepository, flows: InMemoryFlowRepository) -> None:
        if accounts.store is not flows.store:
            raise ValueError("the account and flow fakes must share one InMemoryStore, as they share one table")
        self.accounts = accounts
        self.store = accounts.store
        self.members: dict[str, Member] = {}
        self.organisations: dict[str, Organisation] = {}
        self.projects: dict[str, Project] = {}
        self.project_links: dict[str, set[str]] = {}
        """account id → ids of the projects filed under it."""
        self.legacy: dict[str, LegacyMember] = {}

    # --- registration -------------------------------------------------------------------

    def register(
        self,
        account: Account,
        member: Member,
        *,
        consume_flow: str,
        now: datetime,
        audit: AuditEntry,
        migrate_legacy: str | None = None,
    ) -> None:
        if account.realm != REALM or member.account_id != account.account_id:
            raise ValueError("the member must belong to the new account of realm esep")
        s = self.store
        with s.lock:
            # Check everything first: the account fake writes as soon as its own checks pass.
            flow = s.flows.get(consume_flow)
            if flow is None or flow.used_at is not None:
                raise FlowAlreadyUsed()
            for kind, value in sorted(account.unique_values().items()):
                if (account.realm, str(kind), value) in s.guards:
                    raise DuplicateValue(str(kind))
            if migrate_legacy is not None and normalise_email(migrate_legacy) not in self.legacy:
                raise StaleRecord()
            if member.account_id in self.members:
                raise RuntimeError(f"member {member.account_id} already exists")
            self.accounts.create(account, audit=audit, consume_flow=consume_flow, now=now)
            if migrate_legacy is not None:
                del self.legacy[normalise_email(migrate_legacy)]
            self._put(self.members, member.account_id, member, expected=None)

    # --- members ------------------------------------------------------------------------

    def get_member(self, account_id: str) -> Member | None:
        with self.store.lock:
            return _copy(self.members.get(account_id))

    def get_members(self, account_ids: Sequence[str]) -> dict[str, Member]:
        with self.store.lock:
            return {i: dataclasses.replace(self.members[i]) for i in account_ids if i in self.members}

    def save_member(self, member: Member, *, audit: AuditEntry | None = None) -> None:
        with self.store.lock:  # the record and its audit entry together
            self._put(self.members, member.account_id, member, expected=member.version)
            if audit is not None:
                self.store.audit.append(dataclasses.replace(audit, details=dict(audit.details)))

    def search_members(self, *, country: str | None, text: str, subject: str | None, limit: int) -> list[Member]:
        wanted = search_key(text)
        with self.store.lock:
            found = [
                dataclasses.replace(m)
                for m in self.members.values()
                if m.searchable
                and (country is None or m.country == country)
                and (not subject or subject in m.subjects)
                and wanted in m.search_text()
            ]
        found.sort(key=lambda m: _name_order(m.search_text(), m.account_id))
        return found[: max(limit, 0)]

    # --- organisations ------------------------------------------------------------------

    def create_organisation(self, organisation: Organisation) -> None:
        self._put(self.organisations, organisation.organisation_id, organisation, expected=None)

    def get_organisation(self, organisation_id: str) -> Organisation | None:
        with self.store.lock:
            return _copy(self.organisations.get(organisation_id))

    def get_organisations(self, organisation_ids: Sequence[str]) -> dict[str, Organisation]:
        with self.store.lock:
            return {i: dataclasses.replace(self.organisations[i]) for i in organisation_ids if i in self.organisations}

    def save_organisation(self, organisation: Organisation) -> None:
        self._put(self.organisations, organisation.organisation_id, organisation, expected=organisation.version)

    def search_organisations(self, *, country: str | None, text: str, limit: int) -> list[Organisation]:
        wanted = search_key(text)
        with self.store.lock:
            found = [
                dataclasses.replace(o)
                for o in self.organisations.values()
                if o.status is not OrganisationStatus.REJECTED
                and (country is None or o.country == country)
                and wanted in o.search_text()
            ]
        found.sort(key=lambda o: _name_order(o.search_text(), o.organisation_id))
        return found[: max(limit, 0)]

    # --- projects -----------------------------------------------------------------------

    def create_project(self, project: Project) -> None:
        with self.store.lock:
            self._put(self.projects, project.project_id, project, expected=None)
            self._link(project.project_id, (project.owner_id, project.partner_id))

    def get_project(self, project_id: str) -> Project | None:
        with self.store.lock:
            return _copy(self.projects.get(project_id))

    def save_project(self, project: Project, *, joined: Sequence[str] = ()) -> None:
        with self.store.lock:
            self._put(self.projects, project.project_id, project, expected=project.version)
            self._link(project.project_id, joined)

    def projects_of(self, account_id: str) -> list[Project]:
        with self.store.lock:
            ids = self.project_links.get(account_id, set())
            found = [dataclasses.replace(self.projects[i]) for i in ids if i in self.projects]
        return sorted(found, key=lambda p: (p.created_at, p.project_id), reverse=True)

    def _link(self, project_id: str, account_ids: Sequence[str]) -> None:
        for account_id in account_ids:
            self.project_links.setdefault(account_id, set()).add(project_id)

    # --- the NSO's pending list ---------------------------------------------------------

    def pending(self, country: str) -> tuple[list[Member], list[Organisation], list[Project]]:
        with self.store.lock:
            members = [
                (m.created_at, m.account_id, dataclasses.replace(m))
                for m in self.members.values()
                if m.country == country and m.status is MemberStatus.REGISTERED
            ]
            organisations = [
                (o.created_at, o.organisation_id, dataclasses.replace(o))
                for o in self.organisations.values()
                if o.country == country and o.awaits_nso
            ]
            projects = [
                (p.created_at, p.project_id, dataclasses.replace(p))
                for p in self.projects.values()
                if p.country == country and p.status is ProjectStatus.ACCEPTED
            ]
        return _oldest_first(members), _oldest_first(organisations), _oldest_first(projects)

    # --- legacy records -----------------------------------------------------------------

    def put_legacy(self, legacy: LegacyMember) -> None:
        with self.store.lock:
            self.legacy[normalise_email(legacy.email)] = dataclasses.replace(legacy, extra=dict(legacy.extra))

    def get_legacy(self, email: str) -> LegacyMember | None:
        with self.store.lock:
            legacy = self.legacy.get(normalise_email(email))
            return dataclasses.replace(legacy, extra=dict(legacy.extra)) if legacy else None

    def decline_legacy(self, email: str, subject: str) -> None:
        with self.store.lock:
            legacy = self.legacy.get(normalise_email(email))
            if legacy is not None:  # a record already gone is left gone
                self.legacy[normalise_email(email)] = dataclasses.replace(legacy, declined_by=subject)

    # --- versioned writes ---------------------------------------------------------------

    def _put(self, table: dict[str, R], key: str, record: R, *, expected: int | None) -> None:
        """Store a copy at ``version + 1`` if the stored version is ``expected`` (None:
        if nothing is stored), then advance the caller's object; else StaleRecord."""
        with self.store.lock:
            stored = table.get(key)
            if (stored is not None) if expected is None else (stored is None or stored.version != expected):
                raise StaleRecord()
            record.version += 1
            table[key] = dataclasses.replace(record)


def _copy(record: R | None) -> R | None:
    return dataclasses.replace(record) if record is not None else None


def _name_order(text: str, record_id: str) -> tuple[str, str]:
    """As GSI1SK orders searchable records: search text (its first 256 characters), then id."""
    return text[:SEARCH_KEY_CHARS], record_id


def _oldest_first(rows: list[tuple[datetime, str, R]]) -> list[R]:
    return [record for _, _, record in sorted(rows, key=lambda row: (row[0], row[1]))]
