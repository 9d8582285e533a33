"""Spreadsheet jobs (SPEC §2.6): a secretariat's file, processed row by row in chunks.

A job is created when its file is received (or a presigned upload is prepared), queued,
run by the worker in chunks of :data:`CHUNK_ROWS` rows, and ends ``completed`` (each row
accepted or rejected, with a reason) or ``failed`` (the file as a whole could not be
read, with a reason). A chunk's outcomes and the job's counters are stored together, so
a worker that dies mid-job resumes at the first chunk without outcomes and never counts
or applies a row twice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.domain.audit import OPERATOR

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
"""The media type of uploads, reports and templates."""

CHUNK_ROWS = 250
"""Rows per stored chunk: small enough that a crash redoes little, large enough that a
50 000-row file is 200 chunk items of well under DynamoDB's 400 KB each."""

RETENTION = timedelta(days=90)
"""How long a job, its outcomes and its files are kept (the report holds personal data)."""

MAX_DIRECT_BYTES = 4 * 1024 * 1024
"""Largest file taken in the request body: a Lambda request is at most 6 MB, and API
Gateway base64-encodes binary bodies (4/3). Larger files go through a presigned upload.
(A value here, not in ``flows/jobs``, so the jobs page reads it without loading the
spreadsheet code into every cold start.)"""


class JobKind(enum.StrEnum):
    PROVISIONING = "provisioning"
    RENEWAL = "renewal"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED)


class RowStatus(enum.StrEnum):
    """The ``status`` column of a report."""

    CREATED = "created"
    REACTIVATED = "reactivated"
    RENEWED = "renewed"
    ALREADY_APPLIED = "already applied"
    """A re-uploaded or retried row whose change is already in place: nothing was written."""
    VALID = "valid"
    """Dry run: the row would be applied."""
    REJECTED = "rejected"

    @property
    def accepted(self) -> bool:
        return self is not RowStatus.REJECTED


@dataclass(frozen=True)
class RowOutcome:
    status: RowStatus
    reason: str = ""


@dataclass(frozen=True)
class Progress:
    """Counters, as the job status endpoint reports them."""

    total: int = 0
    processed: int = 0
    accepted: int = 0
    rejected: int = 0
    already_applied: int = 0

    @classmethod
    def of(cls, outcomes: list[RowOutcome]) -> Progress:
        accepted = sum(1 for outcome in outcomes if outcome.status.accepted)
        return cls(
            processed=len(outcomes),
            accepted=accepted,
            rejected=len(outcomes) - accepted,
            already_applied=sum(1 for outcome in outcomes if outcome.status is RowStatus.ALREADY_APPLIED),
        )


@dataclass(frozen=True)
class Job:
    job_id: str
    realm: str
    kind: JobKind
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    created_by: str
    dry_run: bool = False
    affiliation: str = "postgraduate"
    """Provisioning: the kind of account every row creates (the sheet has no such column)."""
    file_name: str = ""
    awaiting_upload: bool = False
    """Created for a presigned upload that has not been started yet."""
    progress: Progress = field(default_factory=Progress)
    reason: str = ""
    """Why the job failed (no personal data: column names, row numbers, limits)."""

    @property
    def input_key(self) -> str:
        return f"jobs/{self.realm}/{self.job_id}/input.xlsx"

    @property
    def report_key(self) -> str:
        return f"jobs/{self.realm}/{self.job_id}/report.xlsx"


@dataclass(frozen=True)
class Reader:
    """Who asks for a job, its progress or its report.

    A job's report is the uploaded sheet with every row's status: the names, addresses,
    mobiles and e-mails of everyone in it. Only the job's creator and the realm's
    ``admin``s read it. Anyone else (another secretariat of the realm) is told there is no
    such job, as for an unknown id — 403 would confirm that the id they hold names
    someone else's upload.
    """

    account_id: str
    roles: tuple[str, ...] = ()

    def may_read(self, job: Job) -> bool:
        return job.created_by == self.account_id or "admin" in self.roles


OPERATOR_READER = Reader(OPERATOR, ("admin",))
"""The operator CLI: it runs the jobs it creates in its own process, with the tables' keys."""
