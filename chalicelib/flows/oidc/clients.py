"""Registering the applications that sign people in through a realm (SPEC §2.8).

Clients are registered by operators (the CLI) and realm admins (the admin API), never
anonymously. A confidential client's secret is 256 random bits, shown once and stored
only as its SHA-256 (a high-entropy secret needs no slow hash, so the token endpoint
spends none); rotating it replaces the hash, and the old secret stops working. Public
clients (``--public``: browser and native apps) have no secret and must use PKCE.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.oidc import AUTH_METHODS, OidcClient, realm_scopes
from chalicelib.domain.secrets import fingerprint
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.flows.oidc.uris import uri_problem
from chalicelib.ports import AuditLog, Clock, OidcClientRepository, OutboundHttp, SecretSource
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

MAX_URIS = 20
MAX_NAME = 100


@dataclass(frozen=True)
class ClientRequest:
    """What an operator or admin registers (SPEC §2.8 ``oidc-client add``)."""

    name: str
    redirect_uris: Sequence[str]
    public: bool = False
    trusted: bool = False
    require_pkce: bool = False
    auth_method: str | None = None
    scopes: Sequence[str] = ()
    post_logout_redirect_uris: Sequence[str] = ()
    backchannel_logout_uri: str | None = None
    jwks_uri: str | None = None
    refresh_tokens: bool = True


@dataclass(frozen=True)
class RegisteredClient:
    client: OidcClient
    secret: str | None = None
    """The client secret in clear: answered this once, never stored."""


@dataclass(frozen=True)
class ClientRegistry:
    clients: OidcClientRepository
    outbound: OutboundHttp
    audit: AuditLog
    clock: Clock
    secrets: SecretSource

    def register(self, realm: RealmConfig, request: ClientRequest, *, actor: str) -> RegisteredClient:
        """Validate and store a new client; its secret (confidential clients) once.

        Raises
        ------
        InvalidInput
            a URI that cannot be registered, an unknown auth method or scope, a public
            client with a secret-based method, private_key_jwt without a ``jwks_uri``.
        """
        now = self.clock.now()
        method = self._auth_method(request)
        self._validate(realm, request, method)
        secret = None if method in ("none", "private_key_jwt") else self.secrets.token()
        client = OidcClient(
            realm=realm.id,
            client_id=self.secrets.identifier(),
            name=" ".join(request.name.split()),
            redirect_uris=tuple(dict.fromkeys(request.redirect_uris)),
            auth_method=method,
            created_at=now,
            updated_at=now,
            secret_hash=fingerprint(secret) if secret else None,
            trusted=request.trusted,
            require_pkce=request.require_pkce or method == "none",
            scopes=tuple(dict.fromkeys(request.scopes)),
            post_logout_redirect_uris=tuple(dict.fromkeys(request.post_logout_redirect_uris)),
            backchannel_logout_uri=request.backchannel_logout_uri or None,
            jwks_uri=request.jwks_uri or None,
            refresh_tokens=request.refresh_tokens,
        )
        self.clients.create(client)
        self._audit(client, "oidc_client.added", actor)
        log.info("oidc client registered", extra={"realm": realm.id, "client_id": client.client_id})
        return RegisteredClient(client, secret)

    def list(self, realm: RealmConfig) -> list[OidcClient]:
        return sorted(self.clients.list(realm.id), key=lambda client: (client.name.casefold(), client.client_id))

    def show(self, realm: RealmConfig, client_id: str) -> OidcClient:
        client = self.clients.get(realm.id, client_id) if client_id else None
        if client is None:
            raise NotFound("There is no such client in this realm.")
        return client

    def rotate_secret(self, realm: RealmConfig, client_id: str, *, actor: str) -> RegisteredClient:
        """A new secret for a confidential client; the old one stops working.

        Raises NotFound, and InvalidInput for a client that has no secret.
        """
        client = self.show(realm, client_id)
        if client.auth_method in ("none", "private_key_jwt"):
            raise InvalidInput(errors={"client_id": [f"a {client.auth_method} client has no secret"]})
        secret = self.secrets.token()
        rotated = replace(client, secret_hash=fingerprint(secret), updated_at=self.clock.now())
        if not self.clients.save(rotated):
            raise NotFound("There is no such client in this realm.")
        self._audit(rotated, "oidc_client.secret_rotated", actor)
        return RegisteredClient(rotated, secret)

    def remove(self, realm: RealmConfig, client_id: str, *, actor: str) -> None:
        client = self.show(realm, client_id)
        if not self.clients.remove(realm.id, client_id):
            raise NotFound("There is no such client in this realm.")
        self._audit(client, "oidc_client.removed", actor)

    # -- rules ----------------------------------------------------------------------------

    @staticmethod
    def _auth_method(request: ClientRequest) -> str:
        if request.public:
            if request.auth_method not in (None, "none"):
                raise InvalidInput(errors={"auth_method": ["a public client authenticates with none (and PKCE)"]})
            return "none"
        method = request.auth_method or "client_secret_basic"
        if method not in AUTH_METHODS:
            raise InvalidInput(errors={"auth_method": [f"must be one of {', '.join(AUTH_METHODS)}"]})
        return method

    def _validate(self, realm: RealmConfig, request: ClientRequest, method: str) -> None:
        errors: dict[str, list[str]] = {}
        name = " ".join((request.name or "").split())
        if not name or len(name) > MAX_NAME:
            errors["name"] = [f"must be 1 to {MAX_NAME} characters"]
        if not request.redirect_uris:
            errors["redirect_uris"] = ["at least one redirect URI is required"]
        for key, uris in (
            ("redirect_uris", request.redirect_uris),
            ("post_logout_redirect_uris", request.post_logout_redirect_uris),
        ):
            if len(uris) > MAX_URIS:
                errors.setdefault(key, []).append(f"at most {MAX_URIS}")
            for uri in uris:
                problem = uri_problem(uri)
                if problem:
                    errors.setdefault(key, []).append(f"{uri[:100]}: {problem}")
        for key, optional in (
            ("backchannel_logout_uri", request.backchannel_logout_uri),
            ("jwks_uri", request.jwks_uri),
        ):
            if optional:
                uri = optional
                refused = uri_problem(uri) or self.outbound.refusal(uri)
                if refused:
                    errors[key] = [refused]
        if method == "private_key_jwt" and not request.jwks_uri:
            errors["jwks_uri"] = ["private_key_jwt clients publish their keys at a jwks_uri"]
        allowed = realm_scopes(realm.identity_source)
        unknown = [scope for scope in request.scopes if scope not in allowed]
        if unknown:
            offered = ", ".join(allowed) or "none"
            errors["scopes"] = [f"not a scope of this realm: {', '.join(unknown)} (this realm has: {offered})"]
        if errors:
            raise InvalidInput(errors=errors)

    def _audit(self, client: OidcClient, action: str, actor: str) -> None:
        """Client changes are the realm's, not a person's: filed under ``oidc-client:<id>``."""
        self.audit.record(
            AuditEntry(
                realm=client.realm,
                account_id=f"oidc-client:{client.client_id}",
                action=action,
                actor=actor,
                at=self.clock.now(),
                details={"name": client.name},
            )
        )
