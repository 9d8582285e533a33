"""A relying party's back-channel logout endpoint, over real HTTP, for the tests.

It takes ``logout_token`` form posts and verifies each as Back-Channel Logout 1.0 §2.6
asks: signature (the provider's published keys), ``iss``, ``aud`` (this client), ``iat``
(recent), ``jti``, ``sub`` and ``sid``, the ``events`` claim with the back-channel logout
event, ``typ: logout+jwt`` and no ``nonce``. A token that fails any check is kept in
``refused`` with the reason (the receiver answers 400 then, as an RP would); ``fail_next``
makes it answer 500 to the next posts (a client that is down).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from joserfc import jwt
from joserfc.jwk import KeySet

EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass
class Receiver:
    url: str
    issuer: str
    audience: str
    keys: Callable[[], KeySet]
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    fail_next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, token: str) -> dict[str, Any]:
        decoded = jwt.decode(token, self.keys(), algorithms=["RS256"])
        claims = dict(decoded.claims)
        problems = []
        if decoded.header.get("typ") != "logout+jwt":
            problems.append("typ")
        if claims.get("iss") != self.issuer:
            problems.append("iss")
        if claims.get("aud") != self.audience and self.audience not in (claims.get("aud") or []):
            problems.append("aud")
        if not isinstance(claims.get("iat"), int) or abs(claims["iat"] - time.time()) > 300:
            problems.append("iat")
        if not claims.get("jti"):
            problems.append("jti")
        if not (claims.get("sid") and claims.get("sub")):
            problems.append("sid/sub")
        if claims.get("events") != {EVENT: {}}:
            problems.append("events")
        if "nonce" in claims:
            problems.append("nonce")
        if problems:
            raise ValueError(",".join(problems))
        return claims

    def wait_for(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.accepted) >= count:
                    return list(self.accepted)
            time.sleep(0.05)
        return list(self.accepted)


@contextmanager
def logout_receiver(issuer: str, audience: str | None, keys: Callable[[], KeySet]) -> Iterator[Receiver]:
    """Serve on a free loopback port; ``audience`` may be set later (the client id)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_port}/backchannel-logout", issuer, audience or "", keys)
    server.receiver = receiver  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        with receiver._lock:
            if receiver.fail_next > 0:
                receiver.fail_next -= 1
                self._answer(500)
                return
        tokens = form.get("logout_token", [])
        if (
            len(tokens) != 1
            or self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded"
        ):
            receiver.refused.append("no single logout_token form field")
            self._answer(400)
            return
        try:
            claims = receiver.check(tokens[0])
        except Exception as exc:  # noqa: BLE001 - every defect is a refusal
            with receiver._lock:
                receiver.refused.append(str(exc))
            self._answer(400)
            return
        with receiver._lock:
            receiver.accepted.append(claims)
        self._answer(200)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return
