"""Realm ``esep`` in DynamoDB: members, organisations, projects and legacy records.

Key patterns are in :mod:`chalicelib.adapters.dynamodb.models`. In short:

- Member, organisation and project items carry ``version``; every write is a put
  conditioned on the stored version (on absence for a create), so two changes of one
  record never overwrite each other silently.
- Searches never scan: searchable members and organisations that are not rejected carry
  GSI1 keys ``PEOPLE#<country>`` / ``ORGS#<country>`` with the search text as sort key,
  and a search is one Query per country with a ``contains`` filter on ``search_text``.
  Without a country it queries each country of the ``ESEP#COUNTRIES`` item (bounded by
  the number of countries), which a write extends *before* it files a record under a
  new country: a failed write leaves at worst an empty partition to query.
- The NSO's pending list is a set of marker items, one at the fixed key
  ``<record PK>`` / ``PENDING`` per waiting record, filed in GSI1 under
  ``PENDING#<country>`` by creation time. Each write of a record puts or deletes its
  marker in the same transaction, so the marker follows the record without the old
  state being read. :meth:`pending` reads the records behind the markers with strongly
  consistent reads and keeps only those still waiting in that country, so a change shows
  at once even while GSI1 catches up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.accounts import DynamoAccountRepository, creation_puts
from chalicelib.adapters.dynamodb.audit import audit_item
from chalicelib.adapters.dynamodb.common import conditional_failed, failed_positions, load, plain_map, store, transact
from chalicelib.adapters.dynamodb.models import BoundModels, account_pk
from chalicelib.domain.accounts import Account, normalise_email
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.esep import (
    EsepRole,
    LegacyMember,
    Member,
    MemberStatus,
    Organisation,
    OrganisationStatus,
    Project,
    ProjectStatus,
    search_key,
)
from chalicelib.domain.secrets import fingerprint
from chalicelib.errors import StaleRecord

REALM = "esep"
SEARCH_KEY_CHARS = 256
"""How much of the search text the GSI1 sort key holds (key size limit: 1 KiB)."""
SEARCH_SEPARATOR = "\t"
"""Between search text and id in GSI1SK: below every character a search text can hold
(whitespace is collapsed to single spaces), so «abc» sorts before «abc d»."""
PAGE_SIZE = 100
COUNTRIES_KEY = ("ESEP#COUNTRIES", "COUNTRIES")

MEMBER, ORGANISATION, PROJECT = "member", "organisation", "project"


def member_key(account_id: str) -> tuple[str, str]:
    return account_pk(REALM, account_id), "MEMBER"


def organisation_key(organisation_id: str) -> tuple[str, str]:
    return f"ORG#{organisation_id}", "ORG"


def project_key(project_id: str) -> tuple[str, str]:
    return f"PROJECT#{project_id}", "PROJECT"


def legacy_key(email: str) -> tuple[str, str]:
    return f"LEGACY#{REALM}#{fingerprint(normalise_email(email))}", "LEGACY"


def search_index_key(partition: str, country: str, text: str, record_id: str) -> tuple[str, str]:
    """GSI1 keys of a searchable record: its country's partition, in name order."""
    return f"{partition}#{country}", f"{text[:SEARCH_KEY_CHARS]}{SEARCH_SEPARATOR}{record_id}"


def pending_index_key(country: str, created_at: datetime, record_kind: str, record_id: str) -> tuple[str, str]:
    """GSI1 keys of a pending marker: oldest first (fixed-width UTC instants sort as time)."""
    instant = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"PENDING#{country}", f"{instant}#{record_kind.upper()}#{record_id}"


def _strings(values: Iterable[str] | None) -> tuple[str, ...]:
    """A list attribute (absent when it was never written) as the domain's tuple."""
    return tuple(values or ())


def _waits(record: Member | Organisation | Project) -> bool:
    """Whether the record belongs in its country's pending list."""
    if isinstance(record, Member):
        return record.status is MemberStatus.REGISTERED
    if isinstance(record, Organisation):
        return record.awaits_nso
    return record.status is ProjectStatus.ACCEPTED


