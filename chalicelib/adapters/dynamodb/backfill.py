"""One-off backfill of the consoles' indexes for items stored before they existed.

Accounts written since the directory exists are filed in it by their own transactions,
audit records carry their actor and action keys, and support tickets are opened in the
helpdesk's queue. Items older than that are brought up to date here, once, by the
operator (``python -m chalicelib.cli backfill-admin-indexes``): a paginated Scan of the
table — the one place a scan is right, an operator's one-off over everything — that
puts each account's directory entries, sets the index keys of each audit record that
lacks them, files each support ticket of the old store in the queue (``open``; its
id was never kept, so replies quote the start of its hash instead), and files each
queued ticket opened before the account centre under its sender's address (GSI2
``SUPPORTBY#``), where a person's export and erasure look for it.

Every write is idempotent (the same entries, the same keys, a ticket only if absent),
so the command can be stopped and run again; it changes no account and writes no audit
entry of its own (it adds no fact, only index entries for facts already recorded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.adapters.dynamodb.accounts import DynamoAccountRepository
from chalicelib.adapters.dynamodb.audit import action_index_key, actor_index_key
from chalicelib.adapters.dynamodb.common import conditional_failed, plain_map
from chalicelib.adapters.dynamodb.directory import directory_entries
from chalicelib.adapters.dynamodb.helpdesk import DynamoHelpdeskRepository, sender_key
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.helpdesk import SupportTicket, TicketStatus


@dataclass
class BackfillReport:
    scanned: int = 0
    accounts: int = 0
    entries: int = 0
    audit_records: int = 0
    tickets: int = 0
    senders: int = 0
    """Queued tickets filed under their sender's address."""


class DynamoIndexBackfill:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def run(
        self, *, realm: str | None = None, dry_run: bool = False, progress: Callable[[int], None] | None = None
    ) -> BackfillReport:
        m = self._m
        report = BackfillReport()
        kinds = m.Item.kind.is_in(m.Account, m.AuditItem, m.TicketItem, m.SupportTicketItem)
        for item in m.Item.scan(filter_condition=kinds, page_size=500):
            report.scanned += 1
            if progress is not None and report.scanned % 500 == 0:
                progress(report.scanned)
            if realm is not None and getattr(item, "realm", None) != realm:
                continue
            if isinstance(item, m.Account):
                report.accounts += 1
                entries = directory_entries(m, DynamoAccountRepository._from_item(item))
                report.entries += len(entries)
                if not dry_run:
                    with m.DirectoryEntryItem.batch_write() as batch:
                        for entry in entries:
                            batch.save(entry)
            elif isinstance(item, m.AuditItem) and item.gsi1pk is None:
                report.audit_records += 1
                if not dry_run:
                    self._index_audit(item)
            elif isinstance(item, m.TicketItem) and item.ticket_kind == "support":
                if self._queue_ticket(item, dry_run=dry_run):
                    report.tickets += 1
            elif isinstance(item, m.SupportTicketItem) and item.gsi2pk is None:
                report.senders += 1
                if not dry_run:
                    self._file_sender(item)
        if progress is not None:
            progress(report.scanned)
        return report

    def _index_audit(self, item: Any) -> None:
        cls = self._m.AuditItem
        try:
            item.update(
                actions=[
                    cls.gsi1pk.set(actor_index_key(item.realm, item.actor)),
                    cls.gsi1sk.set(item.sk),
                    cls.gsi2pk.set(action_index_key(item.realm, item.action)),
                    cls.gsi2sk.set(item.sk),
                ],
                condition=self._m.Item.pk.exists(),
            )
        except UpdateError as exc:
            if not conditional_failed(exc):  # expired and removed meanwhile: nothing to index
                raise

    def _file_sender(self, item: Any) -> None:
        cls = self._m.SupportTicketItem
        try:
            item.update(
                actions=[cls.gsi2pk.set(sender_key(item.realm, item.email)), cls.gsi2sk.set(item.gsi1sk)],
                condition=self._m.Item.pk.exists(),
            )
        except UpdateError as exc:
            if not conditional_failed(exc):  # erased meanwhile: nothing to file
                raise

    def _queue_ticket(self, item: Any, *, dry_run: bool) -> bool:
        data = plain_map(item.data)
        ticket_hash = item.pk.split("#", 1)[1]
        if not {"topic", "email", "description"} <= set(data):
            return False
        ticket = SupportTicket(
            ticket_hash=ticket_hash,
            realm=item.realm,
            topic=data["topic"],
            email=data["email"],
            description=data["description"],
            language=data.get("language", "el"),
            status=TicketStatus.OPEN,
            created_at=item.created_at,
            updated_at=item.created_at,
            afm=data.get("afm", ""),
        )
        if dry_run:
            return DynamoHelpdeskRepository(self._m).get(ticket.realm, ticket_hash) is None
        try:
            DynamoHelpdeskRepository(self._m).open(ticket)
        except PutError as exc:
            if conditional_failed(exc):
                return False  # queued by an earlier run
            raise
        return True
