"""``make run``'s demo application: "Sign in with Mitroo" on http://127.0.0.1:8003.

Two small applications per realm (``a`` and ``b``), each a confidential OpenID client
registered at start with its redirect URI, post-logout URI and back-channel logout URI
on this server. A person signs in to one through the realm (password or EU Login, then
consent), and to the second without a password: that is single sign-on. The page shows
the ID token's and userinfo's claims. "Sign out" ends the realm session (RP-Initiated
Logout); the realm then tells every application of that session (Back-Channel Logout),
so the other one shows signed out too.

It is a relying party written the plain way, with authlib's client: PKCE S256, state and
nonce kept server-side, the ID token checked against the realm's published keys (issuer,
audience, expiry, nonce), logout tokens checked the same way (plus ``events`` and no
``nonce``). Sessions live in this process's memory; nothing here is for production.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

APPS = ("a", "b")
APP_NAMES = {"a": "Demo application", "b": "Second demo application"}
REALMS = ("eiep", "ntua", "esep")
SCOPES = {
    "eiep": "openid profile email",
    "ntua": "openid profile email affiliation",
    "esep": "openid profile email etwinning",
}
REALM_SCOPE = {"eiep": (), "ntua": ("affiliation",), "esep": ("etwinning",)}
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass
class App:
    realm: str
    name: str
    client_id: str
    client_secret: str
    base: str
    """This server's URL (redirect URIs are under it)."""

    @property
    def key(self) -> str:
        return f"{self.realm}/{self.name}"

    @property
    def redirect_uri(self) -> str:
        return f"{self.base}/{self.key}/callback"


@dataclass
class DemoRp:
    public_url: str
    base: str
    apps: dict[str, App] = field(default_factory=dict)
    pending: dict[str, dict[str, str]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Local session id → the signed-in person (claims, userinfo, ID token, sid)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _metadata: dict[str, dict[str, Any]] = field(default_factory=dict)

    def issuer(self, realm: str) -> str:
        return f"{self.public_url}/realms/{realm}"

    def metadata(self, realm: str) -> dict[str, Any]:
        if realm not in self._metadata:
            answer = requests.get(f"{self.issuer(realm)}/.well-known/openid-configuration", timeout=10)
            answer.raise_for_status()
            self._metadata[realm] = answer.json()
        return self._metadata[realm]

    def keys(self, realm: str) -> Any:
        from joserfc.jwk import KeySet

        return KeySet.import_key_set(requests.get(self.metadata(realm)["jwks_uri"], timeout=10).json())

    # -- the flow -------------------------------------------------------------------------

    def login_url(self, app: App, browser: str) -> str:
        from authlib.integrations.requests_client import OAuth2Session
        from authlib.oauth2.rfc7636 import create_s256_code_challenge

        verifier, state, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        with self._lock:
            self.pending[state] = {"verifier": verifier, "nonce": nonce, "app": app.key, "browser": browser}
        session = OAuth2Session(
            app.client_id, app.client_secret, scope=SCOPES[app.realm], redirect_uri=app.redirect_uri
        )
        url, _ = session.create_authorization_url(
            self.metadata(app.realm)["authorization_endpoint"],
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return str(url)

    def callback(self, app: App, query: dict[str, str], browser: str) -> str | None:
        """Exchange the code; the local session id, or None with the error shown."""
        from authlib.integrations.requests_client import OAuth2Session
        from joserfc import jwt

        with self._lock:
            pending = self.pending.pop(query.get("state", ""), None)
        if pending is None or pending["app"] != app.key or pending["browser"] != browser or "code" not in query:
            return None
        session = OAuth2Session(app.client_id, app.client_secret, redirect_uri=app.redirect_uri)
        metadata = self.metadata(app.realm)
        token = session.fetch_token(
            metadata["token_endpoint"],
            code=query["code"],
            code_verifier=pending["verifier"],
            grant_type="authorization_code",
        )
        decoded = jwt.decode(token["id_token"], self.keys(app.realm), algorithms=["RS256"])
        claims = dict(decoded.claims)
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.issuer(app.realm)},
            aud={"essential": True, "value": app.client_id},
            nonce={"essential": True, "value": pending["nonce"]},
            exp={"essential": True},
        ).validate(claims)
        userinfo = session.get(metadata["userinfo_endpoint"]).json()
        local = secrets.token_urlsafe(24)
        with self._lock:
            self.sessions[local] = {
                "app": app.key,
                "claims": claims,
                "userinfo": userinfo,
                "id_token": token["id_token"],
                "sid": claims.get("sid"),
            }
        return local

    def backchannel(self, app: App, logout_token: str) -> bool:
        """Verify a logout token (Back-Channel Logout 1.0 §2.6) and end its sessions."""
        from joserfc import jwt

        try:
            decoded = jwt.decode(logout_token, self.keys(app.realm), algorithms=["RS256"])
            claims = dict(decoded.claims)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer(app.realm)},
                aud={"essential": True, "value": app.client_id},
                iat={"essential": True},
                jti={"essential": True},
            ).validate(claims)
        except Exception:  # noqa: BLE001 - any defect: refuse the token
            return False
        if (
            decoded.header.get("typ") != "logout+jwt"
            or "nonce" in claims
            or LOGOUT_EVENT not in (claims.get("events") or {})
            or not (claims.get("sid") or claims.get("sub"))
        ):
            return False
        with self._lock:
            for local, held in list(self.sessions.items()):
                same_sid = claims.get("sid") and held["sid"] == claims["sid"]
                if held["app"] == app.key and (
                    same_sid or (not claims.get("sid") and held["claims"]["sub"] == claims["sub"])
                ):
                    del self.sessions[local]
        return True

    def end_session_url(self, app: App, local: str) -> str:
        with self._lock:
            held = self.sessions.pop(local, None)
        query = {
            "post_logout_redirect_uri": f"{self.base}/",
            "state": secrets.token_urlsafe(8),
            "client_id": app.client_id,
        }
        if held is not None:
            query["id_token_hint"] = held["id_token"]
        return f"{self.metadata(app.realm)['end_session_endpoint']}?{urlencode(query)}"


PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mitroo demo application</title>'
    "<style>body{{font-family:sans-serif;margin:2rem}}.apps{{display:flex;gap:2rem;flex-wrap:wrap}}"
    ".app{{border:1px solid #ccc;padding:1rem;min-width:22rem}}table{{border-collapse:collapse;font-size:.85rem}}"
    "th,td{{border:1px solid #ddd;padding:.2rem .4rem;text-align:left}}a.button{{background:#1d4ed8;color:#fff;"
    "padding:.4rem .8rem;text-decoration:none;border-radius:4px}}</style></head><body>"
    "<h1>Mitroo demo application</h1><p>Each realm is an OpenID Provider. Sign in to one application, then to "
    "the second: no password the second time (single sign-on). Signing out of one ends the realm session, and "
    "the realm tells the other (back-channel logout).</p>{blocks}</body></html>"
)


# --- registration ------------------------------------------------------------------------------


def register_demo_clients(base: str) -> dict[str, App]:
    """Register (or bring up to date, with a fresh secret) the demo clients of every realm,
    through the same registry as the operator CLI."""
    from dataclasses import replace

    from chalicelib.container import services
    from chalicelib.flows.oidc.clients import ClientRequest
    from chalicelib.realms import get_realm

    registry = services().flows.oidc.clients
    store = services().ports.oidc_clients
    apps: dict[str, App] = {}
    for realm_id in REALMS:
        realm = get_realm(realm_id)
        existing = {client.name: client for client in registry.list(realm)}
        for name in APPS:
            callback = f"{base}/{realm_id}/{name}/callback"
            wanted: dict[str, Any] = {
                "redirect_uris": (callback,),
                "post_logout_redirect_uris": (f"{base}/",),
                "backchannel_logout_uri": f"{base}/{realm_id}/{name}/backchannel",
            }
            client = existing.get(APP_NAMES[name])
            if client is None:
                registered = registry.register(
                    realm,
                    ClientRequest(name=APP_NAMES[name], scopes=REALM_SCOPE[realm_id], **wanted),
                    actor="operator:make-run",
                )
            else:
                store.save(replace(client, **wanted))
                registered = registry.rotate_secret(realm, client.client_id, actor="operator:make-run")
            assert registered.secret is not None
            app = App(realm_id, name, registered.client.client_id, registered.secret, base)
            apps[app.key] = app
    return apps


