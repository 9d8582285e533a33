"""How secrets are stored: only as SHA-256 fingerprints (SPEC §1)."""

from __future__ import annotations

import hashlib
import hmac


def fingerprint(secret: str) -> str:
    """Hex SHA-256 of a high-entropy secret (tokens, flow ids, OAuth states).

    Plain SHA-256 is right for 128-bit random values: there is nothing to brute-force.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def code_fingerprint(code: str, *, salt: str) -> str:
    """Fingerprint of a short typed code, salted with the challenge's token hash.

    Codes are short, so a stored unsalted hash could be reversed by enumeration; binding
    it to the per-challenge token hash makes a table of all codes useless.
    """
    return hmac.new(salt.encode("ascii"), code.strip().encode("utf-8"), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two fingerprints."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
