"""The daily deletion sweep against 5 000 and 50 000 accounts of which 100 are due (SPEC §2.10, §5).

Budget: the sweep reads at most 2 items per account due to find and check them, and its
time does not depend on how many accounts the realm has (50 000 / 5 000 ≤ 1.3). The
erasure then reads the person's own items to delete them (their account partition, the
audit entries about them): those reads are counted apart, each one names a partition of
an account due, and every item so read is erased.

Each population is a fresh table (``devtools.emulator`` in its own process) holding N
eiep accounts:

* 100 whose deletion is due on ``AS_OF`` (created through the repository with their
  guards and audit entry, then scheduled through the port, so each has two audit
  entries), made again before every measured run (untimed), since a run erases them;
* the rest without a deletion, except one in ten scheduled on the 14 days after
  ``AS_OF``: the index partition the sweep queries holds 500 (5 000) or 5 000 (50 000)
  deletions that are not due yet.

A Scan of the table raises (the sweep must read the index, never the table).

    python -m bench.deletion_sweep
"""

from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.common import ExternalEmulator, Result, bench_audit, fresh_table, median
from bench.expiry_sweep import ScanForbidden

POPULATIONS = (5_000, 50_000)
DUE = 100
REALM = "eiep"
AS_OF = date(2026, 3, 16)
REPEAT = 3
ITEMS_BUDGET = 2.0
TIME_BUDGET = 1.3
TABLE_PREFIX = "mitroo-bench-deletion"


@dataclass
class Reads:
    """Items one sweep read, by what they were read for."""

    selection: Counter[str] = field(default_factory=Counter)
    """The index of deletions, the re-read of each account, and anything else."""
    own: int = 0
    """Items of the due accounts' own partitions and of the tickets sent from their
    addresses (read to be erased)."""
    scans: int = 0

    @property
    def selected(self) -> int:
        return sum(self.selection.values())


