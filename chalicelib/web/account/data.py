"""The "Your data" tab (SPEC §2.10): the export, self-deletion and its cancel, API and page.

``GET /me/export`` answers the document as a file (``mitroo-<realm>-<date>.json``), so the
page's link downloads it without script. Deletion is ``DELETE /me`` for API clients and a
two-step form on the page (the button leads to a confirmation that says what happens,
whose form posts ``/me/delete``). A scheduled deletion is cancelled with
``DELETE /me/deletion`` or the "keep my account" form (``POST /me/deletion/cancel``),
which the page, and the home page a sign-in lands on, show while one is scheduled.
"""

from __future__ import annotations

import json

from chalice import Blueprint, Response

from chalicelib.errors import ReauthenticationRequired, Unauthorized
from chalicelib.flows.sessions import Principal
from chalicelib.web.account.data_schemas import DeleteInput, DeletionScheduledOutput, ExportOutput
from chalicelib.web.account.notice import deletion_notice
from chalicelib.web.endpoints import Ctx, Reply, api, page
from chalicelib.web.html import redirect
from chalicelib.web.pages import form_page
from chalicelib.web.sessions import authenticate

bp = Blueprint(__name__)

ME = "/api/v1/realms/{realm}/me"
TAGS = ["account"]
NOTICES = ("scheduled", "kept")


def _data_page(ctx: Ctx, notice: str = "") -> str:
    return ctx.flows.links.page(ctx.realm.id, "account/data") + (f"?done={notice}" if notice else "")


@api(
    bp,
    f"{ME}/export",
    summary="Everything stored about the signed-in person, as one JSON file (GDPR articles 15 and 20)",
    responses={200: ExportOutput},
    problems=["unauthorized", "reauthentication_required", "not_found"],
    tags=TAGS,
    auth=True,
)
def export(ctx: Ctx) -> Reply:
    document = ctx.flows.data_export.export(ctx.realm, authenticate(ctx))
    name = f"mitroo-{ctx.realm.id}-{document['exported_at'][:10]}.json"
    return Reply(
        raw=json.dumps(document, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


_DELETE_PROBLEMS = ["unauthorized", "reauthentication_required", "forbidden", "deletion_scheduled", "not_found"]


@api(
    bp,
    ME,
    method="DELETE",
    summary="Delete my account: erased after the realm's grace period unless a sign-in cancels it",
    responses={202: DeletionScheduledOutput},
    problems=_DELETE_PROBLEMS,
    tags=TAGS,
    auth=True,
    form_post="delete",
    form_body=DeleteInput,
)
def delete_account(ctx: Ctx) -> Reply:
    due = ctx.flows.account_deletion.schedule(ctx.realm, authenticate(ctx))
    body = DeletionScheduledOutput(deletion_due=due.isoformat(), grace_days=ctx.realm.account_centre.grace_days)
    return Reply(status=202, body=body, next_page=_data_page(ctx, "scheduled"))


@api(
    bp,
    f"{ME}/deletion",
    method="DELETE",
    summary="Keep my account: cancel its scheduled deletion",
    responses={204: None},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
    form_post="cancel",
    form_body=DeleteInput,
)
def cancel_deletion(ctx: Ctx) -> Reply:
    ctx.flows.account_deletion.cancel(ctx.realm, authenticate(ctx))
    return Reply(status=204, next_page=_data_page(ctx, "kept"))


def _recent(ctx: Ctx, principal: Principal) -> bool:
    try:
        ctx.flows.reauthentication.require_recent(principal)
    except ReauthenticationRequired:
        return False
    return True


@page(bp, "/realms/{realm}/account/data")
def data(ctx: Ctx) -> Response:
    try:
        principal = authenticate(ctx)
        profile = ctx.flows.sessions.profile(ctx.realm, principal)
    except Unauthorized:
        return redirect(f"/realms/{ctx.realm.id}/login")
    factors = ctx.flows.mfa_enrolment.overview(ctx.realm, principal).factors
    done = ctx.query("done") or ""
    return form_page(
        ctx,
        "account_data.html",
        recent=_recent(ctx, principal),
        confirm=ctx.query("confirm") == "1",
        deletion_due=deletion_notice(profile),
        notice=done if done in NOTICES else "",
        has_factors=bool(factors),
        has_key=any(str(factor.kind) == "webauthn" for factor in factors),
        webauthn_script=True,
    )