# --- HTTP --------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    rp: DemoRp
    _new_browser: str | None = None

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        segments = [segment for segment in parts.path.split("/") if segment]
        if not segments:
            self._page()
            return
        app = self.rp.apps.get("/".join(segments[:2]))
        if app is None or len(segments) != 3:
            self._send(404, "Not found")
            return
        if segments[2] == "login":
            self._redirect(self.rp.login_url(app, self._browser()))
        elif segments[2] == "callback":
            local = self.rp.callback(app, query, self._browser())
            if local is None:
                self._send(400, f"Sign-in failed: {html.escape(query.get('error', 'state or code missing'))}")
                return
            self._redirect(f"{self.rp.base}/", cookie=(f"demo_{app.realm}_{app.name}", local))
        else:
            self._send(404, "Not found")

    def do_POST(self) -> None:
        segments = [segment for segment in urlsplit(self.path).path.split("/") if segment]
        app = self.rp.apps.get("/".join(segments[:2]))
        length = int(self.headers.get("Content-Length") or 0)
        form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
        if app is None or len(segments) != 3:
            self._send(404, "Not found")
        elif segments[2] == "backchannel":
            ok = self.rp.backchannel(app, form.get("logout_token", ""))
            self._send(200 if ok else 400, "")
        elif segments[2] == "logout":
            local = self._cookies().get(f"demo_{app.realm}_{app.name}", "")
            self._redirect(self.rp.end_session_url(app, local))
        else:
            self._send(404, "Not found")

    # -- rendering ------------------------------------------------------------------------

    def _page(self) -> None:
        cookies = self._cookies()
        blocks = []
        for realm in REALMS:
            cells = [self._app_cell(realm, name, cookies) for name in APPS]
            blocks.append(f'<h2>{realm}</h2><div class="apps">{"".join(cells)}</div>')
        page = PAGE.format(blocks="".join(blocks))
        self._send(200, page, content_type="text/html; charset=utf-8")

    def _app_cell(self, realm: str, name: str, cookies: dict[str, str]) -> str:
        held = self.rp.sessions.get(cookies.get(f"demo_{realm}_{name}", ""))
        if held is None:
            body = (
                '<p data-state="signed-out">Not signed in.</p>'
                f'<p><a class="button" href="/{realm}/{name}/login">Sign in with Mitroo</a></p>'
            )
        else:
            claims = {**held["claims"], **{f"userinfo.{k}": v for k, v in held["userinfo"].items()}}
            rows = "".join(
                f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(json.dumps(value, ensure_ascii=False))}</td>"
                "</tr>"
                for key, value in claims.items()
            )
            who = html.escape(str(held["userinfo"].get("email") or held["claims"]["sub"]))
            body = (
                f'<p data-state="signed-in">Signed in as <strong>{who}</strong></p>'
                f'<table class="claims">{rows}</table>'
                f'<form method="post" action="/{realm}/{name}/logout"><button type="submit">Sign out</button></form>'
            )
        title = html.escape(APP_NAMES[name])
        return f'<section class="app" id="{realm}-{name}"><h3>{title}</h3>{body}</section>'

    # -- plumbing -------------------------------------------------------------------------

    def _cookies(self) -> dict[str, str]:
        jar = SimpleCookie(self.headers.get("Cookie") or "")
        return {key: morsel.value for key, morsel in jar.items()}

    def _browser(self) -> str:
        """This browser's id (a cookie), minted on its first visit."""
        known = self._cookies().get("demo_browser") or self._new_browser
        if not known:
            self._new_browser = known = secrets.token_urlsafe(16)
        return known

    def _redirect(self, location: str, cookie: tuple[str, str] | None = None) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        if cookie is not None:
            self.send_header("Set-Cookie", f"{cookie[0]}={cookie[1]}; Path=/; HttpOnly; SameSite=Lax")
        self._browser_cookie()
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-store")
        self._browser_cookie()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _browser_cookie(self) -> None:
        self._browser()
        if self._new_browser:
            self.send_header("Set-Cookie", f"demo_browser={self._new_browser}; Path=/; HttpOnly; SameSite=Lax")

    def log_message(self, format: str, *args: Any) -> None:
        return


def serve(public_url: str, port: int) -> ThreadingHTTPServer:
    """Register the demo clients and serve the demo application in a thread."""
    base = f"http://127.0.0.1:{port}"
    rp = DemoRp(public_url=public_url, base=base)
    rp.apps = register_demo_clients(base)
    handler = type("DemoHandler", (_Handler,), {"rp": rp})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, name="demo-rp", daemon=True).start()
    time.sleep(0)  # let the thread start
    return server
