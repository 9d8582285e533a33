"""Cold import of the API handler against ``import boto3`` alone (SPEC §5: ratio ≤ 1.5).

A Lambda cold start pays for every module ``app.py`` imports before the first request.
boto3 is the floor (any function that talks to AWS imports it), so the budget is a
multiple of it. Each figure is the median of several fresh interpreters, timed inside the
child with ``time.perf_counter()`` around the import only, so interpreter start-up is not
counted. One untimed round first writes the bytecode caches (the figure is "fresh
process, warm disk"); the ratio is the median of each round's own ratio. The child also
lists which heavy libraries the import pulled in, so a new module-level import shows up
here before it shows up in cold-start graphs.

A third case, reported as a note, imports ``app`` with ``LAMBDA_TASK_ROOT`` and
``AWS_LAMBDA_FUNCTION_NAME`` set, as in a deployed function. Powertools switches its
Tracer on there, but the app builds the Tracer on the first request
(``chalicelib.observability.tracer``), so this import should load no more modules than
the first case: the note shows it does not (a module-level ``Tracer()`` would bring
``aws_xray_sdk`` and its patching back into the cold import).

    python -m bench.cold_import
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from bench.common import ROOT, Result, child_env, last_json_line, median, run_child

ROUNDS = 9
BUDGET = 1.5

HEAVY_MODULES = (
    "boto3",
    "botocore",
    "pynamodb",
    "jinja2",
    "zxcvbn",
    "openpyxl",
    "argon2",
    "authlib",
    "joserfc",
    "cryptography",
    "requests",
    "aws_xray_sdk",
    "moto",
    "webauthn",
    "cbor2",
    "segno",
    "pyotp",
)
"""Libraries whose presence after ``import app`` is worth seeing (loaded ≠ wrong)."""

_CHILD = """
import json, sys, time
started = time.perf_counter()
import {module}
elapsed = time.perf_counter() - started
heavy = [name for name in {heavy!r} if name in sys.modules]
print(json.dumps({{"seconds": elapsed, "heavy": heavy, "modules": len(sys.modules)}}))
"""


@dataclass(frozen=True)
class Case:
    """One module to import in a fresh interpreter, under an optional extra environment."""

    module: str
    extra_env: tuple[tuple[str, str], ...] = ()


APP = Case("app")
BOTO3 = Case("boto3")
APP_IN_LAMBDA = Case(
    "app",
    (("LAMBDA_TASK_ROOT", str(ROOT)), ("AWS_LAMBDA_FUNCTION_NAME", "mitroo-bench")),
)
"""``import app`` as a deployed function does it (a note only: the SPEC figure is ``APP``)."""


def time_import(case: Case) -> dict[str, Any]:
    """Import the case's module in a fresh interpreter; its time, heavy modules, module count."""
    code = _CHILD.format(module=case.module, heavy=HEAVY_MODULES)
    # "-c" puts the cwd (the repository root) first on sys.path, as Lambda's task root is.
    return last_json_line(run_child(["-c", code], child_env(**dict(case.extra_env)), timeout=120))


def import_series(cases: tuple[Case, ...], rounds: int = ROUNDS) -> dict[Case, tuple[list[float], dict[str, Any]]]:
    """Per case: its seconds in each of ``rounds`` fresh interpreters, and one child's report.

    Rounds alternate the cases, so load from other work on the machine hits all alike.
    """
    for case in cases:
        time_import(case)  # untimed: bytecode caches
    reports: dict[Case, list[dict[str, Any]]] = {case: [] for case in cases}
    for _ in range(rounds):
        for case in cases:
            reports[case].append(time_import(case))
    return {case: ([float(report["seconds"]) for report in series], series[-1]) for case, series in reports.items()}


def paired_ratio(numerators: list[float], denominators: list[float]) -> float:
    """The median of the rounds' ratios: each ``import app`` against the ``import boto3``
    of its own round, seconds apart, so the machine's drift over the run (a tenth within a
    minute here) stays out of the ratio."""
    return median([top / bottom for top, bottom in zip(numerators, denominators, strict=True)])


def _heavy(report: dict[str, Any]) -> str:
    return ", ".join(report["heavy"]) or "none"


def run() -> list[Result]:
    figures = import_series((APP, BOTO3, APP_IN_LAMBDA))
    (app_series, app_report), (boto3_series, boto3_report) = figures[APP], figures[BOTO3]
    lambda_series, lambda_report = figures[APP_IN_LAMBDA]
    return [
        Result(
            name="cold import app / boto3",
            measured=f"{median(app_series):.2f} s / {median(boto3_series):.2f} s",
            budget=BUDGET,
            ratio=paired_ratio(app_series, boto3_series),
            budget_label=f"≤ {BUDGET}",
            notes=[
                f"medians of {ROUNDS} fresh processes each, cases alternated; the ratio is the median of the "
                "rounds' ratios; "
                f"{app_report['modules']} modules after `import app`, {boto3_report['modules']} after `import boto3`",
                f"heavy modules loaded by `import app`: {_heavy(app_report)}",
                f"with Lambda's variables set (the Tracer is built on the first request, not at import): "
                f"{median(lambda_series):.2f} s, ratio {paired_ratio(lambda_series, boto3_series):.2f}, "
                f"{lambda_report['modules']} modules; heavy: {_heavy(lambda_report)}",
            ],
        )
    ]


if __name__ == "__main__":
    from bench.__main__ import print_report

    print_report(run())
    sys.exit(0)
