"""The grants, client authentication and endpoints Mitroo registers with authlib.

authlib does the protocol: parameter and client checks, PKCE, the prompt rules of OIDC
Core, RFC 7009/7662/RP-Initiated Logout request handling and every error response.
Each method here only hands a decision to the provider's flows
(``chalicelib.flows.oidc``): issue a code, redeem it, rotate a refresh token, read a
token, end a session.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

from authlib.common.urls import add_params_to_uri
from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6750.errors import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import AuthorizationCodeMixin, OpenIDCode, UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint
from joserfc.jwk import KeySet

from chalicelib.domain.oidc import AUTH_METHODS, OidcClient, OidcGrant, Subject
from chalicelib.errors import OAuthRefused, OutboundFailed, OutboundRefused, Unauthorized
from chalicelib.flows.oidc.authorization import BrowserSignIn, CodeRequest
from chalicelib.flows.oidc.tokens import TokenView
from chalicelib.realms import RealmConfig


class SessionGone(Exception):
    """The browser's session ended between reading it and issuing the code."""


class AuthlibClient(ClientMixin):
    """A registered client as authlib asks about it."""

    def __init__(self, client: OidcClient, realm: RealmConfig) -> None:
        self.domain = client
        self.client_id = client.client_id
        self._allowed = client.allowed_scopes(realm.identity_source)
        self.client_metadata = {"post_logout_redirect_uris": list(client.post_logout_redirect_uris)}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.domain.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        """Requested scopes this client may have; others are dropped, not refused."""
        requested = (scope or "").split()
        return " ".join(dict.fromkeys(item for item in requested if item in self._allowed))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.domain.redirect_uris  # exact, as registered

    def check_client_secret(self, client_secret: str) -> bool:
        from chalicelib.domain.secrets import fingerprint, same

        stored = self.domain.secret_hash
        return stored is not None and same(stored, fingerprint(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "introspection" and method == "none":
            return False  # introspection is for confidential clients
        return method == self.domain.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "refresh_token":
            return self.domain.refresh_tokens
        return grant_type == "authorization_code"


class CodeRecord(AuthorizationCodeMixin):
    """A redeemed code, as authlib checks it (redirect URI, PKCE) and the ID token reads it."""

    def __init__(self, grant: OidcGrant) -> None:
        self.grant = grant
        self.code_challenge = grant.code_challenge
        self.code_challenge_method = grant.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.grant.redirect_uri

    def get_scope(self) -> str:
        return self.grant.scope

    def get_nonce(self) -> str | None:
        return self.grant.nonce

    def get_auth_time(self) -> int:
        return int(self.grant.auth_time.timestamp())

    def get_acr(self) -> str:
        return self.grant.acr

    def get_amr(self) -> list[str]:
        return list(self.grant.amr)


def _mint(grant_object: Any, scope: str | None, include_refresh_token: bool) -> dict[str, Any]:
    """The token response of a redeemed code or rotated refresh token."""
    request = grant_object.request
    issued = request.issued
    scopes = tuple((scope or "").split())
    access_token, lifetime = request.provider.tokens.access_token(request.realm, issued.grant, scopes)
    token: dict[str, Any] = {"token_type": "Bearer", "access_token": access_token, "expires_in": lifetime}
    if scope:
        token["scope"] = scope
    if include_refresh_token and issued.refresh_token:
        token["refresh_token"] = issued.refresh_token
    return token


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def create_authorization_response(self, redirect_uri: str, grant_user: BrowserSignIn | None) -> Any:
        """Issue the code through the flows (stored hashed, with the session noted) and
        redirect with ``code``, ``state`` and ``iss`` (RFC 9207)."""
        if grant_user is None:
            raise AccessDeniedError(redirect_uri=redirect_uri)
        request = self.request
        data = request.payload.data
        code = request.provider.authorization.issue_code(
            request.realm,
            grant_user,
            CodeRequest(
                client=request.client.domain,
                scopes=tuple(request.scope.split()),
                redirect_uri=redirect_uri,
                nonce=data.get("nonce") or None,
                code_challenge=data.get("code_challenge") or None,
                code_challenge_method=(data.get("code_challenge_method") or None)
                if data.get("code_challenge")
                else None,
            ),
        )
        if code is None:
            raise SessionGone()
        params = [("code", code)]
        if request.payload.state:
            params.append(("state", request.payload.state))
        params.append(("iss", request.provider.tokens.links.issuer(request.realm.id)))
        return 302, "", [("Location", add_params_to_uri(redirect_uri, params))]

    def query_authorization_code(self, code: str, client: AuthlibClient) -> CodeRecord | None:
        request = self.request
        issued = request.provider.tokens.redeem(request.realm, client.domain, code)
        if issued is None:
            return None
        request.issued = issued
        return CodeRecord(issued.grant)

    def validate_token_request(self) -> None:
        try:
            super().validate_token_request()
        except OAuth2Error:
            issued = self.request.issued
            if issued is not None:  # redeemed, then refused (redirect URI, PKCE): never handed out
                self.request.provider.tokens.discard(issued.grant)
                self.request.issued = None
            raise

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        """Spent already: redemption was the conditional write."""

    def authenticate_user(self, authorization_code: CodeRecord) -> Subject:
        grant = authorization_code.grant
        return Subject(grant.account_id, grant.session_id)

    def generate_token(
        self,
        user: Any = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        return _mint(self, scope, include_refresh_token)


class RefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def _validate_request_token(self, client: AuthlibClient) -> Any:
        """Rotate in one conditional write (the scope check is part of it)."""
        request = self.request
        refresh_token = request.form.get("refresh_token")
        if refresh_token is None:
            raise InvalidRequestError("Missing 'refresh_token' in request.")
        scopes = tuple((request.payload.scope or "").split())
        try:
            request.issued = request.provider.tokens.refresh(request.realm, client.domain, refresh_token, scopes)
        except OAuthRefused as refused:
            if refused.error == "invalid_scope":
                raise InvalidScopeError(refused.description) from None
            raise InvalidGrantError(refused.description) from None
        return request.issued.grant

    def _validate_token_scope(self, token: Any) -> None:
        """Checked by the rotation's condition."""

    def authenticate_user(self, refresh_token: OidcGrant) -> Subject:
        return Subject(refresh_token.account_id, refresh_token.session_id)

    def issue_token(self, user: Any, refresh_token: OidcGrant) -> dict[str, Any]:
        scope = self.request.payload.scope or refresh_token.scope
        return _mint(self, scope, True)

    def revoke_old_credential(self, refresh_token: Any) -> None:
        """Rotated already, by the same write that issued the new one."""


class MitrooOpenIDCode(OpenIDCode):
    def exists_nonce(self, nonce: str, request: Any) -> bool:
        """Replayed nonces are the relying party's to catch; codes are single use here."""
        return False

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        issued = request.issued
        return str(
            request.provider.tokens.id_token(request.realm, issued.grant, access_token=token.get("access_token"))
        )


class S256Challenge(CodeChallenge):
    """PKCE with S256 only; required for public clients and ``require_pkce`` clients."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        if not data.get("code_challenge") and grant.request.client.domain.needs_pkce:
            raise InvalidRequestError("This client must use PKCE (code_challenge with S256).")

    def get_authorization_code_challenge(self, authorization_code: CodeRecord) -> str | None:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: CodeRecord) -> str | None:
        return authorization_code.code_challenge_method


_JWKS: dict[str, tuple[float, KeySet]] = {}
_JWKS_LOCK = threading.Lock()
JWKS_CACHE_SECONDS = 300


class PrivateKeyJwt(JWTBearerClientAssertion):
    """``private_key_jwt`` (RFC 7523): an assertion signed with a key the client
    publishes at its registered ``jwks_uri``; each ``jti`` is accepted once."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, server: Any) -> None:
        super().__init__(validate_jti=True, leeway=60)
        self.server = server

    def get_audiences(self) -> list[str]:
        server = self.server
        return [server.issuer, *(server.endpoint_url(name) for name in ("token", "revoke", "introspect"))]

    def resolve_client_public_key(self, client: AuthlibClient) -> KeySet:
        uri = client.domain.jwks_uri
        if not uri:
            raise InvalidClientError(description="The client has no jwks_uri.")
        with _JWKS_LOCK:
            cached = _JWKS.get(uri)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            keys = KeySet.import_key_set(self.server.provider.backchannel.outbound.get_json(uri))
        except (OutboundFailed, OutboundRefused, ValueError, TypeError, KeyError):
            raise InvalidClientError(description="The client's keys could not be read.") from None
        with _JWKS_LOCK:
            _JWKS[uri] = (time.monotonic() + JWKS_CACHE_SECONDS, keys)
        return keys

    def validate_jti(self, claims: Any, jti: Any) -> bool:
        from datetime import UTC, datetime

        expires = datetime.fromtimestamp(int(claims.get("exp", 0)), UTC)
        return bool(self.server.provider.grants.remember_assertion(str(claims["sub"]), str(jti)[:256], expires))


class TokenRecord(TokenMixin):
    def __init__(self, view: TokenView) -> None:
        self.view = view

    def check_client(self, client: AuthlibClient) -> bool:
        return bool(self.view.grant.client_id == client.client_id)

    def get_scope(self) -> str:
        return self.view.scope

    def get_expires_in(self) -> int:
        return max(0, self.view.expires_at - int(time.time()))

    def is_expired(self) -> bool:
        return not self.view.active

    def is_revoked(self) -> bool:
        return self.view.grant.revoked_at is not None


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:
        view = self.server.provider.tokens.find(self.server.realm, token_string[:8192], token_type_hint)
        return TokenRecord(view) if view is not None else None

    def revoke_token(self, token: TokenRecord, request: Any) -> None:
        self.server.provider.tokens.revoke(token.view.grant)


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = [method for method in AUTH_METHODS if method != "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:
        view = self.server.provider.tokens.find(self.server.realm, token_string[:8192], token_type_hint)
        return TokenRecord(view) if view is not None else None

    def check_permission(self, token: TokenRecord, client: AuthlibClient, request: Any) -> bool:
        """A client introspects its own tokens only."""
        return token.check_client(client)

    def introspect_token(self, token: TokenRecord) -> dict[str, Any]:
        view = token.view
        return {
            "active": True,
            "client_id": view.grant.client_id,
            "token_type": "Bearer" if view.kind == "access_token" else "refresh_token",
            "scope": view.scope,
            "sub": view.grant.account_id,
            "aud": view.grant.client_id,
            "iss": self.server.issuer,
            "exp": view.expires_at,
            "iat": view.issued_at,
            "sid": view.grant.session_id,
        }


class Userinfo(UserInfoEndpoint):
    """GET or POST; the token in ``Authorization: Bearer`` or (POST) the form body's
    ``access_token`` (RFC 6750 §2.1, §2.2), never both."""

    def __call__(self, request: Any) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        realm = self.server.issuer
        header = (request.headers.get("authorization") or "").strip()
        scheme, _, value = header.partition(" ")
        in_body = request.form.get("access_token") if request.method == "POST" else None
        if header and in_body:
            raise InvalidRequestError("Send the access token once: in the header or in the body.")
        if header and scheme.lower() != "bearer":
            raise InvalidTokenError("Use a Bearer access token.", realm=realm)
        token = value.strip() if header else (in_body or "")
        if not token or len(token) > 8192:
            raise InvalidTokenError("No access token was sent.", realm=realm)
        try:
            claims = self.server.provider.userinfo.claims(self.server.realm, token)
        except OAuthRefused as refused:
            if refused.error == "insufficient_scope":
                raise InsufficientScopeError(refused.description) from None
            raise InvalidTokenError(refused.description, realm=realm) from None
        return 200, claims, default_json_headers


class EndSession(EndSessionEndpoint):
    """RP-Initiated Logout 1.0: the ID token hint is verified as ours (signature,
    issuer, ``typ``), expired or not; the redirect only to a registered URI."""

    def get_server_jwks(self) -> dict[str, Any]:
        return dict(self.server.provider.signer.jwks())

    def _validate_id_token_hint(self, id_token_hint: str) -> dict[str, Any]:
        try:
            return dict(
                self.server.provider.signer.verify(
                    id_token_hint[:8192],
                    issuer=self.server.issuer,
                    now=self.server.provider.clock.now(),
                    audience=None,
                    typ="JWT",
                    check_expiry=False,
                )
            )
        except Unauthorized:
            raise InvalidRequestError("The id_token_hint is not an ID token of this provider.") from None

    def end_session(self, end_session_request: Any) -> None:
        self.server.on_end_session(end_session_request)


def register(server: Any) -> None:
    server.register_client_auth_method("private_key_jwt", PrivateKeyJwt(server))
    server.register_grant(CodeGrant, [S256Challenge(required=True), MitrooOpenIDCode(require_nonce=False)])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Revocation(server))
    server.register_endpoint(Introspection(server))
    server.register_endpoint(Userinfo(server))
    server.register_endpoint(EndSession(server))
