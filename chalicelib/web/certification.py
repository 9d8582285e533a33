"""The one-time GSIS certification of a legacy account: certify (and sign in) or return."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.web.binding import browser_binding
from chalicelib.web.endpoints import Ctx, Reply, api, count
from chalicelib.web.schemas import CertificationCancelled, CertificationInput, TokenOutput
from chalicelib.web.sessions import token_reply

bp = Blueprint(__name__)


@api(
    bp,
    "/api/v1/realms/{realm}/certifications",
    method="POST",
    summary="Certify a legacy account with its GSIS flow (201 and a session), or return (200, nothing changes)",
    body=CertificationInput,
    responses={201: TokenOutput, 200: CertificationCancelled},
    problems=[
        "flow_not_found",
        "flow_expired",
        "flow_used",
        "token_invalid",
        "identity_mismatch",
        "afm_registered",
        "not_found",
    ],
    tags=["certification"],
)
def decide(ctx: Ctx) -> Reply:
    from chalicelib.flows.certification import Cancelled  # with the flow: not in the cold import

    body: CertificationInput = ctx.body
    outcome = ctx.flows.certification.decide(ctx.realm, body.flow, body.decision, browser_binding(ctx))
    if isinstance(outcome, Cancelled):
        return Reply(
            body=CertificationCancelled(status="cancelled", support_url=outcome.support_url),
            next_page=outcome.support_url,
        )
    count("AccountCertified")
    return token_reply(ctx, outcome, 201)
