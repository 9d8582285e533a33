"""JobRepository contract: jobs round-trip; a chunk is stored, and counted, exactly once,
even when two workers store it at the same moment; outcomes come back in row order."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.jobs import Job, JobKind, JobStatus, Progress, RowOutcome, RowStatus
from chalicelib.ports import JobRepository
from tests.contract.builders import NOW, unique
from tests.fakes import InMemoryJobRepository, race

REALM = "ntua"


def job(**changes: Any) -> Job:
    base = Job(
        job_id=unique(),
        realm=REALM,
        kind=JobKind.PROVISIONING,
        status=JobStatus.QUEUED,
        created_at=NOW,
        updated_at=NOW,
        created_by="secretariat-1",
        affiliation="doctoral",
        file_name="ΔΠΜΣ 2025.xlsx",
    )
    return dataclasses.replace(base, **changes)


CHUNK = [
    RowOutcome(RowStatus.CREATED),
    RowOutcome(RowStatus.REJECTED, "«Εκτός ΕΜΠ mail» (external e-mail): must be outside"),
    RowOutcome(RowStatus.ALREADY_APPLIED, "an account with this username and external e-mail exists"),
]


class JobRepositoryContract:
    repo: JobRepository

    def test_a_job_reads_back_as_created(self) -> None:
        created = job(dry_run=True, awaiting_upload=True)
        self.repo.create(created)
        assert self.repo.get(REALM, created.job_id) == created

    def test_a_job_is_found_only_in_its_realm(self) -> None:
        created = job()
        self.repo.create(created)
        assert self.repo.get("eiep", created.job_id) is None
        assert self.repo.get(REALM, unique()) is None

    def test_chunks_add_to_the_counters_and_come_back_in_row_order(self) -> None:
        created = job()
        self.repo.create(created)
        self.repo.mark_running(REALM, created.job_id, 5, NOW)
        later = NOW + timedelta(seconds=5)
        assert self.repo.save_chunk(REALM, created.job_id, 1, CHUNK[:2], later)
        assert self.repo.save_chunk(REALM, created.job_id, 0, CHUNK, later)

        stored = self.repo.get(REALM, created.job_id)
        assert stored is not None and stored.status is JobStatus.RUNNING and stored.updated_at == later
        assert stored.progress == Progress(total=5, processed=5, accepted=3, rejected=2, already_applied=1)
        assert self.repo.outcomes(REALM, created.job_id) == [*CHUNK, *CHUNK[:2]]
        assert self.repo.done_chunks(REALM, created.job_id) == {0, 1}

    def test_a_chunk_stored_twice_counts_once(self) -> None:
        created = job()
        self.repo.create(created)
        self.repo.mark_running(REALM, created.job_id, 3, NOW)
        assert self.repo.save_chunk(REALM, created.job_id, 0, CHUNK, NOW)
        assert not self.repo.save_chunk(REALM, created.job_id, 0, CHUNK, NOW)
        stored = self.repo.get(REALM, created.job_id)
        assert stored is not None and stored.progress.processed == 3
        assert self.repo.outcomes(REALM, created.job_id) == CHUNK

    @pytest.mark.slow
    def test_of_8_workers_storing_the_same_chunk_exactly_one_counts(self) -> None:
        created = job()
        self.repo.create(created)
        self.repo.mark_running(REALM, created.job_id, 3, NOW)
        outcomes = race(8, lambda _: self.repo.save_chunk(REALM, created.job_id, 0, CHUNK, NOW))
        assert sorted(outcome is True for outcome in outcomes) == [False] * 7 + [True], outcomes
        stored = self.repo.get(REALM, created.job_id)
        assert stored is not None and stored.progress.processed == 3

    def test_an_upload_is_marked_once(self) -> None:
        created = job(awaiting_upload=True)
        self.repo.create(created)
        assert self.repo.mark_uploaded(REALM, created.job_id, NOW)
        assert not self.repo.mark_uploaded(REALM, created.job_id, NOW)
        stored = self.repo.get(REALM, created.job_id)
        assert stored is not None and not stored.awaiting_upload

    def test_finishing_records_status_and_reason(self) -> None:
        created = job()
        self.repo.create(created)
        self.repo.finish(REALM, created.job_id, JobStatus.FAILED, NOW, "Merged header cells are not accepted")
        stored = self.repo.get(REALM, created.job_id)
        assert stored is not None and stored.status is JobStatus.FAILED
        assert stored.reason == "Merged header cells are not accepted"


class TestInMemoryJobRepository(JobRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repository(self) -> None:
        self.repo = InMemoryJobRepository()


class TestDynamoJobRepository(JobRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repository(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.jobs import DynamoJobRepository

        self.repo = DynamoJobRepository(dynamo_models)
