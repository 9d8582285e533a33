"""A login with an authenticator app against one argon2id verify (SPEC §5: ≤ 1.6).

The whole sign-in of an account with a TOTP factor, through the Chalice test client: the
password step (the login record's read with the attempt reservations, the hash, the
factor list's query, the ``mfa_token`` written) and the second step (the token read, the
factors' query, the code's attempt reserved, the secret unsealed and the code compared,
the step spent by a conditional write, the token taken, the session's batch write). The
second step spends no hash: the budget allows it a tenth of one.

A code is accepted once (its time step only moves forward), so before each round, untimed,
the benchmark winds the factor's last step back: every round then sends the current code.
Medians of ``REPEAT`` rounds, each round a timed sign-in and a timed verify, alternated.
Then each step's DynamoDB calls and the time spent inside them (as ``bench.oidc`` does
for the provider): on this emulator a conditional write costs several milliseconds, so
the calls, not the app's own work, decide how far the figure is from the budget.

    python -m bench.login_totp
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections import Counter
from typing import Any

from bench.common import (
    BENCH_PASSWORD,
    BENCH_REALM,
    LOGIN_PATH,
    ExternalEmulator,
    Result,
    create_bench_account,
    make_client,
    median,
    mute_app_logs,
    use_external_backend,
)

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


def _password_step(client: Any) -> str:
    """The password step; the ``mfa_token`` it answers with."""
    from bench.common import BENCH_USERNAME

    first = _post(client, LOGIN_PATH, {"username": BENCH_USERNAME, "password": BENCH_PASSWORD})
    if first.status_code != 401:
        raise RuntimeError(f"the password step answered {first.status_code}: {first.body[:300]!r}")
    return str(json.loads(first.body)["mfa_token"])


def _second_step(client: Any, token: str, secret: str) -> None:
    import pyotp

    second = _post(client, f"{LOGIN_PATH}/mfa", {"mfa_token": token, "totp": pyotp.TOTP(secret).now()})
    if second.status_code != 201:
        raise RuntimeError(f"the second step answered {second.status_code}: {second.body[:300]!r}")


def _sign_in(client: Any, secret: str) -> None:
    _second_step(client, _password_step(client), secret)


STEP_REPEAT = 15


def _per_step(client: Any, secret: str, rewind: Any) -> list[str]:
    """Each step's DynamoDB calls, by operation, and the median time of the step against
    the time inside those calls."""
    from bench.oidc import counted_calls

    steps: dict[str, tuple[list[float], list[float], Counter[str]]] = {
        "password step": ([], [], Counter()),
        "second step": ([], [], Counter()),
    }
    for _ in range(STEP_REPEAT):
        rewind()
        token = ""
        for label in ("password step", "second step"):
            totals, inside, _counted = steps[label]
            with counted_calls() as (calls, spent):
                began = time.perf_counter()
                if label == "password step":
                    token = _password_step(client)
                else:
                    _second_step(client, token, secret)
                totals.append(time.perf_counter() - began)
            inside.append(sum(spent))
            steps[label] = (totals, inside, calls)
    lines = []
    for label, (totals, inside, counted) in steps.items():
        detail = ", ".join(f"{count} {name}" for name, count in sorted(counted.items())) or "none"
        lines.append(
            f"  {label:<14}{sum(counted.values())} call(s) ({detail}): {median(totals) * 1000:.1f} ms, of which "
            f"{median(inside) * 1000:.1f} ms inside DynamoDB"
        )
    return lines


def measure() -> tuple[float, float, float, list[str]]:
    """Medians of (whole sign-in, its password step alone, one argon2id verify), and the
    per-step DynamoDB breakdown."""
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
        with make_client() as client:
            mute_app_logs()
            account_id, factor_id, secret = _enrol(client)
            item = models.FactorItem(account_pk(BENCH_REALM, account_id), factor_sk(factor_id))

            def rewind() -> None:
                item.update(actions=[models.FactorItem.last_step.set(0)])

            from bench.common import BENCH_USERNAME

            sign_ins, password_steps, verifies = [], [], []
            for round_number in range(REPEAT + 1):
                rewind()
                started = time.perf_counter()
                _sign_in(client, secret)
                elapsed = time.perf_counter() - started
                started = time.perf_counter()
                _post(client, LOGIN_PATH, {"username": BENCH_USERNAME, "password": BENCH_PASSWORD})
                password = time.perf_counter() - started
                started = time.perf_counter()
                if not hasher.verify(stored_hash, BENCH_PASSWORD):
                    raise RuntimeError("the benchmark password does not verify")
                verify = time.perf_counter() - started
                if round_number:  # the first round warms up
                    sign_ins.append(elapsed)
                    password_steps.append(password)
                    verifies.append(verify)
            steps = _per_step(client, secret, rewind)
    return median(sign_ins), median(password_steps), median(verifies), steps


def run() -> list[Result]:
    sign_in, password_step, verify, steps = measure()
    return [
        Result(
            name="login with TOTP / argon2id verify",
            measured=f"{sign_in * 1000:.0f} ms / {verify * 1000:.0f} ms",
            budget=BUDGET,
            ratio=sign_in / verify,
            budget_label=f"≤ {BUDGET}",
            notes=[
                f"password step alone (answers mfa_required): {password_step * 1000:.1f} ms; "
                f"second step: {(sign_in - password_step) * 1000:.1f} ms (no hash spent)",
                f"medians of {REPEAT}; the factor's last step is wound back, untimed, before each sign-in",
                f"per step (medians of {STEP_REPEAT}): DynamoDB calls and the time inside them, against the step",
                *steps,
            ],
        )
    ]


if __name__ == "__main__":
    from bench.__main__ import print_report

    print_report(run())
    sys.exit(0)
