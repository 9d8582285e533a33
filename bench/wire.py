"""Split a hot path's time into the code's part and the time spent waiting on AWS.

The hot-path budgets (SPEC §5) are ratios of a whole request, AWS calls included, to
one argon2id verify. Here AWS is the moto emulator: a Python process that serves one
request at a time, several milliseconds a call (a conditional write costs more than a
read), where DynamoDB would overlap a login's concurrent calls. When a ratio misses its
budget, the question is whether the code or the emulator decides it; this module answers
it by timing every AWS request of the app's own clients on the wire — from botocore's
``before-send`` (the request signed, about to go out) to ``before-parse`` (the whole answer
read, not yet parsed) — and taking the union of those intervals, so calls made in
parallel count once. Serialising, signing and parsing stay in the code's part: a Lambda
function pays for them against DynamoDB too.

What remains, the **code's part**, is what the app's own work costs (routing, pydantic,
authlib, the RS256 signature, the hash, botocore's own work) plus the test client; the
report holds it to the same budget, and shows the calls, so a slower step or an extra
call is still caught the day it lands.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.common import Result, median


@dataclass
class WireLog:
    """The AWS requests made while a block ran: by operation, and their time on the wire."""

    calls: Counter[str] = field(default_factory=Counter)
    intervals: list[tuple[float, float]] = field(default_factory=list)

    def waiting(self) -> float:
        """Seconds during which at least one request was on the wire (overlaps count once)."""
        total, reach = 0.0, float("-inf")
        for start, end in sorted(self.intervals):
            if end <= reach:
                continue
            total += end - max(start, reach)
            reach = end
        return total

    def described(self) -> str:
        """``"1 GetItem, 2 UpdateItem"``: the calls, by operation."""
        return ", ".join(f"{count} {name}" for name, count in sorted(self.calls.items())) or "none"


@contextmanager
def on_the_wire() -> Iterator[WireLog]:
    """Log every request the app's AWS clients send while the block runs.

    A thread sends one request at a time, so each request's start is kept under its
    thread: the login's first round trip sends its calls from worker threads at once.
    """
    from chalicelib.container import services

    log = WireLog()
    began: dict[int, float] = {}
    lock = threading.Lock()

    def before_send(event_name: str, **_: Any) -> None:
        with lock:
            log.calls[event_name.rsplit(".", 1)[-1]] += 1
            began[threading.get_ident()] = time.perf_counter()

    def before_parse(**_: Any) -> None:
        ended = time.perf_counter()
        with lock:
            started = began.pop(threading.get_ident(), None)
            if started is not None:
                log.intervals.append((started, ended))

    emitters = {id(client.meta.events): client.meta.events for client in services().aws_clients.values()}
    for events in emitters.values():
        events.register("before-send", before_send)
        events.register("before-parse", before_parse)
    try:
        yield log
    finally:
        for events in emitters.values():
            events.unregister("before-send", before_send)
            events.unregister("before-parse", before_parse)


@dataclass(frozen=True)
class Split:
    """Medians over a series of one hot path: whole, on the wire, and the code's part."""

    total: float
    waiting: float
    code: float
    calls: WireLog

    def line(self, label: str) -> str:
        count = sum(self.calls.calls.values())
        return (
            f"{label}: {count} AWS call(s) ({self.calls.described()}); medians: {self.total * 1000:.1f} ms, "
            f"{self.waiting * 1000:.1f} ms of it waiting on the emulator, {self.code * 1000:.1f} ms the code's part"
        )


def split_series(action: Callable[[], object], repeat: int, prepare: Callable[[], object] = lambda: None) -> Split:
    """Run ``action`` ``repeat`` times (each after an untimed ``prepare``), timing it whole
    and on the wire; the code's part is taken per run, then its median."""
    runs = []
    for _ in range(repeat):
        prepare()
        runs.append(_timed_on_the_wire(action))
    return _split(runs)


def _timed_on_the_wire(action: Callable[[], object]) -> tuple[float, WireLog]:
    """One run of ``action``: its seconds, and its requests on the wire."""
    with on_the_wire() as log:
        started = time.perf_counter()
        action()
        return time.perf_counter() - started, log


def _split(runs: list[tuple[float, WireLog]]) -> Split:
    """Medians of the runs; the code's part is taken per run, then its median."""
    totals = [total for total, _ in runs]
    waits = [log.waiting() for _, log in runs]
    codes = [total - waiting for total, waiting in zip(totals, waits, strict=True)]
    return Split(median(totals), median(waits), median(codes), runs[-1][1])


def interleaved_split(
    action: Callable[[], object],
    verify: Callable[[], object],
    repeat: int,
    *,
    prepare: Callable[[], object] = lambda: None,
    warmup: int = 1,
) -> tuple[Split, float]:
    """``action`` (each after an untimed ``prepare``) and one argon2id ``verify``,
    alternated ``repeat`` times after ``warmup`` rounds: the action's split and the
    verify's median.

    A hot path's figure and its code's part are both read against the verify timed in the
    same rounds: this two-core machine's speed drifts by a tenth within a minute (other
    work, frequency), and a code's part taken from a series of its own, minutes from the
    verifies, moved its ratio by as much as the margin it is judged on.
    """
    for _ in range(warmup):
        prepare()
        action()
        verify()
    runs, verifies = [], []
    for _ in range(repeat):
        prepare()
        runs.append(_timed_on_the_wire(action))
        started = time.perf_counter()
        verify()
        verifies.append(time.perf_counter() - started)
    return _split(runs), median(verifies)


def hot_path_result(
    name: str, seconds: float, verify: float, budget: float, code: float, notes: list[str] | None = None
) -> Result:
    """The report's row of a hot path: its median against one argon2id verify, and its
    code's part (``code`` seconds) against the same verify, named in the last note."""
    return Result(
        name=name,
        measured=f"{seconds * 1000:.1f} ms / {verify * 1000:.0f} ms",
        budget=budget,
        ratio=seconds / verify,
        budget_label=f"≤ {budget}",
        code_ratio=code / verify,
        notes=[*(notes or []), f"the code's part / argon2id verify: {code / verify:.2f} (bench.wire)"],
    )
