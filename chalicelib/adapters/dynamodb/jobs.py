"""Spreadsheet jobs in DynamoDB: the job item holds status and counters, one item per
chunk holds that chunk's outcomes; a chunk and its counts are written in one transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.common import conditional_failed, failed_positions, transact
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.jobs import RETENTION, Job, JobKind, JobStatus, Progress, RowOutcome, RowStatus

CHUNK_PREFIX = "CHUNK#"


def job_pk(realm: str, job_id: str) -> str:
    return f"JOB#{realm}#{job_id}"


def chunk_sk(index: int) -> str:
    return f"{CHUNK_PREFIX}{index:06d}"


class DynamoJobRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def create(self, job: Job) -> None:
        item = self._m.JobItem(job_pk(job.realm, job.job_id), "JOB")
        for name in ("job_id", "realm", "created_at", "updated_at", "created_by", "dry_run", "affiliation"):
            setattr(item, name, getattr(job, name))
        item.job_kind = str(job.kind)
        item.status = str(job.status)
        item.file_name = job.file_name
        item.awaiting_upload = job.awaiting_upload
        item.reason = job.reason
        item.purge_at = job.created_at + RETENTION
        item.save(condition=self._m.Item.pk.does_not_exist())

    def get(self, realm: str, job_id: str) -> Job | None:
        try:
            item = self._m.JobItem.get(job_pk(realm, job_id), "JOB", consistent_read=True)
        except DoesNotExist:
            return None
        return Job(
            job_id=item.job_id,
            realm=item.realm,
            kind=JobKind(item.job_kind),
            status=JobStatus(item.status),
            created_at=item.created_at,
            updated_at=item.updated_at,
            created_by=item.created_by,
            dry_run=bool(item.dry_run),
            affiliation=item.affiliation,
            file_name=item.file_name or "",
            awaiting_upload=bool(item.awaiting_upload),
            reason=item.reason or "",
            progress=Progress(
                total=int(item.total or 0),
                processed=int(item.processed or 0),
                accepted=int(item.accepted or 0),
                rejected=int(item.rejected or 0),
                already_applied=int(item.already_applied or 0),
            ),
        )

    def mark_uploaded(self, realm: str, job_id: str, now: datetime) -> bool:
        m = self._m
        item = m.JobItem(job_pk(realm, job_id), "JOB")
        try:
            item.update(
                actions=[m.JobItem.awaiting_upload.set(False), m.JobItem.updated_at.set(now)],
                condition=m.Item.pk.exists() & (m.JobItem.awaiting_upload == True),  # noqa: E712
            )
        except UpdateError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def mark_running(self, realm: str, job_id: str, total: int, now: datetime) -> None:
        m = self._m
        item = m.JobItem(job_pk(realm, job_id), "JOB")
        item.update(
            actions=[
                m.JobItem.status.set(str(JobStatus.RUNNING)),
                m.JobItem.total.set(total),
                m.JobItem.updated_at.set(now),
            ],
            condition=m.Item.pk.exists() & m.JobItem.status.is_in(str(JobStatus.QUEUED), str(JobStatus.RUNNING)),
        )

    def save_chunk(self, realm: str, job_id: str, index: int, outcomes: Sequence[RowOutcome], now: datetime) -> bool:
        m = self._m
        pk = job_pk(realm, job_id)
        chunk = m.JobChunkItem(pk, chunk_sk(index))
        chunk.outcomes = json.dumps([[str(o.status), o.reason] for o in outcomes], ensure_ascii=False)
        job = m.JobItem(pk, "JOB")
        chunk.purge_at = now + RETENTION
        counts = Progress.of(list(outcomes))

        def build(transaction: TransactWrite) -> None:
            transaction.save(chunk, condition=m.Item.pk.does_not_exist())
            transaction.update(
                job,
                actions=[
                    m.JobItem.processed.add(counts.processed),
                    m.JobItem.accepted.add(counts.accepted),
                    m.JobItem.rejected.add(counts.rejected),
                    m.JobItem.already_applied.add(counts.already_applied),
                    m.JobItem.updated_at.set(now),
                ],
                condition=m.Item.pk.exists(),
            )

        try:
            transact(m, build)
        except TransactWriteError as exc:
            if 0 in failed_positions(exc) or self._chunk_exists(pk, index):
                return False
            raise
        return True

    def _chunk_exists(self, pk: str, index: int) -> bool:
        try:
            self._m.JobChunkItem.get(pk, chunk_sk(index), consistent_read=True)
        except DoesNotExist:
            return False
        return True

    def _chunks(self, realm: str, job_id: str, attributes: list[str] | None = None) -> Any:
        m = self._m
        return m.JobChunkItem.query(
            job_pk(realm, job_id),
            m.JobChunkItem.sk.startswith(CHUNK_PREFIX),
            consistent_read=True,
            attributes_to_get=attributes,
        )

    def done_chunks(self, realm: str, job_id: str) -> set[int]:
        return {int(item.sk[len(CHUNK_PREFIX) :]) for item in self._chunks(realm, job_id, ["PK", "SK", "kind"])}

    def outcomes(self, realm: str, job_id: str) -> list[RowOutcome]:
        found: list[RowOutcome] = []
        for item in self._chunks(realm, job_id):  # sorted by SK: row order
            found.extend(RowOutcome(RowStatus(status), reason) for status, reason in json.loads(item.outcomes))
        return found

    def finish(self, realm: str, job_id: str, status: JobStatus, now: datetime, reason: str = "") -> None:
        m = self._m
        item = m.JobItem(job_pk(realm, job_id), "JOB")
        item.update(
            actions=[m.JobItem.status.set(str(status)), m.JobItem.reason.set(reason), m.JobItem.updated_at.set(now)],
            condition=m.Item.pk.exists(),
        )
