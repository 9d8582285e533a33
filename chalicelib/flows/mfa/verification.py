"""Checking a second factor: a TOTP code, a recovery code or a WebAuthn assertion.

Every check of a typed code first *reserves* its attempt on the account's second-factor
back-off (``Throttle.second_factor_claim``, as a password login reserves its own): a
burst of parallel guesses gets no more comparisons than the realm's limit, and wrong
codes count toward the account's lockout. A right code is then spent with a conditional
write, so of many parallel uses of one code exactly one succeeds.

WebAuthn challenges are tickets stored under the hash of the challenge: the assertion
names its challenge (``clientDataJSON``), the ticket is taken (single use) and must have
been issued for the same purpose, realm, account and *binding* — the session, the
``mfa_token`` or the browser that asked for it — so a challenge obtained in one context
never verifies in another.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.audit import audit
from chalicelib.domain.mfa import (
    WEBAUTHN_CHALLENGE_LIFETIME,
    Factor,
    FactorKind,
    RecoveryCodeUse,
    TotpKey,
    TotpStep,
    recovery_code_hash,
)
from chalicelib.domain.secrets import fingerprint, same
from chalicelib.domain.tickets import Ticket, TicketKind
from chalicelib.errors import MfaInvalid
from chalicelib.flows.mfa.totp import matching_step
from chalicelib.flows.mfa.webauthn_rp import CeremonyFailed, RelyingParty, client_challenge, credential_id
from chalicelib.flows.throttling import Throttle
from chalicelib.ports import Clock, FactorRepository, Sealer, TicketRepository
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verifier:
    factors: FactorRepository
    sealer: Sealer
    throttle: Throttle
    clock: Clock
    tickets: TicketRepository
    rp: RelyingParty

    # -- TOTP and recovery codes ----------------------------------------------------------------
    def totp(self, realm: RealmConfig, account_id: str, code: str, keys: Iterable[TotpKey]) -> str:
        """Spend the step of the factor among ``keys`` that ``code`` belongs to; its ``amr``.

        Raises MfaInvalid (wrong, replayed, or of a factor removed since ``keys`` were
        read) and TooManyAttempts (before comparing).
        """
        matched = self.match_totp(realm, account_id, code, keys)
        if not self.factors.use_totp_step(realm.id, account_id, matched.factor_id, matched.step, matched.at):
            raise self.step_refused(realm, matched)
        return "otp"

    def match_totp(self, realm: RealmConfig, account_id: str, code: str, keys: Iterable[TotpKey]) -> TotpStep:
        """The step (of a factor among ``keys``) that ``code`` matches, not yet spent: the
        caller spends it, alone or in its own transaction.

        Raises MfaInvalid (no factor's code) and TooManyAttempts (before comparing).
        """
        self.throttle.reserve(realm, self.throttle.second_factor_claim(realm, account_id))
        now = self.clock.now()
        for key in keys:
            step = matching_step(self.secret(realm, key), code, now)
            if step is not None:
                return TotpStep(realm.id, account_id, key.factor_id, step, now)
        log.info("totp code refused", extra={"realm": realm.id, "account_id": account_id})
        raise MfaInvalid()

    def step_refused(self, realm: RealmConfig, refused: TotpStep) -> MfaInvalid:
        """Why spending ``refused`` failed, as the person should hear it: the code was
        used already, or (its factor removed meanwhile) it is no code of this account's."""
        factor = self.factors.get(realm.id, refused.account_id, refused.factor_id)
        if factor is None or not factor.confirmed:
            log.info("totp code of a removed factor", extra={"realm": realm.id, "account_id": refused.account_id})
            return MfaInvalid()
        log.info("totp code replayed", extra={"realm": realm.id, "account_id": refused.account_id})
        return MfaInvalid("This code was used already; wait for the next one.")

    def recovery_code_use(
        self, realm: RealmConfig, account_id: str, code: str, login_key: tuple[UniqueKind, str] | None = None
    ) -> RecoveryCodeUse:
        """``code``'s use, its attempt reserved: the caller spends it in the write that
        needs it (a sign-in's session), whose condition is the comparison (the code's
        fingerprint in the account's set). With ``login_key``, the login record's count of
        codes left is lowered in the same write.

        Raises TooManyAttempts (before anything is compared).
        """
        self.throttle.reserve(realm, self.throttle.second_factor_claim(realm, account_id))
        entry = audit(realm.id, account_id, "recovery_code_used", actor=account_id, at=self.clock.now())
        code_hash = recovery_code_hash(realm.id, account_id, code)
        return RecoveryCodeUse(realm.id, account_id, code_hash, entry, login_key=login_key)

    @staticmethod
    def code_refused(realm: RealmConfig, refused: RecoveryCodeUse) -> MfaInvalid:
        """A recovery code that is not (or no longer) in the account's set."""
        log.info("recovery code refused", extra={"realm": realm.id, "account_id": refused.account_id})
        return MfaInvalid()

    def secret(self, realm: RealmConfig, key: TotpKey) -> str:
        opened = self.sealer.open(key.sealed_secret)
        if opened is None:  # sealed under a retired key: the factor cannot be used any more
            log.warning("totp secret cannot be opened", extra={"realm": realm.id, "factor_id": key.factor_id})
            raise MfaInvalid()
        return opened.decode("utf-8")

    # -- WebAuthn ---------------------------------------------------------------------------------
    def issue_challenge(
        self, realm: RealmConfig, challenge: str, *, purpose: str, binding: str, account_id: str
    ) -> None:
        """Keep ``challenge`` for one ceremony of ``purpose``, bound to ``binding`` (a value
        only the rightful caller holds: session id, ``mfa_token``, browser cookie)."""
        now = self.clock.now()
        data = {"purpose": purpose, "binding": fingerprint(binding), "account_id": account_id}
        self.tickets.save(
            Ticket(fingerprint(challenge), TicketKind.WEBAUTHN, realm.id, now, now + WEBAUTHN_CHALLENGE_LIFETIME, data)
        )

    def take_challenge(self, realm: RealmConfig, credential: Any, *, purpose: str, binding: str) -> Ticket:
        """The challenge ``credential`` answers, spent; MfaInvalid unless it was issued
        here, for ``purpose`` and ``binding``, and is still live."""
        challenge = client_challenge(credential)
        ticket = self.tickets.take(fingerprint(challenge)) if challenge else None
        if (
            ticket is None
            or ticket.kind is not TicketKind.WEBAUTHN
            or ticket.realm != realm.id
            or ticket.is_expired(self.clock.now())
            or ticket.data.get("purpose") != purpose
            or not same(ticket.data.get("binding", ""), fingerprint(binding))
        ):
            log.info("webauthn challenge refused", extra={"realm": realm.id, "purpose": purpose})
            raise MfaInvalid()
        return ticket

    def assertion(
        self,
        realm: RealmConfig,
        account_id: str,
        credential: Any,
        factors: list[Factor],
        challenge: str,
        *,
        require_user_verification: bool = False,
    ) -> Factor:
        """The account's credential that made ``credential`` (an assertion over
        ``challenge``), its counter recorded. MfaInvalid for anything else: another
        account's or realm's credential, a bad signature, wrong origin or RP ID, a
        counter that went back, no user verification where it is required."""
        wanted = credential_id(credential)
        factor = next(
            (f for f in factors if f.kind is FactorKind.WEBAUTHN and f.confirmed and f.credential_id == wanted), None
        )
        if factor is None:
            log.info("webauthn credential unknown", extra={"realm": realm.id, "account_id": account_id})
            raise MfaInvalid()
        try:
            verified = self.rp.verify_assertion(credential, challenge, factor)
        except CeremonyFailed as exc:
            log.info("webauthn assertion refused", extra={"realm": realm.id, "account_id": account_id, "why": str(exc)})
            raise MfaInvalid() from None
        if require_user_verification and not verified.user_verified:
            raise MfaInvalid("This passkey did not verify you (PIN or biometrics); sign in with your password.")
        if not self.factors.use_credential(
            realm.id,
            account_id,
            factor.factor_id,
            seen_count=factor.sign_count,
            new_count=verified.new_count,
            now=self.clock.now(),
        ):
            log.warning("webauthn counter raced", extra={"realm": realm.id, "account_id": account_id})
            raise MfaInvalid()
        return factor


def as_credential(value: Any) -> Any:
    """A credential sent as JSON text (a form field) or as an object (a JSON body)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise MfaInvalid() from None
    return value
