"""Action challenges (link token + typed code) and refresh-token sessions."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

ACCESS_TOKEN_AUDIENCE = "mitroo"
"""The ``aud`` of the API's own access tokens (the provider's ID tokens name their client)."""


class Purpose(enum.StrEnum):
    ACTIVATION = "activation"
    PASSWORD_RESET = "password_reset"
    PASSWORD_SETUP = "password_setup"
    EMAIL_CHANGE = "email_change"
    """The link mailed to a new address: following it (a POST) applies the change."""
    EMAIL_CHANGE_CANCEL = "email_change_cancel"
    """The link mailed to the old address: following it cancels the pending change."""


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
    subject: str | None = None
    """What the challenge is about beyond its account, when that matters: an e-mail
    change's requested address (the link applies that address and no other)."""

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
    """One sign-in: the refresh tokens descended from it, revoked together on reuse or
    logout, and the browser's single sign-on session at the realm's OpenID Provider.

    ``family_id`` is the session id (the ``sid`` of access, ID and logout tokens). How
    and when the person proved who they are is kept as ``auth_time`` and ``amr`` (RFC
    8176 values: ``pwd``, ``otp``, ``hwk``, ``swk``, ``fed``); a second factor adds its
    method and moves ``auth_time`` (``SessionRepository.add_authentication``), so the
    record grows with the ways of signing in without changing shape. ``browser_hash``
    is the SHA-256 of the secret in the browser's SSO cookie: only that browser can use
    the session at the authorization endpoint. ``clients`` and ``grants`` name the OIDC
    clients that received a code under this session and the grants they hold, so that
    ending the session revokes those grants and tells each client (back-channel logout).
    ``linked`` are earlier sessions of the same person in the same browser, replaced by
    a new sign-in (``prompt=login``, ``max_age``): they end when this one ends.
    ``user_agent`` and ``address`` say where the sign-in came from (the browser's
    User-Agent, cut to :data:`USER_AGENT_LIMIT`, and the client address), written by the
    write that starts the session; ``last_used_at`` moves with each refresh-token rotation,
    in the rotation's own write: the person's Sessions page shows them (SPEC §2.10).
    """

    realm: str
    account_id: str
    family_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    auth_time: datetime | None = None
    amr: tuple[str, ...] = ()
    browser_hash: str | None = None
    clients: tuple[str, ...] = ()
    grants: tuple[str, ...] = ()
    linked: tuple[str, ...] = ()
    user_agent: str = ""
    address: str = ""
    last_used_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    @property
    def acr(self) -> str:
        """Authentication context class: ``2`` after a second factor, else ``1``."""
        return "2" if set(self.amr) & MULTI_FACTOR_METHODS else "1"


USER_AGENT_LIMIT = 512
"""Characters of a User-Agent kept with a session (enough for any real browser's)."""

MULTI_FACTOR_METHODS = frozenset({"otp", "hwk", "swk"})
"""RFC 8176 methods that are a second factor on top of ``pwd``."""


class RotationOutcome(enum.StrEnum):
    ROTATED = "rotated"
    REUSED = "reused"
    """The presented token had already been rotated: a replay, so the family is revoked."""


class SessionStart(enum.StrEnum):
    """What became of a session's first write (``SessionRepository.start``)."""

    STARTED = "started"
    TICKET_GONE = "ticket_gone"
    """The ``mfa_token`` it was to spend was spent by another second step: nothing written."""
    PROOF_REFUSED = "proof_refused"
    """The TOTP step it was to spend was not later than its factor's last (a replayed
    code) or the factor is gone, or the recovery code it was to spend is not (or no
    longer) in the account's set: nothing written, the token still live."""


@dataclass(frozen=True)
class BrowserCookie:
    """What the SSO cookie says: which session, its secret, and (since they are checked
    by the write that relies on them) when and how the person signed in and when the
    session ends."""

    account_id: str
    session_id: str
    secret: str
    auth_time: datetime | None = None
    expires_at: datetime | None = None
    amr: tuple[str, ...] = ()


def browser_session_value(account_id: str, session_id: str, secret: str, family: SessionFamily | None = None) -> str:
    """``<account>.<session>.<auth_time>.<expires_at>.<amr>.<secret>``: the ids find the
    session in one read, the secret (stored only as its hash) proves the browser holds
    it; ``auth_time`` and ``expires_at`` (epoch seconds) and ``amr`` (``-``-joined) let the
    authorization endpoint issue a code in one conditional write that checks them against
    the session instead of reading it first."""
    if family is None or family.auth_time is None:
        return f"{account_id}.{session_id}.{secret}"
    times = f"{int(family.auth_time.timestamp())}.{int(family.expires_at.timestamp())}"
    return f"{account_id}.{session_id}.{times}.{'-'.join(family.amr)}.{secret}"


def parse_browser_session(value: str | None) -> tuple[str, str, str] | None:
    """(account id, session id, secret) of an SSO cookie value, or None if malformed."""
    cookie = parse_browser_cookie(value)
    return (cookie.account_id, cookie.session_id, cookie.secret) if cookie is not None else None


def parse_browser_cookie(value: str | None) -> BrowserCookie | None:
    parts = (value or "").split(".")
    if len(parts) not in (3, 6) or any(len(part) > 128 for part in parts):
        return None
    if len(parts) == 3:
        return BrowserCookie(parts[0], parts[1], parts[2]) if all(parts) else None
    account_id, session_id, auth_epoch, expires_epoch, amr, secret = parts
    if not (account_id and session_id and secret):
        return None
    if not all(epoch.isdigit() and len(epoch) <= 12 for epoch in (auth_epoch, expires_epoch)):
        return None
    methods = tuple(method for method in amr.split("-") if method)
    if not all(method.isalpha() and len(method) <= 8 for method in methods):
        return None
    return BrowserCookie(
        account_id,
        session_id,
        secret,
        datetime.fromtimestamp(int(auth_epoch), UTC),
        datetime.fromtimestamp(int(expires_epoch), UTC),
        methods,
    )
