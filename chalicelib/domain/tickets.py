"""Tickets: server-side records referenced by an unguessable id handed to the person.

A reset request (e-IEP, before GSIS), a certification ticket (after a legacy login) and
a support ticket are all tickets: the id goes to the client, only its SHA-256 is stored,
and code checks ``expires_at`` (TTL deletes late).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class TicketKind(enum.StrEnum):
    PASSWORD_RESET = "password_reset"
    CERTIFICATION = "certification"
    SUPPORT = "support"
    MFA = "mfa"
    """The ``mfa_token`` between a sign-in's first step and its second factor."""
    WEBAUTHN = "webauthn"
    """A WebAuthn challenge, stored under the hash of the challenge itself."""


@dataclass(frozen=True)
class Ticket:
    ticket_hash: str
    kind: TicketKind
    realm: str
    created_at: datetime
    expires_at: datetime
    data: dict[str, str] = field(default_factory=dict)

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at
