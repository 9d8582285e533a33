"""Dev/test stand-in for EU Login, the European Commission's OpenID Connect provider.

It behaves like EU Login as ANCHORS §2 describes it, and it is strict where EU Login
is strict, so that a client which passes here has done the protocol properly:

- authorization code flow only, ``scope`` must contain ``openid``;
- PKCE is mandatory and only ``S256`` is accepted (a plain or missing challenge is sent
  back to the client as ``error=invalid_request``);
- the token endpoint accepts ``client_secret_jwt`` only: an HS256/HS512 assertion signed
  with the client secret, ``iss`` = ``sub`` = client id, ``aud`` = the token endpoint,
  unexpired, its ``jti`` used once. The secret in a form field or in HTTP Basic is
  refused with ``invalid_client`` (401);
- codes are single use, short-lived and bound to the client, the redirect URI and the
  PKCE challenge;
- the identity comes in an ID token signed **PS512** (``iss``, ``aud``, ``sub``,
  ``email``, ``given_name``, ``family_name``, ``iat``, ``exp`` after 5 minutes, the
  ``nonce`` of the authorize request); there is no userinfo endpoint, as EU Login
  disables it by default; the access token is opaque.

Tests can make the next ID tokens defective (:class:`Behaviour`, :meth:`EuLoginStandIn.behaving`),
rotate the signing key (:meth:`EuLoginStandIn.rotate_key`) and complete the authorize
step without a browser (:meth:`EuLoginStandIn.authorize`).

Everything is served under ``/cas/oauth2``, like EU Login, so the issuer is
``http://HOST:PORT/cas/oauth2`` and discovery sits at
``{issuer}/.well-known/openid-configuration``. Signing uses joserfc (authlib's JOSE
implementation). The server lifecycle and the request-handler helpers it shares
with the GSIS stand-in live in :mod:`standins._http`. Never deployed.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey, RSAKey

from standins._http import HTML_TYPE, StandInHandler, StandInServer, first_values, parse_cli, with_query

PREFIX = "/cas/oauth2"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ID_TOKEN_ALGORITHMS = ("PS512", "RS256")
ASSERTION_ALGORITHMS = ("HS256", "HS512")
SIGNING_ALGORITHMS = (*ID_TOKEN_ALGORITHMS, "HS256")
"""What :attr:`Behaviour.alg` may be: HS256 (signed with the client secret) is the
algorithm-confusion attack a client must refuse."""
NONCE_MODES = ("echo", "wrong", "missing")
CUSTOM = "__custom__"
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


@dataclass(frozen=True)
class Client:
    """A registered relying party (``client_secret_jwt`` only)."""

    client_id: str
    secret: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class Identity:
    """An EU Login user the stand-in can sign in as; ``country`` is only shown."""

    sub: str
    email: str
    given_name: str
    family_name: str
    country: str = ""

    def __post_init__(self) -> None:
        if not self.sub or any(c.isspace() for c in self.sub) or len(self.sub) > 255:
            raise ValueError("sub must be 1 to 255 characters without spaces")

    def claims(self) -> dict[str, str]:
        return {
            "sub": self.sub,
            "email": self.email,
            "given_name": self.given_name,
            "family_name": self.family_name,
        }


def default_identities() -> list[Identity]:
    """Teachers from several countries (addresses under the reserved ``.example`` TLD)."""
    return [
        Identity("n00a1b2c", "maria.papadopoulou@school-gr.example", "Μαρία", "Παπαδοπούλου", "GR"),
        Identity("n00b2c3d", "jean.dupont@school-fr.example", "Jean", "Dupont", "FR"),
        Identity("n00c3d4e", "giulia.rossi@school-it.example", "Giulia", "Rossi", "IT"),
        Identity("n00d4e5f", "anna.kowalska@school-pl.example", "Anna", "Kowalska", "PL"),
        Identity("n00e5f6a", "lukas.mueller@school-de.example", "Lukas", "Müller", "DE"),
        Identity("n00f6a7b", "ines.garcia@school-es.example", "Inés", "García Fernández", "ES"),
        Identity("n01a7b8c", "joao.silva@school-pt.example", "João", "Silva", "PT"),
    ]


@dataclass(frozen=True)
class Behaviour:
    """How the stand-in makes ID tokens; the defaults are EU Login's own.

    ``alg``: PS512, RS256, or HS256 (signed with the client secret: an attack).
    ``unknown_key``: sign with an RSA key that the JWKS does not publish.
    ``audience`` / ``issuer``: put this ``aud`` / ``iss`` instead of the right one.
    ``expired``: issued 10 minutes ago, expired 5 minutes ago.
    ``nonce``: ``echo`` the authorize request's nonce, send a ``wrong`` one, or leave it
    ``missing``.
    """

    alg: str = "PS512"
    unknown_key: bool = False
    audience: str | None = None
    expired: bool = False
    nonce: str = "echo"
    issuer: str | None = None

    def __post_init__(self) -> None:
        if self.alg not in SIGNING_ALGORITHMS:
            raise ValueError(f"unknown alg {self.alg!r}; expected one of {SIGNING_ALGORITHMS}")
        if self.nonce not in NONCE_MODES:
            raise ValueError(f"unknown nonce mode {self.nonce!r}; expected one of {NONCE_MODES}")


class AuthorizeError(Exception):
    """An authorize request that cannot be answered with a redirect (unknown client or
    redirect URI): EU Login shows an error page instead."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description = error, description