class DynamoEsepRepository:
    """:class:`~chalicelib.ports.EsepRepository` on the main table."""

    def __init__(self, models: BoundModels) -> None:
        self._m = models
        self._accounts = DynamoAccountRepository(models)
        self._countries_noted: set[str] = set()

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
        m = self._m
        guards = sorted(account.unique_values().items())
        item = self._member_item(member)
        marker = self._marker(member)
        if item.gsi1pk is not None:
            self._note_country(member.country)
        legacy = m.EsepLegacyItem(*legacy_key(migrate_legacy)) if migrate_legacy is not None else None

        def build(transaction: TransactWrite) -> None:
            # Sent as: deletes (the legacy record), puts (account, guards, audit entry,
            # directory entries, member, marker), updates (the flow). The positions below follow that order.
            if legacy is not None:
                transaction.delete(legacy, condition=m.Item.pk.exists())
            self._accounts.stage_create(transaction, account, guards, audit=audit, consume_flow=consume_flow, now=now)
            transaction.save(item, condition=m.Item.pk.does_not_exist())
            if marker is not None:
                transaction.save(marker)

        try:
            transact(m, build)
        except TransactWriteError as exc:
            deletes = 1 if legacy is not None else 0
            puts = creation_puts(account) + 1 + (1 if marker is not None else 0)  # + the member, its marker
            self._accounts.explain_create(
                exc, account, guards, consume_flow, account_position=deletes, flow_position=deletes + puts
            )
            if migrate_legacy is not None:
                failed = failed_positions(exc)
                if 0 in failed or (not failed and self.get_legacy(migrate_legacy) is None):
                    raise StaleRecord() from None
            raise
        member.version += 1

    # --- members ------------------------------------------------------------------------

    def get_member(self, account_id: str) -> Member | None:
        try:
            item = self._m.EsepMemberItem.get(*member_key(account_id), consistent_read=True)
        except DoesNotExist:
            return None
        return self._member(item)

    def get_members(self, account_ids: Sequence[str]) -> dict[str, Member]:
        items = self._batch_get(self._m.EsepMemberItem, [member_key(i) for i in account_ids])
        return {item.account_id: self._member(item) for item in items}

    def save_member(self, member: Member, *, audit: AuditEntry | None = None) -> None:
        item = self._member_item(member)
        if item.gsi1pk is not None:
            self._note_country(member.country)
        also = [audit_item(self._m, audit)] if audit is not None else []
        self._write(item, expected=member.version, marker=self._marker(member), also=also)
        member.version += 1

    def search_members(self, *, country: str | None, text: str, subject: str | None, limit: int) -> list[Member]:
        cls = self._m.EsepMemberItem
        condition = cls.subjects.contains(subject) if subject else None
        items = self._search(cls, "PEOPLE", country, text, limit, condition)
        return [self._member(item) for item in items]

    # --- organisations ------------------------------------------------------------------

    def create_organisation(self, organisation: Organisation) -> None:
        item = self._organisation_item(organisation)
        if item.gsi1pk is not None:
            self._note_country(organisation.country)
        self._write(item, expected=None, marker=self._marker(organisation))
        organisation.version += 1

    def get_organisation(self, organisation_id: str) -> Organisation | None:
        try:
            item = self._m.EsepOrganisationItem.get(*organisation_key(organisation_id), consistent_read=True)
        except DoesNotExist:
            return None
        return self._organisation(item)

    def get_organisations(self, organisation_ids: Sequence[str]) -> dict[str, Organisation]:
        items = self._batch_get(self._m.EsepOrganisationItem, [organisation_key(i) for i in organisation_ids])
        return {item.organisation_id: self._organisation(item) for item in items}

    def save_organisation(self, organisation: Organisation) -> None:
        item = self._organisation_item(organisation)
        if item.gsi1pk is not None:
            self._note_country(organisation.country)
        self._write(item, expected=organisation.version, marker=self._marker(organisation))
        organisation.version += 1

    def search_organisations(self, *, country: str | None, text: str, limit: int) -> list[Organisation]:
        items = self._search(self._m.EsepOrganisationItem, "ORGS", country, text, limit, None)
        return [self._organisation(item) for item in items]

    # --- projects -----------------------------------------------------------------------

    def create_project(self, project: Project) -> None:
        links = self._links(project.project_id, (project.owner_id, project.partner_id))
        self._write(self._project_item(project), expected=None, marker=self._marker(project), also=links)
        project.version += 1

    def get_project(self, project_id: str) -> Project | None:
        try:
            item = self._m.EsepProjectItem.get(*project_key(project_id), consistent_read=True)
        except DoesNotExist:
            return None
        return self._project(item)

    def save_project(self, project: Project, *, joined: Sequence[str] = ()) -> None:
        links = self._links(project.project_id, joined)
        self._write(self._project_item(project), expected=project.version, marker=self._marker(project), also=links)
        project.version += 1

    def _links(self, project_id: str, account_ids: Sequence[str]) -> list[Any]:
        """The items that file ``project_id`` under each of ``account_ids``."""
        links = []
        for account_id in dict.fromkeys(account_ids):
            link = self._m.EsepProjectLinkItem(member_key(account_id)[0], f"PROJECT#{project_id}")
            link.project_id = project_id
            links.append(link)
        return links

    def projects_of(self, account_id: str) -> list[Project]:
        m = self._m
        links = m.EsepProjectLinkItem.query(
            member_key(account_id)[0], m.Item.sk.startswith("PROJECT#"), page_size=PAGE_SIZE
        )
        keys = [project_key(link.project_id) for link in links]
        projects = [self._project(item) for item in self._batch_get(m.EsepProjectItem, keys)]
        return sorted(projects, key=lambda project: (project.created_at, project.project_id), reverse=True)

    # --- the NSO's pending list ---------------------------------------------------------

    def pending(self, country: str) -> tuple[list[Member], list[Organisation], list[Project]]:
        m = self._m
        order: dict[str, list[str]] = {MEMBER: [], ORGANISATION: [], PROJECT: []}
        for marker in m.EsepPendingItem.by_gsi1.query(f"PENDING#{country}", page_size=PAGE_SIZE):
            order[marker.record_kind].append(marker.record_id)
        members = self.get_members(order[MEMBER])
        organisations = self.get_organisations(order[ORGANISATION])
        projects = {
            item.project_id: self._project(item)
            for item in self._batch_get(m.EsepProjectItem, [project_key(i) for i in order[PROJECT]])
        }

        def still_waiting(ids: list[str], records: dict[str, Any]) -> list[Any]:
            # The records were read strongly consistent; GSI1 may lag behind them.
            chosen = (records.get(record_id) for record_id in dict.fromkeys(ids))
            return [r for r in chosen if r is not None and r.country == country and _waits(r)]

        return (
            still_waiting(order[MEMBER], members),
            still_waiting(order[ORGANISATION], organisations),
            still_waiting(order[PROJECT], projects),
        )

    # --- legacy records -----------------------------------------------------------------

    def put_legacy(self, legacy: LegacyMember) -> None:
        store(self._m.EsepLegacyItem(*legacy_key(legacy.email)), legacy).save()

    def get_legacy(self, email: str) -> LegacyMember | None:
        try:
            item = self._m.EsepLegacyItem.get(*legacy_key(email), consistent_read=True)
        except DoesNotExist:
            return None
        return load(
            LegacyMember,
            item,
            role=EsepRole(item.role),
            organisation_ids=_strings(item.organisation_ids),
            subjects=_strings(item.subjects),
            languages=_strings(item.languages),
            bio=item.bio or "",
            extra=plain_map(item.extra),
        )

    def decline_legacy(self, email: str, subject: str) -> None:
        """Note the refusal on the record; a record already gone is left gone."""
        m = self._m
        try:
            m.EsepLegacyItem(*legacy_key(email)).update(
                actions=[m.EsepLegacyItem.declined_by.set(subject)], condition=m.Item.pk.exists()
            )
        except UpdateError as exc:
            if not conditional_failed(exc):
                raise

    # --- writing ------------------------------------------------------------------------

    def _write(self, item: Any, *, expected: int | None, marker: Any | None, also: Sequence[Any] = ()) -> None:
        """Put ``item`` if the stored version is ``expected`` (None: if nothing is stored)
        and put or delete its pending marker (and put the items of ``also``: an audit
        entry, a project's links to its people), in one transaction; else StaleRecord.

        ``item`` already holds ``expected + 1``. The marker and ``also`` writes are
        unconditional (a link put twice is the same link), so the record's condition is
        the only one that can fail.
        """
        m = self._m
        condition = m.Item.pk.does_not_exist() if expected is None else type(item).version == expected

        def build(transaction: TransactWrite) -> None:
            transaction.save(item, condition=condition)
            for extra in also:
                transaction.save(extra)
            if marker is not None:
                transaction.save(marker)
            elif expected is not None:  # a new record has no marker to remove
                transaction.delete(m.EsepPendingItem(item.pk, "PENDING"))

        try:
            transact(m, build)
        except TransactWriteError as exc:
            cancelled = exc.cause_response_code == "TransactionCanceledException"
            if failed_positions(exc) or (cancelled and not exc.cancellation_reasons):
                raise StaleRecord() from None
            raise

    def _marker(self, record: Member | Organisation | Project) -> Any | None:
        """The pending marker the record should have (None: it must have none)."""
        if not _waits(record):
            return None
        if isinstance(record, Member):
            kind, record_id, pk = MEMBER, record.account_id, member_key(record.account_id)[0]
        elif isinstance(record, Organisation):
            kind, record_id, pk = ORGANISATION, record.organisation_id, organisation_key(record.organisation_id)[0]
        else:
            kind, record_id, pk = PROJECT, record.project_id, project_key(record.project_id)[0]
        marker = self._m.EsepPendingItem(pk, "PENDING")
        marker.record_kind, marker.record_id = kind, record_id
        marker.gsi1pk, marker.gsi1sk = pending_index_key(record.country, record.created_at, kind, record_id)
        return marker

    def _note_country(self, country: str) -> None:
        """Add ``country`` to the countries a search without country reads (idempotent)."""
        if country in self._countries_noted:
            return
        cls = self._m.EsepCountriesItem
        cls(*COUNTRIES_KEY).update(actions=[cls.countries.add({country})])
        self._countries_noted.add(country)

    # --- reading ------------------------------------------------------------------------

    def _search(
        self, cls: Any, partition: str, country: str | None, text: str, limit: int, condition: Any | None
    ) -> list[Any]:
        """Up to ``limit`` items of ``cls`` filed under ``partition`` whose search text holds
        ``text``, in name order: one Query per country, each stopped at ``limit`` hits."""
        if limit <= 0:
            return []
        wanted = search_key(text)
        if wanted:
            condition = (
                cls.search_text.contains(wanted) if condition is None else condition & cls.search_text.contains(wanted)
            )
        countries = [country] if country else sorted(self._countries())
        found: list[Any] = []
        for code in countries:
            hits = 0
            for item in cls.by_gsi1.query(f"{partition}#{code}", filter_condition=condition, page_size=PAGE_SIZE):
                found.append(item)
                hits += 1
                if hits >= limit:
                    break
        found.sort(key=lambda item: item.gsi1sk)
        return found[:limit]

    def _countries(self) -> set[str]:
        try:
            item = self._m.EsepCountriesItem.get(*COUNTRIES_KEY)
        except DoesNotExist:
            return set()
        return set(item.countries or ())

    @staticmethod
    def _batch_get(cls: Any, keys: list[tuple[str, str]]) -> list[Any]:
        unique_keys = list(dict.fromkeys(keys))  # DynamoDB refuses a batch with a key twice
        return list(cls.batch_get(unique_keys, consistent_read=True)) if unique_keys else []

    # --- mapping ------------------------------------------------------------------------

    def _member_item(self, member: Member) -> Any:
        item = store(self._m.EsepMemberItem(*member_key(member.account_id)), member)
        item.version = member.version + 1
        item.search_text = member.search_text()
        if member.searchable:
            item.gsi1pk, item.gsi1sk = search_index_key("PEOPLE", member.country, item.search_text, member.account_id)
        return item

    @staticmethod
    def _member(item: Any) -> Member:
        return load(
            Member,
            item,
            role=EsepRole(item.role),
            status=MemberStatus(item.status),
            organisation_ids=_strings(item.organisation_ids),
            subjects=_strings(item.subjects),
            languages=_strings(item.languages),
            contacts=_strings(item.contacts),
            bio=item.bio or "",
            version=int(item.version),
        )

    def _organisation_item(self, organisation: Organisation) -> Any:
        item = self._m.EsepOrganisationItem(*organisation_key(organisation.organisation_id))
        store(item, organisation, skip=("kind",))
        item.org_kind = organisation.kind
        item.version = organisation.version + 1
        item.search_text = organisation.search_text()
        if organisation.status is not OrganisationStatus.REJECTED:
            item.gsi1pk, item.gsi1sk = search_index_key(
                "ORGS", organisation.country, item.search_text, organisation.organisation_id
            )
        return item

    @staticmethod
    def _organisation(item: Any) -> Organisation:
        return load(
            Organisation,
            item,
            kind=item.org_kind,
            status=OrganisationStatus(item.status),
            version=int(item.version),
        )

    def _project_item(self, project: Project) -> Any:
        item = store(self._m.EsepProjectItem(*project_key(project.project_id)), project)
        item.version = project.version + 1
        return item

    @staticmethod
    def _project(item: Any) -> Project:
        return load(
            Project,
            item,
            status=ProjectStatus(item.status),
            pupils_count=int(item.pupils_count),
            pupils_age_min=int(item.pupils_age_min),
            pupils_age_max=int(item.pupils_age_max),
            subjects=_strings(item.subjects),
            vocational_subjects=_strings(item.vocational_subjects),
            members=_strings(item.members),
            pupils=_strings(item.pupils),
            description=item.description or "",
            goals=item.goals or "",
            process=item.process or "",
            outcomes=item.outcomes or "",
            version=int(item.version),
        )
