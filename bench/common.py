"""Shared set-up for the benchmarks: a Lambda-like environment, the AWS emulator, one account.

Every benchmark that serves a login needs the same things: the environment variables a
deployed function would see (test stage, fake credentials, Powertools names, never the
dev routes), an AWS emulator with the tables created, and one active account whose
password hash was made at the configured argon2id cost. The emulator either runs in this
process (convenient, but moto then shares the process's time and memory) or in a child
process (``python -m devtools.emulator``), which is what the memory figure needs.

Nothing here imports ``app``, ``chalicelib.container`` or ``devtools.emulator`` at module
level: the environment must be in place before they are imported, and the memory
benchmark must not drag moto into a process that is supposed to hold only the function.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
"""The repository root: ``app.py`` lives here and child processes run with it as cwd."""

LAMBDA_ENV: dict[str, str] = {
    "MITROO_ENV": "test",
    "MITROO_PUBLIC_URL": "http://127.0.0.1:8000",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_SERVICE_NAME": "mitroo",
    "POWERTOOLS_METRICS_NAMESPACE": "Mitroo",
}
"""What a deployed function would see (minus the real credentials). No MITROO_DEV_ROUTES."""

TABLE_NAME = "mitroo-bench-main"
IDEMPOTENCY_TABLE_NAME = "mitroo-bench-idempotency"

BENCH_REALM = "eiep"
BENCH_USERNAME = "bench@example.gr"
BENCH_PASSWORD = "correct horse battery staple, benchmarked"
LOGIN_PATH = f"/api/v1/realms/{BENCH_REALM}/sessions"

_INHERITED = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
"""The only variables a child process inherits from ours (plus MITROO_ARGON2_*)."""

MB = 1024 * 1024

EMULATOR_BOUND = "EMULATOR-BOUND"
"""The verdict of a hot path over its budget only by the time spent waiting on the emulator."""


@dataclass
class Result:
    """One row of the report: a measured figure, its reference, and the SPEC budget."""

    name: str
    measured: str
    budget: float | None
    """The largest ratio allowed; None for a figure SPEC §5 asks to be printed, not held to."""
    ratio: float | None
    budget_label: str = ""
    notes: list[str] = field(default_factory=list)
    code_ratio: float | None = None
    """For a hot path: the ratio without the time spent waiting on the emulator
    (``bench.wire``), held to the same budget when the whole figure misses it."""

    @property
    def verdict(self) -> str:
        if self.budget is None:
            return "shown"
        if self.ratio is None:
            return "NOT MEASURED"
        if self.ratio <= self.budget:
            return "OK"
        if self.code_ratio is not None and self.code_ratio <= self.budget:
            return EMULATOR_BOUND
        return "OVER BUDGET"

    @property
    def missed(self) -> bool:
        """A budget this run did not meet (over it, or not measured at all).

        A figure over its budget only by the emulator's time, its code's part within it,
        counts as met, unless ``MITROO_BENCH_STRICT=1`` (for a run against DynamoDB
        itself, where the whole figure is the one to hold)."""
        if self.verdict == EMULATOR_BOUND:
            return os.environ.get("MITROO_BENCH_STRICT") == "1"
        return self.verdict in ("OVER BUDGET", "NOT MEASURED")


# --- timing -----------------------------------------------------------------------------


def sample_seconds(action: Callable[[], object], repeat: int, *, warmup: int = 1) -> list[float]:
    """Wall-clock durations of ``repeat`` calls of ``action``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def median(samples: list[float]) -> float:
    return statistics.median(samples)


# --- environments and child processes ---------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """A clean, Lambda-like environment for a child process (nothing else leaks in)."""
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update({name: value for name, value in os.environ.items() if name.startswith("MITROO_ARGON2_")})
    env.update(LAMBDA_ENV)
    env.update(extra)
    return env


def backend_env(endpoint_url: str) -> dict[str, str]:
    """The variables that point the app at an emulator and at the benchmark's tables."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "MITROO_TABLE_NAME": TABLE_NAME,
        "MITROO_IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY_TABLE_NAME,
    }


def run_child(args: list[str], env: Mapping[str, str], *, timeout: float = 300) -> str:
    """Run ``python <args>`` from the repository root; return its stdout or raise with stderr."""
    completed = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"child {args!r} failed ({completed.returncode}):\n{completed.stderr[-4000:]}")
    return completed.stdout


def last_json_line(stdout: str) -> dict[str, Any]:
    """The report a child printed: the last line of its stdout, as JSON."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise RuntimeError("child printed nothing")
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def free_port() -> int:
    from devtools.site_process import free_port as free

    return free()


# --- the AWS emulator -------------------------------------------------------------------


def configure_process(environ: MutableMapping[str, str], endpoint_url: str) -> None:
    """Put the Lambda-like variables and the emulator's address into ``environ``."""
    environ.update(LAMBDA_ENV)
    environ.update(backend_env(endpoint_url))
    environ.pop("MITROO_DEV_ROUTES", None)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        environ.pop(name, None)


def start_inprocess_backend() -> Any:
    """Start moto in this process, point ``os.environ`` at it, create the tables.

    Returns the :class:`devtools.emulator.Emulator` (call ``stop()`` when done).
    """
    configure_process(os.environ, "http://placeholder.invalid")  # before boto3 is imported
    from devtools.emulator import Emulator, prepare

    emulator = Emulator(port=0).start()
    configure_process(os.environ, emulator.endpoint_url)
    _forget_services()
    from chalicelib.settings import Settings

    prepare(Settings.from_environ(os.environ))
    return emulator


def use_external_backend(endpoint_url: str) -> None:
    """Point this process at an emulator in another process (as DynamoDB is remote)."""
    configure_process(os.environ, endpoint_url)
    _forget_services()


