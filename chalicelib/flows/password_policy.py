"""Password policies of the realms: composition (e-IEP) and strength (NTUA).

Pure functions, shared by registration, resets and the live strength meter
(``password-checks``). zxcvbn and its dictionaries load only when a strength policy is
first checked, to keep the API's cold start small (SPEC §5).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, field

from chalicelib.realms import CompositionPolicy, StrengthPolicy

ZXCVBN_MAX_LENGTH = 72

_MESSAGES = {
    "too_short": "must be at least {min} characters long",
    "too_long": "must be at most {max} characters long",
    "missing_lowercase": "must contain a lower-case Latin letter",
    "missing_uppercase": "must contain an upper-case Latin letter",
    "missing_digit": "must contain a digit",
    "missing_symbol": "must contain one of {symbols}",
    "invalid_characters": "may contain only Latin letters, digits and {symbols}",
    "too_guessable": "is too easy to guess",
}


@dataclass(frozen=True)
class PolicyResult:
    """Outcome of checking one password; ``violations`` are stable codes."""

    acceptable: bool
    score: int
    violations: tuple[str, ...]
    messages: tuple[str, ...]
    feedback: dict[str, object] = field(default_factory=dict)


def check_password(
    policy: CompositionPolicy | StrengthPolicy, password: str, user_inputs: Sequence[str] = ()
) -> PolicyResult:
    """Check ``password`` against ``policy``; ``user_inputs`` are names, e-mail, username."""
    if isinstance(policy, CompositionPolicy):
        violations = _composition_violations(policy, password)
        score = _composition_score(policy, password, violations)
        feedback: dict[str, object] = {}
    else:
        violations, score, feedback = _strength_violations(policy, password, user_inputs)
    params = {"min": policy.min_length, "max": policy.max_length, "symbols": getattr(policy, "symbols", "")}
    messages = tuple("Password " + _MESSAGES[code].format(**params) + "." for code in violations)
    return PolicyResult(not violations, score, tuple(violations), messages, feedback)


def _composition_violations(policy: CompositionPolicy, password: str) -> list[str]:
    violations = []
    if len(password) < policy.min_length:
        violations.append("too_short")
    if len(password) > policy.max_length:
        violations.append("too_long")
    checks = (
        (policy.require_lowercase, string.ascii_lowercase, "missing_lowercase"),
        (policy.require_uppercase, string.ascii_uppercase, "missing_uppercase"),
        (policy.require_digit, string.digits, "missing_digit"),
        (policy.require_symbol, policy.symbols, "missing_symbol"),
    )
    for required, alphabet, code in checks:
        if required and not any(char in alphabet for char in password):
            violations.append(code)
    if policy.latin_only:
        allowed = set(string.ascii_letters + string.digits + policy.symbols)
        if any(char not in allowed for char in password):
            violations.append("invalid_characters")
    return violations


def _composition_score(policy: CompositionPolicy, password: str, violations: list[str]) -> int:
    """A 0–4 meter value for composition realms: how many of the rules already hold."""
    if not password:
        return 0
    rules = 6
    return round(4 * (rules - min(len(violations), rules)) / rules)


def _strength_violations(
    policy: StrengthPolicy, password: str, user_inputs: Sequence[str]
) -> tuple[list[str], int, dict[str, object]]:
    from zxcvbn import zxcvbn  # heavy dictionaries: load on first use only

    violations = []
    if len(password) < policy.min_length:
        violations.append("too_short")
    if len(password) > policy.max_length:
        violations.append("too_long")
    if not password:  # nothing typed yet: the lowest score, as zxcvbn cannot score "" (it fails inside)
        if policy.min_score > 0:
            violations.append("too_guessable")
        return violations, 0, {"warning": "", "suggestions": []}
    # zxcvbn refuses input over 72 characters (and is quadratic in length). Scoring the
    # first 72 can only underestimate a longer passphrase, the safe direction; past 72
    # characters any passphrase that is not a repetition scores 4 anyway.
    result = zxcvbn(
        password[:ZXCVBN_MAX_LENGTH], user_inputs=[value[:ZXCVBN_MAX_LENGTH] for value in user_inputs if value]
    )
    score = int(result["score"])
    if score < policy.min_score:
        violations.append("too_guessable")
    feedback = {
        "warning": result["feedback"].get("warning", ""),
        "suggestions": list(result["feedback"].get("suggestions", [])),
    }
    return violations, score, feedback
