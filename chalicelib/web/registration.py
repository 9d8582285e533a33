"""Registration through a GSIS flow (realm eiep)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.errors import NotFound
from chalicelib.web.binding import browser_binding
from chalicelib.web.endpoints import Ctx, Reply, api, count
from chalicelib.web.esep.api import register_from_flow
from chalicelib.web.esep.schemas import EsepRegistrationInput
from chalicelib.web.schemas import RegistrationInput, RegistrationOutput

bp = Blueprint(__name__)


@api(
    bp,
    "/api/v1/realms/{realm}/registrations",
    method="POST",
    summary="Register with the identity of a GSIS flow (sends the activation mail) or an EU Login flow (esep)",
    body=RegistrationInput,
    body_by_source={"eulogin": EsepRegistrationInput},
    responses={201: RegistrationOutput},
    problems=[
        "email_taken",
        "afm_registered",
        "flow_not_found",
        "flow_expired",
        "flow_used",
        "password_policy",
        "passwords_mismatch",
        "invalid_email",
        "not_found",
        "invalid_input",
        "username_taken",
    ],
    tags=["registration"],
)
def register(ctx: Ctx) -> Reply:
    if ctx.realm.identity_source == "eulogin":
        return register_from_flow(ctx)
    if ctx.realm.identity_source != "gsis":
        raise NotFound("This realm does not register accounts this way.")
    from chalicelib.flows.registration import RegistrationRequest  # with the flow, not at cold start

    body: RegistrationInput = ctx.body
    request = RegistrationRequest(**body.model_dump(), browser_binding=browser_binding(ctx), address=ctx.client_ip)

    def register_once() -> dict[str, str]:
        registered = ctx.flows.registration.register(ctx.realm, request)
        count("AccountRegistered")
        return {"account_id": registered.account_id, "status": str(registered.status)}

    payload = {"realm": ctx.realm.id, **body.model_dump()}
    result = ctx.services.idempotency.once(
        "registration", payload, register_once, bp.lambda_context, ctx.idempotency_key
    )
    return Reply(
        status=201,
        body=RegistrationOutput.model_validate(result),
        next_page=ctx.flows.links.page(ctx.realm.id, "registered"),
    )
