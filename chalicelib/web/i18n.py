"""The pages' languages: message catalogues (Greek and English) and the choice between them.

Every text a page shows comes from ``web/messages/{el,en}.toml`` by key (``t("login.title")``),
so a translation is a data change and a missing one is caught by a test that compares the
catalogues with the keys the templates use. The language is, in this order: ``?lang=``
(remembered in a cookie for a year), that cookie, the browser's ``Accept-Language``, and
the realm's default (Greek): the people these services are for are at Greek schools and
universities, and some of them read only English.
"""

from __future__ import annotations

import functools
import logging
import re
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from chalicelib.web.cookies import build_cookie, read_cookie

log = logging.getLogger(__name__)

LANGUAGES = ("el", "en")
DEFAULT = "el"
COOKIE = "mitroo_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@functools.cache
def catalogue(language: str) -> Mapping[str, str]:
    """The catalogue of ``language``, flattened to dotted keys (``login.title``)."""
    if language not in LANGUAGES:
        raise LookupError(f"no catalogue for {language!r}")
    text = resources.files("chalicelib.web").joinpath("messages", f"{language}.toml").read_text("utf-8")
    flat: dict[str, str] = {}

    def walk(prefix: str, table: Mapping[str, Any]) -> None:
        for key, value in table.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, Mapping):
                walk(name, value)
            else:
                flat[name] = str(value)

    walk("", tomllib.loads(text))
    return flat


class Translator:
    """``t(key, **values)``: the text of ``key`` in one language, with ``{name}`` filled in.

    A key missing from the language falls back to Greek, then to the key itself (and a
    warning): a page never fails for a missing translation, and the tests catch it.
    """

    def __init__(self, language: str) -> None:
        self.language = language
        self._messages = catalogue(language)

    def __call__(self, key: str, **values: Any) -> str:
        text = self._messages.get(key)
        if text is None:
            log.warning("no %s text for %s", self.language, key)
            text = catalogue(DEFAULT).get(key, key)
        if values:
            return _PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), match.group(0))), text)
        return text

    def has(self, key: str) -> bool:
        return key in self._messages


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
