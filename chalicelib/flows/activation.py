"""E-mail activation: send the mail, activate by link or by code, resend on request."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.domain.accounts import Account, AccountStatus, UniqueKind, normalise_email
from chalicelib.domain.mail import MailMessage
from chalicelib.domain.tokens import Purpose
from chalicelib.flows.challenges import Challenges
from chalicelib.flows.errors import AccountDisabled, AccountExpired, MailDeliveryError, TokenInvalid
from chalicelib.flows.links import Links
from chalicelib.ports import AccountRepository, Clock, Mailer
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Activation:
    accounts: AccountRepository
    challenges: Challenges
    mailer: Mailer
    clock: Clock
    links: Links

    def send(self, realm: RealmConfig, account: Account) -> bool:
        """Issue a new activation challenge and mail it; False if the mail failed.

        A failed send is logged, never raised: the account is already stored and the
        person can ask for the mail again (SPEC §3, "mail failures never lose an account").
        The challenge of the unsent mail is withdrawn, so a mail that did arrive earlier
        keeps working.
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
            return False
        return True

    def activate_by_token(self, realm: RealmConfig, token: str) -> AccountStatus:
        """Consume the link token and activate the account it names."""
        challenge = self.challenges.redeem_token(realm.id, Purpose.ACTIVATION, token)
        return self._activate(realm, challenge.account_id)

    def activate_by_code(self, realm: RealmConfig, email: str, code: str) -> AccountStatus:
        """Consume the typed code of the account with ``email`` and activate it."""
        account = self.accounts.find_by_unique(realm.id, UniqueKind.EMAIL, normalise_email(email))
        challenge = self.challenges.redeem_code(account, Purpose.ACTIVATION, code, realm.activation_code_attempts)
        return self._activate(realm, challenge.account_id)

    def resend(self, realm: RealmConfig, email: str) -> None:
        """Send a new activation mail if a pending account has ``email``; silent otherwise.

        The caller answers 202 either way (enumeration safety).
        """
        account = self.accounts.find_by_unique(realm.id, UniqueKind.EMAIL, normalise_email(email))
        if account is not None and account.status is AccountStatus.PENDING_ACTIVATION:
            self.send(realm, account)

    def _activate(self, realm: RealmConfig, account_id: str) -> AccountStatus:
        """Pending → active. An account that was disabled meanwhile stays so, and says so."""
        log.info("activation challenge redeemed", extra={"account_id": account_id, "realm": realm.id})
        activated = self.accounts.set_status(
            realm.id,
            account_id,
            AccountStatus.ACTIVE,
            expected=AccountStatus.PENDING_ACTIVATION,
            now=self.clock.now(),
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
