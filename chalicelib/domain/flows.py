"""Short-lived browser flows: OAuth states and identity flows (Kratos-style objects)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.identity import GsisIdentity


class Intent(enum.StrEnum):
    """Why the person went to GSIS; decides which page the flow leads to."""

    REGISTER = "register"
    CERTIFY = "certify"
    RESET_PASSWORD = "reset-password"
    RECOVER_EMAIL = "recover-email"


@dataclass(frozen=True)
class OAuthState:
    """The server side of an OAuth ``state``: single use, expiring, bound to a browser.

    Only hashes of the state value and of the browser-binding cookie are stored.
    """

    state_hash: str
    realm: str
    provider: str
    intent: Intent
    browser_hash: str
    created_at: datetime
    expires_at: datetime
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentityFlow:
    """What a completed GSIS round trip produced, waiting for the next step (15 min).

    The flow id travels in the URL (``?flow=F``); only its hash is stored.
    """

    flow_hash: str
    realm: str
    intent: Intent
    identity: GsisIdentity
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    params: dict[str, str] = field(default_factory=dict)

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at
