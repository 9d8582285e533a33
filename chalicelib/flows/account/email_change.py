"""Changing one's e-mail address from the account centre (SPEC §2.10).

A signed-in person who proved who they are in the last minutes asks for a new address;
nothing changes yet. The worker mails a confirmation link to the new address (proof that
the person holds it) and a notice with a cancel link to the old one (the owner learns of
it even if someone else holds the session). Both links are challenges bound to the
account and to the address asked for, stored hashed, single use, living a day; a new
request replaces both. The change applies only when the confirmation link's page is
submitted (a POST: mail scanners follow GETs), in one write that moves the uniqueness
guard, so an address someone took in between refuses the change and nothing moves.
The cancel link ends the pending change and every session of the account.

Enumeration safety: an address another account holds gets the same answer as any other
(the request only queues a task); the worker mails that address a notice instead of a
link, so only whoever reads that mailbox learns it has an account.

Realm rules (``[account_centre] email_change``): ``self`` (e-IEP), ``secretariat`` (NTUA,
seed 004: the external address is where recovery links go, so only the secretariat
changes it) and ``eulogin`` (eTwinning: the address is EU Login's).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.domain.accounts import Account, AccountStatus, UniqueKind, normalise_email
from chalicelib.domain.audit import audit
from chalicelib.domain.emails import valid_email
from chalicelib.domain.mail import MailMessage
from chalicelib.domain.oidc import EndReason
from chalicelib.domain.tasks import Task
from chalicelib.domain.tokens import Challenge, Purpose
from chalicelib.errors import (
    DuplicateValue,
    EmailTaken,
    Forbidden,
    InvalidInput,
    MailDeliveryError,
    TaskQueueError,
    TokenInvalid,
    Unauthorized,
)
from chalicelib.flows.challenges import Challenges
from chalicelib.flows.links import Links
from chalicelib.flows.mfa.reauthentication import Reauthentication
from chalicelib.flows.session_ending import SessionEnding
from chalicelib.flows.sessions import Principal
from chalicelib.flows.throttling import Throttle
from chalicelib.ports import AccountRepository, AuditLog, Clock, Mailer, TaskQueue
from chalicelib.realms import RealmConfig, get_realm

log = logging.getLogger(__name__)

SEND = "email_change.send"
"""Task: mail the confirmation link (or the "already has an account" notice) and the
notice with the cancel link."""
APPLIED = "email_change.applied"
"""Task: tell the old address that the change was applied."""

CONFIRM_PAGE = "email-change/confirm"
CANCEL_PAGE = "email-change/cancel"

RULE_EXPLANATIONS = {
    "secretariat": (
        "In this institution your e-mail address is changed only by the secretariat, "
        "because password-recovery links are sent to it. Ask your secretariat to change it."
    ),
    "eulogin": (
        "Your e-mail address comes from your EU Login account. Change it in your EU Login "
        "account; Mitroo takes the new address the next time you sign in."
    ),
}


def mask_email(address: str) -> str:
    """``ma***@example.gr``: enough for the owner to recognise, little for anyone else."""
    local, _, domain = address.partition("@")
    return f"{local[:2]}***@{domain}" if domain else "***"


@dataclass(frozen=True)
class PendingChange:
    """What a confirmation or cancel link is about, for its page (consumes nothing)."""

    username: str
    new_email: str


@dataclass(frozen=True)
class EmailChange:
    accounts: AccountRepository
    challenges: Challenges
    reauthentication: Reauthentication
    ending: SessionEnding
    throttle: Throttle
    audit: AuditLog
    mailer: Mailer
    tasks: TaskQueue
    clock: Clock
    links: Links

    # -- the rule ---------------------------------------------------------------------------

    @staticmethod
    def refusal(realm: RealmConfig) -> str | None:
        """Why people of ``realm`` cannot change their address here (None: they can)."""
        return RULE_EXPLANATIONS.get(realm.account_centre.email_change)

    def _require_allowed(self, realm: RealmConfig) -> None:
        reason = self.refusal(realm)
        if reason is not None:
            raise Forbidden(reason)

    # -- asking -----------------------------------------------------------------------------

    def check(self, realm: RealmConfig, principal: Principal, email: str) -> tuple[Account, str]:
        """The signed-in account and the new address, normalised, if it may ask for it.

        Raises Forbidden (realm rule), ReauthenticationRequired, Unauthorized (account
        gone or not active), InvalidEmail / InvalidInput (422, field ``email``).
        """
        self._require_allowed(realm)
        self.reauthentication.require_recent(principal)
        account = self.accounts.get(realm.id, principal.account_id)
        if account is None or account.status is not AccountStatus.ACTIVE:
            raise Unauthorized()
        new = valid_email(email or "")
        if normalise_email(new) == normalise_email(account.email):
            raise InvalidInput(errors={"email": ["this is already your e-mail address"]})
        return account, new

    def request(self, realm: RealmConfig, principal: Principal, email: str, *, address: str = "") -> None:
        """Queue the mails of a change to ``email``; the caller answers 202 whatever the
        address's owner (enumeration safety). Raises as :meth:`check`, and TooManyAttempts."""
        account, new = self.check(realm, principal, email)
        self.throttle.limit(realm, "email_change", account.account_id, address)
        self.tasks.enqueue(Task(SEND, {"realm": realm.id, "account_id": account.account_id, "email": new}))
        now = self.clock.now()
        self.audit.record(
            audit(realm.id, account.account_id, "email_change_requested", actor=account.account_id, at=now)
        )
        log.info("e-mail change asked", extra={"realm": realm.id, "account_id": account.account_id})

    def deliver(self, payload: dict[str, str]) -> None:
        """Task ``email_change.send``: a link to the new address and a notice with a cancel
        link to the old one; or, when another account holds the new address, a notice to
        it and nothing else."""
        realm = get_realm(payload["realm"])
        account = self.accounts.get(realm.id, payload["account_id"])
        new = payload.get("email", "")
        if account is None or account.status is not AccountStatus.ACTIVE or not new or self.refusal(realm):
            log.info("e-mail change dropped", extra={"realm": realm.id})
            return
        if self._held_by_another(realm, account, new):
            # Nothing about the asking account: the address belongs to someone else.
            stranger: dict[str, object] = {"first_name": "", "username": "", "account_url": ""}
            self.mailer.send(self._message("email_change_taken", realm, account, new, stranger))
            log.info("e-mail change asked for a taken address", extra={"realm": realm.id})
            return
        lifetime = realm.lifetimes.email_change
        confirm = self.challenges.issue(account, Purpose.EMAIL_CHANGE, lifetime, subject=new)
        cancel = self.challenges.issue(account, Purpose.EMAIL_CHANGE_CANCEL, lifetime, subject=new)
        try:
            # The owner hears first: without the notice there is no link to follow.
            notice = {
                "link": self.links.page(realm.id, CANCEL_PAGE, token=cancel.token),
                "new_email": mask_email(new),
                "expires_at": cancel.challenge.expires_at,
            }
            self.mailer.send(self._message("email_change_notice", realm, account, account.email, notice))
            verify = {
                "link": self.links.page(realm.id, CONFIRM_PAGE, token=confirm.token),
                "new_email": new,
                "expires_at": confirm.challenge.expires_at,
            }
            self.mailer.send(self._message("email_change_verify", realm, account, new, verify))
        except MailDeliveryError:
            self.challenges.withdraw(cancel)
            self.challenges.withdraw(confirm)
            raise

    def _held_by_another(self, realm: RealmConfig, account: Account, new: str) -> bool:
        values = [(UniqueKind.EMAIL, normalise_email(new))]
        if realm.username == "email":
            values.append((UniqueKind.USERNAME, new.casefold()))
        holders = self.accounts.holders(realm.id, values)
        return any(holder != account.account_id for holder in holders.values())

    # -- the links ---------------------------------------------------------------------------

    def pending(self, realm: RealmConfig, purpose: Purpose, token: str) -> PendingChange:
        """What the link's page shows; consumes nothing. Raises TokenInvalid, TokenExpired."""
        challenge = self.challenges.peek_token(realm.id, purpose, token)
        account = self.accounts.get(realm.id, challenge.account_id)
        if account is None or not challenge.subject:
            raise TokenInvalid()
        return PendingChange(account.username, challenge.subject)

    def confirm(self, realm: RealmConfig, token: str) -> Account:
        """Apply the change the confirmation link names (its page's button).

        Raises TokenInvalid, TokenExpired, Forbidden (the rule or the account's state),
        EmailTaken (another account took the address since: the link is spent, nothing
        changed).
        """
        self._require_allowed(realm)
        challenge = self.challenges.peek_token(realm.id, Purpose.EMAIL_CHANGE, token)
        account = self.accounts.get(realm.id, challenge.account_id)
        if account is None or not challenge.subject:
            raise TokenInvalid()
        if account.status is not AccountStatus.ACTIVE:
            raise Forbidden("The account is not active.")
        changed = self.challenges.spend(challenge, lambda: self._apply(realm, account, challenge))
        self.challenges.drop(realm.id, account.account_id, Purpose.EMAIL_CHANGE_CANCEL)
        self._queue(Task(APPLIED, {"realm": realm.id, "account_id": account.account_id, "old_email": account.email}))
        log.info("e-mail changed", extra={"realm": realm.id, "account_id": account.account_id})
        return changed

    def _apply(self, realm: RealmConfig, account: Account, challenge: Challenge) -> Account:
        new = challenge.subject or ""
        entry = audit(realm.id, account.account_id, "email_changed", actor=account.account_id, at=self.clock.now())
        try:
            return self.accounts.change_email(
                account, new, move_username=realm.username == "email", now=self.clock.now(), audit=entry
            )
        except DuplicateValue:
            raise EmailTaken(
                "Another account has taken this address meanwhile; your address did not change.",
                errors={"email": ["another account uses this address"]},
            ) from None
        except LookupError:
            raise TokenInvalid("The account changed since this link was sent; ask again.") from None

    def cancel(self, realm: RealmConfig, token: str, *, address: str = "") -> int:
        """Cancel the pending change the notice's link names and end every session of the
        account (whoever asked may hold one). How many sessions ended.

        Raises TokenInvalid, TokenExpired.
        """
        challenge = self.challenges.peek_token(realm.id, Purpose.EMAIL_CHANGE_CANCEL, token)
        self.challenges.consume(challenge)
        self.challenges.drop(realm.id, challenge.account_id, Purpose.EMAIL_CHANGE)
        ended = self.ending.end_all(
            realm.id,
            challenge.account_id,
            EndReason.EMAIL_CHANGE_CANCELLED,
            actor=challenge.account_id,
            address=address,
        )
        now = self.clock.now()
        self.audit.record(
            audit(realm.id, challenge.account_id, "email_change_cancelled", actor=challenge.account_id, at=now)
        )
        log.info("e-mail change cancelled", extra={"realm": realm.id, "account_id": challenge.account_id})
        return ended

    def deliver_applied(self, payload: dict[str, str]) -> None:
        """Task ``email_change.applied``: tell the old address the change was made."""
        realm = get_realm(payload["realm"])
        account = self.accounts.get(realm.id, payload["account_id"])
        old = payload.get("old_email", "")
        if account is None or not old:
            return
        self.mailer.send(
            self._message("email_change_applied", realm, account, old, {"new_email": mask_email(account.email)})
        )

    # -- shared ------------------------------------------------------------------------------

    def _message(
        self, template: str, realm: RealmConfig, account: Account, to: str, context: dict[str, object]
    ) -> MailMessage:
        language = account.language if account.language in realm.languages else realm.default_language
        return MailMessage(
            template=template,
            to=to,
            language=language,
            context={
                "realm_name": getattr(realm.name, language),
                "first_name": account.identity.first_name if account.identity else "",
                "username": account.username,
                "login_url": self.links.page(realm.id, "login"),
                "account_url": self.links.page(realm.id, "account/email"),
                **context,
            },
        )

    def _queue(self, task: Task) -> None:
        try:
            self.tasks.enqueue(task)
        except TaskQueueError:  # a lost notice must not undo a change that was made
            log.warning("task not queued", extra={"task": task.kind})
