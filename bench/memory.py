"""Peak memory of a process that imports ``app`` and serves one login (SPEC §5: ≤ 200 MB).

The API functions are to run in 512 MB Lambdas with headroom, so the figure is the peak
resident set of a fresh interpreter that imports ``app`` and answers one login through
the Chalice test client: ``VmHWM``, which is ``ru_maxrss`` without what Linux carries
over ``execve`` from the parent (see :func:`peak_rss_mb`). MB here are MiB. Two variants:

* **emulator outside** (the honest figure, reported against the budget): moto runs as
  ``python -m devtools.emulator`` in its own process; a first child creates the account,
  a second, fresh child, with a deployed function's variables, only imports ``app`` and
  logs in (the same child times the first request: see :func:`deployed_function_env`).
* **emulator inside** (for reference): one child starts moto in-process, creates the
  account and logs in. moto and its service models count towards that peak, so it
  overstates the function's own memory.

The peak includes the interpreter itself, the argon2id verify's memory (19 MiB at the
default cost) and the Chalice test client, which a deployed function does not load.

    python -m bench.memory                   # both variants, as a table
    python -m bench.memory serve|seed|inprocess   # the children (internal)
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings

from bench.common import (
    MB,
    ROOT,
    ExternalEmulator,
    Result,
    backend_env,
    child_env,
    create_bench_account,
    last_json_line,
    login_once,
    make_client,
    mute_app_logs,
    run_child,
    start_inprocess_backend,
)

BUDGET_MB = 200.0


def peak_rss_mb() -> float:
    """This process's peak resident set so far, in MB.

    Linux's ``ru_maxrss`` survives ``execve``: a child spawned (vfork + exec) by a big
    parent starts with the parent's peak, so the figure would be the bench runner's, not
    the child's. ``VmHWM`` in ``/proc/self/status`` is the high-water mark of this
    process's own address space; ``ru_maxrss`` is the fallback where there is no /proc.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / MB
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return maxrss / MB if sys.platform == "darwin" else maxrss * 1024 / MB


# --- children ---------------------------------------------------------------------------


def child_serve() -> dict[str, float]:
    """Import ``app``, serve one login (the account exists already); report the peaks
    and how long each part of the first request took."""
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    before = peak_rss_mb()
    started = time.perf_counter()
    client = make_client()  # imports app
    imported = time.perf_counter()
    after_import = peak_rss_mb()
    mute_app_logs()
    from chalicelib.container import services

    services()  # what the first request would build: adapters, the table's client, argon2 decoy, key
    built = time.perf_counter()
    after_services = peak_rss_mb()
    with client:
        login_once(client)
        first = time.perf_counter() - started
        peak = peak_rss_mb()
        warm = sorted(_timed_login(client) for _ in range(WARM_LOGINS))[WARM_LOGINS // 2]
    return {
        "start_mb": before,
        "after_import_mb": after_import,
        "after_services_mb": after_services,
        "peak_mb": peak,
        "first_request_s": first,
        "import_s": imported - started,
        "services_s": built - imported,
        "warm_login_s": warm,
    }


def deployed_function_env() -> dict[str, str]:
    """What a deployed function has beside ``LAMBDA_ENV``: Lambda's own variables (X-Ray
    then samples locally and the Tracer is on, as in Lambda, instead of building the
    centralised sampler's client) and a configured signing key (deployed, it comes from
    Secrets Manager; without one the app would generate an RSA key on its first request)."""
    from chalicelib.adapters.jwt_signer import generate_private_key_pem

    return {
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "mitroo-bench",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "MITROO_JWT_PRIVATE_KEY": generate_private_key_pem(),
    }


WARM_LOGINS = 5


def _timed_login(client: object) -> float:
    started = time.perf_counter()
    login_once(client)
    return time.perf_counter() - started


def child_seed() -> dict[str, float]:
    create_bench_account()
    return {"peak_mb": peak_rss_mb()}


def child_inprocess() -> dict[str, float]:
    """Everything in one process: moto, the tables, the account, ``app`` and one login."""
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    emulator = start_inprocess_backend()
    try:
        create_bench_account()
        with make_client() as client:
            mute_app_logs()
            login_once(client)
    finally:
        emulator.stop()
    return {"peak_mb": peak_rss_mb()}


CHILDREN = {"serve": child_serve, "seed": child_seed, "inprocess": child_inprocess}


# --- the parent -------------------------------------------------------------------------


def measure_emulator_outside() -> dict[str, float]:
    with ExternalEmulator() as emulator:
        env = child_env(**backend_env(emulator.endpoint_url))
        run_child(["-m", "bench.memory", "seed"], env)
        return last_json_line(run_child(["-m", "bench.memory", "serve"], {**env, **deployed_function_env()}))


def measure_emulator_inside() -> float:
    return float(last_json_line(run_child(["-m", "bench.memory", "inprocess"], child_env()))["peak_mb"])


def run() -> list[Result]:
    outside = measure_emulator_outside()
    inside = measure_emulator_inside()
    peak = outside["peak_mb"]
    first, warm = outside["first_request_s"], outside["warm_login_s"]
    return [
        Result(
            name="first request of a fresh process",
            measured=f"{first * 1000:.0f} ms / warm login {warm * 1000:.0f} ms",
            budget=None,
            ratio=first / warm,
            budget_label="printed beside a warm login",
            notes=[
                "a fresh process with a deployed function's variables (Lambda's, a configured signing key): "
                f"`import app` {outside['import_s'] * 1000:.0f} ms (with the test client), the services built "
                f"{outside['services_s'] * 1000:.0f} ms (the table's client, signing key, decoy hash; "
                "each flow is assembled when a request first uses it), "
                f"one login from a new browser {(first - outside['import_s'] - outside['services_s']) * 1000:.0f} ms "
                "(the X-Ray recorder and patches, SQS's client for the new-device notice); "
                f"the warm figure is the median of {WARM_LOGINS} logins after it in the same process",
            ],
        ),
        Result(
            name="peak RSS, one login",
            measured=f"{peak:.0f} MB",
            budget=1.0,
            ratio=peak / BUDGET_MB,
            budget_label=f"≤ {BUDGET_MB:.0f} MB",
            notes=[
                "fresh process, emulator (moto) in a separate process; includes the Chalice test client",
                "peak so far: "
                f"interpreter {outside['start_mb']:.0f} MB → `import app` {outside['after_import_mb']:.0f} MB → "
                f"services built {outside['after_services_mb']:.0f} MB → one login {peak:.0f} MB",
                f"with moto in the same process: {inside:.0f} MB "
                "(includes the in-process emulator, so it overstates the function's own memory)",
            ],
        ),
    ]


def main(argv: list[str]) -> int:
    if argv and argv[0] in CHILDREN:
        print(json.dumps(CHILDREN[argv[0]]()), flush=True)
        return 0
    from bench.__main__ import print_report

    print_report(run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
