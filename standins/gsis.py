"""Dev/test stand-in for GSIS, the Greek tax authority's Taxisnet OAuth2 server.

GSIS is plain OAuth2 authorization-code (Spring Security OAuth), not OIDC:
there is no id_token, discovery document or JWKS, and the user's identity comes
from an XML ``/userinfo`` endpoint. That endpoint has quirks a client must
survive, so this stand-in reproduces them on purpose instead of idealising
them: attribute values are right-padded with spaces, Greek text is sometimes
sent as numeric character references mixed with plain UTF-8, and errors come
back as JSON even when XML was requested (sometimes with HTTP 200).

Everything is served under ``/oauth2server`` so that swapping
``https://oauth2.gsis.gr/oauth2server`` for ``http://HOST:PORT/oauth2server``
is the only configuration change Mitroo needs. The server lifecycle and the
request-handler helpers it shares with the EU Login stand-in live in
:mod:`standins._http`. Stdlib only; never deployed.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from standins._http import HTML_TYPE, StandInHandler, StandInServer, first_values, parse_cli, with_query

PREFIX = "/oauth2server"
FAULTS = (None, "json_error", "malformed_xml", "http_500", "xml_bomb", "xxe")
# XML attribute order (as GSIS emits it) and the Identity field behind each.
ATTRIBUTES: dict[str, str] = {
    "userid": "userid",
    "taxid": "afm",
    "lastname": "last_name",
    "firstname": "first_name",
    "fathername": "father_name",
    "mothername": "mother_name",
    "birthyear": "birth_year",
}
# Width each value is right-padded to (GSIS pads like fixed-width CHAR columns).
PAD_WIDTHS: dict[str, int] = {"userid": 16, "taxid": 12, "birthyear": 6}
NAME_PAD_WIDTH = 20
XML_TYPE = "application/xml;charset=UTF-8"


def _afm_check_digit(body: str) -> int:
    return sum(int(d) << (8 - i) for i, d in enumerate(body)) % 11 % 10


def valid_afm(afm: str) -> bool:
    """True if ``afm`` is exactly 9 ASCII digits, not all zero, with a correct check digit."""
    if not isinstance(afm, str) or not re.fullmatch(r"[0-9]{9}", afm) or afm == "0" * 9:
        return False
    return _afm_check_digit(afm[:8]) == int(afm[8])


def make_afm(seed: int) -> str:
    """Deterministically derive a valid AFM from ``seed`` (distinct seeds rarely collide)."""
    body = f"{seed * 2_654_435_761 % 2**32 % 90_000_000 + 10_000_000:08d}"  # Knuth hash, no leading 0
    return body + str(_afm_check_digit(body))


@dataclass(frozen=True)
class Client:
    """A registered OAuth2 client (client_secret_post or HTTP Basic)."""

    client_id: str
    secret: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class Identity:
    """A Taxisnet user the stand-in can log in as.

    ``entity_fields`` names XML attributes (``lastname``, ``firstname`` ...)
    whose non-ASCII characters are sent as ``&#NNN;``. ``fault`` makes
    ``/userinfo`` misbehave for this user: ``json_error`` (HTTP 200 with a JSON
    error body), ``malformed_xml`` (truncated XML), ``http_500``, or a hostile document
    a compromised or spoofed GSIS could send: ``xml_bomb`` (nested entities, "billion
    laughs") or ``xxe`` (an external entity reading ``file:///etc/passwd``).
    """

    key: str
    afm: str
    last_name: str
    first_name: str
    father_name: str
    mother_name: str
    birth_year: str
    userid: str | None = None
    entity_fields: tuple[str, ...] = ()
    fault: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "birth_year", str(self.birth_year))
        object.__setattr__(self, "entity_fields", tuple(self.entity_fields))
        if self.userid is None:
            object.__setattr__(self, "userid", "User" + self.afm)
        if not self.key:
            raise ValueError("identity key must not be empty")
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; expected one of {FAULTS}")
        unknown = set(self.entity_fields) - set(ATTRIBUTES)
        if unknown:
            raise ValueError(f"unknown entity_fields {sorted(unknown)}; expected {list(ATTRIBUTES)}")

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "entity_fields": list(self.entity_fields)}


def default_identities() -> list[Identity]:
    """Built-in users: realistic capitalised Greek names, valid AFMs, a few quirks."""
    return [
        Identity("vavoula", "068933130", "ΒΑΒΟΥΛΑ", "ΕΥΤΥΧΙΑ", "ΕΜΜΑΝΟΥΗΛ", "ΑΝΝΑ", "1950"),
        Identity(
            "papadopoulos",
            make_afm(1),
            "ΠΑΠΑΔΟΠΟΥΛΟΣ",
            "ΓΕΩΡΓΙΟΣ",
            "ΔΗΜΗΤΡΙΟΣ",
            "ΜΑΡΙΑ",
            "1978",
            entity_fields=("lastname", "fathername"),
        ),
        Identity(
            "nikolaou",
            make_afm(2),
            "ΝΙΚΟΛΑΟΥ",
            "ΑΙΚΑΤΕΡΙΝΗ",
            "ΙΩΑΝΝΗΣ",
            "ΕΛΕΝΗ",
            "1985",
            entity_fields=("lastname", "firstname", "fathername", "mothername"),
        ),
        Identity("karagiannis", make_afm(3), "ΚΑΡΑΓΙΑΝΝΗΣ", "ΚΩΝΣΤΑΝΤΙΝΟΣ", "ΝΙΚΟΛΑΟΣ", "ΓΕΩΡΓΙΑ", "1962"),
        Identity(
            "oikonomou",
            make_afm(4),
            "ΟΙΚΟΝΟΜΟΥ-ΣΤΑΥΡΟΥ",
            "ΔΕΣΠΟΙΝΑ",
            "ΑΘΑΝΑΣΙΟΣ",
            "ΣΟΦΙΑ",
            "1991",
            entity_fields=("firstname",),
        ),
        Identity("alexiou", make_afm(5), "ΑΛΕΞΙΟΥ", "ΧΑΡΑΛΑΜΠΟΣ", "ΠΑΝΑΓΙΩΤΗΣ", "ΒΑΣΙΛΙΚΗ", "1970"),
        Identity("smith", make_afm(6), "SMITH", "JOHN", "ROBERT", "MARY", "1983"),
        Identity("fault-json", make_afm(101), "ΣΦΑΛΜΑ", "JSON", "ΠΑΤΕΡΑΣ", "ΜΗΤΕΡΑ", "1980", fault="json_error"),
        Identity("fault-xml", make_afm(102), "ΣΦΑΛΜΑ", "XML", "ΠΑΤΕΡΑΣ", "ΜΗΤΕΡΑ", "1980", fault="malformed_xml"),
        Identity("fault-500", make_afm(103), "ΣΦΑΛΜΑ", "ΔΙΑΚΟΜΙΣΤΗ", "ΠΑΤΕΡΑΣ", "ΜΗΤΕΡΑ", "1980", fault="http_500"),
    ]


def _xml_attr(value: str, as_entities: bool) -> str:
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    if not as_entities:
        return escaped
    return "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in escaped)


def render_userinfo_xml(identity: Identity) -> str:
    """The userinfo document exactly as GSIS shapes it: padded values, optional entities."""
    attrs = []
    for attr, field_name in ATTRIBUTES.items():
        value = str(getattr(identity, field_name))
        width = PAD_WIDTHS.get(attr, NAME_PAD_WIDTH)
        padded = value.ljust(width) if len(value) < width else value + " "
        attrs.append(f'{attr}="{_xml_attr(padded, attr in identity.entity_fields)}"')
    return f"<root><userinfo {' '.join(attrs)}/></root>"


def render_hostile_xml(identity: Identity, fault: str) -> str:
    """The userinfo document behind a DTD that a safe parser must refuse: ``xml_bomb``
    expands ``&lol9;`` to 10**9 "lol"s (about 3 GB), ``xxe`` pulls a local file into the
    ``userinfo`` element. The attributes are a normal identity's, so only the DTD is wrong."""
    if fault == "xml_bomb":
        entities = ['<!ENTITY lol0 "lol">'] + [
            f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
        ]
        reference = "&lol9;"
    else:
        entities = ['<!ENTITY xxe SYSTEM "file:///etc/passwd">']
        reference = "&xxe;"
    document = render_userinfo_xml(identity).replace("/></root>", f">{reference}</userinfo></root>")
    return f'<?xml version="1.0"?>\n<!DOCTYPE root [\n{chr(10).join(entities)}\n]>\n{document}'


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    identity_key: str
    scope: str
    expires_at: float


class GsisStandIn(StandInServer):
    """An in-process GSIS OAuth2 server on a background thread.

    Tests start it on port 0, register clients and identities, then point
    Mitroo's GSIS base URL at :attr:`base_url`. ``clock`` may be injected to
    expire codes and tokens without sleeping.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clients: dict[str, Client] | None = None,
        code_ttl_seconds: float = 60,
        token_ttl_seconds: float = 3600,
        *,
        quiet: bool = False,
        clock: Callable[[], float] = time.monotonic,
        identities: list[Identity] | None = None,
    ) -> None:
        super().__init__(host, port, quiet=quiet, handler=_Handler, name="gsis-standin", prefix=PREFIX)
        self.code_ttl_seconds, self.token_ttl_seconds = code_ttl_seconds, token_ttl_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._clients: dict[str, Client] = dict(clients or {})
        self._identities: dict[str, Identity] = {}
        self._codes: dict[str, _Grant] = {}
        self._tokens: dict[str, _Grant] = {}
        for identity in default_identities() if identities is None else identities:
            self.add_identity(identity)

    # -- lifecycle (start, stop, context manager: StandInServer) -------------
    @property
    def base_url(self) -> str:
        return self._root_url()

    # -- registry ----------------------------------------------------------
    def add_client(self, client_id: str, secret: str, redirect_uris: list[str] | tuple[str, ...]) -> Client:
        client = Client(client_id, secret, tuple(redirect_uris))
        with self._lock:
            self._clients[client_id] = client
        return client

    def add_identity(self, identity: Identity) -> Identity:
        """Register a user; raises ValueError if the key is taken."""
        with self._lock:
            if identity.key in self._identities:
                raise ValueError(f"identity key {identity.key!r} already registered")
            self._identities[identity.key] = identity
        return identity

    @property
    def identities(self) -> list[Identity]:
        with self._lock:
            return list(self._identities.values())

    def get_client(self, client_id: str) -> Client | None:
        with self._lock:
            return self._clients.get(client_id)

    def get_identity(self, key: str) -> Identity | None:
        with self._lock:
            return self._identities.get(key)

    # -- OAuth state -------------------------------------------------------
    def issue_code(self, client_id: str, redirect_uri: str, identity_key: str, scope: str) -> str:
        code = secrets.token_urlsafe(24)
        grant = _Grant(client_id, redirect_uri, identity_key, scope, self.clock() + self.code_ttl_seconds)
        with self._lock:
            self._codes[code] = grant
        return code

    def redeem_code(self, code: str, client_id: str, redirect_uri: str) -> tuple[str, _Grant] | None:
        """Consume ``code`` (even if the exchange fails) and return a new access token."""
        with self._lock:
            grant = self._codes.pop(code, None)
        if (
            grant is None
            or grant.expires_at <= self.clock()
            or grant.client_id != client_id
            or grant.redirect_uri != redirect_uri
        ):
            return None
        token = secrets.token_urlsafe(32)
        token_grant = dataclasses.replace(grant, expires_at=self.clock() + self.token_ttl_seconds)
        with self._lock:
            self._tokens[token] = token_grant
        return token, token_grant

    def lookup_token(self, token: str) -> tuple[_Grant | None, bool]:
        """Return (grant, expired) for an access token."""
        with self._lock:
            grant = self._tokens.get(token)
        return grant, grant is not None and grant.expires_at <= self.clock()


class _Handler(StandInHandler[GsisStandIn]):
    def version_string(self) -> str:
        return "Apache-Coyote/1.1"

    # -- plumbing (_send, _json, _redirect, _read_body, _form: StandInHandler) --
    def _oauth_error_page(self, status: int, error: str, description: str) -> None:
        body = (
            f"<html><body><h1>OAuth Error</h1><p>error=&quot;{html.escape(error)}&quot;, "
            f"error_description=&quot;{html.escape(description)}&quot;</p></body></html>"
        )
        self._send(status, body, HTML_TYPE)

    # -- routing -----------------------------------------------------------
    def _route(self) -> None:
        method, parts = self.command, urlsplit(self.path)
        path, query = parts.path, first_values(parse_qs(parts.query, keep_blank_values=True))
        routes: dict[tuple[str, str], Callable[[], None]] = {
            ("GET", f"{PREFIX}/oauth/authorize"): lambda: self._authorize_page(query),
            ("POST", f"{PREFIX}/oauth/authorize"): self._authorize_decision,
            ("POST", f"{PREFIX}/oauth/token"): self._token,
            ("GET", f"{PREFIX}/userinfo"): lambda: self._userinfo(query),
            ("GET", "/_standin/identities"): self._list_identities,
            ("POST", "/_standin/identities"): self._create_identity,
        }
        logout = re.fullmatch(rf"{PREFIX}/logout/([^/]+)/?", path)
        if (method, path) in routes:
            routes[(method, path)]()
        elif method == "GET" and logout:
            self._logout(unquote(logout.group(1)), query)
        else:
            if method == "POST":
                self._read_body()
            self._send(404, "<html><body><h1>404 Not Found</h1></body></html>", HTML_TYPE)

    do_GET = do_POST = _route

    # -- authorize ---------------------------------------------------------
    def _checked_client(self, params: dict[str, str]) -> Client | None:
        """Validate client_id/redirect_uri; on failure answer 400 (never redirect) and return None."""
        client = self.standin.get_client(params.get("client_id", ""))
        if client is None:
            self._oauth_error_page(400, "invalid_client", f"No client with requested id: {params.get('client_id', '')}")
            return None
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            self._oauth_error_page(
                400, "invalid_request", f"Invalid redirect: {redirect_uri} does not match one of the registered values."
            )
            return None
        return client

    def _authorize_page(self, params: dict[str, str]) -> None:
        if self._checked_client(params) is None:
            return
        redirect_uri, state = params["redirect_uri"], params.get("state", "")
        if params.get("response_type") != "code":
            error = {
                "error": "unsupported_response_type",
                "error_description": f"Unsupported response types: [{params.get('response_type', '')}]",
            }
            self._redirect(with_query(redirect_uri, {**error, **({"state": state} if state else {})}))
            return
        esc = html.escape
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{esc(params.get(name, default))}">'
            for name, default in (("client_id", ""), ("redirect_uri", ""), ("state", ""), ("scope", "read"))
        )
        buttons = "".join(
            f'<li><button type="submit" name="identity" value="{esc(i.key)}">'
            f"{esc(i.last_name)} {esc(i.first_name)} (ΑΦΜ {esc(i.afm)})"
            f"{' — σφάλμα: ' + esc(i.fault) if i.fault else ''}</button></li>"
            for i in self.standin.identities
        )
        page = f"""<!DOCTYPE html>
<html lang="el"><head><meta charset="UTF-8"><title>Σύνδεση μέσω Taxisnet</title></head>
<body>
<h1>Σύνδεση μέσω Taxisnet</h1>
<p><strong>Περιβάλλον ανάπτυξης:</strong> αυτός δεν είναι ο πραγματικός διακομιστής της ΓΓΠΣ,
αλλά υποκατάστατο για ανάπτυξη και δοκιμές. Δεν απαιτούνται κωδικοί.</p>
<p>Η εφαρμογή <strong>{esc(params["client_id"])}</strong> ζητά πρόσβαση στα βασικά στοιχεία
μητρώου σας (ΑΦΜ, ονοματεπώνυμο, πατρώνυμο, μητρώνυμο, έτος γέννησης).</p>
<form method="post" action="{PREFIX}/oauth/authorize">{hidden}
<p>Επιλέξτε χρήστη για να εγκρίνετε την πρόσβαση:</p>
<ul>{buttons}</ul>
<button type="submit" name="decision" value="deny">Άρνηση</button>
</form>
</body></html>"""
        self._send(200, page, HTML_TYPE)

    def _authorize_decision(self) -> None:
        form = self._form()
        if form is None:
            self._oauth_error_page(400, "invalid_request", "Expected application/x-www-form-urlencoded")
            return
        if self._checked_client(form) is None:
            return
        redirect_uri, state = form["redirect_uri"], form.get("state", "")
        with_state = {"state": state} if state else {}
        if form.get("decision") == "deny":
            params = {"error": "access_denied", "error_description": "User denied access"}
            self._redirect(with_query(redirect_uri, {**params, **with_state}))
            return
        identity = self.standin.get_identity(form.get("identity", ""))
        if identity is None:
            self._oauth_error_page(400, "invalid_request", f"Unknown identity: {form.get('identity', '')}")
            return
        code = self.standin.issue_code(form["client_id"], redirect_uri, identity.key, form.get("scope") or "read")
        self._redirect(with_query(redirect_uri, {"code": code, **with_state}))

    # -- token -------------------------------------------------------------
    def _token(self) -> None:
        form = self._form()
        if form is None:
            self._json(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Content-Type must be application/x-www-form-urlencoded",
                },
            )
            return
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
                client_id, secret = unquote(user), unquote(password)
            except (ValueError, UnicodeDecodeError):
                client_id, secret = "", None
        client = self.standin.get_client(client_id)
        if client is None or secret is None or not secrets.compare_digest(client.secret, secret):
            self._json(
                401,
                {"error": "invalid_client", "error_description": "Bad client credentials"},
                {"WWW-Authenticate": 'Basic realm="oauth2/client"'},
            )
            return
        if form.get("grant_type") != "authorization_code":
            self._json(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": f"Unsupported grant type: {form.get('grant_type', '')}",
                },
            )
            return
        code = form.get("code", "")
        issued = self.standin.redeem_code(code, client.client_id, form.get("redirect_uri", ""))
        if issued is None:
            self._json(400, {"error": "invalid_grant", "error_description": f"Invalid authorization code: {code}"})
            return
        token, grant = issued
        self._json(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "refresh_token": secrets.token_urlsafe(32),
                "expires_in": int(self.standin.token_ttl_seconds),
                "scope": grant.scope,
            },
        )

    # -- userinfo ----------------------------------------------------------
    def _userinfo(self, query: dict[str, str]) -> None:
        auth = self.headers.get("Authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else query.get("access_token", "")
        if not token:
            self._json(
                401,
                {
                    "error": "unauthorized",
                    "error_description": "Full authentication is required to access this resource",
                },
                {"WWW-Authenticate": 'Bearer realm="oauth2-resource"'},
            )
            return
        grant, expired = self.standin.lookup_token(token)
        identity = self.standin.get_identity(grant.identity_key) if grant else None
        if grant is None or expired or identity is None:
            what = "Access token expired" if expired else "Invalid access token"
            error = {"error": "invalid_token", "error_description": f"{what}: {token}"}
            self._json(
                401,
                error,
                {
                    "WWW-Authenticate": f'Bearer realm="oauth2-resource", error="invalid_token", '
                    f'error_description="{what}"'
                },
            )
            return
        if identity.fault == "json_error":  # the real quirk: HTTP 200, JSON error, XML was asked for
            self._json(200, {"error": "invalid_token", "error_description": f"Invalid access token: {token}"})
        elif identity.fault == "malformed_xml":
            xml = render_userinfo_xml(identity)
            self._send(200, xml[: xml.index("taxid=") + 10], XML_TYPE)
        elif identity.fault in ("xml_bomb", "xxe"):
            self._send(200, render_hostile_xml(identity, identity.fault), XML_TYPE)
        elif identity.fault == "http_500":
            self._send(
                500,
                "<html><head><title>Error 500</title></head><body><h1>HTTP Status 500 - "
                "Internal Server Error</h1></body></html>",
                HTML_TYPE,
            )
        else:
            self._send(200, render_userinfo_xml(identity), XML_TYPE)

    # -- logout ------------------------------------------------------------
    def _logout(self, client_id: str, query: dict[str, str]) -> None:
        if self.standin.get_client(client_id) is None:
            self._oauth_error_page(400, "invalid_client", f"Unknown client: {client_id}")
        elif not query.get("url"):
            self._oauth_error_page(400, "invalid_request", "Missing url parameter")
        else:
            self._redirect(query["url"])

    # -- admin (dev/test only) ---------------------------------------------
    def _list_identities(self) -> None:
        self._json(200, [i.to_json() for i in self.standin.identities])

    def _create_identity(self) -> None:
        try:
            payload = json.loads(self._read_body().decode("utf-8"))
            known = {f.name for f in dataclasses.fields(Identity)}
            if not isinstance(payload, dict) or set(payload) - known:
                raise ValueError(f"expected a JSON object with fields {sorted(known)}")
            identity = self.standin.add_identity(Identity(**payload))
        except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
            self._json(400, {"error": "invalid_request", "error_description": str(exc)})
            return
        self._json(201, identity.to_json())


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in in the foreground until SIGINT/SIGTERM."""
    args = parse_cli(
        argv,
        prog="python -m standins.gsis",
        description=__doc__.splitlines()[0],
        port=8001,
        client_secret="mitroo-dev-secret",
        redirect_uri="http://127.0.0.1:8000/realms/eiep/gsis/callback",
    )
    standin = GsisStandIn(args.host, args.port, quiet=args.quiet)
    standin.add_client(args.client_id, args.client_secret, args.redirect_uris)
    standin.run_until_signalled("GSIS stand-in")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
