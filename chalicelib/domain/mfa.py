"""Second factors (SPEC §2.9): TOTP authenticators, WebAuthn credentials, recovery codes.

A factor belongs to one account of one realm: it is stored in the account's partition
and a factor of an ``eiep`` account is never looked for in ``ntua``. Secrets are never
kept in the clear: a TOTP secret is sealed with the service's key (``Sealer``), recovery
codes are stored as SHA-256 fingerprints salted with their account, and a WebAuthn
credential is only a public key.

``amr`` values are RFC 8176's: ``otp`` for a one-time code (TOTP or a recovery code),
``hwk`` for a key held in one authenticator (a security key, a device-bound passkey),
``swk`` for a passkey its provider copies between devices (backup eligible: the private
key lives in software the provider syncs).
"""

from __future__ import annotations

import base64
import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.secrets import fingerprint

TOTP_DIGITS = 6
TOTP_PERIOD = 30
TOTP_WINDOW = 1
"""Steps accepted either side of the current one (clock drift of up to 30 s)."""
TOTP_ENROLMENT = timedelta(minutes=15)
"""How long a TOTP secret shown for enrolment may be confirmed with a first code."""
RECOVERY_CODE_COUNT = 10
MFA_TOKEN_LIFETIME = timedelta(minutes=5)
"""SPEC §2.9: the ``mfa_token`` between the password and the second step."""
WEBAUTHN_CHALLENGE_LIFETIME = timedelta(minutes=5)
RECENT_AUTHENTICATION = timedelta(minutes=5)
"""SPEC §2.10: factor changes need a password or factor check this recent."""


class FactorKind(enum.StrEnum):
    TOTP = "totp"
    WEBAUTHN = "webauthn"


class SecondStep(enum.StrEnum):
    """What a person may offer at the second step (the ``factors`` of ``mfa_required``)."""

    TOTP = "totp"
    WEBAUTHN = "webauthn"
    RECOVERY_CODE = "recovery_code"


@dataclass(frozen=True)
class Factor:
    """One enrolled (or, for TOTP, being enrolled) second factor of one account."""

    realm: str
    account_id: str
    factor_id: str
    kind: FactorKind
    label: str
    created_at: datetime
    confirmed: bool = True
    """A TOTP factor is unconfirmed until its first code proves the person's app has it."""
    expires_at: datetime | None = None
    """Unconfirmed factors only: after this the enrolment must start again."""
    last_used_at: datetime | None = None
    sealed_secret: str = ""
    """TOTP: the base32 secret, sealed (``Sealer``); never stored or logged in the clear."""
    last_step: int = 0
    """TOTP: the RFC 6238 time step of the last accepted code. A code is accepted only
    for a later step, so a code (or an older one) replayed in its window is refused."""
    credential_id: str = ""
    """WebAuthn: the credential id, base64url."""
    public_key: str = ""
    """WebAuthn: the COSE public key, base64url."""
    sign_count: int = 0
    """WebAuthn: the authenticator's signature counter as last seen (0: it keeps none)."""
    transports: tuple[str, ...] = ()
    multi_device: bool = False
    """WebAuthn: the credential is backup eligible (a synced passkey)."""

    @property
    def amr(self) -> str:
        if self.kind is FactorKind.TOTP:
            return "otp"
        return "swk" if self.multi_device else "hwk"

    def is_usable(self, now: datetime) -> bool:
        return self.confirmed or (self.expires_at is not None and now < self.expires_at)


@dataclass(frozen=True)
class TotpKey:
    """What checking a TOTP code needs of a factor: the factor whose step a right code
    spends, and its secret, still sealed. The ``mfa_token`` carries its account's keys
    from the password step, so the second step reads no factor list."""

    factor_id: str
    sealed_secret: str


@dataclass(frozen=True)
class TotpStep:
    """The RFC 6238 time step a right code matched, to be spent on its factor: a factor
    accepts only a later step than its last, so each code works once."""

    realm: str
    account_id: str
    factor_id: str
    step: int
    at: datetime


@dataclass(frozen=True)
class RecoveryCodeUse:
    """A recovery code to spend: its fingerprint leaves the account's set only if it is
    in it, with the audit entry of its use in the same write."""

    realm: str
    account_id: str
    code_hash: str
    audit: AuditEntry
    login_key: tuple[UniqueKind, str] | None = None
    """The login record whose count of codes left (:class:`FactorCopy`) follows the set."""


