"""Accounts and their lifecycle states."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from chalicelib.domain.identity import GsisIdentity

if TYPE_CHECKING:
    from chalicelib.domain.mfa import FactorCopy


class AccountStatus(enum.StrEnum):
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"
    DISABLED = "disabled"
    EXPIRED = "expired"


AFFILIATIONS = ("undergraduate", "postgraduate", "doctoral", "staff")


REGISTRY_LINK = "registry_number"
"""The kind a repository names when the registry refuses an undergraduate account
(:meth:`Account.undergraduate_registry_number`)."""


class UniqueKind(enum.StrEnum):
    """Values that at most one account per realm may hold (SPEC §3)."""

    EMAIL = "email"
    AFM = "afm"
    USERNAME = "username"
    SUBJECT = "subject"


@dataclass
class Account:
    """One person's account in one realm.

    ``identity`` holds the GSIS-sourced fields; they are written only from a GSIS flow,
    never from client input (Keycloak #26111 is what happens otherwise).
    """

    account_id: str
    realm: str
    username: str
    email: str
    status: AccountStatus
    created_at: datetime
    updated_at: datetime
    password_hash: str | None = None
    identity: GsisIdentity | None = None
    gsis_verified: bool = False
    gender: str | None = None
    registry_number: str | None = None
    mobile: str | None = None
    language: str = "el"
    roles: tuple[str, ...] = ()
    activated_at: datetime | None = None
    affiliation: str | None = None
    """Registrar realms: undergraduate, postgraduate, doctoral or staff."""
    expires_on: date | None = None
    """The last day the account may be used; the daily sweep expires it after that."""
    extra: dict[str, str] = field(default_factory=dict)
    subject: str | None = None
    """The EU Login ``sub`` of an account that signs in through EU Login (its username too).

    OIDC subjects are case-sensitive strings: ``ABC`` and ``abc`` are two people. Such an
    account is guarded by its exact subject (``UniqueKind.SUBJECT``), which also carries
    its login record; it has no casefolded username guard. Accounts stored before this
    field existed have ``subject`` None and their username guard casefolded, as every
    other username: :func:`chalicelib.flows.eulogin_signin.find_by_subject` still finds
    them, for their exact subject only."""
    second_factors: int = 0
    """Confirmed second factors (TOTP, WebAuthn): a sign-in with more than none has a
    second step (SPEC §2.9). Kept by the factor repository, never written from here."""
    deletion_due: date | None = None
    """The day the person asked their account to be erased on (SPEC §2.10): the sweep of
    that day erases it unless a sign-in cancels it first. Kept by the personal-data
    repository (``ports.PersonalDataRepository``), never written from here."""

    def is_past_expiry(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on < today

    def undergraduate_registry_number(self) -> str | None:
        """The registry number whose undergraduate link this account takes when created.

        The student registry links each number to one undergraduate account (seed 004):
        graduation retires that account, so a second one under the same number would
        outlive the graduation. Repositories write the link in the create transaction, on
        condition that the entry links no other account and is not graduated, and refuse
        the account otherwise (``DuplicateValue(REGISTRY_LINK)``).
        """
        return self.registry_number if self.affiliation == "undergraduate" and self.registry_number else None

    def unique_values(self) -> dict[UniqueKind, str]:
        """The values the repository must guard, normalised for comparison."""
        values = {UniqueKind.EMAIL: normalise_email(self.email), self.login_key[0]: self.login_key[1]}
        if self.identity is not None and self.identity.afm:
            values[UniqueKind.AFM] = self.identity.afm
        return values

    @property
    def login_key(self) -> tuple[UniqueKind, str]:
        """The guard that carries this account's login record: the casefolded username
        (names people type), or the exact EU Login subject (see :attr:`subject`)."""
        if self.subject is not None:
            return UniqueKind.SUBJECT, self.subject
        return UniqueKind.USERNAME, self.username.casefold()


@dataclass(frozen=True)
class LoginRecord:
    """What a password login needs, readable in one lookup by username."""

    realm: str
    account_id: str
    password_hash: str | None
    status: AccountStatus
    roles: tuple[str, ...] = ()
    gsis_verified: bool = True
    expires_on: date | None = None
    second_factors: int = 0
    """As :attr:`Account.second_factors`: the login knows of a second step without another read."""
    factors: FactorCopy | None = None
    """The second factors' copy (None: a record from before it; the factor list is read)."""


def normalise_email(email: str) -> str:
    """Case-insensitive comparison form of an address (the whole address, casefolded)."""
    return email.strip().casefold()
