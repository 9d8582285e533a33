"""``make load``: a short, fixed-count load run against ``chalice local`` over loopback HTTP.

It measures the password login, the API's refresh, ``/me``, and the OpenID Provider's
hot paths (the authorization endpoint's single sign-on hop, the token endpoint's
``authorization_code`` and ``refresh_token`` grants, userinfo): requests per second,
p50/p99 latency, the server time per request, and the CPU time the app and the emulator
spent per request, set beside Keycloak's published sizing.

What runs where:

* the AWS emulator (``python -m devtools.emulator``: moto, every request serialised) in a
  child process on a free port, with the benchmark's tables (:class:`bench.common.ExternalEmulator`);
* the app exactly as ``make run`` serves it: ``python -m devtools.run`` in a second child
  process on free ports (Chalice's ``LocalDevServer``, stage ``dev``, with the GSIS and
  EU Login stand-ins and the task pump thread, which polls SQS twice a second), pointed at
  that emulator, with the Lambda-like environment of :data:`bench.common.LAMBDA_ENV`
  (``devtools.run`` adds ``MITROO_DEV_ROUTES=1``). The app writes its JSON log lines to a
  temporary file, so formatting and redacting them is part of every request;
* the load generator, in this process: a bounded thread pool of ``--workers`` threads,
  each with its own keep-alive HTTP/1.1 connection to 127.0.0.1, its own tokens and a
  fixed share of each phase's requests, sent back to back (a closed loop, no think time).

Is ``chalice local`` single-threaded? Its HTTP server is not (``ThreadedHTTPServer``: one
thread per connection, so the 8 connections are all accepted and read), but
``devtools.local_gateway.install()``, which ``devtools.run`` calls, serialises
``LocalGateway.handle_request`` behind one process-wide lock, as a Lambda container serves
one invocation at a time (and Chalice's ``app.current_request`` needs it). So the app
handles **one request at a time**: throughput is about 1 / service time whatever the
worker count, and a request's latency is its own service time plus its wait in that
queue, about ``workers`` times the service time under a full closed loop. The emulator
is serialised too (one DynamoDB call at a time, about 3-4 ms each here).

One artefact of ``chalice local`` is kept out of the figures: its handler writes the
headers and the body of an answer in two ``send()`` calls, so on a keep-alive connection
the body waits (Nagle) for the client's ACK of the headers, which Linux delays up to
40 ms: every answer would take about 45 ms more than the app spent on it. API Gateway
does not do that, so each worker sets ``TCP_QUICKACK`` on its socket after sending a
request (the headers are acknowledged at once); where that option does not exist, each
request gets a fresh connection instead (a few ms more, and one more server thread).

After one untimed login, refresh and ``/me`` (the server's cold start), seven phases,
one after the other, each timed on its own wall clock (throughput =
requests / wall time of that phase); latencies are per request, from sending it to
having read the whole answer (p99 is nearest-rank):

1. login, ``POST /api/v1/realms/eiep/sessions`` (expects 201), always the one benchmark
   account (:func:`bench.common.create_bench_account`, a hash at the configured cost);
2. refresh, ``POST …/sessions/refresh`` (expects 200): each worker rotates its own
   refresh token, starting from the pair its last login returned (reusing a rotated token
   would revoke the family, so no two workers ever share one);
3. ``GET /api/v1/realms/eiep/me`` with ``Authorization: Bearer`` (expects 200);
4. the authorization endpoint, ``GET /realms/eiep/oidc/authorize`` with the browser's
   single sign-on cookie from its login (expects 302 to the application with a code):
   a second application signing a person in without a password;
5. the token endpoint's ``authorization_code`` grant (``client_secret_basic``), each
   worker exchanging the codes it got in phase 4 (expects 200);
6. the token endpoint's ``refresh_token`` grant, each worker rotating its own (200);
7. ``GET /realms/eiep/oidc/userinfo`` with the provider's access token (expects 200).

The application is a trusted confidential client registered for the run (no consent page).

Server time and CPU: with one request at a time, the server time per request is the
phase's wall time / requests. The CPU seconds each process used during a phase (from
``/proc``, :mod:`bench.cpu_time`) divide the same way: the app's CPU per request is what
a Lambda function's vCPU spends on it; the emulator's stands for DynamoDB's work, which
is not on that vCPU; the load generator's is shown so the sum can be checked against the
two cores. "app req/s per vCPU" = 1 / the app's CPU seconds per request: what one vCPU
running only the app would serve. Keycloak's sizing guide (keycloak.org, "Concepts for
sizing CPU and memory resources") allocates one vCPU per 15 password logins/s and per
120 refresh-token grants/s; the report sets those beside the login and refresh rows.

Any other status (or a broken connection) is a failure: counted, the first few printed,
and the command exits 1.

The argon2 share: one argon2id verify at the configured cost (``Argon2Hasher`` with the
settings' ``MITROO_ARGON2_*``, m=19456 KiB, t=2, p=1 by default), the median of
``ARGON2_REPEAT`` runs in this process before the server starts (nothing else of ours
running), divided by the median login latency. Because of the queue above that share
shrinks as workers grow; the report therefore also divides it by the server time per
login (the login phase's wall time / logins), which with one request at a time is the
figure comparable to SPEC §5's login / verify ratio. All of it is indicative only on a
shared two-core machine: the emulator, the server and the load generator compete for
the same cores.

    python -m bench.load [--logins N] [--refreshes N] [--me N] [--codes N]
                         [--oidc-refreshes N] [--userinfo N] [--workers N]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import math
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from bench.common import (
    BENCH_PASSWORD,
    BENCH_REALM,
    BENCH_USERNAME,
    LOGIN_PATH,
    ExternalEmulator,
    backend_env,
    child_env,
    create_bench_account,
    median,
    sample_seconds,
    use_external_backend,
)
from bench.cpu_time import CpuSample
from devtools import site_process

DEFAULT_LOGINS = 200
DEFAULT_REFRESHES = 200
DEFAULT_ME = 400
DEFAULT_CODES = 200
DEFAULT_OIDC_REFRESHES = 200
DEFAULT_USERINFO = 400
DEFAULT_WORKERS = 8
ARGON2_REPEAT = 7
FAILURES_SHOWN = 5
REQUEST_TIMEOUT = 60.0

REFRESH_PATH = f"/api/v1/realms/{BENCH_REALM}/sessions/refresh"
ME_PATH = f"/api/v1/realms/{BENCH_REALM}/me"
OIDC_PATH = f"/realms/{BENCH_REALM}/oidc"
REDIRECT_URI = "https://second.example/cb"
KEYCLOAK_PER_VCPU = {"login": 15.0, "oidc refresh_token": 120.0, "refresh": 120.0}
"""Keycloak's sizing guide: requests per second one vCPU serves (password logins;
refresh-token grants)."""

QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
"""Linux's TCP_QUICKACK, set on the client socket after each request (see the docstring)."""
CONNECTIONS = (
    "keep-alive connections, TCP_QUICKACK after each request"
    if QUICKACK is not None
    else "a new connection per request (no TCP_QUICKACK on this platform)"
)


