"""Self-deletion (SPEC §2.10): the person asks, the realm's grace period runs, the sweep erases.

``DELETE /me`` records the day the account is due to go (today + the realm's
``[account_centre] grace_days``) and files it in the index the daily sweep reads
(``flows/account/deletion_sweep.py``); nothing is erased yet, and the person keeps
signing in. Every page of the account centre then shows the day and a "keep my account"
button, which cancels the deletion. Asking twice does not move the day: the second
request answers ``deletion_scheduled`` (409) with the day already set, so a retried or
repeated click cannot postpone or advance the erasure unnoticed.

Where accounts are not the person's to delete (ntua: the registrar's, seed 004) the
request is refused (403 ``forbidden``) with that explanation. Both the request and the
cancel need a recent authentication, are audited in the write that makes them, and send
a notice to the account's address (through the task queue, so a mail failure loses
nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.domain.audit import audit
from chalicelib.domain.mail import MailMessage
from chalicelib.domain.tasks import Task
from chalicelib.errors import DeletionScheduled, Forbidden, NotFound, Unauthorized
from chalicelib.flows.links import Links
from chalicelib.flows.mfa.reauthentication import Reauthentication
from chalicelib.flows.sessions import Principal
from chalicelib.ports import AccountRepository, Clock, Mailer, PersonalDataRepository, TaskQueue
from chalicelib.realms import RealmConfig, get_realm

log = logging.getLogger(__name__)

NOTICE_MAIL = "account_deletion.notice"
"""Task kind: tell the person their deletion was scheduled or cancelled."""
SCHEDULED, CANCELLED = "account.deletion_scheduled", "account.deletion_cancelled"


@dataclass(frozen=True)
class AccountDeletion:
    accounts: AccountRepository
    personal_data: PersonalDataRepository
    reauthentication: Reauthentication
    tasks: TaskQueue
    mailer: Mailer
    clock: Clock
    links: Links

    def schedule(self, realm: RealmConfig, principal: Principal) -> date:
        """Schedule the deletion of the caller's account; returns the day it is due.

        Raises
        ------
        Forbidden
            the realm's accounts are not the person's to delete.
        ReauthenticationRequired
            no password or factor check in the last five minutes.
        DeletionScheduled
            a deletion is scheduled already (``extra["deletion_due"]`` says when).
        """
        if not realm.account_centre.self_deletion:
            raise Forbidden(
                "Accounts of this institution are managed by its registrar: ask your secretariat to close yours."
            )
        self.reauthentication.require_recent(principal)
        now = self.clock.now()
        due = now.date() + timedelta(days=realm.account_centre.grace_days)
        entry = audit(
            realm.id, principal.account_id, SCHEDULED, actor=principal.account_id, at=now, due=due.isoformat()
        )
        try:
            already = self.personal_data.schedule_deletion(realm.id, principal.account_id, due, audit=entry)
        except LookupError:
            raise Unauthorized() from None
        if already is not None:
            raise DeletionScheduled(
                f"The deletion is already scheduled for {already.isoformat()}.",
                extra={"deletion_due": already.isoformat()},
            )
        self.tasks.enqueue(
            Task(NOTICE_MAIL, {"realm": realm.id, "account_id": principal.account_id, "change": "scheduled"})
        )
        log.info("account deletion scheduled", extra={"realm": realm.id, "account_id": principal.account_id})
        return due

    def cancel(self, realm: RealmConfig, principal: Principal) -> None:
        """Keep the account: the scheduled deletion is cancelled (audited, notice mailed).

        A session is enough (the sign-in itself proved who the person is); keeping an
        account cannot hurt its owner. Raises NotFound when no deletion is scheduled (or
        the erasure has begun).
        """
        now = self.clock.now()
        entry = audit(realm.id, principal.account_id, CANCELLED, actor=principal.account_id, at=now)
        if not self.personal_data.cancel_deletion(realm.id, principal.account_id, audit=entry):
            raise NotFound("No deletion of this account is scheduled.")
        self.tasks.enqueue(
            Task(NOTICE_MAIL, {"realm": realm.id, "account_id": principal.account_id, "change": "cancelled"})
        )
        log.info("account deletion cancelled", extra={"realm": realm.id, "account_id": principal.account_id})

    def _notice(self, realm: RealmConfig, principal: Principal, change: str) -> None:
        payload = {"realm": realm.id, "account_id": principal.account_id, "change": change}
        self.tasks.enqueue(Task(NOTICE_MAIL, payload))

    def deliver_notice(self, payload: dict[str, str]) -> None:
        """Task: the notice of a scheduled or cancelled deletion, in the account's language."""
        realm = get_realm(payload["realm"])
        change = payload.get("change", "")
        account = self.accounts.get(realm.id, payload["account_id"])
        if account is None or change not in ("scheduled", "cancelled"):
            return  # erased meanwhile: nobody to tell
        if change == "scheduled" and account.deletion_due is None:
            return  # cancelled before the notice went out
        language = account.language if account.language in realm.languages else realm.default_language
        due = account.deletion_due
        self.mailer.send(
            MailMessage(
                template=f"account_deletion_{change}",
                to=account.email,
                language=language,
                context={
                    "realm_name": getattr(realm.name, language),
                    "first_name": account.identity.first_name if account.identity else "",
                    "username": account.username,
                    "due": due.strftime("%d/%m/%Y") if due else "",
                    "data_url": self.links.page(realm.id, "account/data"),
                    "login_url": self.links.page(realm.id, "login"),
                },
            )
        )
