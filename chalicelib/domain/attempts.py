"""Attempt limits as reservations: an attempt is counted *before* its secret is compared.

Reading a failure count, comparing a password, and only then recording the failure lets
a burst of parallel guesses (many Lambda containers at once) all pass the check before
any of them is recorded. Here every attempt first *reserves* its slot with one atomic
write that fails while the key is backing off or its window is full; only a granted
reservation may compare a secret. A burst of N guesses therefore earns no more
comparisons than N guesses one after another (SPEC §3).

Two kinds of rule:

* :class:`Backoff` — per account (or per known device): ``free`` attempts, then one
  attempt per waiting period that doubles from ``base`` up to ``ceiling``. A success
  clears the key; failures are forgotten after ``memory``.
* :class:`RateWindow` — per client address: at most ``limit`` attempts in any
  ``window`` (a sliding window, estimated from the current and previous fixed windows
  as Cloudflare's rate limiter does), so one school's NAT is not locked by a few typos.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Backoff:
    free: int
    base: timedelta
    ceiling: timedelta
    memory: timedelta

    def wait_after(self, attempts: int) -> timedelta:
        """How long the next attempt waits after ``attempts`` unsettled ones: nothing
        within the free ones, then ``base`` doubling, never more than ``ceiling``."""
        if attempts < self.free:
            return timedelta(0)
        return min(self.base * (1 << min(attempts - self.free, 30)), self.ceiling)


@dataclass(frozen=True)
class RateWindow:
    limit: int
    window: timedelta

    def estimate(self, current: int, previous: int, now: datetime) -> float:
        """Attempts in the sliding window ending now: all of the current fixed window and
        the share of the previous one that still overlaps it."""
        seconds = self.window.total_seconds()
        elapsed = (now.timestamp() % seconds) / seconds
        return current + previous * (1.0 - elapsed)

    def window_start(self, now: datetime) -> int:
        seconds = max(int(self.window.total_seconds()), 1)
        return int(now.timestamp()) // seconds * seconds


@dataclass(frozen=True)
class Claim:
    """One limit an attempt must pass: the key it counts on and the rule for that key."""

    key: str
    rule: Backoff | RateWindow


@dataclass(frozen=True)
class Reservation:
    """The answer to one reservation: granted (the caller may compare once) or not."""

    key: str
    granted: bool
    count: int = 0
    """Attempts counted on the key including this one (granted reservations)."""
    retry_after: int = 0
    """Seconds until a new attempt can be granted (refused reservations)."""
    window: int | None = None
    """The fixed window a windowed reservation was counted in (to give it back)."""


def seconds_until(moment: float, now: datetime) -> int:
    """Whole seconds (at least one) from ``now`` until the epoch second ``moment``."""
    return max(math.ceil(moment - now.timestamp()), 1)
