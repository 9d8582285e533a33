"""Login, token refresh with rotation, logout, and reading the signed-in account.

Access tokens are short-lived JWTs signed with the service's private key (verifiable
with the realm's JWKS). Refresh tokens are opaque, stored hashed, and rotate on every use;
presenting a rotated one is treated as theft and revokes the whole family (OAuth 2.0
Security BCP §4.14). Unknown usernames still spend one password hash, and every
credential failure answers the same way, so the endpoint does not reveal who exists.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.accounts import AccountStatus
from chalicelib.domain.audit import audit, request_origin
from chalicelib.domain.flows import Intent
from chalicelib.domain.mfa import RecoveryCodeUse, TotpStep
from chalicelib.domain.oidc import EndReason
from chalicelib.domain.secrets import fingerprint
from chalicelib.domain.tickets import TicketKind
from chalicelib.domain.tokens import (
    ACCESS_TOKEN_AUDIENCE,
    MULTI_FACTOR_METHODS,
    USER_AGENT_LIMIT,
    RefreshToken,
    RotationOutcome,
    SessionFamily,
    SessionStart,
    browser_session_value,
)
from chalicelib.errors import (
    AccountDisabled,
    AccountExpired,
    CertificationRequired,
    FlowError,
    InvalidCredentials,
    MfaInvalid,
    NotActivated,
    TokenExpired,
    TokenInvalid,
    Unauthorized,
)
from chalicelib.flows.account.new_device import NewDeviceNotices
from chalicelib.flows.devices import DeviceTrust
from chalicelib.flows.links import Links
from chalicelib.flows.mfa.gate import FirstStep, SecondStepGate
from chalicelib.flows.session_ending import SessionEnding
from chalicelib.flows.throttling import Throttle
from chalicelib.flows.tickets import Tickets
from chalicelib.ports import (
    AccountRepository,
    Clock,
    LoginGate,
    PasswordHasher,
    SecretSource,
    SessionRepository,
    TokenSigner,
)
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    token_type: str = "Bearer"
    device_cookie: str | None = None
    """The browser's device cookie after a password sign-in (``flows/devices.py``)."""
    browser_session: str = ""
    """The single sign-on cookie's value (``web/oidc/browser.py``): which session, and
    the secret whose hash the session keeps. Empty when no session was opened."""
    session_expires_in: int = 0
    session_id: str = ""
    """The session opened (its family id, the tokens' ``sid``)."""
    mfa_enrolment_required: bool = False
    """The realm requires a second factor of this account and it has none: the session
    may enrol one, and admin endpoints refuse it until then (SPEC §2.9)."""


@dataclass(frozen=True)
class Principal:
    """The verified caller of an API request."""

    realm: str
    account_id: str
    session_id: str
    roles: tuple[str, ...]
    amr: tuple[str, ...] = ()
    """How the session's person proved who they are (its family's RFC 8176 methods)."""
    auth_time: datetime | None = None
    """When they last did (a sign-in, a second factor, a re-authentication)."""


