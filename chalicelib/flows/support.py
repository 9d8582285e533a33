"""Helpdesk tickets (seed 000 §6): a request to the realm's support mailbox and an
acknowledgement with the ticket id to the person who asked.

The ticket is stored first, in the helpdesk's queue (``domain/helpdesk.py``: status
``open``, the id only as its hash and sealed); the two mails go through the task queue
(retried, never lost). The AFM the person may give is kept for the helpdesk but never
logged. The helpdesk answers from the console (``flows/admin/helpdesk.py``).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from chalicelib.domain.emails import valid_email
from chalicelib.domain.helpdesk import SupportTicket, TicketStatus
from chalicelib.domain.identity import is_valid_afm, mask_afm
from chalicelib.domain.mail import MailMessage
from chalicelib.domain.secrets import fingerprint
from chalicelib.domain.tasks import Task
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.ports import Clock, HelpdeskRepository, Mailer, Sealer, SecretSource, TaskQueue
from chalicelib.realms import RealmConfig, get_realm

log = logging.getLogger(__name__)

NOTIFY = "support_ticket.notify"
ACKNOWLEDGE = "support_ticket.acknowledge"
DESCRIPTION_LENGTH = (10, 5000)


@dataclass(frozen=True)
class Support:
    helpdesk: HelpdeskRepository
    sealer: Sealer
    secrets: SecretSource
    clock: Clock
    mailer: Mailer
    tasks: TaskQueue

    def open(
        self, realm: RealmConfig, *, topic: str, email: str, afm: str | None, description: str, language: str
    ) -> str:
        """Store the ticket and queue its two mails; returns the ticket id.

        Raises
        ------
        NotFound
            the realm has no helpdesk.
        InvalidInput, InvalidEmail
            unknown topic, malformed AFM, description too short or too long.
        """
        if realm.support is None:
            raise NotFound("This realm has no helpdesk.")
        address = valid_email(email)
        errors: dict[str, list[str]] = {}
        if topic not in realm.support.topics:
            errors["topic"] = [f"must be one of {', '.join(sorted(realm.support.topics))}"]
        afm = (afm or "").strip()
        if afm and not is_valid_afm(afm):
            errors["afm"] = ["must be a valid nine-digit Greek tax number"]
        text = description.strip()
        low, high = DESCRIPTION_LENGTH
        if not low <= len(text) <= high:
            errors["description"] = [f"must be {low} to {high} characters long"]
        if language not in realm.languages:
            language = realm.default_language
        if errors:
            raise InvalidInput(errors=errors)
        ticket_id = self.secrets.token()
        now = self.clock.now()
        self.helpdesk.open(
            SupportTicket(
                ticket_hash=fingerprint(ticket_id),
                realm=realm.id,
                topic=topic,
                email=address,
                description=text,
                language=language,
                status=TicketStatus.OPEN,
                created_at=now,
                updated_at=now,
                sealed_id=self.sealer.seal(ticket_id.encode("utf-8")),
                afm=afm,
            )
        )
        # The worker needs the id itself (it goes into both mails): it is a reference the
        # person is given anyway, not a key that opens anything.
        # One task per mail: a retry of one never sends the other twice.
        for kind in (NOTIFY, ACKNOWLEDGE):
            self.tasks.enqueue(Task(kind, {"realm": realm.id, "ticket": ticket_id}))
        log.info(
            "support ticket opened", extra={"realm": realm.id, "topic": topic, "afm": mask_afm(afm) if afm else ""}
        )
        return ticket_id

    def notify(self, payload: dict[str, str]) -> None:
        """Task: the request to the helpdesk, with reply-to set to the person."""
        found = self._load(payload)
        if found is not None:
            realm, data, context = found
            assert realm.support is not None
            message = MailMessage("support_request", realm.support.mailbox, realm.default_language, context)
            self.mailer.send(dataclasses.replace(message, reply_to=data["email"]))

    def acknowledge(self, payload: dict[str, str]) -> None:
        """Task: the acknowledgement, with the ticket id, to the person."""
        found = self._load(payload)
        if found is not None:
            realm, data, context = found
            self.mailer.send(
                MailMessage("support_ack", data["email"], data.get("language", realm.default_language), context)
            )

    def _load(self, payload: dict[str, str]) -> tuple[RealmConfig, dict[str, str], dict[str, object]] | None:
        realm = get_realm(payload["realm"])
        ticket = self.helpdesk.get(realm.id, fingerprint(payload["ticket"]))
        if ticket is None or ticket.is_expired(self.clock.now()) or realm.support is None:
            return None
        data = {"email": ticket.email, "language": ticket.language, "topic": ticket.topic}
        data.update(afm=ticket.afm, description=ticket.description)
        language = data.get("language", realm.default_language)
        context: dict[str, object] = {
            "realm_name": getattr(realm.name, language),
            "ticket_id": payload["ticket"],
            "topic": getattr(realm.support.topics[data["topic"]], language),
            "email": data["email"],
            "afm": data.get("afm", ""),
            "description": data["description"],
            "opened_at": ticket.created_at,
        }
        return realm, data, context
