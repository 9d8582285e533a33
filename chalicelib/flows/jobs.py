"""Spreadsheet jobs: receive a file, run it in resumable chunks, report every row.

The API stores the uploaded file (S3), records a queued job (DynamoDB) and queues a
``job.run`` task; the worker reads the sheet, decides file-wide rejections (duplicate
rows), then processes chunks of :data:`~chalicelib.domain.jobs.CHUNK_ROWS` rows, storing
each chunk's outcomes together with the job's counters. A worker that runs longer than
its slice queues the job again and stops; one that dies is retried by SQS; either way the
next run starts at the first chunk without outcomes. The last run writes the report.

A file that cannot be read as a whole (not a workbook, a zip bomb, a formula, merged
header cells, a missing column…) ends the job ``failed`` with the reason, before any row
is applied: nothing is half-written.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from chalicelib.domain.accounts import AFFILIATIONS
from chalicelib.domain.audit import audit
from chalicelib.domain.jobs import (  # MAX_DIRECT_BYTES: the jobs API and page import it from here
    CHUNK_ROWS,
    MAX_DIRECT_BYTES,
    XLSX,
    Job,
    JobKind,
    JobStatus,
    Reader,
    RowOutcome,
)
from chalicelib.domain.tasks import Task
from chalicelib.errors import (
    FileTooLarge,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    SpreadsheetInvalid,
    TaskQueueError,
)
from chalicelib.flows.provisioning import Provisioning, Renewal, duplicates_in_file
from chalicelib.ports import AuditLog, Clock, FileStore, JobRepository, SecretSource, TaskQueue
from chalicelib.realms import RealmConfig, get_realm
from chalicelib.sheets import (
    PROVISIONING_COLUMNS,
    RENEWAL_COLUMNS,
    Sheet,
    SheetInvalid,
    read_xlsx,
    report_csv,
    report_xlsx,
    template_xlsx,
)

log = logging.getLogger(__name__)

RUN = "job.run"
MAX_FILE_BYTES = 50 * 1024 * 1024
"""Largest file a job reads (a 50 000-row sheet is about 3 MB)."""
UPLOAD_URL_LIFETIME = timedelta(minutes=15)
DUPLICATE_KEYS = {
    JobKind.PROVISIONING: ("username", "external_email", "registry_number"),
    JobKind.RENEWAL: ("username",),
}


def display_name(file_name: str) -> str:
    """The uploaded file's name as the job keeps and shows it: the last segment of any
    path the client sent (``../../etc/passwd`` → ``passwd``, ``C:\\fakepath\\x.xlsx`` →
    ``x.xlsx``), without control or format characters (line breaks, NUL, bidi overrides
    that disguise an extension), at most 200 characters. A label only: storage keys are
    made of the realm and the job id, never of a name the client chose."""
    last = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(char for char in last if char.isprintable()).strip()[:200]


Progress = Callable[[Job], None]

REPORT_DOWNLOADED = "job_report_downloaded"


@dataclass(frozen=True)
class Jobs:
    jobs: JobRepository
    files: FileStore
    tasks: TaskQueue
    clock: Clock
    secrets: SecretSource
    provisioning: Provisioning
    renewal: Renewal
    audit: AuditLog
    slice_seconds: float = 240.0
    """How long one worker run processes chunks before queueing the rest (the worker's
    timeout and the queue's visibility timeout are longer)."""
    timer: Callable[[], float] = field(default=time.monotonic)

    # -- receiving --------------------------------------------------------------------------

    def submit(
        self,
        realm: RealmConfig,
        kind: JobKind,
        data: bytes,
        *,
        actor: str,
        dry_run: bool = False,
        affiliation: str | None = None,
        file_name: str = "",
        queue: bool = True,
    ) -> Job:
        """Store the file, record the job and queue it (``queue=False``: the caller runs it).

        Raises
        ------
        NotFound
            the realm has no registrar.
        PayloadTooLarge
            beyond :data:`MAX_DIRECT_BYTES`: use a presigned upload.
        SpreadsheetInvalid
            an empty body.
        """
        if len(data) > MAX_DIRECT_BYTES and queue:
            raise PayloadTooLarge(
                f"Files over {MAX_DIRECT_BYTES // (1024 * 1024)} MiB are uploaded to a presigned URL: "
                'send {"upload": true} as JSON to get one.'
            )
        if not data:
            raise SpreadsheetInvalid("The body is empty: send the .xlsx file as the request body.")
        job = self._new_job(realm, kind, actor=actor, dry_run=dry_run, affiliation=affiliation, file_name=file_name)
        self.files.put(job.input_key, data, XLSX)
        self.jobs.create(job)
        if queue:
            self._queue(job)
        return job

    def prepare_upload(
        self, realm: RealmConfig, kind: JobKind, *, actor: str, dry_run: bool = False, affiliation: str | None = None
    ) -> tuple[Job, str]:
        """A job waiting for its file, and the presigned URL to PUT the file to; the
        client then starts it (:meth:`start`)."""
        job = self._new_job(realm, kind, actor=actor, dry_run=dry_run, affiliation=affiliation, awaiting_upload=True)
        self.jobs.create(job)
        return job, self.files.upload_url(job.input_key, XLSX, UPLOAD_URL_LIFETIME)

    def start(self, realm: RealmConfig, job_id: str, *, reader: Reader) -> Job:
        """Queue a job whose file was uploaded; a second call changes nothing.

        Raises
        ------
        NotFound
            no such job in this realm (or not ``reader``'s to see), or nothing was
            uploaded yet.
        """
        job = self.get(realm, job_id, reader=reader)
        if not job.awaiting_upload:
            return job
        if not self.files.exists(job.input_key):
            raise NotFound("Nothing has been uploaded for this job yet: PUT the file to its upload URL first.")
        if self.jobs.mark_uploaded(realm.id, job_id, self.clock.now()):
            self._queue(job)
        return self._job(realm, job_id)

    def _new_job(
        self,
        realm: RealmConfig,
        kind: JobKind,
        *,
        actor: str,
        dry_run: bool,
        affiliation: str | None,
        file_name: str = "",
        awaiting_upload: bool = False,
    ) -> Job:
        if realm.registrar is None:
            raise NotFound("This realm's accounts are not created by a registrar.")
        chosen = affiliation or "postgraduate"
        if chosen not in AFFILIATIONS:
            raise InvalidInput(errors={"kind": [f"must be one of {', '.join(AFFILIATIONS)}"]})
        now = self.clock.now()
        return Job(
            job_id=self.secrets.identifier(),
            realm=realm.id,
            kind=kind,
            status=JobStatus.QUEUED,
            created_at=now,
            updated_at=now,
            created_by=actor,
            dry_run=dry_run,
            affiliation=chosen,
            file_name=display_name(file_name),
            awaiting_upload=awaiting_upload,
        )

    def _queue(self, job: Job) -> None:
        try:
            self.tasks.enqueue(Task(RUN, {"realm": job.realm, "job_id": job.job_id}))
        except TaskQueueError:
            self.jobs.finish(job.realm, job.job_id, JobStatus.FAILED, self.clock.now(), "The job could not be queued")
            raise

    # -- reading ----------------------------------------------------------------------------

    def get(self, realm: RealmConfig, job_id: str, *, reader: Reader) -> Job:
        """The job, if ``reader`` may see it (:class:`Reader`); else NotFound."""
        job = self._job(realm, job_id)
        if not reader.may_read(job):
            raise NotFound("There is no such job in this realm.")
        return job

    def _job(self, realm: RealmConfig, job_id: str) -> Job:
        job = self.jobs.get(realm.id, job_id) if job_id.isalnum() and len(job_id) <= 64 else None
        if job is None:
            raise NotFound("There is no such job in this realm.")
        return job

    def report(self, realm: RealmConfig, job_id: str, *, reader: Reader, as_csv: bool = False) -> bytes:
        """The uploaded sheet with ``status`` and ``reason`` per row (.xlsx or CSV); the
        download is audited in the reader's trail (personal data of every row leaves).

        Raises
        ------
        NotFound
            no such job (or not ``reader``'s to see), or it has not completed yet.
        SpreadsheetInvalid
            the job failed: the file could not be processed (the reason says why).
        """
        job = self.get(realm, job_id, reader=reader)
        if job.status is JobStatus.FAILED:
            raise SpreadsheetInvalid(job.reason or "The file could not be processed.")
        if job.status is not JobStatus.COMPLETED:
            raise NotFound(f"The report is ready when the job has completed; it is {job.status}.")
        if not as_csv:
            data = self.files.get(job.report_key, max_bytes=MAX_FILE_BYTES * 2)
            if data is None:
                raise NotFound("The report is no longer kept.")
        else:
            sheet = self._sheet(job)
            outcomes = self.jobs.outcomes(realm.id, job.job_id)
            data = report_csv(sheet, [(str(outcome.status), outcome.reason) for outcome in outcomes])
        # Recorded before the bytes leave: a download that was not audited never happens.
        details = {
            "job_id": job.job_id,
            "format": "csv" if as_csv else "xlsx",
            "created_by": job.created_by,
            "rows": str(job.progress.total),
        }
        now = self.clock.now()
        self.audit.record(
            audit(realm.id, reader.account_id, REPORT_DOWNLOADED, actor=reader.account_id, at=now, **details)
        )
        return data

    def report_rows(self, realm: RealmConfig, job_id: str) -> list[tuple[int, RowOutcome]]:
        """Each data row's number in the sheet and its outcome (for the CLI's summary)."""
        job = self._job(realm, job_id)
        sheet = self._sheet(job)
        outcomes = self.jobs.outcomes(realm.id, job_id)
        return [(row.number, outcome) for row, outcome in zip(sheet.rows, outcomes, strict=True)]

    # -- running ----------------------------------------------------------------------------

    def run_task(self, payload: dict[str, str]) -> None:
        """The ``job.run`` task."""
        self.run(get_realm(payload["realm"]), payload["job_id"])

    def run(
        self,
        realm: RealmConfig,
        job_id: str,
        *,
        progress: Progress | None = None,
        slice_seconds: float | None = None,
    ) -> Job | None:
        """Process the job's remaining chunks (within one slice) and, at the end, report.

        Raises only for trouble outside the file (storage, the database): the task is
        then retried and resumes.
        """
        job = self.jobs.get(realm.id, job_id)
        if job is None or job.status.finished or job.awaiting_upload:
            return job
        started = self.timer()
        try:
            sheet = self._sheet(job)
        except SpreadsheetInvalid as error:
            log.info("job failed: the file cannot be processed", extra={"job_id": job_id})
            self.jobs.finish(realm.id, job_id, JobStatus.FAILED, self.clock.now(), str(error.detail))
            return self._job(realm, job_id)
        rows = sheet.rows
        self.jobs.mark_running(realm.id, job_id, len(rows), self.clock.now())
        early = duplicates_in_file(rows, DUPLICATE_KEYS[job.kind])
        handle = self.provisioning.chunk if job.kind is JobKind.PROVISIONING else self.renewal.chunk
        done = self.jobs.done_chunks(realm.id, job_id)
        worked = False
        for index in range(math.ceil(len(rows) / CHUNK_ROWS)):
            if index in done:
                continue
            if worked and self.timer() - started > (slice_seconds or self.slice_seconds):
                self.tasks.enqueue(Task(RUN, {"realm": realm.id, "job_id": job_id}))
                return self._job(realm, job_id)
            first = index * CHUNK_ROWS
            outcomes = handle(realm, job, rows[first : first + CHUNK_ROWS], first, early)
            self.jobs.save_chunk(realm.id, job_id, index, outcomes, self.clock.now())
            worked = True
            if progress is not None:
                progress(self._job(realm, job_id))
        self._finish(job, sheet, self.jobs.outcomes(realm.id, job_id))
        return self._job(realm, job_id)

    def _finish(self, job: Job, sheet: Sheet, outcomes: list[RowOutcome]) -> None:
        report = report_xlsx(sheet, [(str(outcome.status), outcome.reason) for outcome in outcomes])
        self.files.put(job.report_key, report, XLSX)
        self.jobs.finish(job.realm, job.job_id, JobStatus.COMPLETED, self.clock.now())
        log.info("job completed", extra={"job_id": job.job_id, "rows": len(outcomes)})

    def _sheet(self, job: Job) -> Sheet:
        try:
            data = self.files.get(job.input_key, max_bytes=MAX_FILE_BYTES)
        except FileTooLarge as exc:
            raise SpreadsheetInvalid(
                f"The file is {exc.size // (1024 * 1024)} MiB; at most {MAX_FILE_BYTES // (1024 * 1024)} MiB "
                "is accepted: split it"
            ) from None
        if data is None:
            raise SpreadsheetInvalid("The uploaded file is missing")
        columns = PROVISIONING_COLUMNS if job.kind is JobKind.PROVISIONING else RENEWAL_COLUMNS
        try:
            return read_xlsx(data, columns)
        except SheetInvalid as exc:
            raise SpreadsheetInvalid(exc.reason) from None

    # -- templates --------------------------------------------------------------------------

    @staticmethod
    def template(kind: JobKind) -> bytes:
        return template_xlsx(PROVISIONING_COLUMNS if kind is JobKind.PROVISIONING else RENEWAL_COLUMNS)
