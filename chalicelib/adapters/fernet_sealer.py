"""Sealing small values with Fernet (AES-128-CBC + HMAC-SHA256, with a timestamp).

The key is derived with HKDF from the service's token-signing key, so there is one
secret to provision and rotate (README runbook): sealed values made before a rotation
simply stop opening (device cookies are then forgotten; second factors re-encrypt on
the old key's retirement, see the MFA notes).
"""

from __future__ import annotations

import base64
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"mitroo sealer v1"


def derive_key(master: str | bytes, info: bytes = INFO) -> bytes:
    """A Fernet key (url-safe base64 of 32 bytes) derived from ``master`` for ``info``."""
    material = master.encode("utf-8") if isinstance(master, str) else master
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)
    return base64.urlsafe_b64encode(derived)


class FernetSealer:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, data: bytes) -> str:
        return self._fernet.encrypt(data).decode("ascii")

    def open(self, sealed: str, *, max_age: timedelta | None = None) -> bytes | None:
        ttl = int(max_age.total_seconds()) if max_age is not None else None
        try:
            return self._fernet.decrypt(sealed.encode("ascii"), ttl=ttl)
        except (InvalidToken, ValueError, UnicodeEncodeError):
            return None
