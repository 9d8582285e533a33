"""Short-lived browser flows: OAuth states and identity flows (Kratos-style objects)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.esep import EuLoginIdentity
from chalicelib.domain.identity import GsisIdentity


class Intent(enum.StrEnum):
    """Why the person went to GSIS; decides which page the flow leads to."""

    REGISTER = "register"
    CERTIFY = "certify"
    RESET_PASSWORD = "reset-password"
    RECOVER_EMAIL = "recover-email"
    LOGIN = "login"
    """EU Login: a known ``sub`` signs in (an unknown one registers)."""


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
    """What a completed GSIS or EU Login round trip produced, waiting for the next step (15 min).

    The flow id travels in the URL (``?flow=F``); only its hash is stored, with the hash
    of the browser-binding cookie of the browser that started the sign-in: the id alone
    is not enough to read, use or consume the flow, so a link to someone else's flow
    (login CSRF, a planted registration) is refused in any other browser.
    """

    flow_hash: str
    realm: str
    intent: Intent
    identity: GsisIdentity | EuLoginIdentity
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    params: dict[str, str] = field(default_factory=dict)
    browser_hash: str = ""

    @property
    def gsis(self) -> GsisIdentity:
        """The GSIS identity (flows of GSIS intents); a flow of the other provider is
        never accepted where GSIS proof is required."""
        if not isinstance(self.identity, GsisIdentity):
            raise TypeError("not a GSIS flow")
        return self.identity

    @property
    def eulogin(self) -> EuLoginIdentity:
        if not isinstance(self.identity, EuLoginIdentity):
            raise TypeError("not an EU Login flow")
        return self.identity

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at
