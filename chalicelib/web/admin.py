"""Realm administration over the API; every operation checks the caller's roles here,
in our code (API Gateway authorizers are not exercised by ``chalice local`` or tests)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.flows.errors import Forbidden
from chalicelib.flows.sessions import Principal
from chalicelib.web.endpoints import Ctx, Reply, api
from chalicelib.web.schemas import LegacyImportInput, LegacyImportOutput, LegacyRowOutput
from chalicelib.web.sessions import authenticate

bp = Blueprint(__name__)


def require_role(ctx: Ctx, *roles: str) -> Principal:
    """The caller, if signed in to this realm with one of ``roles``.

    Raises
    ------
    Unauthorized
        no valid token for this realm (401).
    Forbidden
        signed in, but without any of the roles (403).
    """
    principal = authenticate(ctx)
    if not set(roles) & set(principal.roles):
        raise Forbidden("This needs the role " + " or ".join(roles) + ".")
    return principal


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

    require_role(ctx, "admin")
    body: LegacyImportInput = ctx.body
    report = ctx.flows.legacy.load(ctx.realm, read_legacy_rows(body.content, body.format))
    problems = [LegacyRowOutput(line=row.line, status=row.status, reason=row.reason) for row in report.problems]
    return Reply(
        body=LegacyImportOutput(
            created=report.created, duplicates=report.duplicates, rejected=report.rejected, problems=problems
        )
    )
