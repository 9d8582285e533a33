"""The audit log over the API (SPEC §2.11): by account, actor or action, within a period,
50 a page; ``Accept: text/csv`` (or ``?format=csv``, for links) exports the whole query
with every formula-like cell neutralised."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.flows.admin.capabilities import Capability
from chalicelib.web.admin.access import staff
from chalicelib.web.admin.accounts import audit_output
from chalicelib.web.admin.schemas import AuditListOutput
from chalicelib.web.endpoints import Ctx, Reply, api

bp = Blueprint(__name__)


def wants_csv(ctx: Ctx) -> bool:
    return "text/csv" in (ctx.request.headers.get("accept") or "") or ctx.query("format") == "csv"


@api(
    bp,
    "/api/v1/realms/{realm}/admin/audit",
    summary="The audit log: name an account, an actor or an action (each an index), optionally a period; "
    "newest first, 50 a page; CSV with Accept: text/csv",
    responses={200: AuditListOutput},
    produces=("text/csv",),
    problems=["unauthorized", "forbidden", "not_found", "invalid_input"],
    tags=["admin"],
    auth=True,
    query={
        "account": "an account id or username",
        "actor": "who acted: an account id or username, or system:…/operator:cli",
        "action": "e.g. account_disabled, roles_changed, password_reset",
        "from": "YYYY-MM-DD or an ISO time (inclusive)",
        "to": "YYYY-MM-DD (the whole day) or an ISO time (exclusive)",
        "cursor": "the previous page's cursor",
        "format": "csv: the whole query as CSV (for links, which cannot set Accept)",
    },
)
def audit_log(ctx: Ctx) -> Reply:
    staff(ctx, Capability.AUDIT)
    reader = ctx.flows.admin_audit
    wanted = reader.parse(
        ctx.realm,
        account=ctx.query("account"),
        actor=ctx.query("actor"),
        action=ctx.query("action"),
        start=ctx.query("from"),
        end=ctx.query("to"),
    )
    if wants_csv(ctx):
        data, cut = reader.export(ctx.realm, wanted)
        headers = {"Content-Disposition": f'attachment; filename="audit-{ctx.realm.id}.csv"'}
        if cut:
            headers["X-Mitroo-Truncated"] = "true"
        return Reply(raw=data.decode("utf-8"), content_type="text/csv; charset=utf-8", headers=headers)
    page = reader.page(ctx.realm, wanted, ctx.query("cursor"))
    return Reply(body=AuditListOutput(entries=[audit_output(e) for e in page.entries], cursor=page.cursor))
