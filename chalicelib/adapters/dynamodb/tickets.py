"""Tickets in DynamoDB: ``TICKET#h`` items with a TTL at their expiry."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamodb.common import load, plain_map, store, take
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.tickets import Ticket, TicketKind


class DynamoTicketRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def save(self, ticket: Ticket) -> None:
        item = self._m.TicketItem(f"TICKET#{ticket.ticket_hash}", "TICKET")
        store(item, ticket, skip=("ticket_hash", "kind"), purge_at=ticket.expires_at)
        item.ticket_kind = str(ticket.kind)
        item.save(condition=self._m.Item.pk.does_not_exist())

    def get(self, ticket_hash: str) -> Ticket | None:
        try:
            item = self._m.TicketItem.get(f"TICKET#{ticket_hash}", "TICKET", consistent_read=True)
        except DoesNotExist:
            return None
        return self._ticket(ticket_hash, item)

    def take(self, ticket_hash: str) -> Ticket | None:
        item = take(self._m.TicketItem, f"TICKET#{ticket_hash}", "TICKET")
        return None if item is None else self._ticket(ticket_hash, item)

    @staticmethod
    def _ticket(ticket_hash: str, item: Any) -> Ticket:
        return load(Ticket, item, ticket_hash=ticket_hash, kind=TicketKind(item.ticket_kind), data=plain_map(item.data))
