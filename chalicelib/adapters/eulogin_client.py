"""EU Login (OpenID Connect) client: authorization code, PKCE S256, ``client_secret_jwt``.

ANCHORS §2: EU Login demands PKCE, refuses a client secret sent in plain text, signs ID
tokens PS512, and delivers every claim in the ID token (userinfo is off by default). So
the identity is read from the ID token only, after checking its signature (PS512 or
RS256, nothing else: no HMAC, no ``none``) against the provider's JWKS, and its
``iss``, ``aud``, ``exp``, ``iat`` and ``nonce``. ``sub`` is the key; the e-mail is
validated but never trusted as a key.

The discovery document and the JWKS are fetched on first use and kept for the life of
the client (a warm Lambda container); an ID token signed with a ``kid`` the cached JWKS
lacks makes the client fetch the JWKS once more (key rotation), and only once.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import ClientSecretJWT
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from chalicelib.adapters.clock import SystemClock
from chalicelib.domain.esep import EuLoginIdentity
from chalicelib.errors import IdentityProviderError, InvalidEmail

if TYPE_CHECKING:
    from chalicelib.ports import Clock

log = logging.getLogger(__name__)

SCOPE = "openid email profile"
ID_TOKEN_ALGORITHMS = ("PS512", "RS256")
ASSERTION_ALGORITHM = "HS256"
MAX_DOCUMENT_BYTES = 256 * 1024
LEEWAY_SECONDS = 60
"""Clock skew tolerated on ``exp`` and ``iat``."""
_UNAVAILABLE = "EU Login could not be reached or refused the sign-in."
_UNTRUSTED = "EU Login's answer could not be trusted."


@dataclass(frozen=True)
class _Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class EuLoginClient:
    """One relying party registered at one EU Login issuer (implements ``EuLoginProvider``)."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        timeout: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        self._issuer = issuer.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._timeout = timeout
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._metadata_cache: _Metadata | None = None
        self._keys_cache: KeySet | None = None

    # -- the port ----------------------------------------------------------
    def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        """Raises IdentityProviderError when the discovery document cannot be had."""
        metadata = self._metadata()
        with self._session() as session:
            url, _ = session.create_authorization_url(
                metadata.authorization_endpoint, state=state, code_verifier=code_verifier, nonce=nonce
            )
        return str(url)

    def fetch_identity(self, *, code: str, code_verifier: str, nonce: str) -> EuLoginIdentity:
        metadata = self._metadata()
        id_token = self._exchange(metadata, code, code_verifier)
        claims = self._verify(metadata, id_token, nonce)
        return _identity(claims)

    # -- token exchange ----------------------------------------------------
    def _session(self) -> OAuth2Session:
        return OAuth2Session(
            client_id=self._client_id,
            client_secret=self._client_secret,
            scope=SCOPE,
            redirect_uri=self._redirect_uri,
            token_endpoint_auth_method=ClientSecretJWT.name,
            code_challenge_method="S256",
        )

    def _exchange(self, metadata: _Metadata, code: str, code_verifier: str) -> str:
        with self._session() as session:
            # aud of the assertion = the token endpoint, as RFC 7523 §3 asks.
            session.register_client_auth_method(ClientSecretJWT(metadata.token_endpoint, alg=ASSERTION_ALGORITHM))
            try:
                token = session.fetch_token(
                    metadata.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                    timeout=self._timeout,
                )
            except AuthlibBaseError as exc:  # an OAuth error answer; its code is safe to log
                log.warning("EU Login refused the code exchange: %.40s", exc.error)
                raise IdentityProviderError(_UNAVAILABLE) from None
            except (requests.RequestException, ValueError) as exc:
                log.warning("EU Login token request failed: %s", type(exc).__name__)
                raise IdentityProviderError(_UNAVAILABLE) from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            log.warning("EU Login answered the code exchange without an ID token")
            raise IdentityProviderError(_UNTRUSTED)
        return id_token

    # -- ID token ----------------------------------------------------------
    def _verify(self, metadata: _Metadata, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            header = jws.extract_compact(id_token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError):
            log.warning("EU Login ID token is not a compact JWS")
            raise IdentityProviderError(_UNTRUSTED) from None
        alg = header.get("alg")
        if alg not in ID_TOKEN_ALGORITHMS:
            log.warning("EU Login ID token signed with a refused algorithm: %.20s", alg)
            raise IdentityProviderError(_UNTRUSTED)
        kid = header.get("kid")
        key = _pick_key(self._keys(metadata, refresh=False), kid)
        if key is None:  # a key rotated in since the JWKS was cached: fetch it again, once
            key = _pick_key(self._keys(metadata, refresh=True), kid)
        if key is None:
            log.warning("EU Login ID token signed with a key absent from the JWKS")
            raise IdentityProviderError(_UNTRUSTED)
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock.now().timestamp()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": metadata.issuer},
            aud={"essential": True, "value": self._client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            claims = dict(jwt.decode(id_token, key, algorithms=[alg]).claims)
            registry.validate(claims)
        except JoseError as exc:
            log.warning("EU Login ID token refused: %s %s", exc.error, getattr(exc, "claim", "") or "")
            raise IdentityProviderError(_UNTRUSTED) from None
        except (ValueError, TypeError) as exc:
            log.warning("EU Login ID token refused: %s", type(exc).__name__)
            raise IdentityProviderError(_UNTRUSTED) from None
        # OIDC Core §3.1.3.7: with several audiences, azp must name us.
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if ("azp" in claims or len(audiences) > 1) and claims.get("azp") != self._client_id:
            log.warning("EU Login ID token has a foreign authorized party")
            raise IdentityProviderError(_UNTRUSTED)
        return claims

    # -- discovery and keys (cached) ---------------------------------------
    def _metadata(self) -> _Metadata:
        with self._lock:
            if self._metadata_cache is not None:
                return self._metadata_cache
        document = self._get_json(f"{self._issuer}/.well-known/openid-configuration", "discovery document")
        fields = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        values = {name: document.get(name) for name in fields}
        if not all(isinstance(value, str) and value.startswith(("https://", "http://")) for value in values.values()):
            log.warning("EU Login discovery document lacks an endpoint")
            raise IdentityProviderError(_UNAVAILABLE)
        if str(values["issuer"]).rstrip("/") != self._issuer:  # OIDC Discovery §4.3
            log.warning("EU Login discovery document names another issuer")
            raise IdentityProviderError(_UNAVAILABLE)
        metadata = _Metadata(**{name: str(value) for name, value in values.items()})
        with self._lock:
            self._metadata_cache = metadata
        return metadata

    def _keys(self, metadata: _Metadata, *, refresh: bool) -> KeySet:
        with self._lock:
            if self._keys_cache is not None and not refresh:
                return self._keys_cache
        document = self._get_json(metadata.jwks_uri, "JWKS")
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            log.warning("EU Login JWKS holds no usable key")
            raise IdentityProviderError(_UNAVAILABLE) from None
        with self._lock:
            self._keys_cache = keys
        return keys

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            with requests.get(
                url, headers={"Accept": "application/json"}, timeout=self._timeout, stream=True
            ) as response:
                body = response.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=True)
        except (requests.RequestException, ValueError) as exc:
            log.warning("EU Login %s request failed: %s", what, type(exc).__name__)
            raise IdentityProviderError(_UNAVAILABLE) from None
        if response.status_code != 200:
            log.warning("EU Login %s answered HTTP %s", what, response.status_code)
            raise IdentityProviderError(_UNAVAILABLE)
        if len(body) > MAX_DOCUMENT_BYTES:
            log.warning("EU Login %s is oversized", what)
            raise IdentityProviderError(_UNAVAILABLE)
        try:
            document = json.loads(body)
        except ValueError:
            log.warning("EU Login %s is not JSON", what)
            raise IdentityProviderError(_UNAVAILABLE) from None
        if not isinstance(document, dict):
            log.warning("EU Login %s is not a JSON object", what)
            raise IdentityProviderError(_UNAVAILABLE)
        return document


def _pick_key(keys: KeySet, kid: object) -> RSAKey | None:
    """The RSA signing key named ``kid``, or the only one when the token names none."""
    candidates = [
        key for key in keys if isinstance(key, RSAKey) and key.get("use") in (None, "sig") and not key.is_private
    ]
    if kid is None:
        return candidates[0] if len(candidates) == 1 else None
    return next((key for key in candidates if key.kid == kid), None)


def _identity(claims: dict[str, Any]) -> EuLoginIdentity:
    from chalicelib.domain.emails import valid_email  # email-validator: loaded on first sign-in

    subject = claims.get("sub")
    if (
        not isinstance(subject, str)
        or not 0 < len(subject) <= 255
        or not subject.isascii()
        or not subject.isprintable()
    ):
        log.warning("EU Login ID token has no usable sub")
        raise IdentityProviderError(_UNTRUSTED)
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        log.warning("EU Login ID token has no e-mail")
        raise IdentityProviderError("EU Login did not share your e-mail address.")
    try:
        email = valid_email(email)
    except InvalidEmail:
        log.warning("EU Login ID token has an invalid e-mail")
        raise IdentityProviderError("EU Login shared an e-mail address that is not valid.") from None
    names = {name: claims.get(name, "") for name in ("given_name", "family_name")}
    if not all(isinstance(value, str) for value in names.values()):
        log.warning("EU Login ID token has non-text names")
        raise IdentityProviderError(_UNTRUSTED)
    return EuLoginIdentity(
        subject=subject,
        email=email,
        given_name=" ".join(str(names["given_name"]).split()),
        family_name=" ".join(str(names["family_name"]).split()),
    )