@dataclass(frozen=True)
class Sessions:
    accounts: AccountRepository
    gate: LoginGate
    sessions: SessionRepository
    hasher: PasswordHasher
    signer: TokenSigner
    clock: Clock
    secrets: SecretSource
    links: Links
    throttle: Throttle
    tickets: Tickets
    devices: DeviceTrust
    ending: SessionEnding
    second_step: SecondStepGate
    new_device: NewDeviceNotices
    """A sign-in from a browser without this account's device cookie mails a notice."""

    def login(
        self,
        realm: RealmConfig,
        username: str,
        password: str,
        address: str = "",
        device_cookie: str | None = None,
        browser: str | None = None,
    ) -> TokenPair:
        """Check the password and open a session.

        Every attempt first *reserves* its slot under each limit it falls under (the
        username's back-off and the address's window, or a known browser's own back-off)
        in the same round trip that reads the login record; only a granted attempt spends
        a password hash, so a burst of parallel guesses earns no more comparisons than
        the same guesses one by one. A right password settles the username's (and the
        device's) attempts in the session's own write: a login stays at two round trips.

        Raises
        ------
        TooManyAttempts
            a limit refused the attempt; decided before any password work, for known and
            unknown usernames alike.
        InvalidCredentials
            unknown user, no local password, or wrong password (indistinguishable).
        NotActivated, AccountDisabled, AccountExpired
            only after the password was right, so they reveal nothing to a guesser.
        CertificationRequired
            a legacy account of a GSIS realm, after the right password: carries a
            short-lived ticket and the URL that starts the one-time certification.
        MfaRequired
            the account has a second factor: no session yet, an ``mfa_token`` (bound to
            ``browser``, the binding cookie's value) for the second step instead.
        """
        username = username.strip().casefold()
        device = self.devices.recognise(realm, username, device_cookie)
        limits = self.throttle.login_claims(realm, username, address, device)
        login, reservations = self.gate.open(realm.id, username, limits.claims, self.clock.now())
        self.throttle.require_granted(realm, reservations)
        if login is None or not login.password_hash:
            self.hasher.waste_time(password)
            log.info("login refused", extra={"realm": realm.id, "reason": "unknown_user_or_no_password"})
            raise InvalidCredentials()
        if not self.hasher.verify(login.password_hash, password):
            log.info(
                "login refused", extra={"realm": realm.id, "reason": "wrong_password", "account_id": login.account_id}
            )
            raise InvalidCredentials()
        if self.hasher.needs_rehash(login.password_hash):
            # The right password is known only now: upgrade a legacy or weaker hash.
            now = self.clock.now()
            entry = audit(realm.id, login.account_id, "password_rehashed", actor=login.account_id, at=now)
            self.accounts.set_password_hash(realm.id, login.account_id, self.hasher.hash(password), now, audit=entry)
        try:
            self.require_usable(login.status)
            if login.expires_on is not None and login.expires_on < self.clock.now().date():
                raise AccountExpired()  # the daily sweep may not have run yet: check here too
            if realm.identity_source == "gsis" and not login.gsis_verified and not self._staff(realm, login.roles):
                raise self._certification_required(realm, login.account_id)
        except FlowError:
            self.throttle.settle(limits.settled_by_success)  # the password was right all the same
            raise
        if login.second_factors > 0:
            log.info("password right, second step follows", extra={"realm": realm.id, "account_id": login.account_id})
            first = FirstStep(
                login.account_id,
                login.roles,
                "pwd",
                username,
                device,
                limits.settled_by_success,
                factors=login.factors,
                second_factors=login.second_factors,
            )
            raise self.second_step.demand(realm, first, browser)
        log.info("login succeeded", extra={"realm": realm.id, "account_id": login.account_id})
        pair = self.open(realm, login.account_id, login.roles, settle=limits.settled_by_success)
        if device is None:
            self.new_device.queue(realm.id, login.account_id, pair.session_id)
        return replace(
            pair,
            device_cookie=self.devices.remember(realm, username, device_cookie, device),
            mfa_enrolment_required=realm.requires_second_factor(login.roles),
        )

    def refresh(self, realm: RealmConfig, refresh_token: str) -> TokenPair:
        """Exchange a refresh token for a new pair; the old one stops working.

        Raises
        ------
        TokenInvalid
            unknown, revoked, or a replay of a rotated token (which revokes the family).
        TokenExpired
            past its own or its family's expiry.
        """
        now = self.clock.now()
        current = self.sessions.find_token(fingerprint(refresh_token)) if refresh_token else None
        if current is None or current.realm != realm.id:
            raise TokenInvalid()
        family = self.sessions.get_family(realm.id, current.account_id, current.family_id)
        if family is None or family.revoked_at is not None:
            raise TokenInvalid()
        if current.rotated_at is not None:
            log.warning(
                "rotated refresh token reused; session revoked",
                extra={"realm": realm.id, "account_id": current.account_id, "session_id": current.family_id},
            )
            self.ending.end(realm.id, current.account_id, current.family_id, EndReason.REFRESH_REUSED)
            raise TokenInvalid()
        if now >= current.expires_at or now >= family.expires_at:
            raise TokenExpired()
        account = self.accounts.get(realm.id, current.account_id)
        if account is None:
            raise TokenInvalid()
        self.require_usable(account.status)
        if account.is_past_expiry(now.date()):
            raise AccountExpired()
        secret = self.secrets.token()
        successor = RefreshToken(
            token_hash=fingerprint(secret),
            realm=realm.id,
            account_id=account.account_id,
            family_id=family.family_id,
            created_at=now,
            expires_at=min(now + realm.lifetimes.refresh_token, family.expires_at),
        )
        if self.sessions.rotate(current, successor, now) is RotationOutcome.REUSED:
            self.ending.end(realm.id, current.account_id, current.family_id, EndReason.REFRESH_REUSED)
            raise TokenInvalid()
        return self._pair(
            realm, account.account_id, account.roles, family.family_id, secret, successor.expires_at, family.amr
        )

    def logout(self, realm: RealmConfig, principal: Principal, address: str = "") -> None:
        """End the caller's session: its refresh tokens stop working at once, and the
        applications signed in through it are told (back-channel logout)."""
        self.ending.end(realm.id, principal.account_id, principal.session_id, EndReason.LOGOUT, address=address)

    def authenticate(self, realm: RealmConfig, access_token: str | None) -> Principal:
        """Verify a bearer token for this realm, including that its session is still live.

        Raises
        ------
        Unauthorized
            missing, malformed, expired, foreign, or revoked.
        """
        if not access_token:
            raise Unauthorized()
        claims = self.signer.verify(access_token, issuer=self.links.issuer(realm.id), now=self.clock.now())
        principal = Principal(
            realm=realm.id,
            account_id=str(claims["sub"]),
            session_id=str(claims["sid"]),
            roles=tuple(claims.get("roles", ())),
        )
        family = self.sessions.get_family(realm.id, principal.account_id, principal.session_id)
        if family is None or family.revoked_at is not None:
            raise Unauthorized("The session has ended.")
        return replace(principal, amr=family.amr, auth_time=family.auth_time or family.created_at)

    def profile(self, realm: RealmConfig, principal: Principal) -> dict[str, Any]:
        """The signed-in account as ``GET /me`` shows it (the owner sees their own AFM)."""
        account = self.accounts.get(realm.id, principal.account_id)
        if account is None:
            raise Unauthorized()
        identity = account.identity.public_fields() if account.identity else None
        return {
            "account_id": account.account_id,
            "realm": account.realm,
            "username": account.username,
            "email": account.email,
            "status": str(account.status),
            "identity": identity,
            "gsis_verified": account.gsis_verified,
            "gender": account.gender,
            "registry_number": account.registry_number,
            "mobile": account.mobile,
            "language": account.language,
            "roles": list(account.roles),
            "created_at": account.created_at.isoformat(),
            "deletion_due": account.deletion_due.isoformat() if account.deletion_due else None,
        }

    @staticmethod
    def require_usable(status: AccountStatus) -> None:
        if status is AccountStatus.PENDING_ACTIVATION:
            raise NotActivated()
        if status is AccountStatus.DISABLED:
            raise AccountDisabled()
        if status is AccountStatus.EXPIRED:
            raise AccountExpired()

    @staticmethod
    def _staff(realm: RealmConfig, roles: tuple[str, ...]) -> bool:
        """Staff made by an operator (``create-admin``) or given their role by an
        administrator are not legacy accounts: in a GSIS realm they sign in without the
        one-time certification, their second factor being their proof (SPEC §2.11) — the
        roles that need one (``mfa_required_roles``) are exactly these."""
        return bool(set(roles) & set(realm.mfa_required_roles))

    def _certification_required(self, realm: RealmConfig, account_id: str) -> CertificationRequired:
        """A legacy account's right password earns a certification ticket, not a session."""
        data = {"account_id": account_id}
        ticket = self.tickets.issue(realm.id, TicketKind.CERTIFICATION, realm.lifetimes.flow, data)
        url = self.links.page(realm.id, "gsis/start", intent=str(Intent.CERTIFY), ticket=ticket)
        log.info("login needs certification", extra={"realm": realm.id, "account_id": account_id})
        return CertificationRequired(extra={"ticket": ticket, "certify_url": url})

    def open(
        self,
        realm: RealmConfig,
        account_id: str,
        roles: tuple[str, ...],
        *,
        settle: Sequence[str] = (),
        amr: tuple[str, ...] | None = None,
        spend_ticket: str | None = None,
        spend_step: TotpStep | None = None,
        spend_code: RecoveryCodeUse | None = None,
    ) -> TokenPair:
        """Start a session (a new refresh-token family) for a signed-in account; the
        attempt keys in ``settle`` are cleared by the same write, and so is the ticket
        ``spend_ticket`` spent (a second step's ``mfa_token``: TokenInvalid, and no
        session, when another second step spent it first) and its proof, the TOTP step
        ``spend_step`` or the recovery code ``spend_code`` (MfaInvalid, no session and the
        token still live, when that step was spent already or its factor removed, or the
        code is not in the account's set).

        The session is also the browser's single sign-on session at the realm's OpenID
        Provider: it records when and how the person proved who they are (``auth_time``,
        ``amr``: ``fed`` for realms that sign in elsewhere, else ``pwd`` unless given) and
        the hash of a browser secret that the SSO cookie carries. Where the sign-in came
        from (the request's address and User-Agent, ``domain.audit.origin``) is written
        with it, for the person's Sessions page.
        """
        now = self.clock.now()
        address, user_agent = request_origin()
        browser_secret = self.secrets.token()
        second = now.replace(microsecond=0)  # the SSO cookie carries times to the second
        family = SessionFamily(
            realm=realm.id,
            account_id=account_id,
            family_id=self.secrets.identifier(),
            created_at=now,
            expires_at=second + realm.lifetimes.session_max,
            auth_time=second,
            amr=amr or (("fed",) if realm.identity_source == "eulogin" else ("pwd",)),
            browser_hash=fingerprint(browser_secret),
            user_agent=user_agent[:USER_AGENT_LIMIT],
            address=address,
            last_used_at=now,
        )
        secret = self.secrets.token()
        token = RefreshToken(
            token_hash=fingerprint(secret),
            realm=realm.id,
            account_id=account_id,
            family_id=family.family_id,
            created_at=now,
            expires_at=min(now + realm.lifetimes.refresh_token, family.expires_at),
        )
        started = self.sessions.start(
            family,
            token,
            clear_attempts=settle,
            spend_ticket=spend_ticket,
            spend_step=spend_step,
            spend_code=spend_code,
        )
        if started is SessionStart.TICKET_GONE:
            raise TokenInvalid("This sign-in was finished already.")
        if started is SessionStart.PROOF_REFUSED:
            raise MfaInvalid()
        pair = self._pair(realm, account_id, roles, family.family_id, secret, token.expires_at, family.amr)
        return replace(
            pair,
            browser_session=browser_session_value(account_id, family.family_id, browser_secret, family),
            session_expires_in=int((family.expires_at - now).total_seconds()),
            session_id=family.family_id,
        )

    def _pair(
        self,
        realm: RealmConfig,
        account_id: str,
        roles: tuple[str, ...],
        family_id: str,
        refresh: str,
        refresh_expires: datetime,
        amr: tuple[str, ...] = (),
    ) -> TokenPair:
        now = self.clock.now()
        lifetime = int(realm.lifetimes.access_token.total_seconds())
        claims = {
            "iss": self.links.issuer(realm.id),
            "aud": ACCESS_TOKEN_AUDIENCE,
            "sub": account_id,
            "sid": family_id,
            "jti": self.secrets.identifier(),
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + lifetime,
            "realm": realm.id,
            "roles": list(roles),
            "amr": list(amr),
            "acr": "2" if set(amr) & MULTI_FACTOR_METHODS else "1",
        }
        return TokenPair(
            access_token=self.signer.sign(claims),
            refresh_token=refresh,
            expires_in=lifetime,
            refresh_expires_in=int((refresh_expires - now).total_seconds()),
        )