class ExternalEmulator:
    """``python -m devtools.emulator`` in a child process, tables prepared for the benchmark."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> ExternalEmulator:
        env = child_env(**backend_env(self.endpoint_url))
        env.pop("AWS_ENDPOINT_URL")  # the emulator sets its own
        self._process = subprocess.Popen(
            [sys.executable, "-m", "devtools.emulator", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._wait_until_ready(timeout=60)
        return self

    @property
    def pid(self) -> int | None:
        """The emulator's process id while it runs (``make load`` reads its CPU time)."""
        return self._process.pid if self._process is not None else None

    def _wait_until_ready(self, timeout: float) -> None:
        """The emulator prints its banner once the tables exist; then the port must answer."""
        assert self._process is not None and self._process.stdout is not None
        line = self._process.stdout.readline()  # blocks until the banner (or exit)
        if "AWS emulator" not in line:
            self.__exit__()
            raise RuntimeError(f"emulator did not start: {line!r}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("emulator never answered")

    def __exit__(self, *_: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None


@dataclass(frozen=True)
class FreshTable:
    """A new main table on the external emulator, the app's services built on it, and the
    models and account repository a benchmark fills it through."""

    services: Any
    models: Any
    accounts: Any


def fresh_table(endpoint_url: str, name: str) -> FreshTable:
    """Point the app at the emulator and a new table ``name`` (created empty), and build
    its services; the sweep and search benchmarks each fill one per population."""
    from chalicelib.adapters.dynamodb.models import TableBinding, bind_models
    from chalicelib.adapters.dynamodb.repositories import DynamoAccountRepository
    from chalicelib.container import services
    from chalicelib.settings import Settings
    from devtools.emulator import prepare

    use_external_backend(endpoint_url)  # sets the bench table name and forgets the services built
    os.environ["MITROO_TABLE_NAME"] = name
    settings = Settings.from_environ(os.environ)
    prepare(settings)
    built = services()
    models = bind_models(TableBinding(settings.table_name, settings.aws_region, settings.aws_endpoint_url))
    return FreshTable(built, models, DynamoAccountRepository(models))


def _forget_services() -> None:
    from chalicelib.container import reset_services

    reset_services()


# --- the account and the login ----------------------------------------------------------


def create_bench_account() -> str:
    """Create the active benchmark account through the app's repositories; return its hash."""
    from chalicelib.container import services
    from chalicelib.domain.accounts import Account, AccountStatus

    sessions = services().flows.sessions
    now = datetime.now(UTC)
    password_hash = sessions.hasher.hash(BENCH_PASSWORD)
    account = Account(
        account_id=uuid.uuid4().hex,
        realm=BENCH_REALM,
        username=BENCH_USERNAME,
        email=BENCH_USERNAME,
        status=AccountStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        password_hash=password_hash,
        activated_at=now,
        gsis_verified=True,  # a registered e-IEP account (not a legacy one awaiting certification)
    )
    sessions.accounts.create(account, audit=bench_audit(account.realm, account.account_id))
    return password_hash


def make_client() -> Any:
    """A Chalice test client on the app, as the tests use it (import ``app`` here),
    through the same local-gateway patches: one of them lets ``login_once`` play a
    client at another address (``X-Test-Source-Ip``); without it every request came
    from 127.0.0.1."""
    from chalice.test import Client

    from devtools.local_gateway import install

    install()
    import app

    return Client(app.app, stage_name="test", project_dir=str(ROOT))


def mute_app_logs() -> None:
    """Send the app's JSON log lines to /dev/null instead of our stdout.

    They are still formatted and redacted, so their cost stays part of every request;
    only the report stays readable. The stream is opened once per process and kept.
    """
    import logging

    from chalicelib.observability import logger

    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(open(os.devnull, "w", encoding="utf-8"))


@contextmanager
def app_output_muted() -> Iterator[None]:
    """While the benchmark drives the app: its log lines (``mute_app_logs``) and its
    metrics, which Powertools prints to stdout as EMF lines, go to /dev/null.

    Both are still formatted and written on every request, so their cost stays in the
    figures; only the report stays readable (a login printed one EMF line per request).
    """
    mute_app_logs()
    with open(os.devnull, "w", encoding="utf-8") as sink, redirect_stdout(sink):
        yield


def login_once(client: Any, device_cookie: str | None = None, address: str | None = None) -> str | None:
    """POST the benchmark credentials, as a browser that signed in before when given its
    ``device_cookie`` and from ``address`` when given (the local gateway's test header);
    returns the device cookie the answer sets. Anything but 201 is a broken benchmark."""
    body = json.dumps({"username": BENCH_USERNAME, "password": BENCH_PASSWORD}).encode()
    headers = {"Content-Type": "application/json"}
    if device_cookie is not None:
        headers["Cookie"] = f"mitroo_device={device_cookie}"
    if address is not None:
        headers["X-Test-Source-Ip"] = address
    response = client.http.post(LOGIN_PATH, headers=headers, body=body)
    if response.status_code != 201:
        raise RuntimeError(f"login answered {response.status_code}: {response.body[:500]!r}")
    # The test client's headers are a plain dict, spelt as the app wrote them ("Set-Cookie").
    cookies = next((value for name, value in response.headers.items() if name.lower() == "set-cookie"), [])
    for cookie in [cookies] if isinstance(cookies, str) else cookies:
        if cookie.startswith("mitroo_device="):
            return str(cookie.split(";", 1)[0].partition("=")[2])
    return None


def bench_audit(realm: str, account_id: str) -> Any:
    """The audit entry of an account the benchmark sets up (every change carries one)."""
    from chalicelib.domain.audit import AuditEntry

    return AuditEntry(realm, account_id, "arranged by the benchmark", "bench", datetime.now(UTC))
