"""Action challenges (link token + typed code) and refresh-token sessions."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

ACCESS_TOKEN_AUDIENCE = "mitroo"
"""The ``aud`` of the API's own access tokens (the provider's ID tokens name their client)."""


class Purpose(enum.StrEnum):
    ACTIVATION = "activation"
    PASSWORD_RESET = "password_reset"
    PASSWORD_SETUP = "password_setup"


@dataclass(frozen=True)
class Challenge:
    """One pending action for one account: a link token and a short code, both hashed.

    Issuing a new challenge for the same purpose replaces the old one, so only the newest
    mail works. Consumption is a conditional delete: exactly one caller can win.
    """

    realm: str
    account_id: str
    purpose: Purpose
    token_hash: str
    code_hash: str
    created_at: datetime
    expires_at: datetime

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class RefreshToken:
    """A refresh token (stored by hash) and the session family it belongs to."""

    token_hash: str
    realm: str
    account_id: str
    family_id: str
    created_at: datetime
    expires_at: datetime
    rotated_at: datetime | None = None


@dataclass(frozen=True)
class SessionFamily:
    """All refresh tokens descended from one login; revoked together on reuse or logout."""

    realm: str
    account_id: str
    family_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class RotationOutcome(enum.StrEnum):
    ROTATED = "rotated"
    REUSED = "reused"
    """The presented token had already been rotated: a replay, so the family is revoked."""
