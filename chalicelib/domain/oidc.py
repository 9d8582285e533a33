"""The realm's OpenID Provider (SPEC §2.8): registered clients, grants, consents.

A *grant* is one authorization of one client by one person under one browser session:
it starts as an authorization code (60 s, single use) and, once the code is redeemed,
carries the client's refresh token, which rotates on every use. Code and refresh token
are ``<grant id>.<secret>`` strings; only the SHA-256 of the whole string is stored, and
the grant id in front is what finds the record in one read. Keeping code, refresh token
and revocation on one record makes every transition one conditional write: a code is
redeemed once (the second redemption finds it spent and revokes what the first issued),
a refresh token rotates once (the replay of a spent one revokes the grant), and a
revoked grant refuses everything.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
"""Token endpoint client authentication methods (``none``: public clients, PKCE)."""

STANDARD_SCOPES = ("openid", "profile", "email", "roles")

REALM_SCOPES: dict[str, tuple[str, ...]] = {
    "gsis": ("gsis",),
    "registrar": ("affiliation",),
    "eulogin": ("etwinning",),
}
"""Scopes of personal data particular to how a realm's accounts are born (keyed by the
realm's ``identity_source``); a client receives them only when registered for them (the
AFM is personal data: ``gsis`` only for clients registered with it)."""

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": ("name", "given_name", "family_name", "preferred_username", "locale"),
    "email": ("email", "email_verified"),
    "roles": ("roles",),
    "gsis": ("gsis_verified", "afm"),
    "affiliation": ("affiliation", "expires_on"),
    "etwinning": ("role", "country", "etwinning_status", "organisations"),
}

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def realm_scopes(identity_source: str) -> tuple[str, ...]:
    return REALM_SCOPES.get(identity_source, ())


def supported_scopes(identity_source: str) -> tuple[str, ...]:
    return STANDARD_SCOPES + realm_scopes(identity_source)


@dataclass(frozen=True)
class OidcClient:
    """An application registered by an operator or a realm admin (never anonymously).

    ``secret_hash`` is the SHA-256 of the client secret (shown once, at registration or
    rotation); public clients (``auth_method`` ``none``) have none and must use PKCE.
    ``scopes`` are the realm scopes this client may receive on top of the standard ones.
    Redirect URIs, post-logout redirect URIs and the back-channel logout URI are matched
    exactly, as registered.
    """

    realm: str
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    auth_method: str
    created_at: datetime
    updated_at: datetime
    secret_hash: str | None = None
    trusted: bool = False
    """Skips the consent page (the realm's own applications)."""
    require_pkce: bool = False
    scopes: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str | None = None
    jwks_uri: str | None = None
    """Where a ``private_key_jwt`` client publishes the keys of its assertions."""
    refresh_tokens: bool = True
    """A refresh token comes with every code exchange unless registered without."""

    @property
    def public(self) -> bool:
        return self.auth_method == "none"

    @property
    def needs_pkce(self) -> bool:
        return self.public or self.require_pkce

    def allowed_scopes(self, identity_source: str) -> tuple[str, ...]:
        extra = tuple(scope for scope in realm_scopes(identity_source) if scope in self.scopes)
        return STANDARD_SCOPES + extra


@dataclass(frozen=True)
class OidcGrant:
    """One client's authorization by one person under one browser session (see module)."""

    grant_id: str
    realm: str
    client_id: str
    account_id: str
    session_id: str
    scopes: tuple[str, ...]
    redirect_uri: str
    auth_time: datetime
    created_at: datetime
    expires_at: datetime
    """Never later than the session's end: a grant does not outlive its session."""
    code_hash: str
    code_expires_at: datetime
    amr: tuple[str, ...] = ()
    acr: str = "1"
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    code_used_at: datetime | None = None
    refresh_hash: str | None = None
    refresh_expires_at: datetime | None = None
    spent_refresh: tuple[str, ...] = ()
    """Hashes of the last few rotated refresh tokens: presenting one is a replay."""
    revoked_at: datetime | None = None

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at and self.code_used_at is not None


@dataclass(frozen=True)
class Consent:
    """What a person allowed a client to receive (remembered per client and scopes)."""

    realm: str
    account_id: str
    client_id: str
    scopes: tuple[str, ...]
    granted_at: datetime

    def covers(self, scopes: tuple[str, ...]) -> bool:
        return set(scopes) <= set(self.scopes)


@dataclass(frozen=True)
class Expectations:
    """What a code issued straight from the SSO cookie (no read first) checks in its own
    transaction: the session still records this ``auth_time``, ``amr`` and end, the account is
    active and not past its expiry day, and (unless the client is trusted) the person
    allowed ``consent_scopes`` before. When the session passed no second factor,
    ``single_factor_roles`` is set: the account must then have no second factor and none
    of these roles (those the realm requires a factor of, SPEC §2.9). Any of them false:
    no code, and the caller reads and decides the slow way."""

    auth_time: datetime
    expires_at: datetime
    amr: tuple[str, ...]
    today: date
    consent_scopes: tuple[str, ...] | None
    single_factor_roles: tuple[str, ...] | None = None


class EndReason(enum.StrEnum):
    """Why a session ended: each one tells the clients (back-channel logout)."""

    LOGOUT = "logout"
    PASSWORD_CHANGED = "password_changed"
    ROLES_CHANGED = "roles_changed"
    ACCOUNT_DISABLED = "account_disabled"
    ACCOUNT_EXPIRED = "account_expired"
    ACCOUNT_RETIRED = "account_retired"
    ACCOUNT_DELETED = "account_deleted"
    FACTORS_REMOVED = "factors_removed"
    REFRESH_REUSED = "refresh_reused"
    SESSION_EXPIRED = "session_expired"
    EMAIL_CHANGE_CANCELLED = "email_change_cancelled"
    """The owner cancelled an e-mail change from the old address: whoever asked for it
    may hold one of the sessions."""


@dataclass(frozen=True)
class Subject:
    """Whose claims a token carries: the account (and, in esep, its member record)."""

    account_id: str
    session_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)
