"""Enrolling and removing second factors, recovery codes, and an administrator's reset.

Every change needs a *recent* authentication (SPEC §2.10: a password or factor check in
the last five minutes, :mod:`reauthentication`), so a session cookie left in a shared
browser cannot add an attacker's authenticator. A TOTP secret is shown once, sealed at
rest, and counts only once a first code proves the person's app holds it; a WebAuthn
credential counts once its attestation verifies against a challenge this session asked
for. The first factor brings ten recovery codes, shown once (only their fingerprints are
kept); asking for a new set voids the old one. Confirming a factor also records it on
the current session (``amr``), so an administrator who enrols is allowed in at once (and
the realm's applications sign them in: the SSO cookie is written again with it).
Every change is audited in its own write and mailed to the person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.accounts import Account
from chalicelib.domain.audit import OPERATOR, audit
from chalicelib.domain.mfa import (
    RECOVERY_CODE_COUNT,
    TOTP_ENROLMENT,
    Factor,
    FactorKind,
    RecoveryCodes,
    TotpKey,
    recovery_code_from,
    recovery_code_hash,
    totp_secret_from,
    user_handle,
)
from chalicelib.domain.tasks import Task
from chalicelib.domain.tokens import SessionFamily
from chalicelib.errors import (
    DuplicateValue,
    Forbidden,
    InvalidInput,
    MfaInvalid,
    NotFound,
    TaskQueueError,
    Unauthorized,
)
from chalicelib.flows.mfa import totp as totp_codes
from chalicelib.flows.mfa.reauthentication import Reauthentication
from chalicelib.flows.mfa.verification import Verifier, as_credential
from chalicelib.flows.mfa.webauthn_rp import CeremonyFailed, RelyingParty, client_challenge
from chalicelib.flows.sessions import Principal
from chalicelib.ports import AccountRepository, Clock, FactorRepository, SecretSource, SessionRepository, TaskQueue
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

MAX_FACTORS = 10
"""Factors one account may hold (each a few hundred bytes; a reset removes them in one write)."""
CHANGED_MAIL = "mfa.changed"


@dataclass(frozen=True)
class TotpEnrolment:
    factor_id: str
    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True)
class Enrolled:
    factor: Factor
    recovery_codes: tuple[str, ...] = ()
    """The account's first recovery codes, when this factor brought them (shown once)."""
    session: SessionFamily | None = None
    """The current session, which has now passed this factor (None if it ended meanwhile)."""


@dataclass(frozen=True)
class Overview:
    factors: tuple[Factor, ...]
    recovery_codes_left: int
    required: bool
    """The realm requires this account to have a second factor."""


