"""CPU seconds a process has used so far, read from ``/proc`` (Linux), for ``make load``.

The load run shares two cores between the app, the emulator and the load generator, so
requests per second of wall time say little about what the app itself costs. The CPU
time each process used during a phase does: the app's CPU seconds per request is what a
Lambda function's vCPU would spend on it (DynamoDB's work is not on that vCPU: the
emulator's CPU time stands in for it and is reported apart).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (all its threads), or None where
    ``/proc`` is missing or the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # after the command name: state is field 3, so utime (14) and stime (15) are at 11, 12
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds of the app, the emulator and this process at one moment."""

    app: float | None
    emulator: float | None
    generator: float

    @classmethod
    def take(cls, app_pid: int | None, emulator_pid: int | None) -> CpuSample:
        times = os.times()
        return cls(
            app=process_cpu_seconds(app_pid) if app_pid else None,
            emulator=process_cpu_seconds(emulator_pid) if emulator_pid else None,
            generator=times.user + times.system,
        )

    def since(self, earlier: CpuSample) -> CpuSample:
        """The CPU seconds used between ``earlier`` and this sample."""
        return CpuSample(
            app=_minus(self.app, earlier.app),
            emulator=_minus(self.emulator, earlier.emulator),
            generator=self.generator - earlier.generator,
        )


def _minus(later: float | None, earlier: float | None) -> float | None:
    return later - earlier if later is not None and earlier is not None else None
