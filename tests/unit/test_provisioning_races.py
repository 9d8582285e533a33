"""Regression (issue 8, races): the same sheet uploaded twice at once. The second job read
the guards before the first job's accounts landed (its creates were then refused), or in
the middle of the first job's transaction (a batched read is no snapshot: e-mail guards
seen, username guards not); its report must say "already applied", as a re-run's does,
not "rejected: taken".
``tests/races/test_sessions_and_jobs.py`` races the two jobs over HTTP; this replays the
interleaving deterministically on in-memory ports."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.jobs import JobKind, Reader
from tests.fakes import Kit, build_flows
from tests.support.sheets import provisioning_xlsx, read_report, student

SHEET = [student(n, "twice") for n in range(3)]
APPLIED = ("already applied", "an account with this username and external e-mail exists")


@pytest.fixture
def ntua() -> Kit:
    return build_flows("ntua")


Held = dict[tuple[UniqueKind, str], str]


def _first_read_sees(kit: Kit, monkeypatch: pytest.MonkeyPatch, view: Callable[[Held], Held]) -> None:
    """The job's first read of the guards sees ``view`` of them (what a read racing the
    other job saw); later reads see the table as it is."""
    read = kit.accounts.holders
    calls: list[int] = []

    def racing(realm: str, values: Sequence[tuple[UniqueKind, str]]) -> Held:
        calls.append(len(values))
        found = read(realm, values)
        return view(found) if len(calls) == 1 else found

    monkeypatch.setattr(kit.accounts, "holders", racing)


def _provision(kit: Kit, records: list[dict[str, object]]) -> list[tuple[str, str]]:
    jobs = kit.flows.jobs
    job = jobs.submit(kit.realm, JobKind.PROVISIONING, provisioning_xlsx(records), actor="secretariat-1")
    report = jobs.report(kit.realm, job.job_id, reader=Reader("secretariat-1"))
    return [(row["status"], row["reason"]) for row in read_report(report)]


@pytest.mark.parametrize(
    "view",
    [
        pytest.param(lambda held: {}, id="read-before-the-other-job-wrote"),
        pytest.param(
            lambda held: {key: owner for key, owner in held.items() if key[0] is UniqueKind.EMAIL},
            id="read-in-the-middle-of-its-transaction",
        ),
    ],
)
def test_rows_the_other_job_of_the_sheet_created_meanwhile_are_already_applied(
    ntua: Kit, monkeypatch: pytest.MonkeyPatch, view: Callable[[Held], Held]
) -> None:
    # Given a sheet the first job applied, and a second job of it whose read of the guards
    # raced the first: before its accounts landed, or half-way (e-mails seen, usernames not)
    assert [status for status, _ in _provision(ntua, SHEET)] == ["created"] * 3
    _first_read_sees(ntua, monkeypatch, view)
    mails_before = len(ntua.mailer.sent)

    # When the second job runs
    outcomes = _provision(ntua, SHEET)

    # Then it reports every row as already applied, as a re-run does, not as a clash
    assert outcomes == [APPLIED] * 3
    # and nothing was created or mailed twice
    assert len(ntua.store.accounts) == 3
    assert len(ntua.mailer.sent) == mails_before


def test_a_username_someone_else_took_meanwhile_is_still_rejected(ntua: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a username that another person's account took after the job read the guards
    _provision(ntua, [student(0, "taken")])
    _first_read_sees(ntua, monkeypatch, lambda held: {})

    # When a row asks for it with another e-mail
    [(status, reason)] = _provision(ntua, [student(0, "taken", external_email="else@example.gr", registry_number="X1")])

    # Then it is refused as before: the username belongs to someone else
    assert status == "rejected" and "never issued twice" in reason
