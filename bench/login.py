"""A login end to end against one argon2id verify at the configured cost (SPEC §5: ≤ 1.5).

A login must cost about one password hash: the hash is the deliberate price, everything
else (routing, body parsing, one DynamoDB read, one batch write, the RS256
access token, Powertools middleware) should be small next to it. The login is sent
through the Chalice test client, so the figure includes the local gateway's event
building; DynamoDB is the moto emulator in its own process, as DynamoDB is remote to a
Lambda function (about 3.5 ms a call here, of the order of DynamoDB from a Lambda in its
region), so the non-argon2 part is indicative, not a prediction of production latency.
A login makes the fewest calls it can: one read (the login record) and one batch write
(the session).

Both figures are medians of ``REPEAT`` calls after one warm-up, the two series alternated
call by call, each login also timed on the wire for its code's part (``bench.wire``); the
argon2 figure uses the very hasher the app built (m=19456 KiB, t=2, p=1 unless
MITROO_ARGON2_* say otherwise).
A second, instrumented series splits the non-argon2 part by wrapping the app's own
adapters, so a regression names its culprit.

    python -m bench.login
"""

from __future__ import annotations

import itertools
import os
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.common import (
    BENCH_PASSWORD,
    TABLE_NAME,
    ExternalEmulator,
    Result,
    app_output_muted,
    create_bench_account,
    login_once,
    make_client,
    median,
    sample_seconds,
    use_external_backend,
)
from bench.wire import hot_path_result, interleaved_split

REPEAT = 20
BUDGET = 1.5

Timings = dict[str, list[float]]

REST_LABEL = "rest: test client, routing, pydantic, Powertools"


def _silence_request_noise() -> None:
    """Powertools warns on every request that has no metrics; that is not a result."""
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def _timed(method: Callable[..., Any], label: str, timings: Timings) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            timings[label].append(time.perf_counter() - started)

    return wrapper


@contextmanager
def instrumented(timings: Timings) -> Iterator[None]:
    """Time the login's collaborators by wrapping methods on the app's own instances."""
    from chalicelib.container import services

    flow = services().flows.sessions
    targets: list[tuple[object, str, str]] = [
        (flow.gate, "open", "DynamoDB: login record + reservations (together)"),
        (flow.hasher, "verify", "argon2id verify"),
        (flow.hasher, "needs_rehash", "argon2 needs_rehash"),
        (flow.sessions, "start", "DynamoDB: open session + settle (batch write)"),
        (flow.signer, "sign", "RS256 access token"),
    ]
    for target, name, label in targets:
        setattr(target, name, _timed(getattr(target, name), label, timings))
    try:
        yield
    finally:
        for target, name, _ in targets:
            delattr(target, name)  # the class method shows through again


def breakdown(client: Any, login: Callable[[], object], login_median: float, repeat: int = REPEAT) -> list[str]:
    """Median milliseconds per collaborator over an instrumented series of logins.

    Each login calls each collaborator exactly once, so the rest (test client, routing,
    body parsing, Powertools middleware) is computed per login and then its median taken.
    """
    timings: Timings = defaultdict(list)
    with instrumented(timings):
        totals = sample_seconds(login, repeat, warmup=0)
    if any(len(samples) != len(totals) for samples in timings.values()):
        raise RuntimeError("a collaborator was not called exactly once per login")
    rest = [total - sum(samples[i] for samples in timings.values()) for i, total in enumerate(totals)]
    parts = {**{label: median(samples) for label, samples in timings.items()}, REST_LABEL: median(rest)}
    width = max(map(len, parts)) + 2
    return [
        f"breakdown of an instrumented login (median {median(totals) * 1000:.1f} ms; "
        f"uninstrumented {login_median * 1000:.1f} ms):",
        *(f"  {label:<{width}}{seconds * 1000:6.1f} ms" for label, seconds in parts.items()),
    ]


@dataclass(frozen=True)
class Measured:
    login: float
    verify: float
    notes: list[str]
    code: float
    """The login's median time less its time waiting on the emulator (``bench.wire``)."""


def measure() -> tuple[Measured, Measured, list[str]]:
    """A returning browser's login and a new browser's, each against argon2id verify
    (medians, alternated call by call), with their breakdowns; and the shared notes.

    A returning browser holds the device cookie of an earlier sign-in: its attempt is
    reserved on its own back-off (one conditional write, run beside the login record's
    read). A new browser's attempt reserves the username's back-off and the address's
    window (two writes beside the read). Both settle in the session's batch write.
    """
    _silence_request_noise()
    with ExternalEmulator() as emulator:
        use_external_backend(emulator.endpoint_url)
        stored_hash = create_bench_account()
        from chalicelib.container import services

        hasher = services().flows.sessions.hasher
        addresses = (f"198.51.{n // 250}.{n % 250 + 1}" for n in itertools.count())
        with make_client() as client, app_output_muted():
            device = login_once(client)

            def returning() -> object:
                return login_once(client, device)

            def new() -> object:
                return login_once(client, None, next(addresses))

            results = []
            for login in (returning, new):
                split, verify = interleaved_split(login, lambda: _verify(hasher, stored_hash), REPEAT)
                notes = breakdown(client, login, split.total)
                notes.append(split.line("on the wire (bench.wire)"))
                results.append(Measured(split.total, verify, notes, split.code))
        floor = median(sample_seconds(_bare_get_item(), REPEAT))
        settings = services().settings
        cost = f"m={settings.argon2_memory_kib} KiB, t={settings.argon2_time_cost}, p={settings.argon2_parallelism}"
    notes = [
        f"argon2id at {cost}; moto in its own process (DynamoDB is remote to a Lambda function); "
        f"medians of {REPEAT}, login and verify alternated",
        f"a bare boto3 GetItem against this emulator takes {floor * 1000:.1f} ms (the emulator's floor per call); "
        "a login makes two round trips: the read and its reservations together, then one batch write. The "
        "emulator applies one request at a time, so the calls of the first round trip add up here, where "
        "DynamoDB would overlap them",
    ]
    return results[0], results[1], notes


def _bare_get_item() -> Callable[[], object]:
    """One GetItem of a missing key with a plain boto3 client: the emulator's own cost."""
    import boto3

    from chalicelib.adapters.dynamodb.schema import MAIN_TABLE

    client = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
    key = {MAIN_TABLE.partition_key: {"S": "BENCH#none"}, str(MAIN_TABLE.sort_key): {"S": "none"}}
    return lambda: client.get_item(TableName=TABLE_NAME, Key=key, ConsistentRead=True)


def _verify(hasher: Any, stored_hash: str) -> None:
    if not hasher.verify(stored_hash, BENCH_PASSWORD):
        raise RuntimeError("the benchmark password does not verify")


def run() -> list[Result]:
    returning, new, notes = measure()
    results = []
    for label, measured in (("returning browser", returning), ("new browser", new)):
        non_argon2 = (measured.login - measured.verify) * 1000
        extra = [f"non-argon2 part of a login (login minus verify): {non_argon2:.1f} ms"]
        shared = notes if label == "returning browser" else []
        results.append(
            hot_path_result(
                f"login / argon2id verify ({label})",
                measured.login,
                measured.verify,
                BUDGET,
                measured.code,
                [*shared, *measured.notes, *extra],
            )
        )
    return results


if __name__ == "__main__":
    from bench.__main__ import print_report

    print_report(run())
    sys.exit(0)
