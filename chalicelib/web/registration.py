"""Registration through a GSIS flow (realm eiep)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.flows.errors import NotFound
from chalicelib.flows.registration import RegistrationRequest
from chalicelib.web.endpoints import Ctx, Reply, api
from chalicelib.web.schemas import RegistrationInput, RegistrationOutput

bp = Blueprint(__name__)


@api(
    bp,
    "/api/v1/realms/{realm}/registrations",
    method="POST",
    summary="Register with the identity of a GSIS flow; sends the activation mail",
    body=RegistrationInput,
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
    ],
    tags=["registration"],
)
def register(ctx: Ctx) -> Reply:
    if ctx.realm.identity_source != "gsis":
        raise NotFound("This realm does not register accounts this way.")
    body: RegistrationInput = ctx.body
    registered = ctx.services.registration.register(
        ctx.realm,
        RegistrationRequest(
            flow=body.flow,
            email=body.email,
            password=body.password,
            password_confirmation=body.password_confirmation,
            gender=body.gender,
            registry_number=body.registry_number,
            mobile=body.mobile,
            language=body.language,
        ),
    )
    return Reply(
        status=201,
        body=RegistrationOutput(account_id=registered.account_id, status=str(registered.status)),
        next_page=ctx.services.links.page(ctx.realm.id, "registered"),
    )