@contextmanager
def counting(reads: Reads, due: set[str]) -> Iterator[None]:
    """Count every DynamoDB read made meanwhile, sorting each by the partition it names."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def counted(client: Any, operation: str, request: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb" and operation == "Scan":
            reads.scans += 1
            raise ScanForbidden(f"the deletion sweep scanned {request.get('TableName')!r}")
        response = original(client, operation, request)
        if client.meta.service_model.service_name != "dynamodb":
            return response
        if operation == "Query":
            items = int(response.get("ScannedCount", response.get("Count", 0)))
            values = [str(value.get("S", "")) for value in request.get("ExpressionAttributeValues", {}).values()]
            partition = values[0] if values else ""
            mine = any(account_id in partition for account_id in due) or partition.startswith("SUPPORT")
            if mine and not partition.startswith("DELETION#"):
                reads.own += items
            else:
                reads.selection[f"Query {partition.split('#', 1)[0]}"] += items
        elif operation == "GetItem":
            reads.selection["GetItem"] += 1
        elif operation == "BatchGetItem":
            reads.selection["BatchGetItem"] += sum(len(items) for items in response.get("Responses", {}).values())
        return response

    BaseClient._make_api_call = counted
    try:
        yield
    finally:
        BaseClient._make_api_call = original


@dataclass
class Population:
    size: int
    services: Any
    due: list[str] = field(default_factory=list)


def _account(index: int, now: datetime) -> Any:
    from chalicelib.domain.accounts import Account, AccountStatus

    return Account(
        account_id=uuid.uuid4().hex,
        realm=REALM,
        username=f"bench{index:06d}.{uuid.uuid4().hex[:6]}@example.gr",
        email=f"bench{index:06d}.{uuid.uuid4().hex[:6]}@example.gr",
        status=AccountStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        password_hash=None,
        gsis_verified=True,
        activated_at=now,
    )


def populate(size: int, endpoint_url: str) -> Population:
    """A fresh table of ``size - DUE`` eiep accounts (one in ten scheduled for later)."""
    from chalicelib.adapters.dynamodb.erasure import deletion_index_key

    table = fresh_table(endpoint_url, f"{TABLE_PREFIX}-{size}")
    built, models, repository = table.services, table.models, table.accounts
    now = datetime.now(UTC)
    with models.Account.batch_write() as batch:
        for index in range(DUE, size):
            item = repository._to_item(_account(index, now))
            if index % 10 == 0:
                later = AS_OF + timedelta(days=1 + index % 14)
                item.deletion_due = later.isoformat()
                item.gsi2pk, item.gsi2sk = deletion_index_key(REALM, later, item.account_id)
            batch.save(item)
    return Population(size, built)


def rearm(population: Population) -> None:
    """The 100 due accounts, made again (the last run erased them)."""
    ports = population.services.ports
    now = datetime.now(UTC)
    population.due = []
    for index in range(DUE):
        account = _account(index, now)
        ports.accounts.create(account, audit=bench_audit(REALM, account.account_id))
        entry = bench_audit(REALM, account.account_id)
        assert ports.personal_data.schedule_deletion(REALM, account.account_id, AS_OF, audit=entry) is None
        population.due.append(account.account_id)


def sweep_once(population: Population) -> tuple[float, Reads]:
    from chalicelib.realms import get_realm

    rearm(population)
    reads = Reads()
    with counting(reads, set(population.due)):
        started = time.perf_counter()
        report = population.services.flows.deletion_sweep.sweep(get_realm(REALM), AS_OF)
        elapsed = time.perf_counter() - started
    if reads.scans:
        raise ScanForbidden("the deletion sweep scanned the table")
    if (report.due, report.erased, report.failed) != (DUE, DUE, []):
        raise RuntimeError(f"sweep of {population.size}: {report}; expected {DUE} due and erased")
    return elapsed, reads


def _spaced(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def run() -> list[Result]:
    runs: dict[int, list[tuple[float, Reads]]] = {size: [] for size in POPULATIONS}
    with ExternalEmulator() as emulator:
        populations = []
        for size in POPULATIONS:
            started = time.perf_counter()
            populations.append(populate(size, emulator.endpoint_url))
            print(f"  populated {size} accounts in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        for population in populations:
            sweep_once(population)  # warm-up
        for _ in range(REPEAT):
            for population in populations:  # alternated: a burst of load hits both alike
                runs[population.size].append(sweep_once(population))
    results = []
    for size in POPULATIONS:
        reads = runs[size][-1][1]
        by_kind = ", ".join(f"{kind} {count}" for kind, count in sorted(reads.selection.items()))
        results.append(
            Result(
                name=f"deletion sweep, items read ({_spaced(size)} accounts)",
                measured=f"{reads.selected} items / {DUE} due",
                budget=ITEMS_BUDGET,
                ratio=reads.selected / DUE,
                budget_label=f"≤ {ITEMS_BUDGET:g} × due",
                notes=[
                    f"to find and check the accounts due: {by_kind}",
                    f"then the due accounts' own items, read to be erased: {reads.own} "
                    f"({reads.own / DUE:.1f} per account: its account partition and the audit entries about it)",
                    f"deletions in the index not due yet: {size // 10 - DUE // 10}",
                ],
            )
        )
    times = {size: [seconds for seconds, _ in measured] for size, measured in runs.items()}
    small, large = (median(times[size]) for size in POPULATIONS)
    results.append(
        Result(
            name=f"deletion sweep, time {_spaced(POPULATIONS[1])} / {_spaced(POPULATIONS[0])}",
            measured=f"{large * 1000:.0f} ms / {small * 1000:.0f} ms",
            budget=TIME_BUDGET,
            ratio=large / small,
            budget_label=f"≤ {TIME_BUDGET:g}",
            notes=[
                f"{DUE} accounts erased per sweep (sessions ended, data erased, tombstone written); as of {AS_OF}; "
                f"medians of {REPEAT} runs after one warm-up, the two populations alternated",
                *(
                    f"{_spaced(size)} accounts: "
                    + ", ".join(f"{seconds * 1000:.0f}" for seconds in times[size])
                    + " ms"
                    for size in POPULATIONS
                ),
                "moto in its own process; population and the re-made due accounts untimed",
            ],
        )
    )
    return results


if __name__ == "__main__":
    from bench.__main__ import print_report

    print_report(run())
    sys.exit(0)
