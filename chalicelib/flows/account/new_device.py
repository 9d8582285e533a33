"""The security notice "a sign-in from a new device" (SPEC §2.10).

A sign-in from a browser that held no device cookie for the account (``flows/devices.py``)
queues this notice; the worker reads the session it opened (when, User-Agent, address)
and mails the person, with a link to the Sessions page where that session can be ended.
The payload carries ids only. A queue that is down loses the notice, never the sign-in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.domain.mail import MailMessage
from chalicelib.domain.tasks import Task
from chalicelib.errors import TaskQueueError
from chalicelib.flows.account.devices import device_parts
from chalicelib.flows.links import Links
from chalicelib.ports import AccountRepository, Mailer, SessionRepository, TaskQueue
from chalicelib.realms import get_realm

log = logging.getLogger(__name__)

NEW_DEVICE_MAIL = "account.new_device"
"""Task kind: mail the notice of one session (payload: realm, account_id, session_id)."""


@dataclass(frozen=True)
class NewDeviceNotices:
    accounts: AccountRepository
    sessions: SessionRepository
    mailer: Mailer
    tasks: TaskQueue
    links: Links

    def queue(self, realm: str, account_id: str, session_id: str) -> None:
        """Queue the notice of a session just opened from a browser new to the account."""
        task = Task(
            NEW_DEVICE_MAIL,
            {"realm": realm, "account_id": account_id, "session_id": session_id},
            once=f"new-device:{realm}:{session_id}",
        )
        try:
            self.tasks.enqueue(task)
        except TaskQueueError:
            log.warning("new-device notice not queued", extra={"realm": realm, "account_id": account_id})

    def deliver(self, payload: dict[str, str]) -> None:
        """Task: mail when, from which device and address the session was opened."""
        realm = get_realm(payload["realm"])
        account = self.accounts.get(realm.id, payload["account_id"])
        family = self.sessions.get_family(realm.id, payload["account_id"], payload.get("session_id", ""))
        if account is None or family is None or not account.email:
            log.info("new-device notice dropped", extra={"realm": realm.id})
            return
        language = account.language if account.language in realm.languages else realm.default_language
        browser, system = device_parts(family.user_agent)
        self.mailer.send(
            MailMessage(
                template="new_device",
                to=account.email,
                language=language,
                context={
                    "realm_name": getattr(realm.name, language),
                    "first_name": account.identity.first_name if account.identity else "",
                    "username": account.username,
                    "when": f"{family.created_at:%Y-%m-%d %H:%M} UTC",
                    "browser": browser,
                    "system": system,
                    "address": family.address,
                    "sessions_url": self.links.page(realm.id, "account/sessions"),
                },
            )
        )
