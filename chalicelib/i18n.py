"""Message catalogues: every text a person reads, pages and e-mails, in Greek and English.

Texts live in ``chalicelib/messages/{el,en}.toml`` by key (``t("login.title")``), so a
translation is a data change and a missing one is caught by a test that compares the
catalogues with the keys the templates use. Standard library only: the mail renderer
and the web pages both use it.
"""

from __future__ import annotations

import functools
import logging
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

log = logging.getLogger(__name__)

LANGUAGES = ("el", "en")
DEFAULT = "el"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@functools.cache
def catalogue(language: str) -> Mapping[str, str]:
    """The catalogue of ``language``, flattened to dotted keys (``login.title``)."""
    if language not in LANGUAGES:
        raise LookupError(f"no catalogue for {language!r}")
    text = resources.files("chalicelib").joinpath("messages", f"{language}.toml").read_text("utf-8")
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
