"""Spreadsheet jobs over the API (SPEC §2.6): upload, follow, download the report.

A file up to the API's payload limit is the request body itself (``Content-Type`` of an
.xlsx); a larger one goes to a presigned S3 URL that ``{"upload": true}`` returns, and
the client then starts the job. Roles are checked here, in our code.
"""

from __future__ import annotations

import re

from chalice import Blueprint

from chalicelib.domain.accounts import AFFILIATIONS
from chalicelib.domain.jobs import XLSX, Job, JobKind, JobStatus, Reader
from chalicelib.errors import InvalidInput
from chalicelib.web.admin.access import require_role
from chalicelib.web.endpoints import Ctx, Reply, api
from chalicelib.web.schemas import JobAccepted, JobOutput, JobUploadInput

bp = Blueprint(__name__)

UPLOAD_TYPES = (XLSX, "application/octet-stream")
ROLES = ("admin", "secretariat")
BASE = "/api/v1/realms/{realm}/admin"
_FILE_NAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)
_QUERY = {
    "dry_run": "true: validate every row and report, write nothing",
    "kind": f"provisioning: the kind of account every row creates ({', '.join(AFFILIATIONS)}; default postgraduate)",
}


def _flag(ctx: Ctx, name: str) -> bool:
    value = (ctx.query(name) or "false").strip().lower()
    if value in {"true", "1", "yes"}:
        return True
    if value in {"false", "0", "no", ""}:
        return False
    raise InvalidInput(errors={name: ["must be true or false"]})


def _submit(ctx: Ctx, kind: JobKind) -> Reply:
    principal = require_role(ctx, *ROLES)
    jobs = ctx.flows.jobs
    options = {
        "actor": principal.account_id,
        "dry_run": _flag(ctx, "dry_run"),
        "affiliation": ctx.query("kind") if kind is JobKind.PROVISIONING else None,
    }
    body: JobUploadInput | None = ctx.body
    if body is not None:
        if not body.upload:
            raise InvalidInput(errors={"upload": ["send the .xlsx as the body, or true for an upload URL"]})
        job, url = jobs.prepare_upload(ctx.realm, kind, **options)  # type: ignore[arg-type]
        return Reply(
            status=202,
            body=JobAccepted(
                job_id=job.job_id,
                status=str(job.status),
                upload_url=url,
                upload_headers={"Content-Type": XLSX},
                start_url=f"/api/v1/realms/{ctx.realm.id}/admin/jobs/{job.job_id}/start",
            ),
        )
    disposition = ctx.request.headers.get("content-disposition") or ""
    match = _FILE_NAME.search(disposition)
    job = jobs.submit(
        ctx.realm,
        kind,
        ctx.request.raw_body or b"",
        file_name=match.group(1) if match else "",
        **options,  # type: ignore[arg-type]
    )
    return Reply(status=202, body=JobAccepted(job_id=job.job_id, status=str(job.status)))


_SUBMIT_PROBLEMS = ["unauthorized", "forbidden", "not_found", "payload_too_large", "spreadsheet_invalid"]


@api(
    bp,
    f"{BASE}/provisioning-jobs",
    method="POST",
    summary="Create accounts from a secretariat's .xlsx (body), or get a presigned upload URL",
    body=JobUploadInput,
    raw_types=UPLOAD_TYPES,
    responses={202: JobAccepted},
    problems=_SUBMIT_PROBLEMS,
    tags=["jobs"],
    auth=True,
    query=_QUERY,
)
def submit_provisioning(ctx: Ctx) -> Reply:
    return _submit(ctx, JobKind.PROVISIONING)


@api(
    bp,
    f"{BASE}/renewal-jobs",
    method="POST",
    summary="Move the expiry of existing accounts from a two-column .xlsx (username, new expiry date)",
    body=JobUploadInput,
    raw_types=UPLOAD_TYPES,
    responses={202: JobAccepted},
    problems=_SUBMIT_PROBLEMS,
    tags=["jobs"],
    auth=True,
    query={"dry_run": _QUERY["dry_run"]},
)
def submit_renewal(ctx: Ctx) -> Reply:
    return _submit(ctx, JobKind.RENEWAL)


