"""The door between a sign-in's first step and its second (SPEC §2.9).

A first step (a right password, or an EU Login sign-in) for an account with a second
factor opens no session: it earns an ``mfa_token`` — 256 random bits, only its hash
stored, five minutes, spent by the one second step that succeeds — which names the
account, how the first step was made, and what that step's success settles. The token
is bound to the browser that made the first step (the hash of its binding cookie, when
it has one): a token carried to another browser is refused. The account's login record
says whether it has a factor (``second_factors``), so accounts without one pay nothing
here.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.mfa import MFA_TOKEN_LIFETIME, FactorKind, SecondStep
from chalicelib.domain.secrets import fingerprint
from chalicelib.domain.tickets import TicketKind
from chalicelib.errors import MfaRequired
from chalicelib.flows.tickets import Tickets
from chalicelib.ports import FactorRepository
from chalicelib.realms import RealmConfig

SEPARATOR = "\n"


@dataclass(frozen=True)
class FirstStep:
    """What the first step of a sign-in proved."""

    account_id: str
    roles: tuple[str, ...]
    method: str
    """RFC 8176: ``pwd`` (a password) or ``fed`` (EU Login)."""
    username: str = ""
    device: str | None = None
    """The browser's device id for this account, to renew its device cookie afterwards."""
    settle: tuple[str, ...] = ()
    """Attempt keys the first step's success clears (the username's back-off…)."""


@dataclass(frozen=True)
class SecondStepGate:
    tickets: Tickets
    factors: FactorRepository

    def demand(self, realm: RealmConfig, first: FirstStep, browser: str | None) -> MfaRequired:
        """The ``mfa_required`` answer to a first step: a fresh ``mfa_token`` and the
        kinds of proof this account can give."""
        data = {
            "account_id": first.account_id,
            "roles": SEPARATOR.join(first.roles),
            "method": first.method,
            "username": first.username,
            "device": first.device or "",
            "browser": fingerprint(browser) if browser else "",
        }
        # The first step was right: its attempts are settled in the token's own write (an
        # abandoned second step is no wrong password); wrong codes count on the account's
        # second-factor back-off instead.
        token = self.tickets.issue(realm.id, TicketKind.MFA, MFA_TOKEN_LIFETIME, data, clear_attempts=first.settle)
        return MfaRequired(extra={"mfa_token": token, "factors": self.offered(realm, first.account_id)})

    def offered(self, realm: RealmConfig, account_id: str) -> list[str]:
        """The proofs the account can give, in the order the pages offer them."""
        factors, codes = self.factors.overview(realm.id, account_id)
        kinds = {factor.kind for factor in factors if factor.confirmed}
        offered = [str(SecondStep.TOTP)] if FactorKind.TOTP in kinds else []
        if FactorKind.WEBAUTHN in kinds:
            offered.append(str(SecondStep.WEBAUTHN))
        if codes is not None and codes.hashes:
            offered.append(str(SecondStep.RECOVERY_CODE))
        return offered
