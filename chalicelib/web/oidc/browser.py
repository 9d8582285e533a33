"""The browser's single sign-on session at a realm, and coming back after signing in.

The SSO cookie (``mitroo_sso``, ``Path=/realms/{r}``: one session per realm and browser)
carries ``<account>.<session>.<secret>`` and lives as long as the session may (30 days
by default). It is ``HttpOnly`` and ``SameSite=Lax``: an application's top-level
redirect to the authorization endpoint carries it, a cross-site form post does not.
The access-token cookie of the pages stays as short as before (15 minutes); the SSO
cookie proves nothing by itself, only together with the session it names, which is
checked (live, not revoked, this browser's secret) on every use.

``next``: a sign-in page that was opened for an authorization request gets the request
back as ``next`` (a path of the same realm, checked here), and returns the browser to it
once the session exists. EU Login realms keep it in a short cookie across the round
trip to EU Login instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from chalicelib.domain.tokens import SessionFamily, browser_session_value, parse_browser_cookie
from chalicelib.flows.sessions import TokenPair
from chalicelib.realms import RealmConfig
from chalicelib.web.cookies import build_cookie, expire_cookie, read_cookie

SSO_COOKIE = "mitroo_sso"
NEXT_COOKIE = "mitroo_next"
NEXT_LIFETIME = 15 * 60
MAX_NEXT = 4096


def sso_path(realm: RealmConfig) -> str:
    return f"/realms/{realm.id}"


def sso_cookies(realm: RealmConfig, pair: TokenPair) -> list[str]:
    if not pair.browser_session:
        return []
    return [build_cookie(SSO_COOKIE, pair.browser_session, path=sso_path(realm), max_age=pair.session_expires_in)]


def renewed_sso_cookies(request: object, realm: RealmConfig, session: SessionFamily | None) -> list[str]:
    """The SSO cookie again, after ``session`` passed one more factor in this browser (a
    second factor enrolled, a re-authentication): the cookie carries the session's
    ``auth_time`` and ``amr``, and an application's code is issued in one write only while
    they are the session's. Same secret; only when the browser's cookie names this very
    session (an API client's bearer session leaves the browser's cookie alone)."""
    cookie = parse_browser_cookie(browser_session(request, realm))
    if session is None or cookie is None or session.auth_time is None:
        return []
    if (cookie.account_id, cookie.session_id) != (session.account_id, session.family_id):
        return []
    value = browser_session_value(cookie.account_id, cookie.session_id, cookie.secret, session)
    max_age = int((session.expires_at - session.auth_time).total_seconds())  # auth_time is now
    return [build_cookie(SSO_COOKIE, value, path=sso_path(realm), max_age=max_age)] if max_age > 0 else []


def clear_sso_cookie(realm: RealmConfig) -> str:
    return expire_cookie(SSO_COOKIE, path=sso_path(realm))


def browser_session(request: object, realm: RealmConfig) -> str | None:
    del realm  # the cookie's path already scopes it to the realm
    return read_cookie(request, SSO_COOKIE)


def safe_next(realm: RealmConfig, value: str | None) -> str | None:
    """``value`` if it is a path of this realm's pages (never another site, never a
    scheme, no ``//`` or ``\\`` that a browser might read as a host); else None."""
    if not value or len(value) > MAX_NEXT:
        return None
    if any(ord(character) < 0x20 or character == "\\" for character in value):
        return None
    if not value.startswith(f"/realms/{realm.id}/") or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "//" in parts.path or "/../" in parts.path or parts.path.endswith("/.."):
        return None
    return value


def next_cookie(realm: RealmConfig, next_url: str) -> str:
    return build_cookie(NEXT_COOKIE, quote(next_url, safe=""), path=sso_path(realm), max_age=NEXT_LIFETIME)


def take_next(request: object, realm: RealmConfig) -> tuple[str | None, list[str]]:
    """The ``next`` kept in the cookie (checked again) and the Set-Cookie that clears it."""
    stored = read_cookie(request, NEXT_COOKIE)
    if stored is None:
        return None, []
    return safe_next(realm, unquote(stored)), [expire_cookie(NEXT_COOKIE, path=sso_path(realm))]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def continuation_targets(flows: Any, realm: RealmConfig, next_url: str | None) -> tuple[str, ...]:
    """The origin of the redirect URI an authorization request in ``next`` will end at,
    if the client registered it: the sign-in form's post may lead there through redirects,
    which the page's ``form-action`` must allow (browsers check the whole chain)."""
    if not next_url or not next_url.startswith(f"/realms/{realm.id}/oidc/authorize?"):
        return ()
    params = dict(parse_qsl(urlsplit(next_url).query))
    client = flows.oidc.authorization.client(realm, params.get("client_id"))
    if client is None:
        return ()
    uri = params.get("redirect_uri") or (client.redirect_uris[0] if len(client.redirect_uris) == 1 else "")
    return (origin(uri),) if uri in client.redirect_uris else ()