@dataclass(frozen=True)
class Enrolment:
    accounts: AccountRepository
    factors: FactorRepository
    sessions: SessionRepository
    verifier: Verifier
    reauthentication: Reauthentication
    rp: RelyingParty
    tasks: TaskQueue
    clock: Clock
    secrets: SecretSource

    # -- reading --------------------------------------------------------------------------------
    def overview(self, realm: RealmConfig, principal: Principal) -> Overview:
        factors, codes = self.factors.overview(realm.id, principal.account_id)
        confirmed = tuple(factor for factor in factors if factor.confirmed)
        return Overview(confirmed, len(codes.hashes) if codes else 0, realm.requires_second_factor(principal.roles))

    # -- TOTP -----------------------------------------------------------------------------------
    def start_totp(self, realm: RealmConfig, principal: Principal, label: str = "") -> TotpEnrolment:
        """A new secret, shown once with its ``otpauth://`` URI and QR code; it counts for
        nothing until :meth:`confirm_totp`, and lapses after 15 minutes."""
        self.reauthentication.require_recent(principal)
        account = self._account(realm, principal)
        self._room_for_one_more(realm, account)
        now = self.clock.now()
        secret = totp_secret_from(self.secrets.token())
        factor = Factor(
            realm=realm.id,
            account_id=account.account_id,
            factor_id=self.secrets.identifier(),
            kind=FactorKind.TOTP,
            label=(label.strip() or "Authenticator")[:64],
            created_at=now,
            confirmed=False,
            expires_at=now + TOTP_ENROLMENT,
            sealed_secret=self.verifier.sealer.seal(secret.encode("utf-8")),
        )
        self.factors.add_pending(factor)
        issuer = f"Mitroo {realm.name.en}" if len(realm.name.en) <= 24 else f"Mitroo {realm.id}"
        uri = totp_codes.otpauth_uri(secret, account=account.username, issuer=issuer)
        return TotpEnrolment(factor.factor_id, secret, uri, totp_codes.qr_svg(uri))

    def confirm_totp(self, realm: RealmConfig, principal: Principal, factor_id: str, code: str) -> Enrolled:
        """Confirm a pending TOTP factor with its first code (reserved like any code).

        Raises NotFound (no such pending factor, or it lapsed), MfaInvalid (wrong code),
        TooManyAttempts, ReauthenticationRequired.
        """
        self.reauthentication.require_recent(principal)
        account = self._account(realm, principal)
        pending = self.factors.get(realm.id, account.account_id, factor_id[:64])
        now = self.clock.now()
        if pending is None or pending.kind is not FactorKind.TOTP or pending.confirmed or not pending.is_usable(now):
            raise NotFound("This authenticator enrolment has lapsed; start again.")
        self.verifier.throttle.reserve(realm, self.verifier.throttle.second_factor_claim(realm, account.account_id))
        secret = self.verifier.secret(realm, TotpKey(pending.factor_id, pending.sealed_secret))
        step = totp_codes.matching_step(secret, code, now)
        if step is None:
            raise MfaInvalid(errors={"code": ["this code is not the app's current one"]})
        codes, recovery = self._first_codes(realm, account)
        entry = audit(realm.id, account.account_id, "mfa_factor_added", actor=account.account_id, at=now, kind="totp")
        if not self.factors.confirm(
            pending, step=step, login_key=account.login_key, now=now, audit=entry, recovery=recovery
        ):
            raise NotFound("This authenticator enrolment has lapsed; start again.")
        self.verifier.throttle.settle([self.verifier.throttle.second_factor_claim(realm, account.account_id).key])
        return self._enrolled(realm, principal, pending, codes, "added")

    # -- WebAuthn -------------------------------------------------------------------------------
    def registration_options(self, realm: RealmConfig, principal: Principal) -> dict[str, Any]:
        """Options for ``navigator.credentials.create()``; the challenge is single use and
        bound to this session."""
        self.reauthentication.require_recent(principal)
        account = self._account(realm, principal)
        factors = self._room_for_one_more(realm, account)
        display = f"{account.username} ({realm.id})"
        options, challenge = self.rp.registration_options(
            rp_name=f"Mitroo {realm.id}",
            handle=user_handle(realm.id, account.account_id),
            user_name=display,
            display_name=display,
            exclude=[factor for factor in factors if factor.kind is FactorKind.WEBAUTHN],
        )
        self.verifier.issue_challenge(
            realm, challenge, purpose="register", binding=principal.session_id, account_id=account.account_id
        )
        return options

    def register_credential(self, realm: RealmConfig, principal: Principal, credential: Any, label: str) -> Enrolled:
        """Verify and keep a new credential (origin, RP ID, this session's challenge).

        Raises MfaInvalid (does not verify, challenge foreign or spent), InvalidInput
        (registered already), ReauthenticationRequired.
        """
        self.reauthentication.require_recent(principal)
        account = self._account(realm, principal)
        credential = as_credential(credential)
        ticket = self.verifier.take_challenge(realm, credential, purpose="register", binding=principal.session_id)
        if ticket.data.get("account_id") != account.account_id:
            raise MfaInvalid()
        try:
            new = self.rp.verify_registration(credential, client_challenge(credential) or "")
        except CeremonyFailed as exc:
            log.info("webauthn registration refused", extra={"realm": realm.id, "why": str(exc)})
            raise MfaInvalid() from None
        now = self.clock.now()
        factor = Factor(
            realm=realm.id,
            account_id=account.account_id,
            factor_id=self.secrets.identifier(),
            kind=FactorKind.WEBAUTHN,
            label=(label.strip() or "Passkey")[:64],
            created_at=now,
            credential_id=new.credential_id,
            public_key=new.public_key,
            sign_count=new.sign_count,
            transports=new.transports,
            multi_device=new.multi_device,
        )
        codes, recovery = self._first_codes(realm, account)
        entry = audit(
            realm.id, account.account_id, "mfa_factor_added", actor=account.account_id, at=now, kind="webauthn"
        )
        try:
            self.factors.add(factor, login_key=account.login_key, audit=entry, recovery=recovery)
        except DuplicateValue:
            raise InvalidInput(errors={"credential": ["this security key is registered already"]}) from None
        return self._enrolled(realm, principal, factor, codes, "added")

    # -- recovery codes and removal ---------------------------------------------------------------
    def new_recovery_codes(self, realm: RealmConfig, principal: Principal) -> tuple[str, ...]:
        """A new set of ten codes (shown once); the old set stops working."""
        self.reauthentication.require_recent(principal)
        account = self._account(realm, principal)
        if account.second_factors < 1:
            raise Forbidden("Add an authenticator app or a passkey first: recovery codes stand in for one.")
        codes, recovery = self._codes(realm, account)
        now = self.clock.now()
        entry = audit(realm.id, account.account_id, "mfa_recovery_codes_renewed", actor=account.account_id, at=now)
        self.factors.replace_recovery_codes(recovery, login_key=account.login_key, audit=entry)
        return codes

    def remove(self, realm: RealmConfig, principal: Principal, factor_id: str) -> None:
        """Remove one factor; the last one takes the recovery codes with it. An account
        the realm requires to have a factor keeps its last one (add another first).

        Raises NotFound, Forbidden, ReauthenticationRequired.
        """
        self.reauthentication.require_recent(principal)
        account = self._account(realm, principal)
        factor = self.factors.get(realm.id, account.account_id, factor_id[:64])
        if factor is None:
            raise NotFound("There is no such second factor.")
        last = factor.confirmed and account.second_factors <= 1
        if last and realm.requires_second_factor(account.roles):
            raise Forbidden("Your role needs a second factor: add another before removing this one.")
        now = self.clock.now()
        entry = audit(
            realm.id, account.account_id, "mfa_factor_removed", actor=account.account_id, at=now, kind=str(factor.kind)
        )
        if not self.factors.remove(factor, login_key=account.login_key, audit=entry, drop_recovery=last):
            raise NotFound("There is no such second factor.")
        if factor.confirmed:
            self._mail(realm, account.account_id, "removed", str(factor.kind))

    def reset(self, realm: RealmConfig, account: Account, *, actor: str = OPERATOR) -> int:
        """An administrator's or operator's reset: every factor and recovery code goes,
        audited with the actor, and the person is told by mail. How many factors there were."""
        now = self.clock.now()
        entry = audit(realm.id, account.account_id, "mfa_reset", actor=actor, at=now)
        removed = self.factors.remove_all(realm.id, account.account_id, login_key=account.login_key, audit=entry)
        self._mail(realm, account.account_id, "reset", "")
        log.info("second factors reset", extra={"realm": realm.id, "account_id": account.account_id})
        return removed

    # -- helpers ----------------------------------------------------------------------------------
    def _account(self, realm: RealmConfig, principal: Principal) -> Account:
        account = self.accounts.get(realm.id, principal.account_id)
        if account is None:
            raise Unauthorized()
        return account

    def _room_for_one_more(self, realm: RealmConfig, account: Account) -> list[Factor]:
        factors, _ = self.factors.overview(realm.id, account.account_id)
        if sum(factor.confirmed for factor in factors) >= MAX_FACTORS:
            raise InvalidInput(errors={"factor": [f"at most {MAX_FACTORS} second factors; remove one first"]})
        return factors

    def _codes(self, realm: RealmConfig, account: Account) -> tuple[tuple[str, ...], RecoveryCodes]:
        codes = tuple(recovery_code_from(self.secrets.token()) for _ in range(RECOVERY_CODE_COUNT))
        hashes = frozenset(recovery_code_hash(realm.id, account.account_id, code) for code in codes)
        return codes, RecoveryCodes(realm.id, account.account_id, hashes, self.clock.now())

    def _first_codes(self, realm: RealmConfig, account: Account) -> tuple[tuple[str, ...], RecoveryCodes | None]:
        """Recovery codes come with the first factor (and are kept if some exist)."""
        if account.second_factors > 0:
            return (), None
        return self._codes(realm, account)

    def _enrolled(
        self, realm: RealmConfig, principal: Principal, factor: Factor, codes: tuple[str, ...], change: str
    ) -> Enrolled:
        # The person just proved they hold the factor: this session has passed it.
        now: datetime = self.clock.now().replace(microsecond=0)  # as the SSO cookie carries it
        session = self.sessions.add_authentication(
            realm.id, principal.account_id, principal.session_id, factor.amr, now
        )
        self._mail(realm, principal.account_id, change, str(factor.kind))
        log.info(
            "second factor added", extra={"realm": realm.id, "account_id": principal.account_id, "kind": factor.kind}
        )
        stored = self.factors.get(realm.id, principal.account_id, factor.factor_id) or factor
        return Enrolled(stored, codes if self._codes_kept(realm, principal.account_id, codes) else (), session)

    def _codes_kept(self, realm: RealmConfig, account_id: str, codes: tuple[str, ...]) -> bool:
        """The codes generated with the first factor are the account's (a racing first
        confirmation may have stored its own set instead: then none are shown here)."""
        if not codes:
            return False
        _, stored = self.factors.overview(realm.id, account_id)
        return stored is not None and recovery_code_hash(realm.id, account_id, codes[0]) in stored.hashes

    def _mail(self, realm: RealmConfig, account_id: str, change: str, kind: str) -> None:
        try:
            self.tasks.enqueue(
                Task(CHANGED_MAIL, {"realm": realm.id, "account_id": account_id, "change": change, "kind": kind})
            )
        except TaskQueueError:  # a lost notice must not undo the change
            log.warning("task not queued", extra={"task": CHANGED_MAIL})
