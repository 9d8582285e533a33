"""``make run``: the whole service on http://127.0.0.1:8000 with nothing else installed.

Starts, in this one process and in this order:

1. the embedded AWS emulator (moto, serialised) on 127.0.0.1:4566 — unless
   ``AWS_ENDPOINT_URL`` names one already (LocalStack, say);
2. the tables and the SES sender identity on whichever emulator is used;
3. the GSIS stand-in on 127.0.0.1:8001 — unless ``MITROO_GSIS_BASE_URL`` is set;
   the EU Login stand-in on 127.0.0.1:8002 — unless ``MITROO_EULOGIN_ISSUER`` is set;
4. the demo application ("Sign in with Mitroo", ``devtools/demo_rp.py``) on
   127.0.0.1:8003, with its OpenID clients registered in every realm;
5. the Chalice app (stage ``dev``) in the foreground until Ctrl-C, with a thread that
   runs queued tasks (mail) as Lambda's SQS trigger would; then stops what it started.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEV_GSIS = ("mitroo-dev", "mitroo-dev-secret")
DEV_EULOGIN = ("mitroo-dev", "mitroo-dev-eulogin-secret-0123456789")  # HS256 assertions: 32+ bytes


def _defaults() -> None:
    # Fake credentials for emulators; real ones (if exported) are left alone.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    os.environ.setdefault("MITROO_ENV", "local")
    os.environ.setdefault("MITROO_PUBLIC_URL", "http://127.0.0.1:8000")
    os.environ["MITROO_DEV_ROUTES"] = "1"


def _stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM both end the run through the same clean-up.

    A process started in the background by a non-interactive shell (``make run &`` in a
    script, a CI step) inherits SIGINT *ignored*, and Python leaves an ignored SIGINT
    ignored instead of raising KeyboardInterrupt: such a run kept serving after SIGINT.
    SIGTERM's default ends the process without running the ``finally`` that stops what it
    started. Both are set here, for every way the process may have been started."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m devtools.run", description=__doc__.split("\n")[0])
    parser.add_argument("--gsis-port", type=int, default=8001, help="port of the GSIS stand-in (default 8001)")
    parser.add_argument("--eulogin-port", type=int, default=8002, help="port of the EU Login stand-in (default 8002)")
    parser.add_argument(
        "--port",
        type=int,
        help="port of the app (default: MITROO_PUBLIC_URL's); several processes may serve one public URL, "
        "as Lambda containers serve one API (the race tests run them so)",
    )
    parser.add_argument(
        "--demo-port", type=int, default=8003, help="port of the demo application (default 8003; 0: none)"
    )
    args = parser.parse_args(argv)
    _stop_on_signals()
    _defaults()
    from chalicelib.settings import Settings
    from devtools.emulator import Emulator, prepare

    started: list[object] = []
    try:
        if not os.environ.get("AWS_ENDPOINT_URL"):
            emulator = Emulator("127.0.0.1", 4566).start()
            started.append(emulator)
            os.environ["AWS_ENDPOINT_URL"] = emulator.endpoint_url
            print(f"AWS emulator (moto) on {emulator.endpoint_url}", flush=True)
        else:
            print(f"Using the AWS emulator at {os.environ['AWS_ENDPOINT_URL']}", flush=True)
        settings = Settings.from_environ(os.environ)
        prepare(settings)

        if not os.environ.get("MITROO_GSIS_BASE_URL"):
            from standins.gsis import Client, GsisStandIn

            callback = f"{settings.public_url}/realms/eiep/gsis/callback"
            clients = {DEV_GSIS[0]: Client(*DEV_GSIS, (callback,))}
            gsis = GsisStandIn("127.0.0.1", args.gsis_port, clients=clients).start()
            started.append(gsis)
            os.environ.update(
                {
                    "MITROO_GSIS_BASE_URL": gsis.base_url,
                    "MITROO_GSIS_CLIENT_ID": DEV_GSIS[0],
                    "MITROO_GSIS_CLIENT_SECRET": DEV_GSIS[1],
                }
            )
            print(f"GSIS stand-in on {gsis.base_url} (pick a test identity there)", flush=True)
        else:
            print(f"Using GSIS at {os.environ['MITROO_GSIS_BASE_URL']}", flush=True)

        if not os.environ.get("MITROO_EULOGIN_ISSUER"):
            from standins import eulogin as eulogin_standin

            callback = f"{settings.public_url}/realms/esep/eulogin/callback"
            relying_parties = {DEV_EULOGIN[0]: eulogin_standin.Client(*DEV_EULOGIN, (callback,))}
            eulogin = eulogin_standin.EuLoginStandIn("127.0.0.1", args.eulogin_port, clients=relying_parties).start()
            started.append(eulogin)
            os.environ.update(
                {
                    "MITROO_EULOGIN_ISSUER": eulogin.issuer,
                    "MITROO_EULOGIN_CLIENT_ID": DEV_EULOGIN[0],
                    "MITROO_EULOGIN_CLIENT_SECRET": DEV_EULOGIN[1],
                }
            )
            print(f"EU Login stand-in on {eulogin.issuer} (pick a test identity there)", flush=True)
        else:
            print(f"Using EU Login at {os.environ['MITROO_EULOGIN_ISSUER']}", flush=True)

        if args.demo_port:
            from devtools.demo_rp import serve as serve_demo

            demo = serve_demo(settings.public_url, args.demo_port)
            started.append(_Stoppable(demo))
            print(f"Demo application (Sign in with Mitroo) on http://127.0.0.1:{args.demo_port}/", flush=True)

        _serve(args.port or urlsplit(settings.public_url).port or 8000)
    except KeyboardInterrupt:
        pass
    finally:
        for service in reversed(started):
            service.stop()  # type: ignore[attr-defined]
    return 0


class _Stoppable:
    """A server thread as ``main`` stops what it started."""

    def __init__(self, server: Any) -> None:
        self._server = server

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _serve(port: int) -> None:
    from chalice.cli.factory import CLIFactory

    from devtools.local_gateway import install

    install()
    factory = CLIFactory(project_dir=str(ROOT))
    config = factory.create_config_obj(chalice_stage_name="dev")
    server = factory.create_local_server(config.chalice_app, config, "127.0.0.1", port)
    stop = threading.Event()
    worker = threading.Thread(target=_pump_tasks, args=(config.chalice_app, stop), name="tasks", daemon=True)
    worker.start()
    print(f"Mitroo on http://127.0.0.1:{port}/  (mail: /_dev/mailbox)  Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    finally:
        stop.set()


def _pump_tasks(chalice_app: Any, stop: threading.Event) -> None:
    """Run queued tasks (mail) as Lambda's SQS trigger would, twice a second."""
    import boto3
    from chalice.test import Client

    from chalicelib.settings import Settings
    from devtools.task_pump import TaskPump

    settings = Settings.from_environ(os.environ)
    sqs = boto3.client("sqs", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    with Client(chalice_app, stage_name="dev", project_dir=str(ROOT)) as client:
        TaskPump(sqs, settings.task_queue_name, client.lambda_).run_forever(stop)


if __name__ == "__main__":
    sys.exit(main())
