"""The authorization endpoint's decisions: who is signed in, may they get a code, does
the application need their consent, and the code itself (SPEC §2.8).

The browser's single sign-on session is the session family its last sign-in opened
(``flows/sessions.py``): the SSO cookie names the account and the session and carries a
secret whose hash the session keeps, so one read (with the account and the consent, in
the same round trip) tells who is signed in, whether they still may sign in, and
whether the application was allowed before. A code is issued in one transaction that
also records the application on the session, and only while the session is still live
and still this browser's: a logout racing the request leaves no code behind, and ending
the session later finds every application to tell.

Second factors (SPEC §2.9): a code is issued only under a session as strong as the
account. An account with a factor whose session passed none (it was opened before the
factor was added elsewhere) signs in again, both steps; an account whose role needs a
factor and that has none gets no code at all, and the page says to enrol one first. The
code records how the session was made (``amr``) and ``acr`` ``2`` after a second factor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.oidc import Consent, Expectations, OidcClient, OidcGrant
from chalicelib.domain.secrets import fingerprint, same
from chalicelib.domain.tokens import (
    MULTI_FACTOR_METHODS,
    BrowserCookie,
    SessionFamily,
    parse_browser_cookie,
    parse_browser_session,
)
from chalicelib.errors import AccountDisabled, AccountExpired, FlowError, MfaEnrolmentRequired, NotActivated
from chalicelib.ports import (
    Clock,
    ConsentRepository,
    OidcClientRepository,
    OidcGrantRepository,
    OidcLookup,
    SecretSource,
)
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(seconds=60)
"""SPEC §2.8: codes live 60 seconds (RFC 6749 recommends at most ten minutes)."""


@dataclass(frozen=True)
class BrowserSignIn:
    """The person signed in in this browser, as the authorization endpoint sees them."""

    family: SessionFamily
    account: Account
    consent: Consent | None

    @property
    def account_id(self) -> str:
        return self.account.account_id

    @property
    def session_id(self) -> str:
        return self.family.family_id


@dataclass(frozen=True)
class CookieSignIn:
    """The SSO cookie's word for who is signed in, before anything is read. Enough to
    issue a code in one conditional write that checks every part of it (the session's
    secret, times and methods, the account, the consent): the common case of an
    application signing a signed-in person in costs one round trip, and any doubt falls
    back to reading everything (:meth:`Authorization.signed_in`)."""

    cookie: BrowserCookie

    @property
    def account_id(self) -> str:
        return self.cookie.account_id

    @property
    def session_id(self) -> str:
        return self.cookie.session_id


@dataclass(frozen=True)
class CodeRequest:
    """A validated authorization request (authlib checked client, redirect URI, PKCE)."""

    client: OidcClient
    scopes: tuple[str, ...]
    redirect_uri: str
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None


@dataclass(frozen=True)
class Authorization:
    lookup: OidcLookup
    grants: OidcGrantRepository
    consents: ConsentRepository
    clients: OidcClientRepository
    clock: Clock
    secrets: SecretSource

    def client(self, realm: RealmConfig, client_id: str | None) -> OidcClient | None:
        if not client_id or len(client_id) > 128:
            return None
        return self.clients.get(realm.id, client_id)

    def cookie_sign_in(self, browser_session: str | None) -> CookieSignIn | None:
        """The cookie's claims, when it carries what a one-write code issue checks."""
        cookie = parse_browser_cookie(browser_session)
        if cookie is None or cookie.auth_time is None or cookie.expires_at is None:
            return None
        if not self.clock.now() < cookie.expires_at:
            return None
        return CookieSignIn(cookie)

    def signed_in(self, realm: RealmConfig, browser_session: str | None, client_id: str) -> BrowserSignIn | None:
        """The browser's live session (with its account and the consent for
        ``client_id``), or None: no cookie, a forged or stale one, an ended session."""
        parsed = parse_browser_session(browser_session)
        if parsed is None:
            return None
        account_id, session_id, secret = parsed
        family, account, consent = self.lookup.authorization_context(realm.id, account_id, session_id, client_id[:128])
        if (
            family is None
            or account is None
            or family.realm != realm.id
            or not family.is_live(self.clock.now())
            or family.browser_hash is None
            or not same(family.browser_hash, fingerprint(secret))
        ):
            return None
        return BrowserSignIn(family, account, consent)

    def refusal(self, realm: RealmConfig, sign_in: BrowserSignIn | CookieSignIn) -> FlowError | None:
        """Why this account may not sign in to an application now (the page says it);
        None when it may. Ending sessions on every such change makes this rare; the
        expiry day that passed before the nightly sweep is the common case. A role that
        needs a second factor, on an account without one, may sign in only to enrol one:
        no application gets a code for it. (For a :class:`CookieSignIn` the code's own
        write checks all of it.)"""
        if isinstance(sign_in, CookieSignIn):
            return None
        account = sign_in.account
        if account.status is AccountStatus.PENDING_ACTIVATION:
            return NotActivated()
        if account.status is AccountStatus.DISABLED:
            return AccountDisabled()
        if account.status is AccountStatus.EXPIRED or account.is_past_expiry(self.clock.now().date()):
            return AccountExpired()
        if realm.requires_second_factor(account.roles) and not passed_second_factor(sign_in.family.amr):
            return MfaEnrolmentRequired("Add a second factor on your account's Security page first.")
        return None

    @staticmethod
    def needs_second_factor(sign_in: BrowserSignIn | CookieSignIn) -> bool:
        """The account has a second factor and this session never passed one (it was
        opened by a password before the factor was added in another session): the person
        signs in again, and the second step asks for it. (For a :class:`CookieSignIn` the
        code's own write checks that the account has none.)"""
        if isinstance(sign_in, CookieSignIn):
            return False
        return sign_in.account.second_factors > 0 and not passed_second_factor(sign_in.family.amr)

    def needs_reauthentication(self, sign_in: BrowserSignIn | CookieSignIn, max_age: int | None) -> bool:
        """``max_age`` seconds have passed since the person last proved who they are."""
        if max_age is None:
            return False
        if isinstance(sign_in, CookieSignIn):
            auth_time = sign_in.cookie.auth_time or datetime.min.replace(tzinfo=UTC)
        else:
            auth_time = sign_in.family.auth_time or sign_in.family.created_at
        return (self.clock.now() - auth_time).total_seconds() > max_age

    @staticmethod
    def needs_consent(
        client: OidcClient, sign_in: BrowserSignIn | CookieSignIn, scopes: tuple[str, ...], *, asked: bool
    ) -> bool:
        """The consent page is shown unless the client is the realm's own (``trusted``)
        or the person allowed these scopes before; ``prompt=consent`` asks again. (For a
        :class:`CookieSignIn` the code's own write checks the consent.)"""
        if asked:
            return True
        if client.trusted or isinstance(sign_in, CookieSignIn):
            return False
        return sign_in.consent is None or not sign_in.consent.covers(scopes)

    def remember_consent(
        self, realm: RealmConfig, sign_in: BrowserSignIn, client: OidcClient, scopes: tuple[str, ...]
    ) -> None:
        self.consents.grant(
            Consent(realm.id, sign_in.account_id, client.client_id, tuple(sorted(set(scopes))), self.clock.now())
        )

    def issue_code(self, realm: RealmConfig, sign_in: BrowserSignIn | CookieSignIn, request: CodeRequest) -> str | None:
        """A 60-second, single-use code for ``request``, or None when the session ended
        (or was taken over) in the meantime, or, for a :class:`CookieSignIn`, when any
        of the cookie's claims, the account or the consent does not hold (the caller
        then reads and decides the slow way). Only the code's hash is stored."""
        now = self.clock.now()
        expect: Expectations | None = None
        if isinstance(sign_in, CookieSignIn):
            cookie = sign_in.cookie
            assert cookie.auth_time is not None and cookie.expires_at is not None
            session = (cookie.session_id, cookie.auth_time, cookie.expires_at, cookie.amr)
            browser_hash = fingerprint(cookie.secret)
            consent = None if request.client.trusted else request.scopes
            single_factor: tuple[str, ...] | None = None
            if not passed_second_factor(cookie.amr):
                if realm.mfa_required_for_all:
                    return None  # every account needs a factor: read and decide
                single_factor = realm.mfa_required_roles
            expect = Expectations(cookie.auth_time, cookie.expires_at, cookie.amr, now.date(), consent, single_factor)
        else:
            family = sign_in.family
            session = (family.family_id, family.auth_time or family.created_at, family.expires_at, family.amr)
            browser_hash = family.browser_hash or ""
        session_id, auth_time, expires_at, amr = session
        grant_id = self.secrets.identifier()
        code = f"{grant_id}.{self.secrets.token()}"
        grant = OidcGrant(
            grant_id=grant_id,
            realm=realm.id,
            client_id=request.client.client_id,
            account_id=sign_in.account_id,
            session_id=session_id,
            scopes=request.scopes,
            redirect_uri=request.redirect_uri,
            auth_time=auth_time,
            created_at=now,
            expires_at=expires_at,
            code_hash=fingerprint(code),
            code_expires_at=now + CODE_LIFETIME,
            amr=amr,
            acr="2" if passed_second_factor(amr) else "1",
            nonce=request.nonce,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
        )
        if not self.grants.issue(grant, browser_hash=browser_hash, now=now, expect=expect):
            log.info("no code from this sign-in", extra={"realm": realm.id, "session_id": session_id})
            return None
        return code


def passed_second_factor(amr: tuple[str, ...]) -> bool:
    """The session's person proved a second factor (``otp``, ``hwk`` or ``swk``)."""
    return bool(set(amr) & MULTI_FACTOR_METHODS)
