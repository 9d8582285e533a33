"""Provisioning and renewal jobs on in-memory ports: the row rules of seed 004, reports,
re-uploads, dry runs, resuming after a crash, files refused as a whole."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.domain.accounts import AccountStatus, UniqueKind
from chalicelib.domain.audit import origin
from chalicelib.domain.jobs import Job, JobKind, JobStatus, Reader
from chalicelib.domain.registry import RegistryStatus
from chalicelib.errors import NotFound, PayloadTooLarge, SpreadsheetInvalid
from chalicelib.flows import jobs as jobs_module
from chalicelib.flows.provisioning import split_full_name
from chalicelib.flows.registrar import Actor, NewAccount
from chalicelib.flows.tasks import TaskRunner
from tests.fakes import Kit, arranged, build_flows
from tests.support.sheets import (
    GREEK_HEADERS,
    provisioning_xlsx,
    read_report,
    renewal_xlsx,
    student,
    xlsx,
)

SECRETARIAT = "secretariat-1"
CREATOR = Reader(SECRETARIAT, ("secretariat",))


@pytest.fixture
def ntua() -> Kit:
    return build_flows("ntua")


def _provision(kit: Kit, records: list[dict[str, Any]], **options: Any) -> Job:
    job = kit.flows.jobs.submit(
        kit.realm, JobKind.PROVISIONING, provisioning_xlsx(records), actor=SECRETARIAT, **options
    )
    return kit.flows.jobs.get(kit.realm, job.job_id, reader=CREATOR)


def _report(kit: Kit, job: Job) -> list[dict[str, Any]]:
    return read_report(kit.flows.jobs.report(kit.realm, job.job_id, reader=CREATOR))


def _outcomes(kit: Kit, job: Job) -> list[tuple[str, str]]:
    return [(row["status"], row["reason"] or "") for row in _report(kit, job)]


def _setup_mails(kit: Kit) -> list[str]:
    return [message.to for message in kit.mailer.sent if message.template == "password_setup"]


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("full_name", "username", "expected"),
    [
        ("Παπαδόπουλος Γεώργιος", "gpapadopoulos", ("Γεώργιος", "Παπαδόπουλος")),
        ("Γεώργιος Παπαδόπουλος", "papadopoulosg", ("Γεώργιος", "Παπαδόπουλος")),
        ("Μαρία Ελένη Κωνσταντίνου", "mkonstantinou", ("Μαρία Ελένη", "Κωνσταντίνου")),
        ("Ζαχαρίου Παπά Άννα", "zachariou.papa", ("Άννα", "Ζαχαρίου Παπά")),
    ],
)
def test_the_username_tells_surname_from_first_names(full_name: str, username: str, expected: tuple[str, str]) -> None:
    assert split_full_name(full_name, username) == expected


def test_a_name_the_username_does_not_contain_cannot_be_split() -> None:
    assert split_full_name("Παπαδόπουλος Γεώργιος", "giorgos99") is None
    assert split_full_name("Παπαδόπουλος", "papadopoulos") is None


# --- provisioning ----------------------------------------------------------------------------


def test_every_valid_row_becomes_an_account_with_its_expiry_and_a_welcome_mail(ntua: Kit) -> None:
    # Given a sheet of three valid postgraduate rows
    records = [student(n, "ok") for n in range(3)]

    # When the secretariat uploads it
    job = _provision(ntua, records)

    # Then the job completed and counted three accepted rows
    assert job.status is JobStatus.COMPLETED
    assert (job.progress.total, job.progress.processed, job.progress.accepted, job.progress.rejected) == (3, 3, 3, 0)
    # and each person has an active account with the end date as expiry, and a welcome mail
    for record in records:
        account = ntua.accounts.find_by_unique("ntua", UniqueKind.USERNAME, record["username"])
        assert account is not None and account.status is AccountStatus.ACTIVE
        assert account.expires_on == date(2031, 6, 30) and account.affiliation == "postgraduate"
        assert account.identity is not None and account.identity.last_name in record["full_name"].split()
        assert account.extra["supervisor_email"] == "prof@example.gr"
        entries = ntua.flows.registrar.audit.entries("ntua", account.account_id)
        assert [(e.action, e.actor) for e in entries] == [("account_created", f"job:{job.job_id}")]
    assert sorted(_setup_mails(ntua)) == sorted(record["external_email"] for record in records)
    # and the report repeats the sheet with status and reason
    report = _report(ntua, job)
    assert [row["status"] for row in report] == ["created"] * 3
    assert report[0][GREEK_HEADERS["username"]] == records[0]["username"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"username": "giorgos99"}, "does not contain the surname"),
        ({"external_email": "x@central.ntua.gr"}, "outside the institution"),
        ({"external_email": "x@mail.ntua.gr"}, "outside the institution"),
        ({"external_email": "not-an-address"}, "«Εκτός ΕΜΠ mail»"),
        ({"supervisor_email": "prof@"}, "«Email Διευθυντή / Επιβλέποντα»"),
        ({"end_date": date(2020, 1, 1)}, "must be in the future"),
        ({"end_date": "31/02/2027"}, "not a date"),
        ({"father_name": None}, "«Πατρώνυμο» (father's name): is required"),
        ({"full_name": "Παπαδόπουλος"}, "must have a first name and a surname"),
    ],
)
def test_a_row_breaking_a_rule_is_rejected_with_the_reason(ntua: Kit, changes: dict[str, Any], reason: str) -> None:
    job = _provision(ntua, [student(0, "bad", **changes), student(1, "bad")])

    [(status, why), second] = _outcomes(ntua, job)
    assert status == "rejected" and reason in why, why
    assert second == ("created", "")
    assert (job.progress.accepted, job.progress.rejected) == (1, 1)
    assert ntua.accounts.find_by_unique("ntua", UniqueKind.USERNAME, "papadopoulosbad0") is None


def test_duplicate_rows_in_the_file_are_flagged_naming_the_first(ntua: Kit) -> None:
    first = student(0, "dup")
    same_username = student(1, "dup", username=first["username"])
    same_email = student(2, "dup", external_email=first["external_email"])

    job = _provision(ntua, [first, same_username, same_email])

    outcomes = _outcomes(ntua, job)
    assert outcomes[0] == ("created", "")
    assert outcomes[1][0] == "rejected" and "duplicate of row 2" in outcomes[1][1]
    assert outcomes[2][0] == "rejected" and "duplicate of row 2" in outcomes[2][1]


def test_a_reuploaded_file_creates_nothing_and_says_so(ntua: Kit) -> None:
    records = [student(n, "again") for n in range(4)]
    _provision(ntua, records)
    mails_before = len(_setup_mails(ntua))

    again = _provision(ntua, records)

    assert [status for status, _ in _outcomes(ntua, again)] == ["already applied"] * 4
    assert (again.progress.accepted, again.progress.already_applied) == (4, 4)
    assert len(_setup_mails(ntua)) == mails_before
    assert sum(1 for account in ntua.store.accounts.values() if account.username.endswith(tuple("0123"))) == 4


def test_a_username_held_by_someone_else_is_never_reissued(ntua: Kit) -> None:
    _provision(ntua, [student(0, "held")])
    clash = student(0, "held", external_email="someone.else@example.gr")

    job = _provision(ntua, [clash])

    [(status, reason)] = _outcomes(ntua, job)
    assert status == "rejected" and "never issued twice" in reason


def test_a_dry_run_reports_without_writing_or_mailing(ntua: Kit) -> None:
    records = [student(0, "dry"), student(1, "dry", username="nobody1")]

    job = _provision(ntua, records, dry_run=True)

    assert job.status is JobStatus.COMPLETED and job.dry_run
    assert [status for status, _ in _outcomes(ntua, job)] == ["valid", "rejected"]
    assert ntua.accounts.find_by_unique("ntua", UniqueKind.USERNAME, records[0]["username"]) is None
    assert _setup_mails(ntua) == []


def test_a_declared_earlier_postgraduate_account_is_reactivated_with_the_new_role(ntua: Kit) -> None:
    earlier = ntua.flows.registrar.create(
        ntua.realm,
        NewAccount(
            affiliation="postgraduate",
            first_name="Γιώργος",
            last_name="Παπαδόπουλος",
            father_name="Νικόλαος",
            mother_name="Ελένη",
            external_email="giorgos@example.gr",
            registry_number="PG1",
            username="gpapadopoulos",
            expires_on=date(2025, 6, 30),
        ),
        Actor("secretariat-0"),
    ).account
    row = student(0, "phd", previous_username="gpapadopoulos")

    job = _provision(ntua, [row], affiliation="doctoral")

    [(status, reason)] = _outcomes(ntua, job)
    assert status == "reactivated" and "gpapadopoulos" in reason
    account = ntua.accounts.get("ntua", earlier.account_id)
    assert account is not None and account.affiliation == "doctoral" and account.expires_on == date(2031, 6, 30)
    assert ntua.accounts.find_by_unique("ntua", UniqueKind.USERNAME, row["username"]) is None


def test_an_undergraduate_not_yet_declared_a_graduate_is_rejected(ntua: Kit) -> None:
    ntua.flows.registrar.create(
        ntua.realm,
        NewAccount(
            affiliation="undergraduate",
            first_name="Μαρία",
            last_name="Μπακογιάννη",
            father_name="Νικόλαος",
            mother_name="Ελένη",
            external_email="maria@example.gr",
            registry_number="03100001",
            username="mbakogianni",
        ),
        Actor("secretariat-0"),
    )
    row = student(1, "ug", previous_username="mbakogianni")

    job = _provision(ntua, [row])
    [(status, reason)] = _outcomes(ntua, job)
    assert status == "rejected" and "not yet declared a graduate" in reason

    # Once the registry marks her graduated, the row creates a new account (the old name is retired)
    ntua.flows.registrar.set_registry(
        ntua.realm, "03100001", "undergraduate", RegistryStatus.GRADUATED, Actor("registry")
    )
    job = _provision(ntua, [row])
    [(status, _)] = _outcomes(ntua, job)
    assert status == "created"
    assert ntua.accounts.find_by_unique("ntua", UniqueKind.USERNAME, row["username"]) is not None


def test_a_crash_mid_job_resumes_without_double_work(ntua: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given chunks of 3 rows, and a worker that dies in the second chunk right after its
    # accounts were written (before the chunk's outcomes are saved)
    monkeypatch.setattr(jobs_module, "CHUNK_ROWS", 3)
    audit = ntua.flows.jobs.provisioning.audit
    accounts = ntua.flows.jobs.provisioning.accounts
    calls = {"n": 0}
    create_many = accounts.create_many

    def dies_after_writing(batch: Any, audits: Any) -> dict[str, str]:
        calls["n"] += 1
        refused = create_many(batch, audits)
        if calls["n"] == 2:
            raise ConnectionError("the worker went away")
        return refused

    monkeypatch.setattr(accounts, "create_many", dies_after_writing)
    records = [student(n, "crash") for n in range(8)]

    # When the job runs, dies in chunk two, and the queue retries it
    job = _provision(ntua, records)
    assert job.status is JobStatus.RUNNING and job.progress.processed == 3
    [(task, error)] = ntua.tasks.failed
    assert isinstance(error, ConnectionError)
    ntua.tasks.enqueue(task)

    # Then it completes with every row created once, counted once, audited once
    job = ntua.flows.jobs.get(ntua.realm, job.job_id, reader=CREATOR)
    assert job.status is JobStatus.COMPLETED
    assert (job.progress.processed, job.progress.accepted) == (8, 8)
    assert [status for status, _ in _outcomes(ntua, job)] == ["created"] * 8
    for record in records:
        account = ntua.accounts.find_by_unique("ntua", UniqueKind.USERNAME, record["username"])
        assert account is not None
        assert [e.action for e in audit.entries("ntua", account.account_id)] == ["account_created"]
    assert set(_setup_mails(ntua)) == {record["external_email"] for record in records}


def test_a_long_job_runs_in_slices_queued_one_after_another(ntua: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given chunks of 2 rows, a slice of 1.5 s and a clock that moves 1 s per look
    monkeypatch.setattr(jobs_module, "CHUNK_ROWS", 2)
    ticks = iter(range(0, 10_000))
    jobs = dataclasses.replace(ntua.flows.jobs, slice_seconds=1.5, timer=lambda: next(ticks))
    queued: list[dict[str, str]] = []
    ntua.tasks.runner = TaskRunner({jobs_module.RUN: queued.append})
    job = jobs.submit(
        ntua.realm, JobKind.PROVISIONING, provisioning_xlsx([student(n, "slice") for n in range(7)]), actor=SECRETARIAT
    )

    # When the worker runs each queued slice
    runs = 0
    while queued:
        runs += 1
        jobs.run_task(queued.pop(0))

    # Then each slice processed two chunks and queued the rest, and the job completed
    job = jobs.get(ntua.realm, job.job_id, reader=CREATOR)
    assert job.status is JobStatus.COMPLETED and job.progress.accepted == 7
    assert runs == 2


# --- whole files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"name;email\nx;y\n", "not an .xlsx workbook"),
        (xlsx([["Όνομα χρήστη", "Ονοματεπώνυμο"], ["gpapadopoulos", "Παπαδόπουλος Γεώργιος"]]), "missing"),
        (xlsx([[*GREEK_HEADERS.values()], ["=1+1"]]), "formula"),
    ],
    # Named ids: the workbooks' bytes carry their creation time, which differs between
    # xdist workers collecting a second apart (xdist refuses differing collections).
    ids=["csv-not-xlsx", "missing-column", "formula"],
)
def test_a_file_that_cannot_be_read_fails_the_job_and_writes_nothing(ntua: Kit, data: bytes, reason: str) -> None:
    job = ntua.flows.jobs.submit(ntua.realm, JobKind.PROVISIONING, data, actor=SECRETARIAT)

    job = ntua.flows.jobs.get(ntua.realm, job.job_id, reader=CREATOR)
    assert (job.status is JobStatus.FAILED and reason in job.reason.lower()) or reason in job.reason
    assert ntua.store.accounts == {}
    with pytest.raises(SpreadsheetInvalid):
        ntua.flows.jobs.report(ntua.realm, job.job_id, reader=CREATOR)


def test_a_file_beyond_the_direct_limit_must_use_a_presigned_upload(ntua: Kit) -> None:
    with pytest.raises(PayloadTooLarge):
        ntua.flows.jobs.submit(
            ntua.realm, JobKind.PROVISIONING, b"x" * (jobs_module.MAX_DIRECT_BYTES + 1), actor=SECRETARIAT
        )


def test_a_presigned_job_starts_only_once_its_file_is_there(ntua: Kit) -> None:
    jobs = ntua.flows.jobs
    job, url = jobs.prepare_upload(ntua.realm, JobKind.PROVISIONING, actor=SECRETARIAT)
    assert job.input_key in url and job.awaiting_upload
    with pytest.raises(NotFound):
        jobs.start(ntua.realm, job.job_id, reader=CREATOR)

    jobs.files.put(job.input_key, provisioning_xlsx([student(0, "big")]), "application/octet-stream")
    started = jobs.start(ntua.realm, job.job_id, reader=CREATOR)
    again = jobs.start(ntua.realm, job.job_id, reader=CREATOR)

    assert started.status is JobStatus.COMPLETED and again.progress.processed == 1
    assert [task.kind for task in ntua.tasks.done].count(jobs_module.RUN) == 1


def test_jobs_of_another_realm_are_not_found() -> None:
    kit = build_flows("ntua")
    job = _provision(kit, [student(0, "realm")])
    with pytest.raises(NotFound):
        kit.flows.jobs.get(build_flows("eiep").realm, job.job_id, reader=CREATOR)
    with pytest.raises(NotFound):
        kit.flows.jobs.submit(build_flows("eiep").realm, JobKind.PROVISIONING, b"x", actor=SECRETARIAT)


# --- renewal ---------------------------------------------------------------------------------


def test_renewal_moves_expiry_within_two_years_and_reports_every_other_row(ntua: Kit) -> None:
    _provision(ntua, [student(n, "ren") for n in range(4)])
    names = [student(n, "ren")["username"] for n in range(4)]
    today = ntua.clock.now().date()
    expired = ntua.accounts.find_by_unique("ntua", UniqueKind.USERNAME, names[3])
    assert expired is not None
    ntua.accounts.set_status(
        "ntua",
        expired.account_id,
        AccountStatus.EXPIRED,
        expected=AccountStatus.ACTIVE,
        now=ntua.clock.now(),
        audit=arranged("x", "x"),
    )
    sheet = renewal_xlsx(
        [
            (names[0], today + timedelta(days=365)),
            (names[1], today + timedelta(days=3 * 365)),
            (names[2], today - timedelta(days=1)),
            ("nobody", today + timedelta(days=30)),
            (names[0].upper(), today + timedelta(days=30)),
            (names[3], (today + timedelta(days=100)).strftime("%d/%m/%Y")),
        ]
    )

    job = ntua.flows.jobs.submit(ntua.realm, JobKind.RENEWAL, sheet, actor=SECRETARIAT)

    outcomes = _outcomes(ntua, ntua.flows.jobs.get(ntua.realm, job.job_id, reader=CREATOR))
    assert outcomes[0][0] == "renewed"
    assert outcomes[1][0] == "rejected" and "at most two years" in outcomes[1][1]
    assert outcomes[2][0] == "rejected" and "in the future" in outcomes[2][1]
    assert outcomes[3][0] == "rejected" and "no account has this username" in outcomes[3][1]
    assert outcomes[4][0] == "rejected" and "duplicate of row 2" in outcomes[4][1]
    assert outcomes[5][0] == "renewed"
    renewed = ntua.accounts.find_by_unique("ntua", UniqueKind.USERNAME, names[0])
    reactivated = ntua.accounts.get("ntua", expired.account_id)
    assert renewed is not None and renewed.expires_on == today + timedelta(days=365)
    assert reactivated is not None and reactivated.status is AccountStatus.ACTIVE
    assert "account_renewed" in [e.action for e in ntua.flows.registrar.audit.entries("ntua", renewed.account_id)]

    again = ntua.flows.jobs.submit(ntua.realm, JobKind.RENEWAL, sheet, actor=SECRETARIAT)
    assert _outcomes(ntua, ntua.flows.jobs.get(ntua.realm, again.job_id, reader=CREATOR))[0][0] == "already applied"


def test_the_csv_report_neutralises_formula_like_cells(ntua: Kit) -> None:
    job = _provision(ntua, [student(0, "csv", address="@SUM(A1:A9)", mobile="+306912345678", area="-2+3")])

    text = ntua.flows.jobs.report(ntua.realm, job.job_id, reader=CREATOR, as_csv=True).decode("utf-8-sig")

    assert "'@SUM(A1:A9)" in text and "'+306912345678" in text and "'-2+3" in text
    assert text.splitlines()[0].endswith("status,reason")


def test_a_welcome_mail_that_fails_is_retried_and_the_account_stays(ntua: Kit) -> None:
    # Given SES refusing the next send
    ntua.mailer.fail_next()
    record = student(0, "mailfail")

    # When the row is provisioned
    job = _provision(ntua, [record])

    # Then the account exists, the mail task failed (SQS would retry it), and a retry sends it
    assert job.progress.accepted == 1
    account = ntua.accounts.find_by_unique("ntua", UniqueKind.USERNAME, record["username"])
    assert account is not None and account.status is AccountStatus.ACTIVE
    [(task, _)] = ntua.tasks.failed
    assert _setup_mails(ntua) == []
    ntua.tasks.enqueue(task)
    assert _setup_mails(ntua) == [record["external_email"]]


# --- who reads a job -------------------------------------------------------------------------


def test_only_the_creator_and_realm_admins_read_a_job_and_each_report_download_is_audited(ntua: Kit) -> None:
    # Given a job a secretariat member ran
    job = _provision(ntua, [student(0, "reader")])
    other = Reader("secretariat-2", ("secretariat",))
    admin = Reader("admin-1", ("admin",))

    # Then another secretariat member is told there is no such job, its report or its start
    for attempt in (
        lambda: ntua.flows.jobs.get(ntua.realm, job.job_id, reader=other),
        lambda: ntua.flows.jobs.report(ntua.realm, job.job_id, reader=other),
        lambda: ntua.flows.jobs.start(ntua.realm, job.job_id, reader=other),
    ):
        with pytest.raises(NotFound):
            attempt()
    # and the admin reads it, the download audited in the admin's trail with the address
    assert ntua.flows.jobs.get(ntua.realm, job.job_id, reader=admin) == job
    with origin("203.0.113.7"):  # the request's client address, as the web layer states it
        ntua.flows.jobs.report(ntua.realm, job.job_id, reader=admin, as_csv=True)
    [entry] = [e for e in ntua.store.audit if e.action == jobs_module.REPORT_DOWNLOADED]
    assert (entry.account_id, entry.actor, entry.address) == ("admin-1", "admin-1", "203.0.113.7")
    assert entry.details == {"job_id": job.job_id, "format": "csv", "created_by": SECRETARIAT, "rows": "1"}
