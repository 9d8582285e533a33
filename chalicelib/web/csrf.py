"""CSRF defences for browser form posts.

Two layers (OWASP CSRF cheat sheet): browsers send ``Origin`` (and ``Sec-Fetch-Site``)
on every POST, so a post from a foreign origin is refused outright; and every form we
render carries a token that must equal the ``mitroo_csrf`` cookie (double submit). The
cookie is ``SameSite=Lax``, so a cross-site post cannot carry it either. API clients that
send JSON without those browser headers are unaffected.
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


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check(request: Any) -> None:
    """Refuse a state-changing request that a foreign site could have forged."""
    if (request.headers.get("sec-fetch-site") or "").lower() == "cross-site":
        raise InputProblem("forbidden", "Cross-site requests are not accepted.")
    origin = request.headers.get("origin")
    if origin and origin != "null" and _origin(origin) != _origin(get_settings().public_url):
        raise InputProblem("forbidden", "Requests from other sites are not accepted.")
    if not is_form(request.headers):
        return
    cookie = read_cookie(request, COOKIE)
    token = raw_fields(request).get(FIELD)
    if (cookie or token) and not (cookie and token and hmac.compare_digest(str(cookie), str(token))):
        raise InputProblem("forbidden", "The form has expired; reload the page and try again.")


def token_for(request: Any) -> tuple[str, str | None]:
    """The CSRF token for a form on this page, and a Set-Cookie if a new one was minted."""
    existing = read_cookie(request, COOKIE)
    if existing and len(existing) >= 32:
        return existing, None
    token = secrets.token_urlsafe(32)
    return token, build_cookie(COOKIE, token, path="/", http_only=True)
