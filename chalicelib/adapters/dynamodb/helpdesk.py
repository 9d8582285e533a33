"""Support tickets in DynamoDB: the ticket and its replies in one partition, the queue by
status on GSI1 (oldest first), every change audited in its own transaction."""

from __future__ import annotations

import secrets
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.aws_errors import is_transient
from chalicelib.adapters.dynamodb.audit import audit_item
from chalicelib.adapters.dynamodb.common import one_page, start_key, transact
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.accounts import normalise_email
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.helpdesk import SupportTicket, TicketPage, TicketReply, TicketStatus
from chalicelib.domain.secrets import fingerprint

SEPARATOR = "\t"


def ticket_pk(realm: str, ticket_hash: str) -> str:
    return f"SUPPORT#{realm}#{ticket_hash}"


def queue_key(realm: str, status: TicketStatus) -> str:
    return f"TICKETS#{realm}#{status}"


def sender_key(realm: str, email: str) -> str:
    """GSI2 partition of the tickets sent from one address: the person's export and
    erasure find them with one query (only the address's fingerprint is in the key)."""
    return f"SUPPORTBY#{realm}#{fingerprint(normalise_email(email))}"


class DynamoHelpdeskRepository:
    """:class:`~chalicelib.ports.HelpdeskRepository` on the main table."""

    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def open(self, ticket: SupportTicket) -> None:
        m = self._m
        item = m.SupportTicketItem(ticket_pk(ticket.realm, ticket.ticket_hash), "TICKET")
        for name in ("realm", "topic", "email", "afm", "description", "language", "created_at", "updated_at"):
            setattr(item, name, getattr(ticket, name))
        item.sealed_id = ticket.sealed_id
        item.status = str(ticket.status)
        item.gsi1pk, item.gsi1sk = queue_key(ticket.realm, ticket.status), self._queue_sort(ticket)
        item.gsi2pk, item.gsi2sk = sender_key(ticket.realm, ticket.email), self._queue_sort(ticket)
        item.purge_at = ticket.expires_at
        item.save(condition=m.Item.pk.does_not_exist())

    def get(self, realm: str, ticket_hash: str) -> SupportTicket | None:
        m = self._m
        ticket, replies = None, []
        for item in m.Item.query(ticket_pk(realm, ticket_hash), consistent_read=True):
            if isinstance(item, m.SupportTicketItem):
                ticket = item
            elif isinstance(item, m.SupportReplyItem):
                replies.append(TicketReply(at=item.at, author=item.author, message=item.message))
        if ticket is None:
            return None
        return self._ticket(ticket_hash, ticket, tuple(sorted(replies, key=lambda reply: reply.at)))

    def queue(self, realm: str, status: TicketStatus, *, limit: int, after: str | None = None) -> TicketPage:
        cls = self._m.SupportTicketItem
        results = cls.by_status.query(queue_key(realm, status), page_size=limit, last_evaluated_key=start_key(after))
        items, next_after = one_page(results, cls)
        tickets = [self._ticket(item.pk.rsplit("#", 1)[1], item, ()) for item in items]
        return TicketPage(tickets, next_after)

    def reply(
        self, realm: str, ticket_hash: str, reply: TicketReply, status: TicketStatus, *, audit: AuditEntry
    ) -> bool:
        m = self._m
        item = m.SupportReplyItem(ticket_pk(realm, ticket_hash), f"REPLY#{reply.at.isoformat()}#{secrets.token_hex(4)}")
        item.at, item.author, item.message = reply.at, reply.author, reply.message
        return self._change(
            realm,
            ticket_hash,
            status,
            now=reply.at,
            audit=audit,
            also=[item],
            condition=m.SupportTicketItem.status != str(TicketStatus.CLOSED),
        )

    def set_status(self, realm: str, ticket_hash: str, status: TicketStatus, *, now: Any, audit: AuditEntry) -> bool:
        return self._change(realm, ticket_hash, status, now=now, audit=audit, also=[], condition=None)

    def _change(
        self,
        realm: str,
        ticket_hash: str,
        status: TicketStatus,
        *,
        now: Any,
        audit: AuditEntry,
        also: list[Any],
        condition: Any,
    ) -> bool:
        """Move the ticket to ``status`` (refiling it in that queue) with ``also`` and the
        audit entry, in one transaction; False when the ticket is missing or ``condition``
        fails."""
        m = self._m
        cls = m.SupportTicketItem
        ticket = cls(ticket_pk(realm, ticket_hash), "TICKET")
        stored = self.get(realm, ticket_hash)
        if stored is None:
            return False
        purge_at = stored.expires_at
        for item in also:
            item.purge_at = purge_at

        def build(transaction: TransactWrite) -> None:
            for item in also:
                transaction.save(item)
            transaction.save(audit_item(m, audit))
            required = m.Item.pk.exists() if condition is None else m.Item.pk.exists() & condition
            transaction.update(
                ticket,
                actions=[
                    cls.status.set(str(status)),
                    cls.updated_at.set(now),
                    cls.gsi1pk.set(queue_key(realm, status)),
                ],
                condition=required,
            )

        try:
            transact(m, build)
        except TransactWriteError as exc:
            if is_transient(exc):
                raise
            return False
        return True

    def sent_from(self, realm: str, email: str) -> list[SupportTicket]:
        """The tickets sent from ``email``, each with its replies (the person's own data)."""
        cls = self._m.SupportTicketItem
        hashes = [item.pk.rsplit("#", 1)[1] for item in cls.by_sender.query(sender_key(realm, email))]
        return [ticket for ticket_hash in hashes if (ticket := self.get(realm, ticket_hash)) is not None]

    @staticmethod
    def _queue_sort(ticket: SupportTicket) -> str:
        return f"{ticket.created_at.isoformat()}{SEPARATOR}{ticket.ticket_hash}"

    @staticmethod
    def _ticket(ticket_hash: str, item: Any, replies: tuple[TicketReply, ...]) -> SupportTicket:
        return SupportTicket(
            ticket_hash=ticket_hash,
            realm=item.realm,
            topic=item.topic,
            email=item.email,
            description=item.description,
            language=item.language,
            status=TicketStatus(item.status),
            created_at=item.created_at,
            updated_at=item.updated_at,
            sealed_id=item.sealed_id or "",
            afm=item.afm or "",
            replies=replies,
        )
