"""Setting passwords: the strength meter, mailed reset links (NTUA), set-password
invitations (new accounts and administrators), and the confirmation after any change.

Every change of password ends every session of the account (and tells the applications
signed in through them, back-channel logout) and mails a confirmation, so a person
whose password was changed behind their back finds out. Requests that name an account
by username and e-mail only queue a task: the request does the same work whether or
not they match, and the worker decides (enumeration safety, SPEC §1). Links go through
a page whose button consumes the token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.domain.accounts import Account, AccountStatus, UniqueKind, normalise_email
from chalicelib.domain.audit import audit
from chalicelib.domain.mail import MailMessage
from chalicelib.domain.oidc import EndReason
from chalicelib.domain.secrets import same
from chalicelib.domain.tasks import Task
from chalicelib.domain.tokens import Challenge, Purpose
from chalicelib.errors import (
    FlowError,
    InvalidInput,
    MailDeliveryError,
    PasswordPolicyViolation,
    PasswordsMismatch,
    TaskQueueError,
    TokenInvalid,
)
from chalicelib.flows.challenges import Challenges
from chalicelib.flows.links import Links
from chalicelib.flows.password_policy import PolicyResult, check_password
from chalicelib.flows.session_ending import SessionEnding
from chalicelib.ports import AccountRepository, Clock, Mailer, PasswordHasher, SessionRepository, TaskQueue
from chalicelib.realms import RealmConfig, get_realm

log = logging.getLogger(__name__)

RESET_MAIL = "password_reset.send"
SETUP_MAIL = "password_setup.send"
CHANGED_MAIL = "password_changed.send"


def user_inputs(account: Account | None, *extra: str) -> list[str]:
    """What a strength check must not accept as a password: names, username, e-mail."""
    values = list(extra)
    if account is not None:
        values += [account.username, account.email, account.email.split("@")[0]]
        if account.identity is not None:
            values += [account.identity.first_name, account.identity.last_name]
    return [value for value in values if value]


@dataclass(frozen=True)
class Passwords:
    accounts: AccountRepository
    sessions: SessionRepository
    challenges: Challenges
    hasher: PasswordHasher
    mailer: Mailer
    tasks: TaskQueue
    clock: Clock
    links: Links
    ending: SessionEnding

    # -- the meter ------------------------------------------------------------------------

    def check(self, realm: RealmConfig, password: str, inputs: list[str]) -> PolicyResult:
        """Score ``password`` under the realm's policy (the live strength meter)."""
        if realm.password_policy is None:
            raise InvalidInput("This realm has no local passwords.", errors={"password": ["not used in this realm"]})
        return check_password(realm.password_policy, password, inputs)

    def require_acceptable(self, realm: RealmConfig, password: str, confirmation: str, inputs: list[str]) -> None:
        """Raises PasswordsMismatch or PasswordPolicyViolation (with every violation)."""
        if password != confirmation:
            raise PasswordsMismatch(errors={"password_confirmation": ["does not match the password"]})
        result = self.check(realm, password, inputs)
        if not result.acceptable:
            raise PasswordPolicyViolation(
                errors={"password": list(result.messages)}, extra={"violations": list(result.violations)}
            )

    # -- changing -------------------------------------------------------------------------

    def change(self, realm: RealmConfig, account: Account, password: str, *, action: str, via: str) -> None:
        """Store the new hash (audited as ``action``, ``via`` what proved the person),
        end every session, queue the confirmation mail."""
        now = self.clock.now()
        entry = audit(realm.id, account.account_id, action, actor=account.account_id, at=now, via=via)
        self.accounts.set_password_hash(realm.id, account.account_id, self.hasher.hash(password), now, audit=entry)
        revoked = self.ending.end_all(realm.id, account.account_id, EndReason.PASSWORD_CHANGED)
        log.info("password changed", extra={"realm": realm.id, "account_id": account.account_id, "revoked": revoked})
        self._queue(Task(CHANGED_MAIL, {"realm": realm.id, "account_id": account.account_id}))

    def deliver_changed(self, payload: dict[str, str]) -> None:
        """Task: tell the owner their password changed (and what to do if it was not them)."""
        realm = get_realm(payload["realm"])
        account = self.accounts.get(realm.id, payload["account_id"])
        if account is not None:
            # "self": changed from the account page, where the session asking stays signed in
            by_self = payload.get("via") == "self"
            self.mailer.send(self._message("password_changed", realm, account, {"by_self": by_self}))

    # -- reset by mailed link (realms with recovery = "mail") ----------------------------

    def request_reset(self, realm: RealmConfig, username: str, email: str) -> None:
        """Queue the check and the mail; the caller answers 202 whatever the outcome."""
        payload = {"realm": realm.id, "username": username.strip().casefold(), "email": normalise_email(email)}
        self.tasks.enqueue(Task(RESET_MAIL, payload))

    def deliver_reset(self, payload: dict[str, str]) -> None:
        """Task: when username and external e-mail belong together, mail a one-time link."""
        realm = get_realm(payload["realm"])
        account = self.accounts.find_by_unique(realm.id, UniqueKind.USERNAME, payload["username"])
        if (
            account is None
            or account.status is not AccountStatus.ACTIVE
            or not same(normalise_email(account.email), payload["email"])
        ):
            log.info("password reset asked for no matching account", extra={"realm": realm.id})
            return
        self._mail_challenge(realm, account, Purpose.PASSWORD_RESET, "password_reset", "reset-password")

    def complete_reset(self, realm: RealmConfig, token: str, password: str, confirmation: str) -> Account:
        """Consume the reset link's token and set the new password."""
        challenge = self.challenges.peek_token(realm.id, Purpose.PASSWORD_RESET, token)
        return self._complete(realm, challenge, password, confirmation)

    def complete_reset_by_code(
        self, realm: RealmConfig, username: str, code: str, password: str, confirmation: str
    ) -> Account:
        """The same with the code typed from the mail (username names the account)."""
        account = self.accounts.find_by_unique(realm.id, UniqueKind.USERNAME, username.strip().casefold())
        challenge = self.challenges.check_code(account, Purpose.PASSWORD_RESET, code, realm.activation_code_attempts)
        return self._complete(realm, challenge, password, confirmation)

    # -- set-password invitations (accounts created by someone else) ---------------------

    def invite_setup(self, realm: RealmConfig, account_id: str) -> None:
        """Queue the set-password mail of an account that has no password yet."""
        self.tasks.enqueue(Task(SETUP_MAIL, {"realm": realm.id, "account_id": account_id}))

    def deliver_setup(self, payload: dict[str, str]) -> None:
        realm = get_realm(payload["realm"])
        account = self.accounts.get(realm.id, payload["account_id"])
        if account is not None and account.status is AccountStatus.ACTIVE:
            self._mail_challenge(realm, account, Purpose.PASSWORD_SETUP, "password_setup", "set-password")

    def link_username(self, realm: RealmConfig, purpose: Purpose, token: str) -> str | None:
        """The username a live set-password or reset link is for (the page shows it and
        the strength meter weighs it); None for a link that would be refused. Consumes
        nothing."""
        try:
            challenge = self.challenges.peek_token(realm.id, purpose, token)
        except FlowError:
            return None
        account = self.accounts.get(realm.id, challenge.account_id)
        return account.username if account is not None else None

    def complete_setup(self, realm: RealmConfig, token: str, password: str, confirmation: str) -> Account:
        challenge = self.challenges.peek_token(realm.id, Purpose.PASSWORD_SETUP, token)
        return self._complete(realm, challenge, password, confirmation)

    # -- shared -----------------------------------------------------------------------------

    def _complete(self, realm: RealmConfig, challenge: Challenge, password: str, confirmation: str) -> Account:
        """Check the password first (a typo must not burn the link), then consume."""
        account = self.accounts.get(realm.id, challenge.account_id)
        if account is None:
            raise TokenInvalid()
        self.require_acceptable(realm, password, confirmation, user_inputs(account))
        action = "password_set" if challenge.purpose is Purpose.PASSWORD_SETUP else "password_reset"
        self.challenges.spend(challenge, lambda: self.change(realm, account, password, action=action, via="mail"))
        return account

    def _mail_challenge(self, realm: RealmConfig, account: Account, purpose: Purpose, template: str, page: str) -> None:
        lifetime = (
            realm.lifetimes.password_reset if purpose is Purpose.PASSWORD_RESET else realm.lifetimes.password_setup
        )
        issued = self.challenges.issue(account, purpose, lifetime)
        context = {
            "link": self.links.page(realm.id, page, token=issued.token),
            "code": issued.code,
            "expires_at": issued.challenge.expires_at,
        }
        try:
            self.mailer.send(self._message(template, realm, account, context))
        except MailDeliveryError:
            self.challenges.withdraw(issued)
            raise

    def _message(self, template: str, realm: RealmConfig, account: Account, context: dict[str, object]) -> MailMessage:
        language = account.language if account.language in realm.languages else realm.default_language
        return MailMessage(
            template=template,
            to=account.email,
            language=language,
            context={
                "realm_name": getattr(realm.name, language),
                "first_name": account.identity.first_name if account.identity else "",
                "username": account.username,
                "login_url": self.links.page(realm.id, "login"),
                **context,
            },
        )

    def _queue(self, task: Task) -> None:
        try:
            self.tasks.enqueue(task)
        except TaskQueueError:  # a lost confirmation must not undo a password change
            log.warning("task not queued", extra={"task": task.kind})
