"""Country and language names in the page's language, for choices and for display (SPEC
§2.12: «Country choices show country names, not codes»).

The names come from Babel, which ships the Unicode CLDR's display names, rather than
from a list written here: a renamed country (Türkiye, North Macedonia, Czechia) changes
with the package, and every name has its Greek form (Τουρκία, Ισπανικά), which the
iso-codes translations that pycountry ships lack for several of these. Babel reads a
locale's data on first use; this module imports it inside the functions, so
``import app`` pays nothing (SPEC §5) and the first page that lists countries pays about
ten milliseconds once per process and language.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from chalicelib.domain.identity import comparable

PROJECT_LANGUAGES = frozenset(
    # The EU's official languages, then those of the other eTwinning countries.
    "bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv "
    "sq bs mk sr tr uk no is hy az ka ar ru".split()
)
"""ISO 639-1 codes a project's working language is chosen from."""


@functools.cache
def _locale(language: str) -> object:
    from babel import Locale

    return Locale.parse(language)


def country_name(code: str, language: str) -> str:
    """The name of the ISO 3166-1 alpha-2 ``code`` in ``language``; the code itself for
    an unknown one."""
    territories: Mapping[str, str] = _locale(language).territories  # type: ignore[attr-defined]
    return territories.get((code or "").upper(), code)


def country_choices(codes: Iterable[str], language: str) -> list[tuple[str, str]]:
    """``(code, name)`` pairs in the alphabetical order of the names in ``language``
    (accents and case ignored, so «Ελλάδα» sorts among the Ε)."""
    return _by_name((code, country_name(code, language)) for code in set(codes))


def language_name(code: str, language: str) -> str:
    """The name of the ISO 639-1 ``code`` in ``language``; the code itself if unknown."""
    languages: Mapping[str, str] = _locale(language).languages  # type: ignore[attr-defined]
    return languages.get((code or "").lower(), code)


def language_choices(language: str) -> list[tuple[str, str]]:
    """The languages a project may work in, ``(code, name)`` by name in ``language``."""
    return _by_name((code, language_name(code, language)) for code in PROJECT_LANGUAGES)


def _by_name(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(pairs, key=lambda pair: (comparable(pair[1]), pair[0]))
