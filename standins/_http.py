"""HTTP plumbing shared by the identity-provider stand-ins.

The GSIS and EU Login stand-ins speak different protocols but run the same way:
an in-process ``ThreadingHTTPServer`` on a daemon thread, started and stopped by
tests (or run in the foreground by ``python -m``), whose handler answers with a
small set of helpers (a body with ``Cache-Control: no-store``, a JSON body, a
302 redirect, a urlencoded form). That scaffolding lives here once, so the two
stand-in modules keep only what makes each provider what it is: its routes,
pages, error shapes and protocol rules. Stdlib only; never deployed.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Self, TypeVar, cast
from urllib.parse import parse_qs, urlencode

JSON_TYPE = "application/json;charset=UTF-8"
HTML_TYPE = "text/html;charset=UTF-8"


def first_values(parsed: dict[str, list[str]]) -> dict[str, str]:
    """The first value of each parameter of a ``parse_qs`` result."""
    return {name: values[0] for name, values in parsed.items()}


def with_query(uri: str, params: dict[str, str]) -> str:
    """``uri`` with ``params`` appended to its query string (redirects back to a client)."""
    separator = "?" if "?" not in uri else "" if uri.endswith(("?", "&")) else "&"
    return uri + separator + urlencode(params)


def parse_cli(
    argv: list[str] | None, *, prog: str, description: str, port: int, client_secret: str, redirect_uri: str
) -> argparse.Namespace:
    """The ``python -m standins.X`` options, common to every stand-in: where to listen
    and the one client to register (``redirect_uris`` falls back to ``redirect_uri``)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--client-id", default="mitroo-dev")
    parser.add_argument("--client-secret", default=client_secret)
    parser.add_argument(
        "--redirect-uri",
        action="append",
        dest="redirect_uris",
        help=f"registered redirect URI (repeatable; default {redirect_uri})",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    args = parser.parse_args(argv)
    args.redirect_uris = args.redirect_uris or [redirect_uri]
    return args


class _Server(ThreadingHTTPServer):
    """The HTTP server, pointing back at the stand-in its handlers serve."""

    daemon_threads = True
    standin: StandInServer


class StandInServer:
    """Host, port and lifecycle of a stand-in served on a background thread.

    A stand-in subclasses this, passing the handler class that answers its
    requests, ``name`` (the thread's name and the prefix of its log lines) and
    ``prefix`` (the path everything is served under, part of :meth:`_root_url`).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        quiet: bool,
        handler: type[StandInHandler[Any]],
        name: str,
        prefix: str,
    ) -> None:
        self.host, self.port, self.quiet = host, port, quiet
        self._handler, self._name, self._prefix = handler, name, prefix
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), self._handler)
        server.standin = self
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=self._name, daemon=True
        )  # short poll: fast stop()
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _root_url(self) -> str:
        """``http://HOST:PORT{prefix}``; RuntimeError before :meth:`start`."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first")
        return f"http://{self.host}:{self.port}{self._prefix}"

    def run_until_signalled(self, title: str) -> None:
        """Serve in the foreground, announcing ``title`` and the URL, until SIGINT/SIGTERM."""
        stopped = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopped.set())
        with self:
            print(f"{title} listening on {self._root_url()}", flush=True)
            while not stopped.wait(0.5):
                pass


S = TypeVar("S", bound=StandInServer)


class StandInHandler(BaseHTTPRequestHandler, Generic[S]):
    """Request-handler helpers shared by the stand-ins; ``S`` is the stand-in served."""

    server: _Server

    @property
    def standin(self) -> S:
        return cast(S, self.server.standin)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.standin.quiet:
            sys.stderr.write(f"{self.standin._name}: {format % args}\n")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.standin.quiet:
            sys.stderr.write(f"{self.standin._name}: {self.command} {self.path.split('?')[0]} -> {code}\n")

    def _send(self, status: int, body: str, content_type: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False, separators=(",", ":")), JSON_TYPE, headers)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _form(self) -> dict[str, str] | None:
        """The urlencoded body's fields, or None (body drained) for any other Content-Type."""
        if not (self.headers.get("Content-Type") or "").lower().startswith("application/x-www-form-urlencoded"):
            self._read_body()
            return None
        return first_values(parse_qs(self._read_body().decode("utf-8", "replace"), keep_blank_values=True))
