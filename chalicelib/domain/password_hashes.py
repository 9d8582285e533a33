"""Password hashes in their standard string forms (PHC for argon2, modular crypt for bcrypt).

Shared by the legacy import (which validates hashes an operator hands over) and the
password hasher adapter (which routes a stored hash to the right library): plain
functions of the string, no hashing library needed to recognise one.
"""

from __future__ import annotations

import re
from typing import Literal

_B64 = r"[A-Za-z0-9+/]+={0,2}"
_ARGON2 = re.compile(
    rf"\$argon2(?:id|i|d)\$(?:v=(?:16|19)\$)?m=(?P<m>[0-9]{{1,10}}),t=(?P<t>[0-9]{{1,10}}),p=(?P<p>[0-9]{{1,10}})\${_B64}\${_B64}"
)
_BCRYPT = re.compile(r"\$2[aby]\$(?P<cost>[0-9]{2})\$[./A-Za-z0-9]{53}")

# Bounds on the work a stored hash may ask for. A hash arrives in an operator's file and
# is then verified on every login attempt, so an absurd cost (bcrypt 31, argon2 with
# gigabytes or thousands of passes) would let each attempt tie up a Lambda. Real
# deployments of the old registry used far less; such a row is rejected, and its owner
# resets their password instead.
ARGON2_MAX_MEMORY_KIB = 1024 * 1024
ARGON2_MAX_TIME_COST = 64
ARGON2_MAX_PARALLELISM = 64
BCRYPT_COSTS = range(4, 17)

HashScheme = Literal["argon2", "bcrypt"]


def hash_scheme(text: str) -> HashScheme | None:
    """Which algorithm a hash string in standard (PHC / modular crypt) form belongs to.

    Only the shape is checked, so the password hasher can route a stored hash to the
    right library without trying each in turn; ``None`` for anything else.
    """
    if _BCRYPT.fullmatch(text):
        return "bcrypt"
    if _ARGON2.fullmatch(text):
        return "argon2"
    return None


def is_supported_hash(text: str) -> bool:
    """True for an argon2 (``$argon2id$``, ``$argon2i$``, ``$argon2d$``) or bcrypt
    (``$2a$``, ``$2b$``, ``$2y$``) hash in its standard string form, at a cost that a login
    can afford to verify (see the bounds above).

    A pure function rather than a call into the hasher adapter: flows never import
    adapters, and validating an import file needs no hashing library.
    """
    bcrypt = _BCRYPT.fullmatch(text)
    if bcrypt:
        return int(bcrypt["cost"]) in BCRYPT_COSTS
    argon2 = _ARGON2.fullmatch(text)
    if argon2:
        memory, time_cost, parallelism = int(argon2["m"]), int(argon2["t"]), int(argon2["p"])
        return (
            1 <= parallelism <= ARGON2_MAX_PARALLELISM
            and 8 * parallelism <= memory <= ARGON2_MAX_MEMORY_KIB
            and 1 <= time_cost <= ARGON2_MAX_TIME_COST
        )
    return False
