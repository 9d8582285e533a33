"""Loading legacy accounts over the API (role ``admin``): JSON lines or CSV text."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.web.admin.access import require_role
from chalicelib.web.endpoints import Ctx, Reply, api
from chalicelib.web.schemas import LegacyImportInput, LegacyImportOutput, LegacyRowOutput

bp = Blueprint(__name__)


@api(
    bp,
    "/api/v1/realms/{realm}/admin/legacy-accounts",
    method="POST",
    summary="Load legacy accounts (JSON lines or CSV text); role admin",
    body=LegacyImportInput,
    responses={200: LegacyImportOutput},
    problems=["unauthorized", "forbidden", "invalid_input", "not_found"],
    tags=["admin"],
    auth=True,
)
def load_legacy(ctx: Ctx) -> Reply:
    from chalicelib.flows.legacy import read_legacy_rows  # the csv/json readers: not at cold start

    admin = require_role(ctx, "admin")
    body: LegacyImportInput = ctx.body
    report = ctx.flows.legacy.load(ctx.realm, read_legacy_rows(body.content, body.format), actor=admin.account_id)
    problems = [LegacyRowOutput(line=row.line, status=row.status, reason=row.reason) for row in report.problems]
    return Reply(
        body=LegacyImportOutput(
            created=report.created, duplicates=report.duplicates, rejected=report.rejected, problems=problems
        )
    )
