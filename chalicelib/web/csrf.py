"""CSRF defences: the origin check on every state-changing request, and the double-submit
token on every browser form post.

1. **Origin** (OWASP CSRF cheat sheet, Fetch Metadata): a browser says where a request
   comes from. Every method other than GET/HEAD/OPTIONS — body-less POSTs and DELETEs
   authenticated by the session cookie included — is refused when ``Sec-Fetch-Site`` is
   ``cross-site`` or ``same-site`` (a sibling subdomain: ``SameSite=Lax`` cookies travel
   there), or when ``Origin`` names another origin than ``MITROO_PUBLIC_URL``'s. ``Origin:
   null`` is not refused here: our own pages send it, because they ask for
   ``Referrer-Policy: no-referrer`` and the Fetch standard then nulls the Origin of POSTs.
2. **Token**: every form we render carries a token that must equal the ``mitroo_csrf``
   cookie (double submit; the cookie is HttpOnly and ``SameSite=Lax``). A browser form
   post must carry both — one with neither is refused too (a forged login would
   otherwise sign the victim in as the attacker).

Who is a browser: a form post that accepts ``text/html`` (every form navigation), or sends
``Origin`` or ``Sec-Fetch-*``, or carries a cookie. A forged request always comes from a
victim's browser, and browsers send at least one of those; a script posting a form with
none of them (SPEC §1 lets API clients post forms) cannot be a forgery. A request with
``Authorization: Bearer`` is not checked for the token either: browsers never attach that
header on their own, and a foreign page cannot set it without a CORS preflight, which
this API never grants.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from chalicelib.settings import get_settings
from chalicelib.web.cookies import build_cookie, read_cookie
from chalicelib.web.inputs import is_form, raw_fields
from chalicelib.web.problems import InputProblem

COOKIE = "mitroo_csrf"
FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FOREIGN_SITES = frozenset({"cross-site", "same-site"})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check(request: Any) -> None:
    """Refuse a state-changing request that a foreign site could have forged (a no-op
    for safe methods)."""
    if str(request.method or "GET").upper() in SAFE_METHODS:
        return
    check_origin(request)
    if not is_form(request.headers) or _bearer(request) or not from_browser(request):
        return
    check_token(request, raw_fields(request).get(FIELD))


def check_origin(request: Any) -> None:
    """Refuse a request another site's page sent (see the module's 1.)."""
    headers = request.headers
    if (headers.get("sec-fetch-site") or "").lower() in _FOREIGN_SITES:
        raise InputProblem("forbidden", "Requests from other sites are not accepted.")
    origin = headers.get("origin")
    if origin and origin != "null" and _origin(origin) != _origin(get_settings().public_url):
        raise InputProblem("forbidden", "Requests from other sites are not accepted.")


def check_token(request: Any, token: object) -> None:
    """Refuse unless the form's ``token`` equals the CSRF cookie (both present)."""
    cookie = read_cookie(request, COOKIE)
    if not (cookie and token and hmac.compare_digest(str(cookie), str(token))):
        raise InputProblem("forbidden", "The form has expired; reload the page and try again.")


def from_browser(request: Any) -> bool:
    """Whether a request shows any sign of coming from a browser (see the module's doc)."""
    headers = request.headers
    return bool(
        "text/html" in (headers.get("accept") or "")
        or headers.get("origin")
        or headers.get("sec-fetch-site")
        or headers.get("sec-fetch-mode")
        or headers.get("cookie")
    )


def _bearer(request: Any) -> bool:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def token_for(request: Any) -> tuple[str, str | None]:
    """The CSRF token for a form on this page, and a Set-Cookie if a new one was minted."""
    existing = read_cookie(request, COOKIE)
    if existing and len(existing) >= 32:
        return existing, None
    token = secrets.token_urlsafe(32)
    return token, build_cookie(COOKIE, token, path="/", http_only=True)
