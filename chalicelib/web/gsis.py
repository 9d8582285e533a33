"""GSIS sign-in in the browser (start, callback) and the API that reads its flows."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.web.binding import binding_cookie, browser_binding
from chalicelib.web.endpoints import Ctx, Reply, api, page
from chalicelib.web.esep.schemas import EsepFlowOutput
from chalicelib.web.html import redirect
from chalicelib.web.schemas import FlowOutput

bp = Blueprint(__name__)


@page(bp, "/realms/{realm}/gsis/start")
def start(ctx: Ctx) -> Response:
    """Send the browser to GSIS to prove who it is, for the given ``intent``."""
    params = {name: value for name in ("ticket", "reset") if (value := ctx.query(name))}
    started = ctx.flows.gsis_signin.start(ctx.realm, ctx.query("intent") or "", browser_binding(ctx), params)
    return redirect(started.redirect_url, status=302, cookies=[binding_cookie(started.browser_binding)])


@page(bp, "/realms/{realm}/gsis/callback")
def callback(ctx: Ctx) -> Response:
    """Where GSIS sends the browser back; on success, on to the intent's page."""
    completed = ctx.flows.gsis_signin.complete(
        ctx.realm,
        state=ctx.query("state"),
        code=ctx.query("code"),
        error=ctx.query("error"),
        browser_binding=browser_binding(ctx),
    )
    return redirect(ctx.flows.links.page(ctx.realm.id, str(completed.intent), flow=completed.flow_id))


@api(
    bp,
    "/api/v1/realms/{realm}/flows/{flow}",
    summary="Read a flow: the identity GSIS or EU Login asserted and what its intent needs",
    responses={200: FlowOutput},
    problems=["flow_not_found", "flow_expired", "not_found"],
    tags=["gsis"],
)
def read_flow(ctx: Ctx, flow: str) -> Reply:
    if ctx.realm.identity_source == "eulogin":
        view = EsepFlowOutput.model_validate(ctx.flows.esep_registration.view(ctx.realm, flow, browser_binding(ctx)))
        return Reply(body=view.model_dump(mode="json"))  # "legacy_account": null is part of the answer
    return Reply(body=FlowOutput.model_validate(ctx.flows.flow_views.describe(ctx.realm, flow, browser_binding(ctx))))
