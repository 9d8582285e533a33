"""Tickets in DynamoDB: ``TICKET#h`` items with a TTL at their expiry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist

from chalicelib.adapters.dynamodb.attempts import attempt_key
from chalicelib.adapters.dynamodb.common import conditional_failed, load, plain_map, store, take
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.tickets import Ticket, TicketKind


def ticket_key(ticket_hash: str) -> tuple[str, str]:
    """The key of the ticket stored under ``ticket_hash`` (a session's write spends an
    ``mfa_token``'s ticket in its own transaction)."""
    return f"TICKET#{ticket_hash}", "TICKET"


class DynamoTicketRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def save(self, ticket: Ticket, *, clear_attempts: Sequence[str] = ()) -> None:
        item = self._m.TicketItem(*ticket_key(ticket.ticket_hash))
        store(item, ticket, skip=("ticket_hash", "kind"), purge_at=ticket.expires_at)
        item.ticket_kind = str(ticket.kind)
        if not clear_attempts:
            item.save(condition=self._m.Item.pk.does_not_exist())
            return
        # One BatchWriteItem: the ticket's key is the hash of a fresh 256-bit secret, so it
        # needs no condition, and the attempts it settles go in the same round trip.
        with self._m.Item.batch_write() as batch:
            batch.save(item)
            for key in clear_attempts:
                batch.delete(self._m.AttemptItem(*attempt_key(key)))

    def get(self, ticket_hash: str) -> Ticket | None:
        try:
            item = self._m.TicketItem.get(*ticket_key(ticket_hash), consistent_read=True)
        except DoesNotExist:
            return None
        return self._ticket(ticket_hash, item)

    def take(self, ticket_hash: str) -> Ticket | None:
        item = take(self._m.TicketItem, *ticket_key(ticket_hash))
        return None if item is None else self._ticket(ticket_hash, item)

    def spend(self, ticket_hash: str) -> bool:
        try:
            self._m.TicketItem(*ticket_key(ticket_hash)).delete(condition=self._m.Item.pk.exists())
        except DeleteError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    @staticmethod
    def _ticket(ticket_hash: str, item: Any) -> Ticket:
        return load(Ticket, item, ticket_hash=ticket_hash, kind=TicketKind(item.ticket_kind), data=plain_map(item.data))