# --- the served app ---------------------------------------------------------------------


@dataclass(frozen=True)
class Application:
    """The confidential client registered for the run."""

    client_id: str
    secret: str

    @property
    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()


def register_application() -> Application:
    """A trusted confidential client of the benchmark realm, straight into the table (the
    served app reads it from there)."""
    from chalicelib.container import services
    from chalicelib.flows.oidc.clients import ClientRequest
    from chalicelib.realms import get_realm

    registered = services().flows.oidc.clients.register(
        get_realm(BENCH_REALM),
        ClientRequest(name="Load application", redirect_uris=[REDIRECT_URI], trusted=True),
        actor="bench",
    )
    assert registered.secret is not None
    return Application(registered.client.client_id, registered.secret)


@contextmanager
def served_app(endpoint_url: str) -> Iterator[tuple[str, int]]:
    """``python -m devtools.run`` in a child process on free ports; yields its base URL
    and process id."""
    port, gsis_port, eulogin_port = site_process.free_ports(3)
    url = f"http://127.0.0.1:{port}"
    env = child_env(**backend_env(endpoint_url), MITROO_PUBLIC_URL=url)
    with tempfile.TemporaryDirectory(prefix="mitroo-load-") as directory:
        log = Path(directory) / "server.log"
        with site_process.running(
            log, env, base_url=url, gsis_port=gsis_port, eulogin_port=eulogin_port, timeout=90, what="the server"
        ) as process:
            yield url, process.pid


# --- the load generator -----------------------------------------------------------------


