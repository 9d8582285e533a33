"""E-mail activation: send the mail, activate by link or by code, resend on request."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.domain.accounts import Account, AccountStatus, UniqueKind, normalise_email
from chalicelib.domain.audit import audit
from chalicelib.domain.mail import MailMessage
from chalicelib.domain.tasks import Task
from chalicelib.domain.tokens import Purpose
from chalicelib.errors import AccountDisabled, AccountExpired, MailDeliveryError, TaskQueueError, TokenInvalid
from chalicelib.flows.challenges import Challenges
from chalicelib.flows.links import Links
from chalicelib.ports import AccountRepository, Clock, Mailer, TaskQueue
from chalicelib.realms import RealmConfig, get_realm

log = logging.getLogger(__name__)

SEND = "activation.send"
RESEND = "activation.resend"


@dataclass(frozen=True)
class Activation:
    accounts: AccountRepository
    challenges: Challenges
    mailer: Mailer
    clock: Clock
    links: Links
    tasks: TaskQueue

    def request_mail(self, realm: RealmConfig, account_id: str) -> bool:
        """Queue the activation mail of a new account; False if it could not be queued.

        Never raises: the account is already stored and the person can ask for the mail
        again (SPEC §3, "mail failures never lose an account").
        """
        try:
            self.tasks.enqueue(Task(SEND, {"realm": realm.id, "account_id": account_id}))
        except TaskQueueError:
            log.warning("activation mail not queued", extra={"account_id": account_id, "realm": realm.id})
            return False
        return True

    def resend(self, realm: RealmConfig, email: str) -> None:
        """Queue a resend for ``email``, known or not: the request does the same work
        either way, so neither its answer nor its timing tells whether an account exists.

        Raises
        ------
        TaskQueueError
            the queue is unavailable (the caller answers 503, for every address alike).
        """
        self.tasks.enqueue(Task(RESEND, {"realm": realm.id, "email": normalise_email(email)}))

    def deliver(self, payload: dict[str, str]) -> None:
        """Task ``activation.send``: mail a pending account a fresh link and code."""
        realm = get_realm(payload["realm"])
        account = self.accounts.get(realm.id, payload["account_id"])
        if account is not None and account.status is AccountStatus.PENDING_ACTIVATION:
            self.send(realm, account)

    def deliver_resend(self, payload: dict[str, str]) -> None:
        """Task ``activation.resend``: the same, for whichever pending account has the e-mail."""
        realm = get_realm(payload["realm"])
        account = self.accounts.find_by_unique(realm.id, UniqueKind.EMAIL, payload["email"])
        if account is not None and account.status is AccountStatus.PENDING_ACTIVATION:
            self.send(realm, account)

    def send(self, realm: RealmConfig, account: Account) -> None:
        """Issue a new activation challenge and mail it.

        Raises
        ------
        MailDeliveryError
            after withdrawing the new challenge, so a mail that did arrive earlier keeps
            working; the queue retries the task later.
        """
        issued = self.challenges.issue(account, Purpose.ACTIVATION, realm.lifetimes.activation)
        message = MailMessage(
            template="activation",
            to=account.email,
            language=account.language,
            context={
                "realm_name": getattr(realm.name, account.language, realm.name.el),
                "first_name": account.identity.first_name if account.identity else "",
                "link": self.links.page(realm.id, "activate", token=issued.token),
                "code": issued.code,
                "expires_at": issued.challenge.expires_at,
                "login_url": self.links.page(realm.id, "login"),
            },
        )
        try:
            self.mailer.send(message)
        except MailDeliveryError:
            log.warning("activation mail not sent", extra={"account_id": account.account_id, "realm": realm.id})
            self.challenges.withdraw(issued)
            raise

    def activate_by_token(self, realm: RealmConfig, token: str) -> AccountStatus:
        """Consume the link token and activate the account it names."""
        challenge = self.challenges.peek_token(realm.id, Purpose.ACTIVATION, token)
        return self.challenges.spend(challenge, lambda: self._activate(realm, challenge.account_id, "link"))

    def activate_by_code(self, realm: RealmConfig, email: str, code: str) -> AccountStatus:
        """Consume the typed code of the account with ``email`` and activate it."""
        account = self.accounts.find_by_unique(realm.id, UniqueKind.EMAIL, normalise_email(email))
        challenge = self.challenges.check_code(account, Purpose.ACTIVATION, code, realm.activation_code_attempts)
        return self.challenges.spend(challenge, lambda: self._activate(realm, challenge.account_id, "code"))

    def _activate(self, realm: RealmConfig, account_id: str, by: str) -> AccountStatus:
        """Pending → active. An account that was disabled meanwhile stays so, and says so."""
        log.info("activation challenge redeemed", extra={"account_id": account_id, "realm": realm.id})
        now = self.clock.now()
        activated = self.accounts.set_status(
            realm.id,
            account_id,
            AccountStatus.ACTIVE,
            expected=AccountStatus.PENDING_ACTIVATION,
            now=now,
            audit=audit(realm.id, account_id, "account_activated", actor=account_id, at=now, by=by),
        )
        if activated:
            return AccountStatus.ACTIVE
        account = self.accounts.get(realm.id, account_id)
        if account is None:
            raise TokenInvalid()
        if account.status is AccountStatus.DISABLED:
            raise AccountDisabled()
        if account.status is AccountStatus.EXPIRED:
            raise AccountExpired()
        return account.status
