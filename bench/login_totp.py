"""A login with an authenticator app against one argon2id verify (SPEC §5: ≤ 1.6).

The whole sign-in of an account with a TOTP factor, through the Chalice test client: the
password step (the login record's read beside the attempt reservations, the hash, the
``mfa_token`` written with the TOTP keys the login record carries, still sealed) and the
second step (the token read, the code's attempt reserved, the secret unsealed and the
code compared, then one transaction that spends the token and the code's time step and
opens the session). The second step spends no hash: the budget allows it a tenth of one.

A code is accepted once (its time step only moves forward), so before each round, untimed,
the benchmark winds the factor's last step back: every round then sends the current code.
Medians of ``REPEAT`` rounds, each round a sign-in (timed whole and on the wire for its
code's part) and a timed verify, alternated, for a returning browser (the device cookie
of an earlier sign-in: the common case) and for a new one (its attempt also reserves its
address's window, and its second step queues the new-device notice).
Then each step's DynamoDB calls and the time spent inside them (as ``bench.oidc`` does
for the provider): on this emulator a conditional write costs several milliseconds, so
the calls, not the app's own work, decide how far the figure is from the budget.

    python -m bench.login_totp
"""

from __future__ import annotations

import base64
import itertools
import json
import sys
from dataclasses import dataclass
from typing import Any

from bench.common import (
    BENCH_PASSWORD,
    BENCH_REALM,
    LOGIN_PATH,
    ExternalEmulator,
    Result,
    app_output_muted,
    create_bench_account,
    make_client,
    use_external_backend,
)
from bench.wire import Split, hot_path_result, interleaved_split, split_series
from devtools.local_gateway import TEST_ADDRESS_HEADER

REPEAT = 20
BUDGET = 1.6
JSON = {"Content-Type": "application/json"}


def _post(client: Any, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return client.http.post(path, headers={**JSON, **(headers or {})}, body=json.dumps(body).encode())


def _enrol(client: Any) -> tuple[str, str, str]:
    """Sign the benchmark account in and give it an authenticator app; (account id, factor id, secret)."""
    import pyotp

    from bench.common import BENCH_USERNAME

    signed = _post(client, LOGIN_PATH, {"username": BENCH_USERNAME, "password": BENCH_PASSWORD})
    if signed.status_code != 201:
        raise RuntimeError(f"login answered {signed.status_code}: {signed.body[:300]!r}")
    auth = {"Authorization": f"Bearer {json.loads(signed.body)['access_token']}"}
    api = f"/api/v1/realms/{BENCH_REALM}"
    started = json.loads(_post(client, f"{api}/me/mfa/totp", {}, auth).body)
    confirmed = _post(
        client, f"{api}/me/mfa/totp/{started['factor_id']}/confirm", {"code": pyotp.TOTP(started["secret"]).now()}, auth
    )
    if confirmed.status_code != 200:
        raise RuntimeError(f"enrolment answered {confirmed.status_code}: {confirmed.body[:300]!r}")
    payload = json.loads(signed.body)["access_token"].split(".")[1]
    account_id = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]
    return str(account_id), str(started["factor_id"]), str(started["secret"])


class _Browser:
    """A browser signing in: a *returning* one sends the device cookie of its earlier
    sign-in (the common case), a *new* one none (its second step also queues the
    new-device notice)."""

    def __init__(self, client: Any, device_cookie: str | None) -> None:
        self.client = client
        self.device_cookie = device_cookie
        self._addresses = (f"198.51.{n // 250}.{n % 250 + 1}" for n in itertools.count())

    @property
    def headers(self) -> dict[str, str]:
        """A returning browser's device cookie; a new browser comes from an address of its
        own each time (as ``bench.login``'s), not all from one address's window."""
        if self.device_cookie:
            return {"Cookie": f"mitroo_device={self.device_cookie}"}
        return {TEST_ADDRESS_HEADER: next(self._addresses)}

    def password_step(self) -> str:
        """The password step; the ``mfa_token`` it answers with."""
        from bench.common import BENCH_USERNAME

        body = {"username": BENCH_USERNAME, "password": BENCH_PASSWORD}
        first = _post(self.client, LOGIN_PATH, body, self.headers)
        if first.status_code != 401:
            raise RuntimeError(f"the password step answered {first.status_code}: {first.body[:300]!r}")
        return str(json.loads(first.body)["mfa_token"])

    def second_step(self, token: str, secret: str) -> None:
        import pyotp

        body = {"mfa_token": token, "totp": pyotp.TOTP(secret).now()}
        second = _post(self.client, f"{LOGIN_PATH}/mfa", body, self.headers)
        if second.status_code != 201:
            raise RuntimeError(f"the second step answered {second.status_code}: {second.body[:300]!r}")

    def sign_in(self, secret: str) -> None:
        self.second_step(self.password_step(), secret)


