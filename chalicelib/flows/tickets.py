"""Issuing tickets: a fresh id for the client, its fingerprint and data for the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from chalicelib.domain.secrets import fingerprint
from chalicelib.domain.tickets import Ticket, TicketKind
from chalicelib.ports import Clock, SecretSource, TicketRepository


@dataclass(frozen=True)
class Tickets:
    repository: TicketRepository
    clock: Clock
    secrets: SecretSource

    def issue(
        self,
        realm: str,
        kind: TicketKind,
        lifetime: timedelta,
        data: dict[str, str],
        *,
        clear_attempts: Sequence[str] = (),
    ) -> str:
        """Store a new ticket (forgetting the attempts of ``clear_attempts`` in the same
        write); returns its id (shown once, stored only as a hash)."""
        ticket_id = self.secrets.token()
        now = self.clock.now()
        ticket = Ticket(fingerprint(ticket_id), kind, realm, now, now + lifetime, dict(data))
        self.repository.save(ticket, clear_attempts=clear_attempts)
        return ticket_id

    def live(self, ticket_hash: str, kind: TicketKind, realm: str) -> Ticket | None:
        """The ticket, if it exists, is of ``kind`` in ``realm`` and has not expired."""
        ticket = self.repository.get(ticket_hash) if ticket_hash else None
        if ticket is None or ticket.kind is not kind or ticket.realm != realm or ticket.is_expired(self.clock.now()):
            return None
        return ticket
