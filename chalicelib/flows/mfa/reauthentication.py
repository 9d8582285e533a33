"""Recent authentication (SPEC §2.10): sensitive changes need a check of the last minutes.

A session remembers when the person last proved who they are (``auth_time``: the
sign-in, a second factor, a re-authentication). Changes to factors, password, e-mail,
export and deletion call :meth:`Reauthentication.require_recent`; past five minutes the
client asks again (``POST /me/reauthenticate`` with the password, a TOTP code or a
WebAuthn assertion), which moves ``auth_time`` and adds the method to the session's
``amr`` (to the second: the SSO cookie, which carries both, is written again with them).
A password typed here reserves its attempt on the username's back-off, as a
login does: a stolen session cookie is no faster way to guess the password.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.mfa import RECENT_AUTHENTICATION, FactorKind, totp_keys
from chalicelib.domain.tokens import SessionFamily
from chalicelib.errors import InvalidCredentials, InvalidInput, ReauthenticationRequired, Unauthorized
from chalicelib.flows.mfa.verification import Verifier, as_credential
from chalicelib.flows.mfa.webauthn_rp import RelyingParty, client_challenge
from chalicelib.flows.sessions import Principal
from chalicelib.ports import AccountRepository, Clock, FactorRepository, PasswordHasher, SessionRepository
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reauthenticated:
    method: str
    """The RFC 8176 method just proved (``pwd``, ``otp``, ``hwk``, ``swk``)."""
    session: SessionFamily
    """The session as it now stands (its ``amr`` and ``auth_time`` moved)."""


@dataclass(frozen=True)
class Reauthentication:
    accounts: AccountRepository
    factors: FactorRepository
    sessions: SessionRepository
    hasher: PasswordHasher
    verifier: Verifier
    rp: RelyingParty
    clock: Clock

    def require_recent(self, principal: Principal) -> None:
        """Raises ReauthenticationRequired unless the session's person proved who they
        are in the last five minutes."""
        auth_time = principal.auth_time
        if auth_time is None or self.clock.now() - auth_time > RECENT_AUTHENTICATION:
            raise ReauthenticationRequired()

    def options(self, realm: RealmConfig, principal: Principal) -> dict[str, Any]:
        """Assertion options over the account's credentials, bound to this session."""
        factors, _ = self.factors.overview(realm.id, principal.account_id)
        keys = [factor for factor in factors if factor.kind is FactorKind.WEBAUTHN and factor.confirmed]
        if not keys:
            raise InvalidInput(errors={"webauthn": ["this account has no passkey or security key"]})
        options, challenge = self.rp.authentication_options(keys)
        self.verifier.issue_challenge(
            realm, challenge, purpose="reauthenticate", binding=principal.session_id, account_id=principal.account_id
        )
        return options

    def reauthenticate(
        self,
        realm: RealmConfig,
        principal: Principal,
        *,
        password: str | None = None,
        totp: str | None = None,
        webauthn: Any = None,
    ) -> Reauthenticated:
        """Check one of the three and record it on the session.

        Raises InvalidCredentials (password), MfaInvalid (code or assertion),
        TooManyAttempts, InvalidInput (none given).
        """
        account = self.accounts.get(realm.id, principal.account_id)
        if account is None:
            raise Unauthorized()
        if password:
            method = self._password(realm, account.username, account.password_hash, password)
        elif totp:
            factors, _ = self.factors.overview(realm.id, account.account_id)
            method = self.verifier.totp(realm, account.account_id, totp, totp_keys(factors))
            self.verifier.throttle.settle([self.verifier.throttle.second_factor_claim(realm, account.account_id).key])
        elif webauthn:
            credential = as_credential(webauthn)
            self.verifier.take_challenge(realm, credential, purpose="reauthenticate", binding=principal.session_id)
            factors, _ = self.factors.overview(realm.id, account.account_id)
            factor = self.verifier.assertion(
                realm, account.account_id, credential, factors, client_challenge(credential) or ""
            )
            method = factor.amr
        else:
            raise InvalidInput(errors={"password": ["give the password, a code, or use a security key"]})
        now = self.clock.now().replace(microsecond=0)  # as the SSO cookie carries it
        session = self.sessions.add_authentication(realm.id, account.account_id, principal.session_id, method, now)
        if session is None:
            raise Unauthorized("The session has ended.")
        log.info("reauthenticated", extra={"realm": realm.id, "account_id": account.account_id, "method": method})
        return Reauthenticated(method, session)

    def _password(self, realm: RealmConfig, username: str, stored: str | None, password: str) -> str:
        limits = self.verifier.throttle.login_claims(realm, username.casefold(), "", None)
        for claim in limits.claims:
            self.verifier.throttle.reserve(realm, claim)
        if not stored or not self.hasher.verify(stored, password):
            raise InvalidCredentials("The password is not right.")
        self.verifier.throttle.settle(limits.settled_by_success)
        return "pwd"