@dataclass(frozen=True)
class FactorCopy:
    """What a password step needs of an account's second factors, kept on its login record.

    Every factor change writes it in its own transaction (a TOTP key added or removed, the
    count of recovery codes set; a sign-in that spends a code lowers the count), so the
    password step of an account with a factor reads no factor list: the login record it
    reads anyway says what to offer and carries the TOTP keys, still sealed, into the
    ``mfa_token``. A login record written before the copy existed has none, and the factor
    list is read as before until the account's next factor change writes it.
    """

    totp_keys: tuple[TotpKey, ...]
    recovery_codes: int

    def offered(self, second_factors: int) -> list[str]:
        """As :func:`offered_proofs`: the confirmed factors that are not TOTP are passkeys
        or security keys (``second_factors`` counts them all)."""
        offered = [str(SecondStep.TOTP)] if self.totp_keys else []
        if second_factors > len(self.totp_keys):
            offered.append(str(SecondStep.WEBAUTHN))
        if self.recovery_codes > 0:
            offered.append(str(SecondStep.RECOVERY_CODE))
        return offered


def factor_copy(factors: list[Factor], codes: RecoveryCodes | None) -> FactorCopy:
    """The copy a login record keeps of ``factors`` and ``codes``."""
    return FactorCopy(totp_keys(factors), len(codes.hashes) if codes is not None else 0)


def totp_keys(factors: list[Factor]) -> tuple[TotpKey, ...]:
    """The keys of the confirmed TOTP factors among ``factors``."""
    return tuple(
        TotpKey(factor.factor_id, factor.sealed_secret)
        for factor in factors
        if factor.kind is FactorKind.TOTP and factor.confirmed
    )


def offered_proofs(factors: list[Factor], codes: RecoveryCodes | None) -> list[str]:
    """The proofs an account with ``factors`` and ``codes`` can give at the second step,
    in the order the pages offer them."""
    return factor_copy(factors, codes).offered(sum(factor.confirmed for factor in factors))


@dataclass(frozen=True)
class RecoveryCodes:
    """The account's unused recovery codes, as fingerprints (:func:`recovery_code_hash`)."""

    realm: str
    account_id: str
    hashes: frozenset[str]
    created_at: datetime


def normalise_recovery_code(code: str) -> str:
    """Comparison form of a typed recovery code: case, spaces and dashes do not matter."""
    return "".join(character for character in code.casefold() if character.isalnum())


def recovery_code_hash(realm: str, account_id: str, code: str) -> str:
    """Fingerprint of a recovery code, salted with its account: a stolen table of
    fingerprints says nothing about other accounts' codes, and each code carries 80
    random bits, beyond enumeration."""
    return fingerprint(f"{realm}\n{account_id}\n{normalise_recovery_code(code)}")


def recovery_code_from(random_token: str) -> str:
    """A readable recovery code (80 bits, ``xxxx-xxxx-xxxx-xxxx``) from a random token."""
    digest = hashlib.sha256(random_token.encode("utf-8")).digest()[:10]
    text = base64.b32encode(digest).decode("ascii").lower()
    return "-".join(text[index : index + 4] for index in range(0, 16, 4))


def totp_secret_from(random_token: str) -> str:
    """A base32 TOTP secret of 160 bits (RFC 4226's recommended length) from a random token."""
    return base64.b32encode(hashlib.sha256(random_token.encode("utf-8")).digest()[:20]).decode("ascii")


def user_handle(realm: str, account_id: str) -> bytes:
    """The WebAuthn ``user.id`` of an account: realm and account id (random, not personal
    data). Every realm shares one RP ID (the host), so the handle names the realm and a
    passkey of an ``eiep`` account is refused in ``ntua``."""
    return f"{realm}/{account_id}".encode()


def parse_user_handle(handle: bytes | None) -> tuple[str, str] | None:
    try:
        realm, _, account_id = (handle or b"").decode("utf-8").partition("/")
    except UnicodeDecodeError:
        return None
    return (realm, account_id) if realm and account_id else None
