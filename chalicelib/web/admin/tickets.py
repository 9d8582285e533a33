"""The helpdesk's queue over the API (SPEC §2.11, realms with a support desk).

A ticket is named by the SHA-256 of its id (what the queue lists) or by the id itself
(what the person quotes). Status changes take a PUT, and a POST from browser forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.flows.admin.capabilities import Capability
from chalicelib.web.admin.access import staff
from chalicelib.web.admin.schemas import (
    ReplyInput,
    ReplyOutput,
    TicketListOutput,
    TicketOutput,
    TicketStatusInput,
)
from chalicelib.web.endpoints import Ctx, Reply, api

if TYPE_CHECKING:
    from chalicelib.domain.helpdesk import SupportTicket

bp = Blueprint(__name__)

BASE = "/api/v1/realms/{realm}/admin/tickets"
_PROBLEMS = ["unauthorized", "forbidden", "not_found", "invalid_input"]


def ticket_output(ticket: SupportTicket, *, full: bool) -> TicketOutput:
    return TicketOutput(
        ticket_id=ticket.ticket_hash,
        topic=ticket.topic,
        email=ticket.email,
        status=str(ticket.status),
        created_at=ticket.created_at.isoformat(),
        updated_at=ticket.updated_at.isoformat(),
        description=ticket.description if full else ticket.description[:200],
        afm=(ticket.afm or None) if full else None,
        language=ticket.language,
        replies=[
            ReplyOutput(at=reply.at.isoformat(), author=reply.author, message=reply.message) for reply in ticket.replies
        ]
        if full
        else None,
    )


def ticket_page(ctx: Ctx, ticket_hash: str, done: str) -> str:
    return f"/realms/{ctx.realm.id}/admin/tickets/{ticket_hash}?done={done}"


@api(
    bp,
    BASE,
    summary="The helpdesk's tickets in one status (default open), oldest first, 50 a page",
    responses={200: TicketListOutput},
    problems=_PROBLEMS,
    tags=["helpdesk"],
    auth=True,
    query={"status": "open, answered or closed", "cursor": "the previous page's cursor"},
)
def tickets(ctx: Ctx) -> Reply:
    staff(ctx, Capability.TICKETS)
    found = ctx.flows.helpdesk.queue(ctx.realm, ctx.query("status"), ctx.query("cursor"))
    return Reply(
        body=TicketListOutput(tickets=[ticket_output(t, full=False) for t in found.tickets], cursor=found.cursor)
    )


@api(
    bp,
    f"{BASE}/{{ticket_id}}",
    summary="One ticket with its replies (by its hash, or by the id the person quotes)",
    responses={200: TicketOutput},
    problems=_PROBLEMS,
    tags=["helpdesk"],
    auth=True,
)
def ticket(ctx: Ctx, ticket_id: str) -> Reply:
    staff(ctx, Capability.TICKETS)
    return Reply(body=ticket_output(ctx.flows.helpdesk.ticket(ctx.realm, ticket_id), full=True))


@api(
    bp,
    f"{BASE}/{{ticket_id}}/replies",
    method="POST",
    summary="Reply: kept on the ticket (now answered) and mailed to the person, the ticket id in the subject",
    body=ReplyInput,
    responses={201: TicketOutput},
    problems=[*_PROBLEMS, "service_unavailable"],
    tags=["helpdesk"],
    auth=True,
)
def reply(ctx: Ctx, ticket_id: str) -> Reply:
    caller = staff(ctx, Capability.TICKETS)
    body: ReplyInput = ctx.body
    answered = ctx.flows.helpdesk.reply(ctx.realm, ticket_id, body.message, caller)
    return Reply(
        status=201,
        body=ticket_output(answered, full=True),
        next_page=ticket_page(ctx, answered.ticket_hash, "replied"),
    )


def _status(ctx: Ctx, ticket_id: str) -> Reply:
    caller = staff(ctx, Capability.TICKETS)
    body: TicketStatusInput = ctx.body
    changed = ctx.flows.helpdesk.set_status(ctx.realm, ticket_id, body.status, body.reason, caller)
    return Reply(body=ticket_output(changed, full=True), next_page=ticket_page(ctx, changed.ticket_hash, "status"))


@api(
    bp,
    f"{BASE}/{{ticket_id}}/status",
    method="PUT",
    summary="Close, reopen or mark answered",
    body=TicketStatusInput,
    responses={200: TicketOutput},
    problems=_PROBLEMS,
    tags=["helpdesk"],
    auth=True,
)
def set_status(ctx: Ctx, ticket_id: str) -> Reply:
    return _status(ctx, ticket_id)


@api(
    bp,
    f"{BASE}/{{ticket_id}}/status",
    method="POST",
    summary="PUT …/status for browser forms",
    body=TicketStatusInput,
    responses={200: TicketOutput},
    problems=_PROBLEMS,
    tags=["helpdesk"],
    auth=True,
)
def set_status_form(ctx: Ctx, ticket_id: str) -> Reply:
    return _status(ctx, ticket_id)
