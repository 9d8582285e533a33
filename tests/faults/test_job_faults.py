"""Provisioning jobs under faults: a Lambda timeout in the middle of a slice, DynamoDB
throttling and transaction conflicts inside a chunk. The task fails (or dies), SQS
delivers it again, and the job resumes where it stopped: every row applied and counted
once, every account complete and audited once, every person mailed once."""

from __future__ import annotations

import itertools
import random
from typing import Any

from chalicelib.container import services
from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.jobs import XLSX, Job, JobStatus, RowStatus
from chalicelib.flows import jobs as job_tasks
from chalicelib.flows.provisioning import row_account_id
from tests.faults.state import guards, mails
from tests.integration.test_registrar_api import _staff_token
from tests.support.browser import Browser
from tests.support.faults import (
    LAMBDA_TIMEOUT,
    SQS_THROTTLED,
    TRANSACTION_CONFLICT,
    Faults,
    FaultyPump,
)
from tests.support.sheets import provisioning_xlsx, student

API = "/api/v1/realms/ntua/admin"
_tags = itertools.count(random.randrange(10**5, 10**6))


def _upload(browser: Browser, records: list[dict[str, Any]]) -> str:
    """A secretariat uploads the sheet; the job id (the job is queued, not yet run)."""
    token = _staff_token(browser)
    browser.run_tasks()  # the sign-in's new-device notice (SPEC §2.10), before the job's tasks
    answer = browser.post(
        f"{API}/provisioning-jobs",
        body=provisioning_xlsx(records),
        headers={"Authorization": f"Bearer {token}", "Content-Type": XLSX},
    )
    assert answer.status == 202, answer.text
    return str(answer.json["job_id"])


def _job(job_id: str) -> Job:
    job = services().ports.jobs.get("ntua", job_id)
    assert job is not None
    return job


def _progress(job: Job) -> tuple[int, int, int, int, int]:
    p = job.progress
    return p.total, p.processed, p.accepted, p.rejected, p.already_applied


def _assert_created_once(browser: Browser, job: Job, rows: dict[int, dict[str, Any]]) -> None:
    """Each row's account exists under the row's own id, with its username and e-mail
    guards, one ``account_created`` audit record, and its owner got one welcome mail."""
    audit = services().ports.audit
    for index, record in rows.items():
        account_id = row_account_id(job, index)
        held = guards("ntua", [(UniqueKind.USERNAME, record["username"]), (UniqueKind.EMAIL, record["external_email"])])
        assert set(held.values()) == {account_id} and len(held) == 2, (index, held)
        assert [entry.action for entry in audit.entries("ntua", account_id)] == ["account_created"], index
        assert len(mails(browser, record["external_email"])) == 1, index


