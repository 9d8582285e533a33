"""The second step of a sign-in, and signing in with a passkey alone (SPEC §2.9).

Second step: the ``mfa_token`` of the first step (``gate.py``) plus one proof — a TOTP
code, a recovery code or a WebAuthn assertion over a challenge issued for that token.
The proof is checked first (typed codes reserve their attempt before they are compared)
and only then is the token spent — in the same transaction that opens the session, with
a TOTP code's time step — so a typo costs an attempt, not the password step; the token
is spent by exactly one success, and so is the code, and neither is spent without the
session. The session then records both methods (``pwd`` and ``otp``, ``hwk`` or
``swk``) in ``amr``.

Passkey first: options for any discoverable credential of this RP, the challenge bound
to the browser that asked (its binding cookie), then the assertion. The credential's
``userHandle`` names the realm and account; a passkey of another realm's account is
refused. User verification (PIN, biometrics) is required here, because the passkey
stands in for password *and* second factor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.mfa import FactorKind, parse_user_handle
from chalicelib.domain.secrets import fingerprint, same
from chalicelib.domain.tickets import Ticket, TicketKind
from chalicelib.errors import AccountExpired, InvalidInput, MfaInvalid, TokenInvalid
from chalicelib.flows.devices import DeviceTrust
from chalicelib.flows.mfa.gate import SEPARATOR
from chalicelib.flows.mfa.verification import Verifier, as_credential
from chalicelib.flows.mfa.webauthn_rp import RelyingParty, client_challenge, credential_user_handle
from chalicelib.flows.sessions import Sessions, TokenPair
from chalicelib.flows.tickets import Tickets
from chalicelib.ports import AccountRepository, Clock, FactorRepository
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SecondFactorSignIn:
    sessions: Sessions
    accounts: AccountRepository
    factors: FactorRepository
    tickets: Tickets
    verifier: Verifier
    rp: RelyingParty
    devices: DeviceTrust
    clock: Clock

    # -- the second step ----------------------------------------------------------------------------
    def offered(self, realm: RealmConfig, mfa_token: str, browser: str | None) -> list[str] | None:
        """What the holder of ``mfa_token`` may offer (the second step's page), or None
        when the token is not live in this browser."""
        ticket = self._live(realm, mfa_token, browser)
        return None if ticket is None else self.sessions.second_step.offered(realm, ticket)

    def webauthn_options(self, realm: RealmConfig, mfa_token: str, browser: str | None) -> dict[str, Any]:
        """Assertion options over the account's credentials, the challenge bound to the token."""
        ticket = self._ticket(realm, mfa_token, browser)
        account_id = ticket.data["account_id"]
        factors, _ = self.factors.overview(realm.id, account_id)
        keys = [factor for factor in factors if factor.kind is FactorKind.WEBAUTHN and factor.confirmed]
        if not keys:
            raise InvalidInput(errors={"webauthn": ["this account has no passkey or security key"]})
        options, challenge = self.rp.authentication_options(keys)
        self.verifier.issue_challenge(realm, challenge, purpose="second_step", binding=mfa_token, account_id=account_id)
        return options

    def complete(
        self,
        realm: RealmConfig,
        mfa_token: str,
        *,
        totp: str | None = None,
        recovery_code: str | None = None,
        webauthn: Any = None,
        browser: str | None = None,
        device_cookie: str | None = None,
    ) -> TokenPair:
        """Check the proof, spend the token, open the session.

        Raises
        ------
        TokenInvalid
            the token is unknown, expired, spent, another realm's or another browser's.
        MfaInvalid
            the proof was wrong, replayed, or not this account's.
        TooManyAttempts
            the account's second-factor back-off refused the attempt (before comparing).
        """
        ticket = self._ticket(realm, mfa_token, browser)
        account_id = ticket.data["account_id"]
        step, code = None, None
        if totp:  # the keys the password step read: no factor list read here (gate.py)
            step = self.verifier.match_totp(realm, account_id, totp, self.sessions.second_step.totp_keys(realm, ticket))
            method = "otp"
        elif recovery_code:
            code = self.verifier.recovery_code_use(realm, account_id, recovery_code, _login_key(ticket))
            method = "otp"
        elif webauthn:
            credential = as_credential(webauthn)
            self.verifier.take_challenge(realm, credential, purpose="second_step", binding=mfa_token)
            challenge = client_challenge(credential) or ""
            factors, _ = self.factors.overview(realm.id, account_id)
            method = self.verifier.assertion(realm, account_id, credential, factors, challenge).amr
        else:
            raise InvalidInput(errors={"totp": ["give the code of your authenticator app, or a recovery code"]})
        settle = [self.verifier.throttle.second_factor_claim(realm, account_id).key]
        roles = tuple(role for role in ticket.data.get("roles", "").split(SEPARATOR) if role)
        first = ticket.data.get("method") or "pwd"
        # The token, and a TOTP code's step or a recovery code, are spent in the session's
        # own write: of parallel second steps with good proofs exactly one opens a session
        # (TokenInvalid for the others, whose codes stay unspent), and a replayed or wrong
        # code opens none (MfaInvalid, the token still live).
        try:
            pair = self.sessions.open(
                realm,
                account_id,
                roles,
                settle=settle,
                amr=(first, method),
                spend_ticket=ticket.ticket_hash,
                spend_step=step,
                spend_code=code,
            )
        except MfaInvalid:
            if step is not None:
                raise self.verifier.step_refused(realm, step) from None
            if code is not None:
                raise self.verifier.code_refused(realm, code) from None
            raise
        log.info("second step passed", extra={"realm": realm.id, "account_id": account_id, "method": method})
        username, device = ticket.data.get("username", ""), ticket.data.get("device") or None
        if not username:
            return pair
        if device is None:  # the password step came from a browser new to this account
            self.sessions.new_device.queue(realm.id, account_id, pair.session_id)
        return replace(pair, device_cookie=self.devices.remember(realm, username, device_cookie, device))

    def _ticket(self, realm: RealmConfig, mfa_token: str, browser: str | None) -> Ticket:
        ticket = self._live(realm, mfa_token, browser)
        if ticket is None:
            raise TokenInvalid("This sign-in has expired; please sign in again.")
        return ticket

    def _live(self, realm: RealmConfig, mfa_token: str, browser: str | None) -> Ticket | None:
        """The token's ticket while it is live, of this realm, and in the browser it was
        issued to (when that browser had a binding cookie)."""
        ticket = self.tickets.live(fingerprint(mfa_token), TicketKind.MFA, realm.id) if mfa_token else None
        bound = ticket.data.get("browser", "") if ticket is not None else ""
        if ticket is None or (bound and not (browser and same(bound, fingerprint(browser)))):
            return None
        return ticket

    # -- passkey first -----------------------------------------------------------------------------------
    def passkey_options(self, realm: RealmConfig, browser: str) -> dict[str, Any]:
        """Options for any passkey of this site; the challenge is this browser's, once."""
        options, challenge = self.rp.authentication_options()
        self.verifier.issue_challenge(realm, challenge, purpose="passkey", binding=browser, account_id="")
        return options

    def passkey(self, realm: RealmConfig, credential: Any, browser: str) -> TokenPair:
        """A session from a passkey alone (user verified), no username typed.

        Raises MfaInvalid for every defect (unknown or foreign credential, bad signature,
        wrong origin, counter gone back, no user verification, challenge not this
        browser's), and the account states a password login raises.
        """
        credential = as_credential(credential)
        self.verifier.take_challenge(realm, credential, purpose="passkey", binding=browser)
        owner = parse_user_handle(credential_user_handle(credential))
        if owner is None or owner[0] != realm.id:
            log.info("passkey of another realm or without a user handle", extra={"realm": realm.id})
            raise MfaInvalid()
        account = self.accounts.get(realm.id, owner[1])
        if account is None:
            raise MfaInvalid()
        factors, _ = self.factors.overview(realm.id, account.account_id)
        challenge = client_challenge(credential) or ""
        factor = self.verifier.assertion(
            realm, account.account_id, credential, factors, challenge, require_user_verification=True
        )
        self.sessions.require_usable(account.status)
        if account.is_past_expiry(self.clock.now().date()):
            raise AccountExpired()
        log.info("passkey sign-in", extra={"realm": realm.id, "account_id": account.account_id})
        return self.sessions.open(realm, account.account_id, account.roles, amr=(factor.amr, "mfa"))


def _login_key(ticket: Ticket) -> tuple[UniqueKind, str] | None:
    """The login record of the first step's account (a password step's username, an EU
    Login step's subject): its count of recovery codes left follows a spent code. A
    token issued before tickets carried the subject has none; its record's count is
    then not lowered (it only decides whether recovery codes are offered)."""
    if username := ticket.data.get("username", ""):
        return UniqueKind.USERNAME, username
    if subject := ticket.data.get("subject", ""):
        return UniqueKind.SUBJECT, subject
    return None