@dataclass
class Worker:
    """One thread's connection and tokens; only that thread touches it during a phase."""

    host: str
    port: int
    application: Application | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    """The device cookie its first login left (later logins are a returning browser's, as
    a person's are: a browser without it is held to the address's window, and every
    worker here shares 127.0.0.1) and the single sign-on cookie of its last login."""
    codes: list[str] = field(default_factory=list)
    """Authorization codes phase 4 got and phase 5 exchanges."""
    oidc_access_token: str | None = None
    oidc_refresh_token: str | None = None
    _connection: http.client.HTTPConnection | None = None

    def send(
        self,
        method: str,
        path: str,
        body: dict[str, str] | None = None,
        *,
        bearer: str | None = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        """One request on this worker's keep-alive connection; (status, body, response).

        Never retried: a replayed refresh would revoke the family. A broken connection is
        dropped (the next request opens a new one) and the error propagates.
        """
        sent = {"Accept": "application/json", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if form is not None:
            payload = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if bearer is not None:
            sent["Authorization"] = f"Bearer {bearer}"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            self._connection.request(method, path, body=payload, headers=sent)
            if QUICKACK is not None and self._connection.sock is not None:
                self._connection.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
            response = self._connection.getresponse()
            answer = response.status, response.read(), response
            for cookie in response.headers.get_all("Set-Cookie") or ():
                name, _, value = cookie.split(";", 1)[0].partition("=")
                if name in KEPT_COOKIES and value:
                    self.cookies[name] = value
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if QUICKACK is None:
            self.close()  # see CONNECTIONS
        return answer

    def keep_tokens(self, answer: bytes) -> None:
        pair = json.loads(answer)
        self.access_token = pair["access_token"]
        self.refresh_token = pair["refresh_token"]

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass(frozen=True)
class Operation:
    name: str
    expected: int
    call: Callable[[Worker], tuple[int, bytes]]
    """Sends the request; updates the worker's tokens when the answer carries a new pair."""


KEPT_COOKIES = ("mitroo_device", "mitroo_sso")


def _login(worker: Worker) -> tuple[int, bytes]:
    status, answer, _ = worker.send("POST", LOGIN_PATH, {"username": BENCH_USERNAME, "password": BENCH_PASSWORD})
    if status == 201:
        worker.keep_tokens(answer)
    return status, answer


def _refresh(worker: Worker) -> tuple[int, bytes]:
    status, answer, _ = worker.send("POST", REFRESH_PATH, {"refresh_token": worker.refresh_token or ""})
    if status == 200:
        worker.keep_tokens(answer)
    return status, answer


def _me(worker: Worker) -> tuple[int, bytes]:
    status, answer, _ = worker.send("GET", ME_PATH, bearer=worker.access_token or "")
    return status, answer


def _authorize(worker: Worker) -> tuple[int, bytes]:
    """The single sign-on hop: a code for the application from the browser's session."""
    assert worker.application is not None
    query = urlencode(
        {
            "response_type": "code",
            "client_id": worker.application.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid email",
        }
    )
    status, answer, response = worker.send("GET", f"{OIDC_PATH}/authorize?{query}", headers={"Accept": "text/html"})
    location = response.headers.get("Location", "")
    if status == 302:
        codes = parse_qs(urlsplit(location).query).get("code")
        if not location.startswith(REDIRECT_URI) or not codes:
            return 0, f"302 to {location[:200]}".encode()
        worker.codes.append(codes[0])
    return status, answer


def _token(worker: Worker, form: dict[str, str]) -> tuple[int, bytes]:
    assert worker.application is not None
    status, answer, _ = worker.send(
        "POST", f"{OIDC_PATH}/token", form=form, headers={"Authorization": worker.application.basic}
    )
    if status == 200:
        tokens = json.loads(answer)
        worker.oidc_access_token = tokens["access_token"]
        worker.oidc_refresh_token = tokens.get("refresh_token", worker.oidc_refresh_token)
    return status, answer


def _exchange(worker: Worker) -> tuple[int, bytes]:
    code = worker.codes.pop() if worker.codes else ""
    return _token(worker, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})


def _oidc_refresh(worker: Worker) -> tuple[int, bytes]:
    return _token(worker, {"grant_type": "refresh_token", "refresh_token": worker.oidc_refresh_token or ""})


def _userinfo(worker: Worker) -> tuple[int, bytes]:
    status, answer, _ = worker.send("GET", f"{OIDC_PATH}/userinfo", bearer=worker.oidc_access_token or "")
    return status, answer


LOGIN = Operation("login", 201, _login)
REFRESH = Operation("refresh", 200, _refresh)
ME = Operation("GET /me", 200, _me)
AUTHORIZE = Operation("oidc authorize (SSO)", 302, _authorize)
EXCHANGE = Operation("oidc authorization_code", 200, _exchange)
OIDC_REFRESH = Operation("oidc refresh_token", 200, _oidc_refresh)
USERINFO = Operation("oidc userinfo", 200, _userinfo)


@dataclass
class Phase:
    """What one phase measured."""

    operation: Operation
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    wall: float = 0.0
    cpu: CpuSample | None = None
    """CPU seconds the app, the emulator and the load generator used during the phase."""

    @property
    def count(self) -> int:
        return len(self.latencies) + len(self.failures)

    @property
    def throughput(self) -> float:
        return self.count / self.wall if self.wall else 0.0

    def per_request(self, seconds: float | None) -> float | None:
        return seconds / self.count if seconds is not None and self.count else None


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in (0, 1]) of non-empty ``samples``."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def split(count: int, parts: int) -> list[int]:
    """``count`` requests shared as evenly as possible among ``parts`` workers."""
    return [count // parts + (1 if index < count % parts else 0) for index in range(parts)]


def _run_share(operation: Operation, worker: Worker, count: int) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    failures: list[str] = []
    for _ in range(count):
        started = time.perf_counter()
        try:
            status, answer = operation.call(worker)
        except (OSError, http.client.HTTPException) as exc:
            failures.append(f"{operation.name}: {exc!r}")
            continue
        elapsed = time.perf_counter() - started
        if status == operation.expected:
            latencies.append(elapsed)
        else:
            failures.append(f"{operation.name}: {status} {answer[:300]!r}")
    return latencies, failures


def run_phase(
    pool: ThreadPoolExecutor,
    operation: Operation,
    workers: Sequence[Worker],
    count: int,
    pids: tuple[int | None, int | None] = (None, None),
) -> Phase:
    """``count`` requests of ``operation``, shared among ``workers``, all at once; the CPU
    time of the processes ``pids`` (app, emulator) is sampled around it."""
    phase = Phase(operation)
    before = CpuSample.take(*pids)
    started = time.perf_counter()
    futures = [
        pool.submit(_run_share, operation, worker, share)
        for worker, share in zip(workers, split(count, len(workers)), strict=True)
        if share
    ]
    for future in futures:
        latencies, failures = future.result()
        phase.latencies.extend(latencies)
        phase.failures.extend(failures)
    phase.wall = time.perf_counter() - started
    phase.cpu = CpuSample.take(*pids).since(before)
    return phase


def warm_up(worker: Worker) -> None:
    """One untimed login, refresh and ``/me``: the server's first requests build its
    services (clients, the throw-away signing key, the decoy hash), a cold start that is
    not part of the steady state measured here."""
    for operation in (LOGIN, REFRESH, ME):
        status, answer = operation.call(worker)
        if status != operation.expected:
            raise RuntimeError(f"warm-up {operation.name} answered {status}: {answer[:300]!r}")


def seed_tokens(workers: Sequence[Worker]) -> None:
    """An untimed login for every worker that has no token pair yet (fewer logins than workers)."""
    for worker in workers:
        if worker.refresh_token is None:
            status, answer = _login(worker)
            if status != LOGIN.expected:
                raise RuntimeError(f"set-up login answered {status}: {answer[:300]!r}")


def seed_oidc_tokens(workers: Sequence[Worker]) -> None:
    """An untimed code and exchange for every worker that has no provider tokens yet
    (fewer exchanges than workers), so each rotates a refresh token of its own."""
    for worker in workers:
        if worker.oidc_refresh_token is None:
            for operation in (AUTHORIZE, EXCHANGE):
                status, answer = operation.call(worker)
                if status != operation.expected:
                    raise RuntimeError(f"set-up {operation.name} answered {status}: {answer[:300]!r}")


# --- argon2 and the report --------------------------------------------------------------


@dataclass(frozen=True)
class Argon2Reference:
    seconds: float
    cost: str


def measure_argon2(stored_hash: str) -> Argon2Reference:
    """Median of one argon2id verify at the configured cost, in this process."""
    from chalicelib.adapters.argon2_hasher import Argon2Hasher
    from chalicelib.settings import Settings

    settings = Settings.from_environ(os.environ)
    hasher = Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )

    def verify() -> None:
        if not hasher.verify(stored_hash, BENCH_PASSWORD):
            raise RuntimeError("the benchmark password does not verify")

    seconds = median(sample_seconds(verify, ARGON2_REPEAT))
    cost = f"m={settings.argon2_memory_kib} KiB, t={settings.argon2_time_cost}, p={settings.argon2_parallelism}"
    return Argon2Reference(seconds, cost)