def test_a_lambda_timeout_mid_slice_resumes_at_the_interrupted_chunk(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given a sheet of two chunks (250 + 10 rows): 245 rows the rules refuse, then 15 valid
    # ones, five in the first chunk and ten in the second
    tag = f"t{next(_tags)}x"
    refused = [student(n, tag, external_email=f"{tag}{n}@central.ntua.gr") for n in range(245)]
    valid = {n: student(n, tag) for n in range(245, 260)}
    job_id = _upload(browser, refused + list(valid.values()))
    # and a worker that Lambda stops at its deadline just as it saves the second chunk's
    # outcomes: that chunk's accounts, audit records and welcome mails are already written
    timeout = faults.inject(
        "dynamodb.TransactWriteItems",
        LAMBDA_TIMEOUT,
        times=1,
        when=lambda body: f"JOB#ntua#{job_id}" in body and "CHUNK#000001" in body,
    )

    # When the job runs
    browser.run_tasks()

    # Then the invocation timed out part-way: the first chunk is saved and counted, the
    # second chunk's accounts exist, its outcomes do not, and the job is running
    assert timeout.injected == 1 and pump.runtime.timeouts == 1
    job = _job(job_id)
    assert job.status is JobStatus.RUNNING
    assert _progress(job) == (260, 250, 5, 245, 0)
    assert services().ports.jobs.done_chunks("ntua", job_id) == {0}
    second_chunk = [n for n in valid if n >= 250]
    assert all(services().ports.accounts.get("ntua", row_account_id(job, n)) is not None for n in second_chunk)
    assert len(pump.in_flight) == 1  # the job's message, in flight until its visibility timeout

    # When the visibility timeout (longer than the function's) passes and SQS delivers
    # the job's message again
    assert pump.visibility_timeout_passes() == 1
    browser.run_tasks()

    # Then the job completed from the second chunk on: every row counted once
    job = _job(job_id)
    assert job.status is JobStatus.COMPLETED
    assert _progress(job) == (260, 260, 15, 245, 0)
    assert services().ports.jobs.done_chunks("ntua", job_id) == {0, 1}
    outcomes = services().ports.jobs.outcomes("ntua", job_id)
    assert [o.status for o in outcomes] == [RowStatus.REJECTED] * 245 + [RowStatus.CREATED] * 15
    assert [count for _, count in pump.delivered(job_tasks.RUN)] == [2]
    # and every account exists once, audited once, its owner mailed once
    _assert_created_once(browser, job, valid)


def test_a_chunk_whose_welcome_mails_cannot_be_queued_fails_and_the_redelivery_completes_it(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given a three-row sheet, and a task queue that throttles the batch of welcome mails
    # the chunk queues after its accounts (each account and its audit entry are written
    # together, so nothing of theirs can be half done)
    tag = f"t{next(_tags)}x"
    rows = {n: student(n, tag) for n in range(3)}
    job_id = _upload(browser, list(rows.values()))
    throttled = faults.inject("sqs.SendMessageBatch", SQS_THROTTLED)

    # When the job runs
    browser.run_tasks()

    # Then the task failed after the accounts were created, before anything was counted
    assert throttled.injected >= 1
    job = _job(job_id)
    assert job.status is JobStatus.RUNNING and _progress(job) == (3, 0, 0, 0, 0)
    assert all(services().ports.accounts.get("ntua", row_account_id(job, n)) is not None for n in rows)

    # When SQS recovers and delivers the job again
    faults.clear()
    pump.visibility_timeout_passes()
    browser.run_tasks()

    # Then the job completed: the rows are "created" (not "already applied"), counted once,
    # and each account is audited and mailed once
    job = _job(job_id)
    assert job.status is JobStatus.COMPLETED and _progress(job) == (3, 3, 3, 0, 0)
    assert [o.status for o in services().ports.jobs.outcomes("ntua", job_id)] == [RowStatus.CREATED] * 3
    _assert_created_once(browser, job, rows)


def test_conflicts_that_outlast_the_retries_fail_the_chunk_instead_of_refusing_rows(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given a three-row sheet, and every transaction of the job's accounts meets a conflict
    tag = f"t{next(_tags)}x"
    rows = {n: student(n, tag) for n in range(3)}
    job_id = _upload(browser, list(rows.values()))
    faults.inject("dynamodb.TransactWriteItems", TRANSACTION_CONFLICT, when=lambda body: "ACCOUNT#ntua#" in body)

    # When the job runs
    browser.run_tasks()

    # Then the chunk was not decided: no row is refused, no account written, nothing counted
    job = _job(job_id)
    assert job.status is JobStatus.RUNNING and _progress(job) == (3, 0, 0, 0, 0)
    assert services().ports.jobs.done_chunks("ntua", job_id) == set()
    assert all(services().ports.accounts.get("ntua", row_account_id(job, n)) is None for n in rows)

    # When the conflicts are over and SQS delivers the job again
    faults.clear()
    pump.visibility_timeout_passes()
    browser.run_tasks()

    # Then every row is created, once
    job = _job(job_id)
    assert job.status is JobStatus.COMPLETED and _progress(job) == (3, 3, 3, 0, 0)
    _assert_created_once(browser, job, rows)


def test_a_renewal_killed_after_its_changes_is_audited_once_for_each(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given three provisioned students and a renewal sheet moving their expiry
    from datetime import date, timedelta

    from tests.support.sheets import renewal_xlsx

    tag = f"t{next(_tags)}x"
    rows = {n: student(n, tag) for n in range(3)}
    _upload(browser, list(rows.values()))
    browser.run_tasks()
    new_expiry = date.today() + timedelta(days=400)
    token = _staff_token(browser)
    browser.run_tasks()  # the sign-in's new-device notice (SPEC §2.10), before the job's tasks
    answer = browser.post(
        f"{API}/renewal-jobs",
        body=renewal_xlsx([(record["username"], new_expiry) for record in rows.values()]),
        headers={"Authorization": f"Bearer {token}", "Content-Type": XLSX},
    )
    assert answer.status == 202, answer.text
    job_id = str(answer.json["job_id"])
    # and a worker that Lambda stops at the second student's change: the first student's
    # expiry has moved by then (its audit record, if written later, would be lost)
    second = services().ports.accounts.find_by_unique("ntua", UniqueKind.USERNAME, rows[1]["username"])
    assert second is not None
    timeout = faults.inject(
        "dynamodb.TransactWriteItems",
        LAMBDA_TIMEOUT,
        times=1,
        when=lambda body: f"ACCOUNT#ntua#{second.account_id}" in body and "expires_on" in body,
    )

    # When the job runs, is killed, and SQS delivers it again
    browser.run_tasks()
    assert timeout.injected == 1
    pump.visibility_timeout_passes()
    browser.run_tasks()

    # Then the job completed (the rows already applied by the killed run), and every moved
    # expiry has exactly one "account_renewed" audit record: none was lost with the kill
    assert _job(job_id).status is JobStatus.COMPLETED
    audit, accounts = services().ports.audit, services().ports.accounts
    for record in rows.values():
        account = accounts.find_by_unique("ntua", UniqueKind.USERNAME, record["username"])
        assert account is not None and account.expires_on == new_expiry
        actions = [entry.action for entry in audit.entries("ntua", account.account_id)]
        assert actions.count("account_renewed") == 1, (record["username"], actions)