@api(
    bp,
    f"{BASE}/jobs/{{job_id}}/start",
    method="POST",
    summary="Start a job whose file was uploaded to its presigned URL",
    responses={202: JobOutput},
    problems=["unauthorized", "forbidden", "not_found"],
    tags=["jobs"],
    auth=True,
)
def start_job(ctx: Ctx, job_id: str) -> Reply:
    reader = _reader(ctx)
    return Reply(status=202, body=_output(ctx, ctx.flows.jobs.start(ctx.realm, job_id, reader=reader)))


@api(
    bp,
    f"{BASE}/jobs/{{job_id}}",
    summary="A job's status and progress",
    responses={200: JobOutput},
    problems=["unauthorized", "forbidden", "not_found"],
    tags=["jobs"],
    auth=True,
)
def job_status(ctx: Ctx, job_id: str) -> Reply:
    reader = _reader(ctx)
    return Reply(body=_output(ctx, ctx.flows.jobs.get(ctx.realm, job_id, reader=reader)))


@api(
    bp,
    f"{BASE}/jobs/{{job_id}}/report",
    summary="The uploaded sheet with status and reason per row: .xlsx with Accept: that type or */* "
    "(API Gateway returns binary bodies only then), CSV with Accept: text/csv or ?format=csv",
    responses={200: None},
    produces=(XLSX, "text/csv"),
    problems=["unauthorized", "forbidden", "not_found", "spreadsheet_invalid"],
    tags=["jobs"],
    auth=True,
    query={"format": "csv: the report as CSV (for links, which cannot set Accept)"},
)
def job_report(ctx: Ctx, job_id: str) -> Reply:
    reader = _reader(ctx)
    as_csv = "text/csv" in (ctx.request.headers.get("accept") or "") or ctx.query("format") == "csv"
    data = ctx.flows.jobs.report(ctx.realm, job_id, reader=reader, as_csv=as_csv)
    extension, media = ("csv", "text/csv; charset=utf-8") if as_csv else ("xlsx", XLSX)
    return Reply(
        raw=data.decode("utf-8") if as_csv else data,
        content_type=media,
        headers={"Content-Disposition": f'attachment; filename="report-{job_id}.{extension}"'},
    )


def _reader(ctx: Ctx) -> Reader:
    """The caller as a job reader: a registrar role is needed to ask at all, and then
    only the job's creator and the realm's admins see it (``Reader``)."""
    principal = require_role(ctx, *ROLES)
    return Reader(principal.account_id, principal.roles)


def _template(kind: JobKind) -> Reply:
    from chalicelib.flows.jobs import Jobs  # the sheet writers: not at cold start

    return Reply(
        raw=Jobs.template(kind),
        content_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{kind}-template.xlsx"'},
    )


@api(
    bp,
    f"{BASE}/provisioning-jobs/template.xlsx",
    summary="An empty provisioning sheet with the expected headers",
    responses={200: None},
    produces=(XLSX,),
    problems=["unauthorized", "forbidden", "not_found"],
    tags=["jobs"],
    auth=True,
)
def provisioning_template(ctx: Ctx) -> Reply:
    require_role(ctx, *ROLES)
    return _template(JobKind.PROVISIONING)


@api(
    bp,
    f"{BASE}/renewal-jobs/template.xlsx",
    summary="An empty renewal sheet (username, new expiry date)",
    responses={200: None},
    produces=(XLSX,),
    problems=["unauthorized", "forbidden", "not_found"],
    tags=["jobs"],
    auth=True,
)
def renewal_template(ctx: Ctx) -> Reply:
    require_role(ctx, *ROLES)
    return _template(JobKind.RENEWAL)


def _output(ctx: Ctx, job: Job) -> JobOutput:
    progress = job.progress
    return JobOutput(
        job_id=job.job_id,
        kind=str(job.kind),
        status=str(job.status),
        dry_run=job.dry_run,
        total=progress.total,
        processed=progress.processed,
        accepted=progress.accepted,
        rejected=progress.rejected,
        already_applied=progress.already_applied,
        reason=job.reason or None,
        awaiting_upload=job.awaiting_upload,
        created_at=job.created_at.isoformat(),
        updated_at=job.updated_at.isoformat(),
        report_url=(
            f"/api/v1/realms/{ctx.realm.id}/admin/jobs/{job.job_id}/report"
            if job.status is JobStatus.COMPLETED
            else None
        ),
    )
