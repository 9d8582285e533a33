"""The pages' language: the choice between the catalogues (``chalicelib/i18n.py``).

The language is, in this order: ``?lang=`` (remembered in a cookie for a year), that
cookie, the browser's ``Accept-Language``, and the realm's default (Greek): the people
these services are for are at Greek schools and universities, and some of them read
only English.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from chalicelib.i18n import DEFAULT, LANGUAGES, Translator, catalogue
from chalicelib.web.cookies import build_cookie, read_cookie

__all__ = [
    "COOKIE",
    "DEFAULT",
    "LANGUAGES",
    "Translator",
    "accepted_languages",
    "catalogue",
    "choose_language",
    "switch_url",
]

COOKIE = "mitroo_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def choose_language(request: Any, allowed: Sequence[str] = LANGUAGES, default: str = DEFAULT) -> tuple[str, str | None]:
    """The page language, and a Set-Cookie to remember an explicit choice (or None)."""
    allowed = [language for language in allowed if language in LANGUAGES] or [DEFAULT]
    chosen = ((request.query_params or {}).get("lang") or "").strip().lower()
    if chosen in allowed:
        return chosen, build_cookie(COOKIE, chosen, path="/", max_age=COOKIE_MAX_AGE, http_only=True)
    remembered = (read_cookie(request, COOKIE) or "").strip().lower()
    if remembered in allowed:
        return remembered, None
    for language in accepted_languages(request.headers.get("accept-language") or ""):
        if language in allowed:
            return language, None
    return (default if default in allowed else allowed[0]), None


def accepted_languages(header: str) -> list[str]:
    """Primary language tags of an ``Accept-Language`` header, most wanted first."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q=([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and primary != "*" and quality > 0:
            weighted.append((-quality, position, primary))
    return [language for _, _, language in sorted(weighted)]


def switch_url(request: Any, language: str) -> str:
    """This page in ``language``: same path and query, ``lang`` replaced."""
    context = request.context or {}
    path = str(context.get("path") or "/")
    query = {key: value for key, value in (request.query_params or {}).items() if key != "lang"}
    query["lang"] = language
    return f"{path}?{urlencode(query)}"
