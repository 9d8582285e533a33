"""Failure counting and back-off arithmetic for lockout (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class FailureRecord:
    """Consecutive failures for one key (an account or a client address)."""

    count: int
    last_at: datetime


def backoff(failures: int, *, free: int, base: timedelta, ceiling: timedelta) -> timedelta:
    """How long to wait after ``failures`` failures: nothing for the first ``free``,
    then ``base`` doubling with every further failure, never more than ``ceiling``."""
    if failures < free:
        return timedelta(0)
    exponent = min(failures - free, 30)
    return min(base * (1 << exponent), ceiling)
