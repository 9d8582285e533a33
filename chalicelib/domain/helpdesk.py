"""Helpdesk tickets as a queue (SPEC §2.5, §2.11): what was asked, the replies, the state.

A ticket is opened by anyone through the support form; the helpdesk answers it from the
console. Its id is the reference the person is given (in the acknowledgement, and in
the subject of every reply) and is stored only as its SHA-256, as every id SPEC §1
names; the helpdesk addresses a ticket by that hash. So that a reply can quote the id
the person holds, the ticket also keeps the id *sealed* (authenticated encryption with
the service's key, ``ports.Sealer``): readable by the service only, never in the clear
at rest.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

RETENTION = timedelta(days=365)
"""How long a ticket and its replies are kept (then DynamoDB's TTL removes them)."""
REPLY_LENGTH = (2, 5000)


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    """Waiting for the helpdesk."""
    ANSWERED = "answered"
    """The helpdesk replied; waiting for the person (who answers by mail)."""
    CLOSED = "closed"


@dataclass(frozen=True)
class TicketReply:
    at: datetime
    author: str
    """The account id of the helpdesk member who wrote it."""
    message: str


@dataclass(frozen=True)
class SupportTicket:
    ticket_hash: str
    realm: str
    topic: str
    email: str
    description: str
    language: str
    status: TicketStatus
    created_at: datetime
    updated_at: datetime
    sealed_id: str = ""
    """The ticket id, sealed (see the module's docstring)."""
    afm: str = ""
    replies: tuple[TicketReply, ...] = field(default_factory=tuple)

    @property
    def expires_at(self) -> datetime:
        return self.created_at + RETENTION

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class TicketPage:
    tickets: list[SupportTicket]
    after: str | None