STEP_REPEAT = 15


def _per_step(browser: _Browser, secret: str, rewind: Any) -> dict[str, Split]:
    """Each step: its AWS calls, its time, and the part of it spent waiting on the
    emulator (medians of ``STEP_REPEAT``)."""
    state = {"token": ""}

    def password_step() -> None:
        state["token"] = browser.password_step()

    def rewound_password_step() -> None:
        rewind()
        password_step()

    return {
        "password step": split_series(password_step, STEP_REPEAT, prepare=rewind),
        "second step": split_series(
            lambda: browser.second_step(state["token"], secret), STEP_REPEAT, prepare=rewound_password_step
        ),
    }


@dataclass(frozen=True)
class Measured:
    """The whole sign-in against one argon2id verify (alternated, so both come from the
    same rounds), and the per-step breakdown, for one kind of browser."""

    sign_in: Split
    verify: float
    steps: dict[str, Split]


def _series(browser: _Browser, secret: str, rewind: Any, verify: Any) -> Measured:
    sign_in, verified = interleaved_split(lambda: browser.sign_in(secret), verify, REPEAT, prepare=rewind)
    return Measured(sign_in, verified, _per_step(browser, secret, rewind))


def measure() -> dict[str, Measured]:
    """The returning browser's figures and the new browser's."""
    import warnings

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    with ExternalEmulator() as emulator:
        use_external_backend(emulator.endpoint_url)
        stored_hash = create_bench_account()
        from chalicelib.adapters.dynamodb.factors import factor_sk
        from chalicelib.adapters.dynamodb.models import account_pk
        from chalicelib.container import services

        hasher = services().flows.sessions.hasher
        models = services().ports.factors._m  # type: ignore[attr-defined]
        with make_client() as client, app_output_muted():
            account_id, factor_id, secret = _enrol(client)
            item = models.FactorItem(account_pk(BENCH_REALM, account_id), factor_sk(factor_id))

            def rewind() -> None:
                item.update(actions=[models.FactorItem.last_step.set(0)])

            device = _device_cookie(client, secret, rewind)

            def verify() -> None:
                if not hasher.verify(stored_hash, BENCH_PASSWORD):
                    raise RuntimeError("the benchmark password does not verify")

            return {
                "returning browser": _series(_Browser(client, device), secret, rewind, verify),
                "new browser": _series(_Browser(client, None), secret, rewind, verify),
            }


def _device_cookie(client: Any, secret: str, rewind: Any) -> str:
    """The device cookie a first TOTP sign-in leaves in the browser."""
    import pyotp

    rewind()  # the enrolment spent the current code
    token = _Browser(client, None).password_step()
    answer = _post(client, f"{LOGIN_PATH}/mfa", {"mfa_token": token, "totp": pyotp.TOTP(secret).now()})
    cookies = next((value for name, value in answer.headers.items() if name.lower() == "set-cookie"), [])
    for cookie in [cookies] if isinstance(cookies, str) else cookies:
        if cookie.startswith("mitroo_device="):
            return str(cookie.split(";", 1)[0].partition("=")[2])
    raise RuntimeError(f"no device cookie from the second step ({answer.status_code}: {answer.body[:300]!r})")


def run() -> list[Result]:
    results = []
    for label, measured in measure().items():
        password, second = measured.steps["password step"].total, measured.steps["second step"].total
        notes = [
            f"password step alone (answers mfa_required): {password * 1000:.1f} ms; "
            f"second step: {second * 1000:.1f} ms (no hash spent)",
            f"medians of {REPEAT}, sign-in and verify alternated; the factor's last step is wound back, "
            "untimed, before each sign-in",
            f"per step (medians of {STEP_REPEAT}): the AWS calls, and the time waiting on the emulator (bench.wire)",
            *(f"  {split.line(step)}" for step, split in measured.steps.items()),
            f"  {measured.sign_in.line(f'whole sign-in (medians of {REPEAT})')}",
        ]
        name = f"login with TOTP / argon2id verify ({label})"
        whole = measured.sign_in
        results.append(hot_path_result(name, whole.total, measured.verify, BUDGET, whole.code, notes))
    return results


if __name__ == "__main__":
    from bench.__main__ import print_report

    print_report(run())
    sys.exit(0)