_COLUMNS = (
    "operation",
    "requests",
    "failed",
    "req/s",
    "p50 ms",
    "p99 ms",
    "server ms/req",
    "app CPU ms/req",
    "emulator CPU ms/req",
    "app req/s per vCPU",
)


def _ms(seconds: float | None) -> str:
    return f"{seconds * 1000:.1f}" if seconds is not None else "—"


def _row(phase: Phase) -> tuple[str, ...]:
    if phase.latencies:
        p50 = f"{median(phase.latencies) * 1000:.1f}"
        p99 = f"{percentile(phase.latencies, 0.99) * 1000:.1f}"
    else:
        p50 = p99 = "—"
    app = phase.per_request(phase.cpu.app if phase.cpu else None)
    emulator = phase.per_request(phase.cpu.emulator if phase.cpu else None)
    return (
        phase.operation.name,
        str(phase.count),
        str(len(phase.failures)),
        f"{phase.throughput:.1f}",
        p50,
        p99,
        _ms(phase.wall / phase.count if phase.count else None),
        _ms(app),
        _ms(emulator),
        f"{1 / app:.0f}" if app else "—",
    )


def format_table(phases: Sequence[Phase]) -> str:
    rows = [_COLUMNS, *(_row(phase) for phase in phases)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_COLUMNS))]
    lines = ["   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def sizing_notes(phases: Sequence[Phase]) -> list[str]:
    """Keycloak's published sizing beside what the app's CPU time per request implies."""
    notes = [
        "Keycloak sizing (keycloak.org, concepts for sizing CPU): 1 vCPU per 15 password logins/s "
        "and per 120 refresh-token grants/s."
    ]
    for phase in phases:
        reference = KEYCLOAK_PER_VCPU.get(phase.operation.name)
        app = phase.per_request(phase.cpu.app if phase.cpu else None)
        if reference is None or not app:
            continue
        notes.append(
            f"  {phase.operation.name}: the app alone would serve {1 / app:.0f}/s per vCPU "
            f"(Keycloak: {reference:.0f}/s; DynamoDB's work is not on the function's vCPU)"
        )
    cpu = [phase.cpu for phase in phases if phase.cpu is not None]
    wall = sum(phase.wall for phase in phases)
    if cpu and wall and all(sample.app is not None and sample.emulator is not None for sample in cpu):
        app = sum(sample.app or 0.0 for sample in cpu)
        emulator = sum(sample.emulator or 0.0 for sample in cpu)
        generator = sum(sample.generator for sample in cpu)
        notes.append(
            f"CPU over the timed phases ({wall:.1f} s wall on {os.cpu_count()} cores): app {app:.1f} s, "
            f"emulator {emulator:.1f} s, load generator {generator:.1f} s "
            f"({(app + emulator + generator) / wall:.2f} cores busy on average)"
        )
    return notes


def argon2_notes(login: Phase, argon2: Argon2Reference, workers: int) -> list[str]:
    notes = [f"argon2id verify at {argon2.cost}: {argon2.seconds * 1000:.1f} ms (median of {ARGON2_REPEAT}, idle)"]
    if not login.latencies:
        notes.append("share of login time in argon2: not measured (no successful login)")
        return notes
    login_p50 = median(login.latencies)
    per_login = login.wall / login.count
    notes += [
        f"share of login time in argon2: {argon2.seconds / login_p50:.0%} of the median login latency "
        f"({login_p50 * 1000:.1f} ms, {_workers(workers)} queueing on one request at a time)",
        f"  and {argon2.seconds / per_login:.0%} of the server time per login "
        f"(phase wall time / logins = {per_login * 1000:.1f} ms; login / verify = {per_login / argon2.seconds:.2f})",
    ]
    return notes


# --- the command ------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """Requests per phase."""

    logins: int = DEFAULT_LOGINS
    refreshes: int = DEFAULT_REFRESHES
    me: int = DEFAULT_ME
    codes: int = DEFAULT_CODES
    oidc_refreshes: int = DEFAULT_OIDC_REFRESHES
    userinfo: int = DEFAULT_USERINFO


def run(counts: Counts, workers: int) -> tuple[list[Phase], Argon2Reference]:
    with ExternalEmulator() as emulator:
        use_external_backend(emulator.endpoint_url)
        stored_hash = create_bench_account()
        application = register_application()
        argon2 = measure_argon2(stored_hash)
        with served_app(emulator.endpoint_url) as (url, app_pid):
            address = url.removeprefix("http://").split(":")
            crew = [Worker(address[0], int(address[1]), application) for _ in range(workers)]
            pids = (app_pid, emulator.pid)
            try:
                warm_up(crew[0])
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="load") as pool:
                    phases = [run_phase(pool, LOGIN, crew, counts.logins, pids)]
                    seed_tokens(crew)
                    phases.append(run_phase(pool, REFRESH, crew, counts.refreshes, pids))
                    phases.append(run_phase(pool, ME, crew, counts.me, pids))
                    phases.append(run_phase(pool, AUTHORIZE, crew, counts.codes, pids))
                    phases.append(run_phase(pool, EXCHANGE, crew, counts.codes, pids))
                    seed_oidc_tokens(crew)
                    phases.append(run_phase(pool, OIDC_REFRESH, crew, counts.oidc_refreshes, pids))
                    phases.append(run_phase(pool, USERINFO, crew, counts.userinfo, pids))
            finally:
                for worker in crew:
                    worker.close()
    return phases, argon2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    parser.add_argument("--logins", type=_count, default=DEFAULT_LOGINS, help=f"default {DEFAULT_LOGINS}")
    parser.add_argument("--refreshes", type=_count, default=DEFAULT_REFRESHES, help=f"default {DEFAULT_REFRESHES}")
    parser.add_argument("--me", type=_count, default=DEFAULT_ME, help=f"GET /me requests (default {DEFAULT_ME})")
    parser.add_argument(
        "--codes", type=_count, default=DEFAULT_CODES, help=f"SSO hops and code exchanges (default {DEFAULT_CODES})"
    )
    parser.add_argument(
        "--oidc-refreshes",
        type=_count,
        default=DEFAULT_OIDC_REFRESHES,
        help=f"refresh_token grants at the token endpoint (default {DEFAULT_OIDC_REFRESHES})",
    )
    parser.add_argument(
        "--userinfo", type=_count, default=DEFAULT_USERINFO, help=f"userinfo requests (default {DEFAULT_USERINFO})"
    )
    parser.add_argument("--workers", type=_positive, default=DEFAULT_WORKERS, help=f"default {DEFAULT_WORKERS}")
    args = parser.parse_args(argv)
    print(
        f"load: {args.logins} logins, {args.refreshes} refreshes, {args.me} GET /me, {args.codes} SSO hops and "
        f"code exchanges, {args.oidc_refreshes} refresh_token grants, {args.userinfo} userinfo, "
        f"{_workers(args.workers)} against `chalice local` (python -m devtools.run) …",
        file=sys.stderr,
        flush=True,
    )
    counts = Counts(args.logins, args.refreshes, args.me, args.codes, args.oidc_refreshes, args.userinfo)
    phases, argon2 = run(counts, args.workers)
    print(format_table(phases))
    print()
    print("\n".join(argon2_notes(phases[0], argon2, args.workers)))
    print("\n".join(sizing_notes(phases)))
    print(f"{_workers(args.workers)} over loopback, {CONNECTIONS}; the app serves one request at a time")
    failures = [failure for phase in phases for failure in phase.failures]
    if failures:
        print()
        print(f"{len(failures)} request(s) failed; the first {min(len(failures), FAILURES_SHOWN)}:")
        for failure in failures[:FAILURES_SHOWN]:
            print(f"  {failure}")
        return 1
    return 0


def _workers(count: int) -> str:
    return f"{count} worker{'' if count == 1 else 's'}"


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


if __name__ == "__main__":
    sys.exit(main())
