"""Codes become tokens; refresh tokens rotate; tokens are read, introspected, revoked.

Access tokens are RS256 JWTs (``typ: at+jwt``, RFC 9068) signed with the realm key; their
``aud`` is the client, so they never pass as the API's own tokens (``aud: mitroo``), and
they name their grant (``gid``), which userinfo and introspection check: a revoked grant
(logout, a replayed code or refresh token, revocation) stops them at once. ID tokens
(``typ: JWT``) carry who, when and how (``auth_time``, ``amr``, ``acr``: ``2`` after a
second factor; access tokens carry them too, RFC 9068 §2.2.1), the session
(``sid``, for back-channel logout) and ``nonce``; the profile and e-mail claims come from
userinfo (OIDC Core §5.4), which keeps the token exchange to one write.

A code is redeemed by one conditional write that also sets the first refresh token; a
second redemption of the same code finds it spent, and revokes the grant the first one
got (RFC 6749 §4.1.2). A refresh token ``<grant>.<n>.<secret>`` rotates by one
conditional write; a rotated one presented again revokes the grant (OAuth 2.0 Security
BCP §4.14), as the API's own refresh tokens do.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.oidc import OidcClient, OidcGrant
from chalicelib.domain.secrets import fingerprint, same
from chalicelib.errors import OAuthRefused, Unauthorized
from chalicelib.flows.links import Links
from chalicelib.ports import Clock, OidcGrantRepository, SecretSource, TokenSigner
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

SPENT_SLOTS = 8
"""How many rotated refresh tokens a grant remembers to recognise a replay."""

_GRANT_ID = re.compile(r"[A-Za-z0-9_-]{4,64}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{20,128}")


@dataclass(frozen=True)
class Issued:
    grant: OidcGrant
    refresh_token: str | None


@dataclass(frozen=True)
class TokenView:
    """A token as introspection and revocation see it."""

    kind: str
    """``access_token`` or ``refresh_token``."""
    grant: OidcGrant
    active: bool
    scope: str
    issued_at: int
    expires_at: int


def parse_code(code: str | None) -> str | None:
    """The grant id of a code ``<grant>.<secret>`` (None when malformed)."""
    parts = (code or "").split(".")
    if len(parts) != 2 or not _GRANT_ID.fullmatch(parts[0]) or not _SECRET.fullmatch(parts[1]):
        return None
    return parts[0]


def parse_refresh(token: str | None) -> tuple[str, int] | None:
    """(grant id, rotation number) of a refresh token ``<grant>.<n>.<secret>``."""
    parts = (token or "").split(".")
    if (
        len(parts) != 3
        or not _GRANT_ID.fullmatch(parts[0])
        or not parts[1].isdigit()
        or len(parts[1]) > 9
        or not _SECRET.fullmatch(parts[2])
    ):
        return None
    return parts[0], int(parts[1])


def half_hash(value: str) -> str:
    """``at_hash``: base64url of the left half of SHA-256 (OIDC Core §3.1.3.6, RS256)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class OidcTokens:
    grants: OidcGrantRepository
    signer: TokenSigner
    clock: Clock
    secrets: SecretSource
    links: Links

    # -- the code ------------------------------------------------------------------------

    def redeem(self, realm: RealmConfig, client: OidcClient, code: str | None) -> Issued | None:
        """Spend ``code`` for ``client``: the grant and its first refresh token, or None
        (unknown, expired, spent, another client's). Spending a spent code revokes the
        grant its first redemption got."""
        grant_id = parse_code(code)
        if grant_id is None or code is None:
            return None
        now = self.clock.now()
        refresh = self._refresh_token(grant_id, 0) if client.refresh_tokens else None
        grant = self.grants.redeem(
            grant_id,
            code_hash=fingerprint(code),
            client_id=client.client_id,
            now=now,
            refresh_hash=fingerprint(refresh) if refresh else None,
            refresh_expires_at=now + realm.lifetimes.refresh_token if refresh else None,
        )
        if grant is not None and grant.realm == realm.id and now < grant.expires_at:
            return Issued(grant, refresh)
        if grant is not None:  # another realm's, or its session ended within the code's minute
            self.grants.revoke(grant_id, now)
            return None
        stored = self.grants.get(grant_id)
        if stored is not None and stored.code_used_at is not None and same(stored.code_hash, fingerprint(code)):
            # The code was redeemed before: it leaked (or is replayed); what the first
            # redemption issued can no longer be trusted.
            self.grants.revoke(grant_id, now)
            log.warning(
                "authorization code reused; grant revoked",
                extra={"realm": stored.realm, "client_id": stored.client_id, "grant_id": grant_id},
            )
        return None

    def discard(self, grant: OidcGrant) -> None:
        """A redeemed code whose request then failed (PKCE, redirect URI): its tokens
        were never handed out, so the grant goes."""
        self.grants.revoke(grant.grant_id, self.clock.now())

    # -- refresh -------------------------------------------------------------------------

    def refresh(
        self, realm: RealmConfig, client: OidcClient, refresh_token: str | None, scopes: tuple[str, ...]
    ) -> Issued:
        """Rotate ``refresh_token``: the grant and the new refresh token.

        Raises
        ------
        OAuthRefused
            ``invalid_grant`` (unknown, expired, revoked, another client's, a replay,
            which revokes the grant) or ``invalid_scope`` (beyond what was granted).
        """
        parsed = parse_refresh(refresh_token)
        if parsed is None or refresh_token is None:
            raise OAuthRefused("invalid_grant", "The refresh token is not valid.")
        grant_id, number = parsed
        now = self.clock.now()
        successor = self._refresh_token(grant_id, number + 1)
        old_hash = fingerprint(refresh_token)
        grant = self.grants.rotate(
            grant_id,
            client_id=client.client_id,
            old_hash=old_hash,
            new_hash=fingerprint(successor),
            slot=f"s{number % SPENT_SLOTS}",
            expires_at=now + realm.lifetimes.refresh_token,
            scopes=scopes,
            now=now,
        )
        if grant is not None and grant.realm == realm.id:
            return Issued(grant, successor)
        stored = grant or self.grants.get(grant_id)
        if stored is None or stored.realm != realm.id or stored.client_id != client.client_id:
            raise OAuthRefused("invalid_grant", "The refresh token is not valid.")
        if any(same(spent, old_hash) for spent in stored.spent_refresh):
            self.grants.revoke(grant_id, now)
            log.warning(
                "rotated refresh token reused; grant revoked",
                extra={"realm": realm.id, "client_id": client.client_id, "grant_id": grant_id},
            )
            raise OAuthRefused("invalid_grant", "The refresh token was used already.")
        if scopes and not set(scopes) <= set(stored.scopes):
            raise OAuthRefused("invalid_scope", "The scope is beyond what was granted.")
        raise OAuthRefused("invalid_grant", "The refresh token is not valid.")

    # -- minting -------------------------------------------------------------------------

    def access_token(self, realm: RealmConfig, grant: OidcGrant, scopes: tuple[str, ...] = ()) -> tuple[str, int]:
        """A signed access token for ``grant`` (narrowed to ``scopes`` when given)."""
        now = int(self.clock.now().timestamp())
        lifetime = int(realm.lifetimes.access_token.total_seconds())
        claims = {
            "iss": self.links.issuer(realm.id),
            "sub": grant.account_id,
            "aud": grant.client_id,
            "client_id": grant.client_id,
            "scope": " ".join(scopes or grant.scopes),
            "sid": grant.session_id,
            "gid": grant.grant_id,
            "auth_time": int(grant.auth_time.timestamp()),
            "acr": grant.acr,
            "amr": list(grant.amr),
            "jti": self.secrets.identifier(),
            "iat": now,
            "exp": now + lifetime,
        }
        return self.signer.sign(claims, typ="at+jwt"), lifetime

    def id_token(self, realm: RealmConfig, grant: OidcGrant, *, access_token: str | None = None) -> str:
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "iss": self.links.issuer(realm.id),
            "sub": grant.account_id,
            "aud": grant.client_id,
            "azp": grant.client_id,
            "iat": now,
            "exp": now + int(realm.lifetimes.access_token.total_seconds()),
            "auth_time": int(grant.auth_time.timestamp()),
            "sid": grant.session_id,
            "acr": grant.acr,
            "amr": list(grant.amr),
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        if access_token:
            claims["at_hash"] = half_hash(access_token)
        return self.signer.sign(claims, typ="JWT")

    # -- reading -------------------------------------------------------------------------

    def read_access_token(self, realm: RealmConfig, token: str, *, check_expiry: bool = True) -> dict[str, Any]:
        """The verified claims of one of this realm's provider access tokens.

        Raises OAuthRefused ``invalid_token`` for anything else (the API's own tokens,
        ID tokens, another realm's, tampered, expired).
        """
        try:
            claims = self.signer.verify(
                token,
                issuer=self.links.issuer(realm.id),
                now=self.clock.now(),
                audience=None,
                check_expiry=check_expiry,
            )
        except Unauthorized:
            raise OAuthRefused("invalid_token", "The access token is not valid.") from None
        if not isinstance(claims.get("gid"), str) or not isinstance(claims.get("client_id"), str):
            raise OAuthRefused("invalid_token", "The access token is not valid.")
        return claims

    def find(self, realm: RealmConfig, token: str, hint: str | None) -> TokenView | None:
        """The grant behind an access or refresh token of this realm (introspection and
        revocation), active or not; None for a token that is not ours."""
        kinds = ("refresh_token", "access_token") if hint == "refresh_token" else ("access_token", "refresh_token")
        for kind in kinds:
            view = self._as_refresh(realm, token) if kind == "refresh_token" else self._as_access(realm, token)
            if view is not None:
                return view
        return None

    def revoke(self, grant: OidcGrant) -> None:
        """RFC 7009: revoking either token ends the whole grant (both tokens)."""
        self.grants.revoke(grant.grant_id, self.clock.now())

    def _as_access(self, realm: RealmConfig, token: str) -> TokenView | None:
        if token.count(".") != 2 or len(token) > 8192:
            return None
        try:
            claims = self.read_access_token(realm, token, check_expiry=False)
        except OAuthRefused:
            return None
        grant = self.grants.get(str(claims["gid"]))
        if grant is None or grant.realm != realm.id or grant.account_id != claims.get("sub"):
            return None
        now = self.clock.now()
        expires = int(claims.get("exp", 0))
        active = grant.is_active(now) and expires > int(now.timestamp())
        return TokenView(
            "access_token", grant, active, str(claims.get("scope", "")), int(claims.get("iat", 0)), expires
        )

    def _as_refresh(self, realm: RealmConfig, token: str) -> TokenView | None:
        parsed = parse_refresh(token)
        if parsed is None:
            return None
        grant = self.grants.get(parsed[0])
        if grant is None or grant.realm != realm.id:
            return None
        now = self.clock.now()
        current = grant.refresh_hash is not None and same(grant.refresh_hash, fingerprint(token))
        if not current and not any(same(spent, fingerprint(token)) for spent in grant.spent_refresh):
            return None
        expires_at = min(grant.refresh_expires_at or grant.expires_at, grant.expires_at)
        active = current and grant.is_active(now) and now < expires_at
        issued = int((grant.code_used_at or grant.created_at).timestamp())
        return TokenView("refresh_token", grant, active, grant.scope, issued, int(expires_at.timestamp()))

    def _refresh_token(self, grant_id: str, number: int) -> str:
        return f"{grant_id}.{number}.{self.secrets.token()}"


def seconds_until(moment: datetime, now: datetime) -> int:
    return max(0, int((moment - now).total_seconds()))
