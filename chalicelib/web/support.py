"""Helpdesk tickets (realms with a support desk)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.web.endpoints import Ctx, Reply, api, count
from chalicelib.web.schemas import SupportTicketInput, SupportTicketOutput

bp = Blueprint(__name__)


@api(
    bp,
    "/api/v1/realms/{realm}/support-tickets",
    method="POST",
    summary="Open a helpdesk ticket: mail to the realm's helpdesk and an acknowledgement to the person",
    body=SupportTicketInput,
    responses={201: SupportTicketOutput},
    problems=["invalid_email", "too_many_attempts", "service_unavailable", "not_found"],
    tags=["support"],
)
def open_ticket(ctx: Ctx) -> Reply:
    body: SupportTicketInput = ctx.body
    realm = ctx.realm
    ctx.flows.throttle.limit(realm, "support_ticket", body.email, ctx.client_ip)

    def open_once() -> dict[str, str]:
        ticket = ctx.flows.support.open(
            realm,
            topic=body.topic,
            email=body.email,
            afm=body.afm,
            description=body.description,
            language=body.language or realm.default_language,
        )
        count("SupportTicketOpened")
        return {"ticket_id": ticket}

    payload = {"realm": realm.id, **body.model_dump()}
    result = ctx.services.idempotency.once("support-ticket", payload, open_once, bp.lambda_context, ctx.idempotency_key)
    return Reply(
        status=201,
        body=SupportTicketOutput.model_validate(result),
        next_page=ctx.flows.links.page(realm.id, "support", ticket="sent"),
    )
