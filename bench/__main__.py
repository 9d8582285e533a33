"""``python -m bench`` (``make bench``): run every SPEC §5 benchmark that exists, print a table.

Each figure is shown as measured, its budget, the ratio and a verdict ("OK" or "OVER
BUDGET"), followed by notes that explain what the figure includes. Being over budget
is reported, not failed: the command exits 0. It exits 1 only when a benchmark could not
run at all (a broken set-up is not a measurement).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence

from bench import cold_import, expiry_sweep, login, login_totp, memory, oidc, provisioning
from bench.common import Result

BENCHMARKS: tuple[tuple[str, Callable[[], list[Result]]], ...] = (
    ("cold import app / boto3", cold_import.run),
    ("login / argon2id verify", login.run),
    ("login with TOTP / argon2id verify", login_totp.run),
    ("OpenID Provider: SSO hop, code exchange, refresh / argon2id verify", oidc.run),
    ("peak RSS, one login", memory.run),
    ("provisioning, 10 000 and 20 000 rows", provisioning.run),
    ("expiry sweep, 5 000 and 50 000 accounts", expiry_sweep.run),
)

_COLUMNS = ("benchmark", "measured", "budget", "ratio", "verdict")


def _row(result: Result) -> tuple[str, ...]:
    ratio = "—" if result.ratio is None else f"{result.ratio:.2f}"
    return (result.name, result.measured, result.budget_label, ratio, result.verdict)


def format_table(results: Sequence[Result]) -> str:
    rows = [_COLUMNS, *(_row(result) for result in results)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_COLUMNS))]
    lines = ["   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def format_notes(results: Sequence[Result]) -> str:
    blocks = []
    for result in results:
        if result.notes:
            blocks.append("\n".join([f"{result.name}:", *(f"  {note}" for note in result.notes)]))
    return "\n\n".join(blocks)


def print_report(results: Sequence[Result]) -> None:
    print(format_table(results))
    notes = format_notes(results)
    if notes:
        print()
        print(notes)


def run_all() -> tuple[list[Result], bool]:
    """Every benchmark's results; a benchmark that crashes becomes a NOT MEASURED row."""
    results: list[Result] = []
    broken = False
    for name, benchmark in BENCHMARKS:
        print(f"running: {name} …", file=sys.stderr, flush=True)
        try:
            results.extend(benchmark())
        except Exception as exc:  # report every benchmark, even after one fails
            broken = True
            traceback.print_exc(file=sys.stderr)
            results.append(Result(name=name, measured="error", budget=0, ratio=None, notes=[repr(exc)[:300]]))
    return results, broken


def main() -> int:
    results, broken = run_all()
    print()
    print_report(results)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
