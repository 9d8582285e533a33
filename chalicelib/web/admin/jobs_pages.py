"""Secretariat pages (NTUA): upload a provisioning or renewal sheet, follow the job,
download the report. The same jobs as the API's; roles are checked here."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.domain.accounts import AFFILIATIONS
from chalicelib.domain.jobs import MAX_DIRECT_BYTES, JobKind, Reader
from chalicelib.errors import FlowError, NotFound
from chalicelib.flows.sessions import Principal
from chalicelib.web import csrf
from chalicelib.web.admin.access import admin_principal
from chalicelib.web.endpoints import Ctx, FormState, page
from chalicelib.web.html import redirect
from chalicelib.web.inputs import MULTIPART, UploadedFile, read_multipart
from chalicelib.web.pages import form_page
from chalicelib.web.problems import STATUS_BY_CODE, InputProblem

bp = Blueprint(__name__)

ROLES = ("admin", "secretariat")


def _staff(ctx: Ctx) -> Principal | Response:
    """The signed-in secretariat member, or the redirect to sign in."""
    if ctx.realm.registrar is None:
        raise NotFound("This realm's accounts are not created from spreadsheets.")
    return admin_principal(ctx, ROLES)


@page(bp, "/realms/{realm}/admin/jobs")
def jobs_page(ctx: Ctx) -> Response:
    staff = _staff(ctx)
    if isinstance(staff, Response):
        return staff
    return form_page(ctx, "jobs.html", affiliations=AFFILIATIONS, max_mib=MAX_DIRECT_BYTES // (1024 * 1024))


@page(bp, "/realms/{realm}/admin/jobs", methods=["POST"], form=True, content_types=[MULTIPART])
def upload(ctx: Ctx) -> Response:
    staff = _staff(ctx)
    if isinstance(staff, Response):
        return staff
    values: dict[str, str] = {}
    try:
        fields = read_multipart(ctx.request, max_bytes=MAX_DIRECT_BYTES + 64 * 1024)
        values = {key: value for key, value in fields.items() if isinstance(value, str) and key != csrf.FIELD}
        csrf.check_token(ctx.request, fields.get(csrf.FIELD))  # a multipart body: the page reads it
        sheet = fields.get("file")
        if not isinstance(sheet, UploadedFile) or not sheet.data:
            raise InputProblem("invalid_input", None, errors={"file": ["choose the .xlsx file"]})
        kind = JobKind.RENEWAL if values.get("kind") == "renewal" else JobKind.PROVISIONING
        job = ctx.flows.jobs.submit(
            ctx.realm,
            kind,
            sheet.data,
            actor=staff.account_id,
            dry_run=values.get("dry_run") == "on",
            affiliation=values.get("affiliation") if kind is JobKind.PROVISIONING else None,
            file_name=sheet.name,
        )
    except FlowError as error:
        return _refused(ctx, values, error.code, error.detail, error.errors)
    except InputProblem as error:
        return _refused(ctx, values, error.code, error.detail, error.errors)
    return redirect(f"/realms/{ctx.realm.id}/admin/jobs/{job.job_id}")


def _refused(ctx: Ctx, values: dict[str, str], code: str, detail: str | None, errors: dict[str, list[str]]) -> Response:
    ctx.form_state = FormState(
        values=values, code=code, status=STATUS_BY_CODE.get(code, 400), errors=errors, detail=detail
    )
    return form_page(ctx, "jobs.html", affiliations=AFFILIATIONS, max_mib=MAX_DIRECT_BYTES // (1024 * 1024))


@page(bp, "/realms/{realm}/admin/jobs/{job_id}")
def job_page(ctx: Ctx, job_id: str) -> Response:
    staff = _staff(ctx)
    if isinstance(staff, Response):
        return staff
    job = ctx.flows.jobs.get(ctx.realm, job_id, reader=Reader(staff.account_id, staff.roles))
    return form_page(ctx, "job.html", job=job, status_url=f"/api/v1/realms/{ctx.realm.id}/admin/jobs/{job.job_id}")
