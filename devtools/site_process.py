"""``python -m devtools.run`` in a child process: start it, wait until it answers, stop it.

Three places serve the site over real HTTP from a child process: the browser and fuzz
tests (``tests/support/site.py``), the race tests' cluster of containers
(``tests/races/cluster.py``) and ``make load`` (``bench/load.py``). Each picks its own
ports and environment, but starting the process, waiting for ``/api/v1/health`` (or for
the process to die, with the tail of its log in the error) and stopping it are the same,
so they live here once. It sits in ``devtools`` rather than ``tests`` because the bench
uses it too and must not import the tests.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEALTH_PATH = "/api/v1/health"
LOG_TAIL = 3000
"""Characters of the child's log quoted when it fails to come up."""


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different ports on 127.0.0.1 that were free a moment ago. They are taken
    all at once (each probe held until the last is bound): asked one by one, the kernel
    may hand the same port out twice, and the site and a stand-in then collide."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def launch(
    log: Path,
    env: Mapping[str, str],
    *,
    gsis_port: int,
    eulogin_port: int,
    port: int | None = None,
    demo_port: int = 0,
) -> subprocess.Popen[bytes]:
    """Start ``python -m devtools.run`` from the repository root with exactly ``env``, its
    output (stdout and stderr) written to ``log``. Without ``port`` the app serves on
    ``MITROO_PUBLIC_URL``'s port."""
    argv = [sys.executable, "-m", "devtools.run"]
    if port is not None:
        argv += ["--port", str(port)]
    argv += ["--gsis-port", str(gsis_port), "--eulogin-port", str(eulogin_port), "--demo-port", str(demo_port)]
    with log.open("wb") as output:
        return subprocess.Popen(argv, cwd=ROOT, env=dict(env), stdout=output, stderr=subprocess.STDOUT)


def wait_until_up(
    base_url: str, process: subprocess.Popen[bytes], log: Path, *, timeout: float, what: str = "the site"
) -> None:
    """Return once ``base_url``'s health check answers 200; raise ``RuntimeError`` (naming
    ``what``, with the tail of ``log``) if the process exits first or ``timeout`` seconds
    pass."""
    url = base_url + HEALTH_PATH
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}):\n{log.read_text()[-LOG_TAIL:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} never answered {url}:\n{log.read_text()[-LOG_TAIL:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the process; kill it if it is still there 15 seconds later."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@contextmanager
def running(
    log: Path,
    env: Mapping[str, str],
    *,
    base_url: str,
    gsis_port: int,
    eulogin_port: int,
    timeout: float,
    what: str = "the site",
    demo_port: int = 0,
) -> Iterator[subprocess.Popen[bytes]]:
    """:func:`launch`, :func:`wait_until_up` at ``base_url``, and :func:`stop` when the
    block ends (or when it never came up)."""
    process = launch(log, env, gsis_port=gsis_port, eulogin_port=eulogin_port, demo_port=demo_port)
    try:
        wait_until_up(base_url, process, log, timeout=timeout, what=what)
        yield process
    finally:
        stop(process)
