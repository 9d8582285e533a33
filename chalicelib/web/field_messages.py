"""Field messages in the page's language.

The API's field messages are English sentences written for developers (from pydantic,
email-validator and the flows); a person filling a Greek form should read Greek. Where
a problem says precisely what is wrong (password rules as violation codes, an invalid
e-mail, two different passwords) the page says it from the catalogue; a few common
sentences are recognised by pattern; anything else is shown as the API wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.i18n import Translator

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(field required|is required)$", re.IGNORECASE), "field_errors.required"),
    (re.compile(r"^string should have at most (?P<n>\d+) characters?$", re.IGNORECASE), "field_errors.too_long"),
    (re.compile(r"^string should have at least (?P<n>\d+) characters?$", re.IGNORECASE), "field_errors.too_short"),
    (re.compile(r"^does not match the password$", re.IGNORECASE), "field_errors.mismatch"),
)


def localise(
    translate: Translator,
    code: str,
    errors: Mapping[str, Sequence[str]],
    *,
    violations: Sequence[str] = (),
    policy: Any = None,
) -> dict[str, list[str]]:
    """``errors`` with each message in ``translate``'s language where we know how."""
    shown: dict[str, list[str]] = {}
    for field, messages in errors.items():
        if code == "password_policy" and violations and field == "password":
            params = {
                "min": getattr(policy, "min_length", ""),
                "max": getattr(policy, "max_length", ""),
                "symbols": getattr(policy, "symbols", ""),
            }
            needs = ", ".join(translate(f"meter.{violation}", **params) for violation in violations)
            shown[field] = [translate("field_errors.password_needs", needs=needs)]
        elif code == "invalid_email":
            shown[field] = [translate("field_errors.invalid_email")]
        else:
            shown[field] = [_sentence(translate, message) for message in messages]
    return shown


def _sentence(translate: Translator, message: str) -> str:
    for pattern, key in _PATTERNS:
        match = pattern.match(message.strip())
        if match:
            return translate(key, **match.groupdict())
    return message