class TokenError(Exception):
    """A refused token request: the HTTP status and the OAuth error to answer with."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    identity: Identity
    nonce: str | None
    code_challenge: str
    scope: str
    expires_at: float


def _new_key() -> RSAKey:
    key = RSAKey.generate_key(2048, parameters={"use": "sig"})
    key.ensure_kid()  # the RFC 7638 thumbprint
    return key


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier`` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class EuLoginStandIn(StandInServer):
    """An in-process EU Login on a background thread.

    Tests start it on port 0, register a client, point Mitroo's
    ``MITROO_EULOGIN_ISSUER`` at :attr:`issuer`, and sign in with :meth:`authorize`
    (or through the HTML page). ``clock`` (wall-clock seconds) may be injected: it
    stamps ID tokens and expires codes.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clients: dict[str, Client] | None = None,
        code_ttl_seconds: float = 60,
        id_token_ttl_seconds: int = 300,
        *,
        quiet: bool = False,
        clock: Callable[[], float] = time.time,
        identities: list[Identity] | None = None,
    ) -> None:
        super().__init__(host, port, quiet=quiet, handler=_Handler, name="eulogin-standin", prefix=PREFIX)
        self.code_ttl_seconds, self.id_token_ttl_seconds = code_ttl_seconds, id_token_ttl_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._clients: dict[str, Client] = dict(clients or {})
        self._identities: dict[str, Identity] = {}
        self._codes: dict[str, _Grant] = {}
        self._used_jtis: dict[str, float] = {}
        self._signing_key = _new_key()
        self._published: list[RSAKey] = [self._signing_key]
        self._stray_key: RSAKey | None = None
        self._behaviour = Behaviour()
        self.jwks_requests = 0
        """How many times the JWKS was fetched (tests check a client's caching)."""
        self.last_id_token: str | None = None
        """The last ID token issued (tests inspect its header)."""
        for identity in default_identities() if identities is None else identities:
            self.add_identity(identity)

    # -- lifecycle (start, stop, context manager: StandInServer) -------------
    @property
    def issuer(self) -> str:
        return self._root_url()

    @property
    def base_url(self) -> str:
        """Same as :attr:`issuer` (the name the GSIS stand-in uses)."""
        return self.issuer

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.issuer}/authorize"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks"

    def discovery(self) -> dict[str, Any]:
        issuer = self.issuer
        return {
            "issuer": issuer,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": self.jwks_uri,
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "scopes_supported": ["openid", "email", "profile"],
            "claims_supported": ["iss", "aud", "sub", "iat", "exp", "nonce", "email", "given_name", "family_name"],
            "id_token_signing_alg_values_supported": list(ID_TOKEN_ALGORITHMS),
            "token_endpoint_auth_methods_supported": ["client_secret_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
            "code_challenge_methods_supported": ["S256"],
        }

    # -- registry ----------------------------------------------------------
    def add_client(self, client_id: str, secret: str, redirect_uris: list[str] | tuple[str, ...]) -> Client:
        client = Client(client_id, secret, tuple(redirect_uris))
        with self._lock:
            self._clients[client_id] = client
        return client

    def add_identity(self, identity: Identity) -> Identity:
        """Register a user; raises ValueError if the ``sub`` is taken."""
        with self._lock:
            if identity.sub in self._identities:
                raise ValueError(f"sub {identity.sub!r} already registered")
            self._identities[identity.sub] = identity
        return identity

    @property
    def identities(self) -> list[Identity]:
        with self._lock:
            return list(self._identities.values())

    def get_client(self, client_id: str) -> Client | None:
        with self._lock:
            return self._clients.get(client_id)

    def get_identity(self, sub: str) -> Identity | None:
        with self._lock:
            return self._identities.get(sub)

    # -- switches ----------------------------------------------------------
    @property
    def behaviour(self) -> Behaviour:
        with self._lock:
            return self._behaviour

    @behaviour.setter
    def behaviour(self, behaviour: Behaviour) -> None:
        with self._lock:
            self._behaviour = behaviour

    @contextmanager
    def behaving(self, **changes: Any) -> Iterator[Behaviour]:
        """``with standin.behaving(alg="RS256"): ...``: ID tokens issued inside the block
        follow ``changes``; the previous behaviour comes back afterwards."""
        previous = self.behaviour
        self.behaviour = dataclasses.replace(previous, **changes)
        try:
            yield self.behaviour
        finally:
            self.behaviour = previous

    @property
    def kid(self) -> str:
        """The ``kid`` of the key that signs ID tokens now."""
        with self._lock:
            return str(self._signing_key.kid)

    def rotate_key(self, *, keep_previous: bool = False) -> str:
        """Sign with a new RSA key from now on and publish it; the old key stays in the
        JWKS only with ``keep_previous``. Returns the new ``kid``."""
        key = _new_key()
        with self._lock:
            self._published = [key, *self._published] if keep_previous else [key]
            self._signing_key = key
        return str(key.kid)

    def jwks(self) -> dict[str, Any]:
        """The published keys (public halves), newest first."""
        with self._lock:
            return {"keys": [dict(key.as_dict(private=False)) for key in self._published]}

    def _serve_jwks(self) -> dict[str, Any]:
        with self._lock:
            self.jwks_requests += 1
        return self.jwks()

    # -- authorize ---------------------------------------------------------
    def check_authorize(self, params: dict[str, str]) -> tuple[str, dict[str, str] | None]:
        """Validate an authorize request: ``(redirect_uri, None)`` if it is good,
        ``(redirect_uri, error parameters)`` if the error goes back to the client.

        Raises AuthorizeError when the client or its redirect URI is unknown.
        """
        client = self.get_client(params.get("client_id", ""))
        if client is None:
            raise AuthorizeError("invalid_client", f"Unknown client_id: {params.get('client_id', '')}")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            raise AuthorizeError("invalid_request", f"Unregistered redirect_uri: {redirect_uri}")
        with_state = {"state": params["state"]} if params.get("state") else {}

        def refuse(error: str, description: str) -> tuple[str, dict[str, str]]:
            return redirect_uri, {"error": error, "error_description": description, **with_state}

        if params.get("response_type") != "code":
            return refuse("unsupported_response_type", "Only response_type=code is supported")
        if "openid" not in params.get("scope", "").split():
            return refuse("invalid_scope", "The scope must contain openid")
        if params.get("code_challenge_method") != "S256":
            return refuse("invalid_request", "PKCE is required with code_challenge_method=S256")
        if not _CHALLENGE.fullmatch(params.get("code_challenge", "")):
            return refuse("invalid_request", "code_challenge must be a base64url SHA-256 digest")
        return redirect_uri, None

    def complete_authorize(self, params: dict[str, str], identity: Identity | None) -> str:
        """The redirect that ends an authorize request: a code for ``identity``, or
        ``access_denied`` when it is None, or the request's own error.

        Raises AuthorizeError when the client or its redirect URI is unknown.
        """
        redirect_uri, error = self.check_authorize(params)
        if error is not None:
            return with_query(redirect_uri, error)
        with_state = {"state": params["state"]} if params.get("state") else {}
        if identity is None:
            return with_query(
                redirect_uri, {"error": "access_denied", "error_description": "The user cancelled", **with_state}
            )
        grant = _Grant(
            client_id=params["client_id"],
            redirect_uri=redirect_uri,
            identity=identity,
            nonce=params.get("nonce") or None,
            code_challenge=params["code_challenge"],
            scope=params["scope"],
            expires_at=self.clock() + self.code_ttl_seconds,
        )
        code = "ST-" + secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = grant
        return with_query(redirect_uri, {"code": code, **with_state})

    def authorize(self, authorize_url: str, identity: str | Identity) -> str:
        """Do in one call what the browser does on the authorize page: given the URL a
        client sends the user to, return the URL EU Login redirects back to (with
        ``code`` and ``state``, or with ``error`` if the request breaks the rules).

        ``identity`` is a registered ``sub`` or any :class:`Identity` (need not be
        registered, like the page's custom form). Raises AuthorizeError for an unknown
        client or redirect URI and ValueError for a URL that is not this stand-in's
        authorize endpoint or an unknown ``sub``.
        """
        parts = urlsplit(authorize_url)
        if f"{parts.scheme}://{parts.netloc}{parts.path}" != self.authorization_endpoint:
            raise ValueError(f"not this stand-in's authorize endpoint: {authorize_url}")
        if isinstance(identity, str):
            found = self.get_identity(identity)
            if found is None:
                raise ValueError(f"unknown sub {identity!r}")
            identity = found
        return self.complete_authorize(first_values(parse_qs(parts.query, keep_blank_values=True)), identity)

    def code_for(self, authorize_url: str, identity: str | Identity) -> str:
        """The authorization code from :meth:`authorize`; AssertionError if it failed."""
        query = first_values(parse_qs(urlsplit(self.authorize(authorize_url, identity)).query))
        if "code" not in query:
            raise AssertionError(f"EU Login refused the request: {query}")
        return query["code"]

    # -- token -------------------------------------------------------------
    def exchange(self, form: dict[str, str], *, basic_auth: bool) -> dict[str, Any]:
        """Answer a token request (its form fields; ``basic_auth``: it came with HTTP Basic
        credentials): the token response, or TokenError."""
        if basic_auth or "client_secret" in form:
            raise TokenError(401, "invalid_client", "Only client_secret_jwt authentication is accepted")
        client = self._authenticate(form)
        if form.get("grant_type") != "authorization_code":
            raise TokenError(400, "unsupported_grant_type", "Only authorization_code is supported")
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # consumed even if the exchange fails
        if (
            grant is None
            or grant.expires_at <= self.clock()
            or grant.client_id != client.client_id
            or grant.redirect_uri != form.get("redirect_uri")
        ):
            raise TokenError(400, "invalid_grant", "The code is unknown, used, expired or not yours")
        verifier = form.get("code_verifier", "")
        if not _VERIFIER.fullmatch(verifier) or not secrets.compare_digest(s256(verifier), grant.code_challenge):
            raise TokenError(400, "invalid_grant", "The code_verifier does not match the code_challenge")
        id_token = self._id_token(client, grant)
        self.last_id_token = id_token
        return {
            "access_token": "AT-" + secrets.token_urlsafe(32),  # opaque, like EU Login's
            "token_type": "Bearer",
            "expires_in": self.id_token_ttl_seconds,
            "scope": grant.scope,
            "id_token": id_token,
        }

    def _authenticate(self, form: dict[str, str]) -> Client:
        def refuse(description: str) -> TokenError:
            return TokenError(401, "invalid_client", description)

        assertion = form.get("client_assertion", "")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
            raise refuse("client_secret_jwt authentication is required")
        try:
            unverified = json.loads(jws.extract_compact(assertion.encode("ascii")).payload)
        except (JoseError, ValueError, UnicodeError):
            raise refuse("The client assertion is not a JWT") from None
        client_id = unverified.get("iss") if isinstance(unverified, dict) else None
        client = self.get_client(client_id) if isinstance(client_id, str) else None
        if client is None or form.get("client_id", client_id) != client_id:
            raise refuse("Unknown client")
        now = int(self.clock())
        registry = jwt.JWTClaimsRegistry(
            now=now,
            iss={"essential": True, "value": client.client_id},
            sub={"essential": True, "value": client.client_id},
            aud={"essential": True, "value": self.token_endpoint},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            token = jwt.decode(assertion, OctKey.import_key(client.secret), algorithms=list(ASSERTION_ALGORITHMS))
            registry.validate(token.claims)
        except (JoseError, ValueError, TypeError):
            raise refuse("The client assertion is not valid") from None
        with self._lock:
            self._used_jtis = {jti: exp for jti, exp in self._used_jtis.items() if exp > now}
            if token.claims["jti"] in self._used_jtis:
                raise refuse("The client assertion was used already")
            self._used_jtis[token.claims["jti"]] = float(token.claims["exp"])
        return client

    def _id_token(self, client: Client, grant: _Grant) -> str:
        behaviour = self.behaviour
        now = int(self.clock())
        issued_at = now - 600 if behaviour.expired else now
        claims: dict[str, Any] = {
            "iss": behaviour.issuer or self.issuer,
            "aud": behaviour.audience or client.client_id,
            **grant.identity.claims(),
            "iat": issued_at,
            "auth_time": issued_at,
            "exp": issued_at + self.id_token_ttl_seconds,
        }
        if behaviour.nonce == "echo" and grant.nonce is not None:
            claims["nonce"] = grant.nonce
        elif behaviour.nonce == "wrong":
            claims["nonce"] = secrets.token_urlsafe(16)
        key: RSAKey | OctKey
        if behaviour.alg == "HS256":
            key = OctKey.import_key(client.secret)
        elif behaviour.unknown_key:
            with self._lock:
                if self._stray_key is None:
                    self._stray_key = _new_key()
                key = self._stray_key
        else:
            with self._lock:
                key = self._signing_key
        header = {"alg": behaviour.alg, "typ": "JWT", **({"kid": key.kid} if isinstance(key, RSAKey) else {})}
        return jwt.encode(header, claims, key, algorithms=[behaviour.alg])


class _Handler(StandInHandler[EuLoginStandIn]):
    # -- plumbing (_send, _json, _redirect, _read_body, _form: StandInHandler) --
    def _error_page(self, status: int, error: str, description: str) -> None:
        body = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><title>EU Login - error</title>'
            f"</head><body><h1>EU Login</h1><p>{html.escape(error)}: {html.escape(description)}</p></body></html>"
        )
        self._send(status, body, HTML_TYPE)

    # -- routing -----------------------------------------------------------
    def _route(self) -> None:
        parts = urlsplit(self.path)
        query = first_values(parse_qs(parts.query, keep_blank_values=True))
        routes: dict[tuple[str, str], Callable[[], None]] = {
            ("GET", f"{PREFIX}/.well-known/openid-configuration"): lambda: self._json(200, self.standin.discovery()),
            ("GET", f"{PREFIX}/jwks"): lambda: self._json(200, self.standin._serve_jwks()),
            ("GET", f"{PREFIX}/authorize"): lambda: self._authorize_page(query),
            ("POST", f"{PREFIX}/authorize"): self._authorize_decision,
            ("POST", f"{PREFIX}/token"): self._token,
        }
        route = routes.get((self.command, parts.path))
        if route is not None:
            route()
            return
        if self.command == "POST":
            self._read_body()
        self._json(404, {"error": "not_found"})

    do_GET = do_POST = _route

    # -- authorize ---------------------------------------------------------
    def _authorize_page(self, params: dict[str, str]) -> None:
        try:
            redirect_uri, error = self.standin.check_authorize(params)
        except AuthorizeError as exc:
            self._error_page(400, exc.error, exc.description)
            return
        if error is not None:
            self._redirect(with_query(redirect_uri, error))
            return
        esc = html.escape
        action = f"{PREFIX}/authorize"
        hidden = (
            "".join(
                f'<input type="hidden" name="{name}" value="{esc(params[name])}">'
                for name in ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge")
                if name in params
            )
            + '<input type="hidden" name="code_challenge_method" value="S256">'
        )
        buttons = "".join(
            f'<li><button type="submit" name="identity" value="{esc(i.sub)}">'
            f"{esc(i.given_name)} {esc(i.family_name)} &lt;{esc(i.email)}&gt;"
            f"{' (' + esc(i.country) + ')' if i.country else ''} — {esc(i.sub)}</button></li>"
            for i in self.standin.identities
        )
        page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8"><title>EU Login</title></head>
<body>
<h1>EU Login</h1>
<p><strong>Development stand-in:</strong> this is not the European Commission's EU Login but a
replacement for development and tests. No password is asked.</p>
<p>The application <strong>{esc(params["client_id"])}</strong> asks who you are
(scope <code>{esc(params.get("scope", ""))}</code>).</p>
<form method="post" action="{action}">{hidden}
<p>Sign in as:</p>
<ul>{buttons}</ul>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>
<h2>Someone else</h2>
<form method="post" action="{action}">{hidden}
<input type="hidden" name="identity" value="{CUSTOM}">
<p><label>Subject (uid) <input name="sub" required pattern="\\S+" value="n{secrets.token_hex(4)}"></label></p>
<p><label>E-mail <input name="email" type="email" required></label></p>
<p><label>Given name <input name="given_name"></label></p>
<p><label>Family name <input name="family_name"></label></p>
<p><button type="submit">Sign in</button></p>
</form>
</body></html>"""
        self._send(200, page, HTML_TYPE)

    def _authorize_decision(self) -> None:
        form = self._form()
        if form is None:
            self._error_page(400, "invalid_request", "Expected application/x-www-form-urlencoded")
            return
        identity: Identity | None = None
        if form.get("decision") != "deny":
            chosen = form.get("identity", "")
            if chosen == CUSTOM:
                try:
                    identity = Identity(
                        form.get("sub", "").strip(),
                        form.get("email", "").strip(),
                        form.get("given_name", "").strip(),
                        form.get("family_name", "").strip(),
                    )
                except ValueError as exc:
                    self._error_page(400, "invalid_request", str(exc))
                    return
            else:
                identity = self.standin.get_identity(chosen)
                if identity is None:
                    self._error_page(400, "invalid_request", f"Unknown identity: {chosen}")
                    return
        try:
            location = self.standin.complete_authorize(form, identity)
        except AuthorizeError as exc:
            self._error_page(400, exc.error, exc.description)
            return
        self._redirect(location)

    # -- token -------------------------------------------------------------
    def _token(self) -> None:
        form = self._form()
        if form is None:
            self._json(400, {"error": "invalid_request", "error_description": "Expected a form body"})
            return
        basic = (self.headers.get("Authorization") or "").lower().startswith("basic ")
        try:
            payload = self.standin.exchange(form, basic_auth=basic)
        except TokenError as exc:
            self._json(exc.status, {"error": exc.error, "error_description": exc.description})
            return
        self._json(200, payload)


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in in the foreground until SIGINT/SIGTERM."""
    args = parse_cli(
        argv,
        prog="python -m standins.eulogin",
        description=__doc__.splitlines()[0],
        port=8002,
        client_secret="mitroo-dev-eulogin-secret-0123456789",
        redirect_uri="http://127.0.0.1:8000/realms/esep/eulogin/callback",
    )
    standin = EuLoginStandIn(args.host, args.port, quiet=args.quiet)
    standin.add_client(args.client_id, args.client_secret, args.redirect_uris)
    standin.run_until_signalled("EU Login stand-in")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
