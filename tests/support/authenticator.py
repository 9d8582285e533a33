"""A software WebAuthn authenticator (ES256, ``none`` attestation) built on ``cryptography``.

It answers ``navigator.credentials.create()`` and ``.get()`` options as a browser plus
authenticator would, in the JSON shape browsers' ``toJSON()`` gives (base64url fields),
so tests can register passkeys and sign in through the API. Knobs let a test play an
attacker: another origin, another RP ID, a counter that goes back, a flipped byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


FLAG_UP, FLAG_UV, FLAG_BE, FLAG_BS, FLAG_AT = 0x01, 0x04, 0x08, 0x10, 0x40

_CURVES: dict[int, tuple[ec.EllipticCurve, int, int]] = {
    -7: (ec.SECP256R1(), 1, 32),
    -35: (ec.SECP384R1(), 2, 48),
    -36: (ec.SECP521R1(), 3, 66),
}
"""COSE algorithm → (curve, COSE ``crv``, coordinate bytes)."""


@dataclass
class Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    origin: str
    """The page the browser shows (clientDataJSON's origin)."""
    user_verified: bool = True
    backup_eligible: bool = False
    counter_step: int = 1
    """0 for an authenticator that keeps no counter (synced passkeys report 0)."""
    algorithm: int = -7
    """The new credential's COSE algorithm: -7 (ES256), -35 (ES384) or -36 (ES512)."""
    credentials: list[Credential] = field(default_factory=list)

    def create(self, options: dict[str, Any], *, rp_id: str | None = None, origin: str | None = None) -> dict[str, Any]:
        """``navigator.credentials.create(options)`` as JSON (a registration response)."""
        rp = rp_id or options["rp"]["id"]
        curve, crv, size = _CURVES[self.algorithm]
        key = ec.generate_private_key(curve)
        credential = Credential(os.urandom(16), key, rp, unb64url(options["user"]["id"]), 0)
        self.credentials.append(credential)
        numbers = key.public_key().public_numbers()
        x, y = numbers.x.to_bytes(size, "big"), numbers.y.to_bytes(size, "big")
        cose = cbor2.dumps({1: 2, 3: self.algorithm, -1: crv, -2: x, -3: y})
        attested = b"\x00" * 16 + struct.pack(">H", len(credential.credential_id)) + credential.credential_id + cose
        auth_data = self._auth_data(rp, FLAG_AT, 0) + attested
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | None = None,
        rp_id: str | None = None,
        origin: str | None = None,
        sign_count: int | None = None,
        tamper: bool = False,
    ) -> dict[str, Any]:
        """``navigator.credentials.get(options)`` as JSON (an assertion)."""
        chosen = credential or self._pick(options)
        if sign_count is None:
            chosen.sign_count += self.counter_step
            sign_count = chosen.sign_count
        auth_data = self._auth_data(rp_id or chosen.rp_id, 0, sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = chosen.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        if tamper:
            auth_data = auth_data[:-1] + bytes([auth_data[-1] ^ 0x01])
        return {
            "id": b64url(chosen.credential_id),
            "rawId": b64url(chosen.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(chosen.user_handle),
            },
            "clientExtensionResults": {},
        }

    def _pick(self, options: dict[str, Any]) -> Credential:
        allowed = {item["id"] for item in options.get("allowCredentials") or []}
        for credential in reversed(self.credentials):
            if not allowed or b64url(credential.credential_id) in allowed:
                return credential
        raise LookupError("no credential for these options")

    def _auth_data(self, rp_id: str, extra_flags: int, sign_count: int) -> bytes:
        flags = FLAG_UP | extra_flags | (FLAG_UV if self.user_verified else 0)
        if self.backup_eligible:
            flags |= FLAG_BE | FLAG_BS
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        return json.dumps(data, separators=(",", ":")).encode()
