"""Random values from the operating system's CSPRNG."""

from __future__ import annotations

import secrets
import uuid


class SystemSecrets:
    TOKEN_BYTES = 32
    """256 bits: comfortably above SPEC §1's 128-bit floor for links, flows and tokens."""

    CODE_DIGITS = 6

    def token(self) -> str:
        return secrets.token_urlsafe(self.TOKEN_BYTES)

    def code(self) -> str:
        return f"{secrets.randbelow(10**self.CODE_DIGITS):0{self.CODE_DIGITS}d}"

    def identifier(self) -> str:
        return uuid.uuid4().hex
