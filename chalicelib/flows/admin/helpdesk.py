"""The helpdesk's queue (SPEC §2.11 ``/admin/tickets``): tickets by status, a ticket with
its replies, a reply mailed to the person (the ticket id in the subject) and kept on the
ticket, and status changes — each audited with the helpdesk member who made it.

A ticket is addressed by the SHA-256 of its id (what is stored), or by the id itself,
which the person quotes and the helpdesk's mailbox copy shows: 64 hexadecimal digits
are a hash, anything else is an id and is hashed first. The reply's mail is queued
(retried, never lost); its subject quotes the id the person was given, unsealed from
the ticket (``domain/helpdesk.py``).

Audit entries of tickets are filed under ``ticket:<hash>`` in the place of an account
id: a ticket is not an account, and the person who opened it may have none.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from chalicelib.domain.audit import audit
from chalicelib.domain.helpdesk import REPLY_LENGTH, SupportTicket, TicketReply, TicketStatus
from chalicelib.domain.mail import MailMessage
from chalicelib.domain.secrets import fingerprint
from chalicelib.domain.tasks import Task
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.flows.admin.accounts import clean_reason
from chalicelib.flows.admin.capabilities import Staff
from chalicelib.flows.admin.cursors import open_cursor, seal_cursor
from chalicelib.ports import Clock, HelpdeskRepository, Mailer, Sealer, TaskQueue
from chalicelib.realms import RealmConfig, get_realm

log = logging.getLogger(__name__)

PAGE_SIZE = 50
REPLY_MAIL = "support_ticket.reply"
_HASH = re.compile(r"[0-9a-f]{64}")
_TICKET_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")


def audit_subject(ticket_hash: str) -> str:
    """What a ticket's audit entries are filed under, in the place of an account id."""
    return f"ticket:{ticket_hash}"


@dataclass(frozen=True)
class TicketList:
    tickets: list[SupportTicket]
    cursor: str | None
    status: TicketStatus


