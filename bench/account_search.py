"""Account search (``/admin/accounts?q=``) against 10 000 and 100 000 accounts (SPEC §5).

Budget: a page reads at most 2 × the page size (50) items, and its time does not depend
on how many accounts the realm holds (the 100 000-account search takes at most 1.3 × the
10 000-account one).

Each population lives in its own table of one moto emulator (in its own process, as
DynamoDB is remote to a Lambda function), realm ``ntua``, written untimed with
BatchWriteItem: each account item built by the repository's own ``_to_item`` and the
directory entries its create transaction would write (``directory_entries``). People
have Greek names drawn from common surnames and given names (written with accents), so
the directory partitions a search reads hold thousands of entries at 100 000 accounts
(hundreds at 10 000): «παπαδοπ» alone matches about 1 in 30 people.

One measured search is one page through the flow the API calls
(``AccountFinder.search``, as a secretariat): the surname typed without accents, a
username prefix, a registry-number prefix, and the surname's second page through its
cursor; every one a full page of 50. Items read are counted on every DynamoDB call
(``bench.expiry_sweep.counting``: Query items evaluated, BatchGetItem items returned);
a Scan stops the benchmark. The two populations are searched alternately, ``REPEAT``
times after one warm-up each; figures are medians of the four searches' total time.

    python -m bench.account_search
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.common import ExternalEmulator, Result, fresh_table, median
from bench.expiry_sweep import Reads, ScanForbidden, counting

POPULATIONS = (10_000, 100_000)
REALM = "ntua"
REPEAT = 7
PAGE = 50
ITEMS_BUDGET = 2.0
TIME_BUDGET = 1.3
TABLE_PREFIX = "mitroo-bench-search"

SURNAMES = (
    "Παπαδόπουλος",
    "Παπαδοπούλου",
    "Βλάχος",
    "Αγγελόπουλος",
    "Νικολάου",
    "Γεωργίου",
    "Οικονόμου",
    "Δημητρίου",
    "Ιωάννου",
    "Κωνσταντίνου",
    "Μακρής",
    "Παπανικολάου",
    "Καραγιάννης",
    "Μαυρίδης",
    "Αλεξίου",
    "Χριστοδούλου",
    "Σταυρόπουλος",
    "Ζαχαρίου",
    "Θεοδωρίδης",
    "Λαμπράκης",
    "Μιχαηλίδης",
    "Ξενάκης",
    "Ρήγας",
    "Τσακίρης",
    "Φωτίου",
    "Χατζηδάκης",
    "Ψαρράς",
    "Ωραιόπουλος",
    "Ευαγγέλου",
    "Ηλιόπουλος",
)
GIVEN = ("Γιώργος", "Μαρία", "Νίκος", "Ελένη", "Κώστας", "Αικατερίνη", "Δημήτρης", "Σοφία", "Γιάννης", "Άννα")
SEARCHES = (("surname", "παπαδοπ"), ("username", "gpap"), ("registry number", "031"))


@dataclass
class Population:
    size: int
    services: Any


def _account(index: int, rng: random.Random, now: datetime) -> Any:
    from chalicelib.domain.accounts import Account, AccountStatus
    from chalicelib.domain.identity import GsisIdentity
    from chalicelib.domain.transliteration import elot743

    surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
    username = f"{elot743(given)[:1]}{elot743(surname)}{index}"
    return Account(
        account_id=uuid.uuid4().hex,
        realm=REALM,
        username=username,
        email=f"{username}@example.gr",
        status=AccountStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        identity=GsisIdentity("", surname, given, "", "", ""),
        registry_number=f"0{rng.randrange(10**6, 10**7)}",
        affiliation="undergraduate",
    )


def populate(size: int, endpoint_url: str) -> Population:
    """A fresh table of ``size`` ntua accounts filed in the directory, and its services."""
    from chalicelib.adapters.dynamodb.directory import directory_entries

    table = fresh_table(endpoint_url, f"{TABLE_PREFIX}-{size}")
    built, models, repository = table.services, table.models, table.accounts
    rng, now = random.Random(size), datetime.now(UTC)
    with models.Item.batch_write() as batch:
        for index in range(size):
            account = _account(index, rng, now)
            batch.save(repository._to_item(account))
            for entry in directory_entries(models, account):
                batch.save(entry)
    return Population(size, built)


def search_once(population: Population) -> tuple[float, list[tuple[str, int, int]]]:
    """Seconds of the four searches, and per search: label, items read, rows."""
    from chalicelib.realms import get_realm

    realm = get_realm(REALM)
    finder = population.services.flows.admin_directory
    measured: list[tuple[str, int, int]] = []
    elapsed = 0.0
    cursor = None
    for label, text in (*SEARCHES, ("surname, page 2", SEARCHES[0][1])):
        reads = Reads()
        with counting(reads):
            started = time.perf_counter()
            result = finder.search(
                realm, text=text, cursor=cursor if label.endswith("page 2") else None, viewer_roles=("secretariat",)
            )
            elapsed += time.perf_counter() - started
        if reads.scans:
            raise ScanForbidden("the account search scanned the table")
        if len(result.rows) != PAGE:
            raise RuntimeError(f"{label} at {population.size}: {len(result.rows)} rows, expected a full page")
        if label == SEARCHES[0][0]:
            cursor = result.cursor
        measured.append((label, reads.total, len(result.rows)))
    return elapsed, measured


def _spaced(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def run() -> list[Result]:
    with ExternalEmulator() as emulator:
        populations = []
        for size in POPULATIONS:
            started = time.perf_counter()
            populations.append(populate(size, emulator.endpoint_url))
            print(f"  populated {size} accounts in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        runs: dict[int, list[tuple[float, list[tuple[str, int, int]]]]] = {size: [] for size in POPULATIONS}
        for population in populations:
            search_once(population)  # warm-up: connections, realm file, the emulator's sorted keys
        for _ in range(REPEAT):
            for population in populations:
                runs[population.size].append(search_once(population))
    results = []
    for size in POPULATIONS:
        last = runs[size][-1][1]
        worst = max(items for _, measured in runs[size] for _, items, _ in measured)
        results.append(
            Result(
                name=f"account search, items read per page ({_spaced(size)} accounts)",
                measured=f"{worst} items / {PAGE} rows",
                budget=ITEMS_BUDGET,
                ratio=worst / PAGE,
                budget_label=f"≤ {ITEMS_BUDGET:g} × page size",
                notes=[f"{label}: {items} items read, {rows} rows" for label, items, rows in last],
            )
        )
    small, large = (median([seconds for seconds, _ in runs[size]]) for size in POPULATIONS)
    results.append(
        Result(
            name="account search, time 100 000 / 10 000",
            measured=f"{large * 1000:.0f} ms / {small * 1000:.0f} ms",
            budget=TIME_BUDGET,
            ratio=large / small,
            budget_label=f"≤ {TIME_BUDGET:g}",
            notes=[
                f"four one-page searches ({', '.join(label for label, _ in SEARCHES)}, and the surname's second "
                f"page); medians of {REPEAT} runs after one warm-up, the populations alternated",
                *(
                    f"{_spaced(size)} accounts: "
                    + ", ".join(f"{seconds * 1000:.0f}" for seconds, _ in runs[size])
                    + " ms"
                    for size in POPULATIONS
                ),
                "moto in its own process, reading a partition's sort-key range by binary search as DynamoDB does "
                "(devtools.emulator.sorted_window); population untimed",
            ],
        )
    )
    return results


if __name__ == "__main__":
    from bench.__main__ import print_report

    print_report(run())
    sys.exit(0)
