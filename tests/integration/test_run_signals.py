"""``make run`` stops everything it started on Ctrl-C — SIGINT sent to its Python process
alone — and on SIGTERM (issue 11 §6).

A process started in the background by a non-interactive shell (``make run &`` in a
script, a CI step, a supervisor) inherits SIGINT *ignored*, and Python leaves an ignored
SIGINT ignored: such a ``make run`` kept serving after SIGINT and only SIGTERM ended it.
These tests start ``python -m devtools.run`` (what ``make run`` runs) on free ports against
the test emulator, with SIGINT inherited ignored or not, and check that one signal ends
the process cleanly and frees the app's and both stand-ins' ports.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.site_process import free_ports, wait_until_up

ROOT = Path(__file__).resolve().parents[2]


def _ignore_sigint() -> None:
    """What a non-interactive shell does to a command it starts with ``&``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize(
    ("started_as", "signum"),
    [
        pytest.param(_ignore_sigint, signal.SIGINT, id="backgrounded-by-a-script-then-sigint"),
        pytest.param(None, signal.SIGINT, id="in-a-terminal-then-sigint"),
        pytest.param(_ignore_sigint, signal.SIGTERM, id="backgrounded-then-sigterm"),
    ],
)
def test_one_signal_to_the_python_process_stops_everything_it_started(
    aws_endpoint: str, tmp_path: Path, started_as: Callable[[], None] | None, signum: int
) -> None:
    port, gsis_port, eulogin_port, demo_port = free_ports(4)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MITROO_", "PYTEST_"))}
    env.update(
        {
            "AWS_ENDPOINT_URL": aws_endpoint,
            "MITROO_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "MITROO_TABLE_NAME": f"mitroo-signals-{worker}-main",
            "MITROO_IDEMPOTENCY_TABLE_NAME": f"mitroo-signals-{worker}-idempotency",
            "MITROO_TASK_QUEUE_NAME": f"mitroo-signals-{worker}-tasks",
            "MITROO_UPLOAD_BUCKET": f"mitroo-signals-{worker}-uploads",
        }
    )
    log = tmp_path / "run.log"
    argv = [sys.executable, "-m", "devtools.run", "--gsis-port", str(gsis_port), "--eulogin-port", str(eulogin_port)]
    # The demo application on a port of its own: its default (8003) is shared by every
    # worker running this test at the same time.
    argv += ["--demo-port", str(demo_port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, preexec_fn=started_as
        )
    try:
        # Given make run serving the app, both stand-ins and the demo application
        wait_until_up(f"http://127.0.0.1:{port}", process, log, timeout=90)
        assert all(_listening(p) for p in (port, gsis_port, eulogin_port, demo_port))

        # When its Python process alone gets the signal
        process.send_signal(signum)

        # Then it ends, cleanly, and nothing it started is left listening
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running 20 s after {signal.Signals(signum).name}:\n{log.read_text()[-2000:]}")
        assert code == 0, log.read_text()[-2000:]
        assert [p for p in (port, gsis_port, eulogin_port, demo_port) if _listening(p)] == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
