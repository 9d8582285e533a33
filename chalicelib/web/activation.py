"""Account activation by mailed link token or by e-mail and code; resending the mail."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.domain.emails import valid_email
from chalicelib.web.endpoints import Ctx, Reply, api, count
from chalicelib.web.schemas import ActivationInput, ResendInput, StatusOutput

bp = Blueprint(__name__)


@api(
    bp,
    "/api/v1/realms/{realm}/activations",
    method="POST",
    summary="Activate an account with the link token, or with e-mail and code",
    body=ActivationInput,
    responses={200: StatusOutput},
    problems=["token_invalid", "token_expired", "not_found"],
    tags=["registration"],
)
def activate(ctx: Ctx) -> Reply:
    body: ActivationInput = ctx.body
    activation = ctx.flows.activation
    if body.token:
        status = activation.activate_by_token(ctx.realm, body.token)
    else:
        status = activation.activate_by_code(ctx.realm, body.email or "", body.code or "")
    count("AccountActivated")
    return Reply(body=StatusOutput(status=str(status)), next_page=ctx.flows.links.page(ctx.realm.id, "activated"))


@api(
    bp,
    "/api/v1/realms/{realm}/activations/resend",
    method="POST",
    summary="Send the activation mail again (answers 202 whether or not the account exists)",
    body=ResendInput,
    responses={202: StatusOutput},
    problems=["invalid_email", "too_many_attempts", "service_unavailable", "not_found"],
    tags=["registration"],
)
def resend(ctx: Ctx) -> Reply:
    body: ResendInput = ctx.body
    email = valid_email(body.email)
    ctx.flows.throttle.limit(ctx.realm, "activation_resend", email, ctx.client_ip)

    def resend_once() -> dict[str, str]:
        ctx.flows.activation.resend(ctx.realm, email)
        return {"status": "accepted"}

    payload = {"realm": ctx.realm.id, "email": email.casefold()}
    ctx.services.idempotency.once("activation-resend", payload, resend_once, bp.lambda_context, ctx.idempotency_key)
    return Reply(
        status=202,
        body=StatusOutput(status="accepted"),
        next_page=ctx.flows.links.page(ctx.realm.id, "registered", resent="1"),
    )