@dataclass(frozen=True)
class Helpdesk:
    tickets: HelpdeskRepository
    sealer: Sealer
    mailer: Mailer
    tasks: TaskQueue
    clock: Clock

    def queue(self, realm: RealmConfig, status: str | None, cursor: str | None = None) -> TicketList:
        """Tickets in ``status`` (default open), oldest first, 50 a page.

        Raises InvalidInput for an unknown status or a cursor not of this list.
        """
        wanted = self._status(status or str(TicketStatus.OPEN), "status")
        bound = {"realm": realm.id, "status": str(wanted)}
        after = open_cursor(self.sealer, cursor, bound)
        page = self.tickets.queue(realm.id, wanted, limit=PAGE_SIZE, after=after)
        now = self.clock.now()
        live = [ticket for ticket in page.tickets if not ticket.is_expired(now)]
        return TicketList(live, seal_cursor(self.sealer, bound, page.after), wanted)

    def ticket(self, realm: RealmConfig, reference: str) -> SupportTicket:
        """The ticket a hash or an id names, with its replies. Raises NotFound."""
        ticket_hash = self.ticket_hash(reference)
        ticket = self.tickets.get(realm.id, ticket_hash) if ticket_hash else None
        if ticket is None or ticket.is_expired(self.clock.now()):
            raise NotFound("There is no such ticket.")
        return ticket

    @staticmethod
    def ticket_hash(reference: str) -> str | None:
        text = (reference or "").strip()
        if _HASH.fullmatch(text):
            return text
        if _TICKET_ID.fullmatch(text):
            return fingerprint(text)
        return None

    def reply(self, realm: RealmConfig, reference: str, message: str, staff: Staff) -> SupportTicket:
        """Keep the reply on the ticket (now ``answered``) and mail it to the person.

        Raises NotFound, InvalidInput (an empty or over-long message, a closed ticket).
        """
        text = (message or "").strip()
        low, high = REPLY_LENGTH
        if not low <= len(text) <= high:
            raise InvalidInput(errors={"message": [f"must be {low} to {high} characters long"]})
        ticket = self.ticket(realm, reference)
        if ticket.status is TicketStatus.CLOSED:
            raise InvalidInput(errors={"message": ["the ticket is closed: reopen it to reply"]})
        now = self.clock.now()
        entry = audit(
            realm.id,
            audit_subject(ticket.ticket_hash),
            "ticket_replied",
            actor=staff.account_id,
            at=now,
            previous=str(ticket.status),
        )
        reply = TicketReply(at=now, author=staff.account_id, message=text)
        if not self.tickets.reply(realm.id, ticket.ticket_hash, reply, TicketStatus.ANSWERED, audit=entry):
            raise InvalidInput(errors={"message": ["the ticket was closed meanwhile: reopen it to reply"]})
        self.tasks.enqueue(
            Task(REPLY_MAIL, {"realm": realm.id, "ticket_hash": ticket.ticket_hash, "at": now.isoformat()})
        )
        return self.ticket(realm, ticket.ticket_hash)

    def set_status(
        self, realm: RealmConfig, reference: str, status: str, reason: str | None, staff: Staff
    ) -> SupportTicket:
        """Move the ticket to ``status`` (close it, or reopen it).

        Raises NotFound, InvalidInput.
        """
        wanted = self._status(status, "status")
        text = clean_reason(reason, required=False)
        ticket = self.ticket(realm, reference)
        if ticket.status is wanted:
            return ticket
        details = {"status": str(wanted), "previous": str(ticket.status)}
        if text:
            details["reason"] = text
        entry = audit(
            realm.id,
            audit_subject(ticket.ticket_hash),
            "ticket_status",
            actor=staff.account_id,
            at=self.clock.now(),
            **details,
        )
        if not self.tickets.set_status(realm.id, ticket.ticket_hash, wanted, now=self.clock.now(), audit=entry):
            raise NotFound("There is no such ticket.")
        return self.ticket(realm, ticket.ticket_hash)

    def deliver_reply(self, payload: dict[str, str]) -> None:
        """Task: mail one reply to the person, the ticket id in the subject, with
        ``Reply-To`` the helpdesk's mailbox (their answer reaches the helpdesk)."""
        realm = get_realm(payload["realm"])
        ticket = self.tickets.get(realm.id, payload["ticket_hash"])
        if ticket is None or realm.support is None:
            return
        reply = next((r for r in ticket.replies if r.at.isoformat() == payload["at"]), None)
        if reply is None:
            log.warning("support reply to mail not found", extra={"realm": realm.id})
            return
        language = ticket.language if ticket.language in realm.languages else realm.default_language
        topic = realm.support.topics.get(ticket.topic)
        message = MailMessage(
            template="support_reply",
            to=ticket.email,
            language=language,
            context={
                "realm_name": getattr(realm.name, language),
                "ticket_id": self.ticket_id(ticket),
                "topic": getattr(topic, language) if topic is not None else ticket.topic,
                "reply": reply.message,
                "description": ticket.description,
                "opened_at": ticket.created_at,
            },
            reply_to=realm.support.mailbox,
        )
        self.mailer.send(message)

    def ticket_id(self, ticket: SupportTicket) -> str:
        """The id the person was given; should the seal no longer open (the service's key
        was rotated since), the start of its hash, which the helpdesk can still find."""
        opened = self.sealer.open(ticket.sealed_id) if ticket.sealed_id else None
        if opened is not None:
            return opened.decode("utf-8")
        return "#" + ticket.ticket_hash[:12]

    @staticmethod
    def _status(value: str, name: str) -> TicketStatus:
        try:
            return TicketStatus(value.strip())
        except ValueError:
            raise InvalidInput(errors={name: [f"must be one of {', '.join(s.value for s in TicketStatus)}"]}) from None
