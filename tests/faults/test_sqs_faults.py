"""SQS: a message delivered again after its task already ran (the delete after a
successful batch never happened) does nothing twice; a queue that throttles SendMessage
never loses an account, and a request that only queues answers 503."""

from __future__ import annotations

from typing import Any

from chalicelib.container import services
from chalicelib.domain.accounts import AccountStatus
from chalicelib.domain.jobs import XLSX, JobStatus
from chalicelib.flows import activation
from chalicelib.flows import jobs as job_tasks
from tests.faults.state import API, account_with_email, link_token, live_challenge, mails
from tests.integration.test_registrar_api import _staff_token
from tests.support.browser import Browser, unique_email
from tests.support.faults import PROVISIONED_THROUGHPUT_EXCEEDED, SQS_THROTTLED, Faults, FaultyPump
from tests.support.sheets import provisioning_xlsx, student


def test_a_mail_task_delivered_twice_mails_once_and_its_link_keeps_working(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given a worker whose successful batches are never deleted from the queue
    pump.lose_deletes = True
    email = unique_email()

    # When a person registers, the mail task runs, and SQS delivers it again later
    assert browser.register(browser.gsis_flow(), email).status == 201
    browser.run_tasks()
    account = account_with_email("eiep", email)
    assert account is not None
    issued = live_challenge(account)
    pump.lose_deletes = False
    assert pump.visibility_timeout_passes() == 1
    browser.run_tasks()

    # Then the task ran once: one mail, and the second delivery issued no new challenge,
    # so the mailed link still activates the account
    assert [count for _, count in pump.delivered(activation.SEND)] == [2]
    [mail] = mails(browser, email)
    assert live_challenge(account) == issued
    assert browser.post(f"{API}/activations", json={"token": link_token(mail)}).status == 200


def test_a_job_delivered_again_after_it_completed_changes_nothing(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given a three-row sheet, and a worker whose successful batches are never deleted
    rows = [student(n, f"redeliver{unique_email().split('.')[1].split('@')[0]}") for n in range(3)]
    token = _staff_token(browser)
    browser.run_tasks()  # the sign-in's new-device notice (SPEC §2.10), before the job's tasks
    answer = browser.post(
        "/api/v1/realms/ntua/admin/provisioning-jobs",
        body=provisioning_xlsx(rows),
        headers={"Authorization": f"Bearer {token}", "Content-Type": XLSX},
    )
    job_id = answer.json["job_id"]
    pump.lose_deletes = True

    # When the job and its welcome mails run, and SQS delivers every message once more
    browser.run_tasks()
    first = _state(job_id)
    pump.lose_deletes = False
    assert pump.visibility_timeout_passes() == 4  # the job and three welcome mails
    browser.run_tasks()

    # Then the job's state is what the first run left: completed, counted once
    assert [count for _, count in pump.delivered(job_tasks.RUN)] == [2]
    assert first["status"] is JobStatus.COMPLETED and first["progress"] == (3, 3, 3, 0, 0)
    assert _state(job_id) == first
    # and each person has one welcome mail
    for row in rows:
        assert len(mails(browser, row["external_email"])) == 1


def _state(job_id: str) -> dict[str, Any]:
    jobs = services().ports.jobs
    job = jobs.get("ntua", job_id)
    assert job is not None
    p = job.progress
    return {
        "status": job.status,
        "progress": (p.total, p.processed, p.accepted, p.rejected, p.already_applied),
        "chunks": jobs.done_chunks("ntua", job_id),
        "outcomes": jobs.outcomes("ntua", job_id),
    }


def test_a_queue_that_throttles_keeps_the_account_and_a_resend_answers_503(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given SQS throttles every SendMessage
    faults.inject("sqs.SendMessage", SQS_THROTTLED)
    email = unique_email()

    # When a person registers
    registered = browser.register(browser.gsis_flow(), email)

    # Then the account is stored (201) though its mail could not be queued
    assert registered.status == 201, registered.text
    account = account_with_email("eiep", email)
    assert account is not None and account.status is AccountStatus.PENDING_ACTIVATION
    assert browser.run_tasks() == 0 and mails(browser, email) == []

    # When they ask for the mail while the queue still throttles
    resend = browser.post(f"{API}/activations/resend", json={"email": email})

    # Then 503 with Retry-After; once the queue recovers, asking again mails them once
    assert resend.status == 503 and resend.json["code"] == "service_unavailable"
    assert int(resend.headers["retry-after"]) > 0
    faults.clear()
    assert browser.post(f"{API}/activations/resend", json={"email": email}).status == 202
    browser.run_tasks()
    [mail] = mails(browser, email)
    assert browser.post(f"{API}/activations", json={"token": link_token(mail)}).status == 200


def test_a_task_whose_idempotency_store_throttles_runs_once_around_it(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given a registration's mail task, and an idempotency table that throttles the
    # worker's next record write (the task cannot start)
    email = unique_email()
    assert browser.register(browser.gsis_flow(), email).status == 201
    starting = faults.inject("idempotency.PutItem", PROVISIONED_THROUGHPUT_EXCEEDED, times=2)

    # When the mail task is delivered
    browser.run_tasks()

    # Then it failed before it ran: no mail, and the message waits in SQS
    assert starting.injected == 2
    assert mails(browser, email) == [] and len(pump.in_flight) == 1

    # When it is delivered again, and this time the "done" update is throttled
    finishing = faults.inject("idempotency.UpdateItem", PROVISIONED_THROUGHPUT_EXCEEDED)
    pump.visibility_timeout_passes()
    browser.run_tasks()

    # Then the mail went out once and the task counts as done: SQS deletes the message
    # instead of delivering it (and the mail) again
    assert finishing.injected == 2
    assert len(mails(browser, email)) == 1
    assert pump.in_flight == {}
    assert [count for _, count in pump.delivered(activation.SEND)] == [2]
