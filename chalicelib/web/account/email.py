"""Changing one's e-mail (SPEC §2.10): the API, the account centre's page, the links' pages.

``POST /me/email`` asks (202 whatever the address: enumeration safety); the mailed links
open pages whose buttons post to ``/email-change/confirm`` and ``/email-change/cancel``
with the token, since only a POST may spend it (mail scanners follow GETs). The links
work without being signed in: the token names the account. Every form carries the CSRF
token; none needs script.
"""

from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.tokens import Purpose
from chalicelib.errors import FlowError, ReauthenticationRequired, Unauthorized
from chalicelib.web.endpoints import Ctx, Reply, api, count, page
from chalicelib.web.html import redirect
from chalicelib.web.pages import form_page
from chalicelib.web.problems import STATUS_BY_CODE
from chalicelib.web.schemas import StatusOutput
from chalicelib.web.sessions import authenticate

bp = Blueprint(__name__)

TAGS = ["account"]
PAGE = "account/email"
OUTCOMES = ("changed", "cancelled")


class EmailChangeInput(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    email: Annotated[str, Field(min_length=1, max_length=254, description="The new address.")]


class EmailChangeTokenInput(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    token: Annotated[str, Field(min_length=1, max_length=256, description="The token of the mailed link.")]


# --- API -----------------------------------------------------------------------------------------


@api(
    bp,
    "/api/v1/realms/{realm}/me/email",
    method="POST",
    summary="Ask to change the e-mail: a confirmation link goes to the new address, a notice with a "
    "cancel link to the old one (202 whatever the address)",
    body=EmailChangeInput,
    responses={202: StatusOutput},
    problems=[
        "unauthorized",
        "reauthentication_required",
        "forbidden",
        "invalid_email",
        "invalid_input",
        "too_many_attempts",
        "service_unavailable",
        "not_found",
    ],
    tags=TAGS,
    auth=True,
)
def request_change(ctx: Ctx) -> Reply:
    body: EmailChangeInput = ctx.body
    realm, principal = ctx.realm, authenticate(ctx)
    address = ctx.client_ip

    def ask_once() -> dict[str, str]:
        ctx.flows.email_change.request(realm, principal, body.email, address=address)
        return {"status": "accepted"}

    # The checks (rule, recent authentication, address) answer every time; only the
    # mails are sent once per request (a retried request with its Idempotency-Key).
    ctx.flows.email_change.check(realm, principal, body.email)
    payload = {"realm": realm.id, "account_id": principal.account_id, "email": body.email.strip().casefold()}
    ctx.services.idempotency.once("email-change", payload, ask_once, bp.lambda_context, ctx.idempotency_key)
    count("EmailChangeRequested")
    return Reply(
        status=202,
        body=StatusOutput(status="accepted"),
        next_page=ctx.flows.links.page(realm.id, PAGE, done="requested"),
    )


@api(
    bp,
    "/api/v1/realms/{realm}/email-change/confirm",
    method="POST",
    summary="Apply a pending e-mail change: the token of the link mailed to the new address",
    body=EmailChangeTokenInput,
    responses={200: StatusOutput},
    problems=["token_invalid", "token_expired", "email_taken", "forbidden", "not_found"],
    tags=TAGS,
)
def confirm(ctx: Ctx) -> Reply:
    body: EmailChangeTokenInput = ctx.body
    ctx.flows.email_change.confirm(ctx.realm, body.token)
    count("EmailChanged")
    return Reply(
        body=StatusOutput(status="email_changed"),
        next_page=ctx.flows.links.page(ctx.realm.id, "email-change/done", outcome="changed"),
    )


@api(
    bp,
    "/api/v1/realms/{realm}/email-change/cancel",
    method="POST",
    summary="Cancel a pending e-mail change (the link mailed to the old address); every session of the account ends",
    body=EmailChangeTokenInput,
    responses={200: StatusOutput},
    problems=["token_invalid", "token_expired", "not_found"],
    tags=TAGS,
)
def cancel(ctx: Ctx) -> Reply:
    body: EmailChangeTokenInput = ctx.body
    ctx.flows.email_change.cancel(ctx.realm, body.token, address=ctx.client_ip)
    count("EmailChangeCancelled")
    return Reply(
        body=StatusOutput(status="cancelled"),
        next_page=ctx.flows.links.page(ctx.realm.id, "email-change/done", outcome="cancelled"),
    )


# --- pages -----------------------------------------------------------------------------------------


@page(bp, "/realms/{realm}/account/email")
def email_page(ctx: Ctx) -> Response:
    """The current address and the form; the re-authentication first when it is due; the
    realm's rule instead of the form where people do not change it here."""
    try:
        principal = authenticate(ctx)
    except Unauthorized:
        return redirect(f"/realms/{ctx.realm.id}/login")
    account = ctx.flows.sessions.accounts.get(ctx.realm.id, principal.account_id)
    if account is None:
        return redirect(f"/realms/{ctx.realm.id}/login")
    try:
        ctx.flows.reauthentication.require_recent(principal)
        recent = True
    except ReauthenticationRequired:
        recent = False
    factors: list[Any] = []
    if not recent:
        factors = list(ctx.flows.mfa_enrolment.overview(ctx.realm, principal).factors)
    done = ctx.query("done") or ""
    return form_page(
        ctx,
        "account_email.html",
        tab="account",
        current_email=account.email,
        rule=ctx.realm.account_centre.email_change,
        recent=recent,
        has_totp=any(str(factor.kind) == "totp" for factor in factors),
        has_key=any(str(factor.kind) == "webauthn" for factor in factors),
        webauthn_script=not recent,
        notice="requested" if done == "requested" else "",
        back_here=f"/realms/{ctx.realm.id}/{PAGE}",
    )


def _link_page(ctx: Ctx, purpose: Purpose, template: str) -> Response:
    token = ctx.query("token") or ""
    if ctx.form_state is not None:  # the button's post was refused: say why, offer nothing to press
        return form_page(ctx, template, token="", pending=None, failed=ctx.form_state.code)
    try:
        pending = ctx.flows.email_change.pending(ctx.realm, purpose, token)
    except FlowError as error:
        shown = form_page(ctx, template, token="", pending=None, failed=error.code)
        shown.status_code = STATUS_BY_CODE.get(error.code, 400)
        return shown
    return form_page(ctx, template, token=token, pending=pending, failed="")


@page(bp, "/realms/{realm}/email-change/confirm")
def confirm_page(ctx: Ctx) -> Response:
    """The new address's link lands here; only the button's POST changes anything."""
    return _link_page(ctx, Purpose.EMAIL_CHANGE, "email_change_confirm.html")


@page(bp, "/realms/{realm}/email-change/cancel")
def cancel_page(ctx: Ctx) -> Response:
    """The old address's link lands here; only the button's POST cancels."""
    return _link_page(ctx, Purpose.EMAIL_CHANGE_CANCEL, "email_change_cancel.html")


@page(bp, "/realms/{realm}/email-change/done")
def done_page(ctx: Ctx) -> Response:
    outcome = ctx.query("outcome") or ""
    return form_page(ctx, "email_change_done.html", outcome=outcome if outcome in OUTCOMES else "")
