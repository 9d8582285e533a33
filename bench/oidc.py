"""The OpenID Provider's hot paths against one argon2id verify (SPEC §5).

- single sign-on hop: a second application signs in with an existing browser session,
  authorize → code → token → userinfo, through the Chalice test client: ≤ 0.5;
- token endpoint, ``authorization_code`` exchange: ≤ 0.3;
- token endpoint, ``refresh_token`` grant: ≤ 0.3.

No hash is spent on any of them: the client secret is a 256-bit random value checked by
its SHA-256, the session by the SHA-256 of the SSO cookie's secret. What remains is the
test client and routing, authlib's request handling, one RS256 signature per token, and
DynamoDB round trips: one per step, counted and timed beside the figures (moto in its own
process, as DynamoDB is remote to a Lambda function). moto evaluates condition
expressions in Python, so a conditional write costs it several times a plain read (6-10 ms
against 2.5 ms here); DynamoDB's latency does not depend on the condition.

The argon2 figure uses the very hasher the app built; both series alternate call by call
(the machine is shared). The clients are read once per container and kept for
``MITROO_OIDC_CLIENT_CACHE_SECONDS`` (10 s), as in production under load.

    python -m bench.oidc
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from bench.common import (
    BENCH_PASSWORD,
    BENCH_REALM,
    BENCH_USERNAME,
    LOGIN_PATH,
    ExternalEmulator,
    Result,
    app_output_muted,
    create_bench_account,
    make_client,
    use_external_backend,
)
from bench.wire import Split, hot_path_result, interleaved_split, split_series

REPEAT = 20
HOP_BUDGET = 0.5
TOKEN_BUDGET = 0.3
REDIRECT = "https://second.example/cb"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Rp:
    """A confidential client as the second application is, through the test client."""

    def __init__(self, client: Any, client_id: str, secret: str, cookie: str) -> None:
        self.client, self.client_id, self.cookie = client, client_id, cookie
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.auth = {"Authorization": f"Basic {basic}", **FORM}
        self.refresh_token = ""

    def authorize(self) -> str:
        query = urlencode(
            {"response_type": "code", "client_id": self.client_id, "redirect_uri": REDIRECT, "scope": "openid email"}
        )
        answer = self.client.http.get(
            f"/realms/{BENCH_REALM}/oidc/authorize?{query}", headers={"Cookie": self.cookie, "Accept": "text/html"}
        )
        location = answer.headers.get("Location", "")
        if answer.status_code != 302 or not location.startswith(REDIRECT):
            raise RuntimeError(f"authorize answered {answer.status_code}: {answer.body[:300]!r}")
        return parse_qs(urlsplit(location).query)["code"][0]

    def exchange(self, code: str) -> dict[str, Any]:
        body = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
        return self._token(body)

    def refresh(self) -> dict[str, Any]:
        return self._token(urlencode({"grant_type": "refresh_token", "refresh_token": self.refresh_token}))

    def _token(self, body: str) -> dict[str, Any]:
        answer = self.client.http.post(f"/realms/{BENCH_REALM}/oidc/token", headers=self.auth, body=body.encode())
        if answer.status_code != 200:
            raise RuntimeError(f"token answered {answer.status_code}: {answer.body[:300]!r}")
        tokens: dict[str, Any] = json.loads(answer.body)
        self.refresh_token = tokens.get("refresh_token", self.refresh_token)
        return tokens

    def userinfo(self, access_token: str) -> None:
        answer = self.client.http.get(
            f"/realms/{BENCH_REALM}/oidc/userinfo", headers={"Authorization": f"Bearer {access_token}"}
        )
        if answer.status_code != 200:
            raise RuntimeError(f"userinfo answered {answer.status_code}: {answer.body[:300]!r}")

    def hop(self) -> None:
        self.userinfo(self.exchange(self.authorize())["access_token"])


STEP_REPEAT = 15


def _per_step(rp: Rp) -> dict[str, Split]:
    """Each step of a hop, the hop whole, and a refresh: its AWS calls, its time, and the
    part of it spent waiting on the emulator (medians of ``STEP_REPEAT``)."""
    state: dict[str, Any] = {}

    def authorize() -> None:
        state["code"] = rp.authorize()

    def exchange() -> None:
        state["tokens"] = rp.exchange(state["code"])

    authorize()
    exchange()
    return {
        "authorize (code from the SSO cookie)": split_series(authorize, STEP_REPEAT),
        "token: authorization_code": split_series(exchange, STEP_REPEAT, prepare=authorize),
        "userinfo": split_series(lambda: rp.userinfo(state["tokens"]["access_token"]), STEP_REPEAT),
        "token: refresh_token": split_series(rp.refresh, STEP_REPEAT),
        "SSO hop": split_series(rp.hop, STEP_REPEAT),
    }


def measure() -> tuple[dict[str, tuple[Split, float]], dict[str, Split]]:
    """Each hot path's split with the verify median of its own rounds, and the per-step breakdown."""
    with ExternalEmulator() as emulator:
        use_external_backend(emulator.endpoint_url)
        stored_hash = create_bench_account()
        from chalicelib.container import services
        from chalicelib.flows.oidc.clients import ClientRequest
        from chalicelib.realms import get_realm

        flows = services().flows
        registered = flows.oidc.clients.register(
            get_realm(BENCH_REALM),
            ClientRequest(name="Second app", redirect_uris=[REDIRECT], trusted=True),
            actor="bench",
        )
        hasher = flows.sessions.hasher
        with make_client() as client, app_output_muted():
            login = client.http.post(
                LOGIN_PATH,
                headers={"Content-Type": "application/json"},
                body=json.dumps({"username": BENCH_USERNAME, "password": BENCH_PASSWORD}).encode(),
            )
            cookies = login.headers.get("Set-Cookie") or []
            cookies = [cookies] if isinstance(cookies, str) else cookies
            sso = next(cookie.split(";", 1)[0] for cookie in cookies if cookie.startswith("mitroo_sso="))
            assert registered.secret is not None
            rp = Rp(client, registered.client.client_id, registered.secret, sso)
            rp.hop()
            rp.exchange(rp.authorize())  # a refresh token for the refresh series

            def verify() -> None:
                if not hasher.verify(stored_hash, BENCH_PASSWORD):
                    raise RuntimeError("the benchmark password does not verify")

            state: dict[str, str] = {}

            def authorize() -> None:
                state["code"] = rp.authorize()

            figures = {
                "hop": interleaved_split(rp.hop, verify, REPEAT),
                "exchange": interleaved_split(lambda: rp.exchange(state["code"]), verify, REPEAT, prepare=authorize),
                "refresh": interleaved_split(rp.refresh, verify, REPEAT),
            }
            steps = _per_step(rp)
    return figures, steps


def run() -> list[Result]:
    figures, steps = measure()

    def row(name: str, key: str, budget: float) -> Result:
        split, verify = figures[key]
        return hot_path_result(name, split.total, verify, budget, split.code)

    hop = row("SSO hop (authorize+token+userinfo) / argon2id verify", "hop", HOP_BUDGET)
    hop.notes = [
        f"medians of {REPEAT}, each series alternated with argon2id verifies (moto in its own process)",
        f"per step (medians of {STEP_REPEAT}): the AWS calls, and the time waiting on the emulator (bench.wire)",
        *(f"  {split.line(label)}" for label, split in steps.items()),
        *hop.notes,
    ]
    return [
        hop,
        row("token: authorization_code / argon2id verify", "exchange", TOKEN_BUDGET),
        row("token: refresh_token / argon2id verify", "refresh", TOKEN_BUDGET),
    ]


if __name__ == "__main__":
    from bench.__main__ import print_report

    print_report(run())
    sys.exit(0)
