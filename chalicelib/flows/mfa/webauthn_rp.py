"""The WebAuthn relying party: ceremonies through the ``webauthn`` package (py_webauthn).

The RP ID is the host of ``MITROO_PUBLIC_URL`` and the only accepted origin is that URL's
scheme, host and port: an assertion made for another site (phishing page, another
port) fails its origin or RP ID hash check. Credentials are discoverable (passkeys: the
sign-in needs no username), user verification is *preferred* (a security key without a
PIN still works as a second factor), attestation is not asked for (``none``: nothing
here decides on the authenticator's make). The signature counter must grow unless the
authenticator keeps none (synced passkeys report 0): a counter that goes back is a
cloned key, and the assertion is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chalicelib.domain.mfa import Factor

PUBLIC_KEY_ALGORITHMS = (-8, -7, -257)
"""COSE algorithms a new credential may use, in order of preference: EdDSA, ES256 and
RS256 (RS256 for Windows Hello), as WebAuthn Level 3 recommends and webauthn 3 offers by
default; webauthn 2.8, pinned for the runtime, would also offer ES512, PSS and RS384/512."""


class CeremonyFailed(Exception):
    """The credential or assertion did not verify (the reason is for logs, never for clients)."""


@dataclass(frozen=True)
class NewCredential:
    credential_id: str
    public_key: str
    sign_count: int
    transports: tuple[str, ...]
    multi_device: bool
    user_verified: bool


@dataclass(frozen=True)
class Assertion:
    new_count: int
    user_verified: bool


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def client_challenge(credential: Any) -> str | None:
    """The challenge (base64url) inside a credential's ``clientDataJSON``, unverified:
    it names the stored challenge to verify against. None when there is none to read."""
    try:
        response = credential.get("response") if isinstance(credential, dict) else None
        raw = response.get("clientDataJSON") if isinstance(response, dict) else None
        data = json.loads(from_b64url(raw)) if isinstance(raw, str) and len(raw) < 8192 else None
        challenge = data.get("challenge") if isinstance(data, dict) else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return challenge if isinstance(challenge, str) and 16 <= len(challenge) <= 256 else None


def credential_user_handle(credential: Any) -> bytes | None:
    """The ``userHandle`` of an assertion (discoverable credentials return it)."""
    response = credential.get("response") if isinstance(credential, dict) else None
    handle = response.get("userHandle") if isinstance(response, dict) else None
    if not isinstance(handle, str) or len(handle) > 512:
        return None
    try:
        return from_b64url(handle)
    except (ValueError, binascii.Error):
        return None


def credential_id(credential: Any) -> str | None:
    value = credential.get("id") if isinstance(credential, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 1024 else None


@dataclass(frozen=True)
class RelyingParty:
    public_url: str

    @property
    def rp_id(self) -> str:
        return urlsplit(self.public_url).hostname or "localhost"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    def registration_options(
        self,
        *,
        rp_name: str,
        handle: bytes,
        user_name: str,
        display_name: str,
        exclude: Sequence[Factor],
    ) -> tuple[dict[str, Any], str]:
        """Options for ``navigator.credentials.create()`` (JSON-ready) and their challenge."""
        from webauthn import generate_registration_options
        from webauthn.helpers import options_to_json_dict
        from webauthn.helpers.cose import COSEAlgorithmIdentifier
        from webauthn.helpers.structs import (
            AuthenticatorSelectionCriteria,
            PublicKeyCredentialDescriptor,
            ResidentKeyRequirement,
            UserVerificationRequirement,
        )

        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=rp_name,
            user_id=handle,
            user_name=user_name,
            user_display_name=display_name,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=from_b64url(f.credential_id)) for f in exclude],
            supported_pub_key_algs=[COSEAlgorithmIdentifier(alg) for alg in PUBLIC_KEY_ALGORITHMS],
        )
        return options_to_json_dict(options), b64url(options.challenge)

    def verify_registration(self, credential: Any, challenge: str) -> NewCredential:
        from webauthn import verify_registration_response
        from webauthn.helpers.cose import COSEAlgorithmIdentifier
        from webauthn.helpers.structs import CredentialDeviceType

        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=from_b64url(challenge),
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                require_user_verification=False,
                supported_pub_key_algs=[COSEAlgorithmIdentifier(alg) for alg in PUBLIC_KEY_ALGORITHMS],
            )
        except Exception as exc:  # noqa: BLE001 - every defect of client input is a refusal
            raise CeremonyFailed(type(exc).__name__) from None
        transports = credential.get("response", {}).get("transports") if isinstance(credential, dict) else None
        return NewCredential(
            credential_id=b64url(verified.credential_id),
            public_key=b64url(verified.credential_public_key),
            sign_count=verified.sign_count,
            transports=tuple(str(t)[:16] for t in transports[:8]) if isinstance(transports, list) else (),
            multi_device=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
            user_verified=verified.user_verified,
        )

    def authentication_options(self, allow: Sequence[Factor] = ()) -> tuple[dict[str, Any], str]:
        """Options for ``navigator.credentials.get()``; without ``allow``, any discoverable
        credential of this RP may answer (passkey sign-in, autofill)."""
        from webauthn import generate_authentication_options
        from webauthn.helpers import options_to_json_dict
        from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

        options = generate_authentication_options(
            rp_id=self.rp_id,
            allow_credentials=[PublicKeyCredentialDescriptor(id=from_b64url(f.credential_id)) for f in allow],
            user_verification=UserVerificationRequirement.PREFERRED,
        )
        return options_to_json_dict(options), b64url(options.challenge)

    def verify_assertion(self, credential: Any, challenge: str, factor: Factor) -> Assertion:
        from webauthn import verify_authentication_response

        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=from_b64url(challenge),
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                credential_public_key=from_b64url(factor.public_key),
                credential_current_sign_count=factor.sign_count,
                require_user_verification=False,
            )
        except Exception as exc:  # noqa: BLE001 - every defect of client input is a refusal
            raise CeremonyFailed(type(exc).__name__) from None
        return Assertion(new_count=verified.new_sign_count, user_verified=verified.user_verified)
