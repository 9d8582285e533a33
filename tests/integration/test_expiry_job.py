"""The expiry job through its real entry points: the scheduled function (as EventBridge
invokes it) and the operator CLI with --as-of."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from chalicelib.container import services
from chalicelib.domain.accounts import AccountStatus, UniqueKind
from tests.support.arrange import account_in
from tests.support.browser import Browser, unique_email

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "a long enough passphrase for ntua"


def _postgraduate(expires_on: date) -> tuple[str, str]:
    email = unique_email("postgrad")
    username = "pg" + email.split(".")[1].split("@")[0]
    account_id = account_in("ntua", username=username, email=email, password=PASSPHRASE)
    assert services().ports.accounts.set_expiry("ntua", account_id, expires_on, datetime.now(UTC))
    return username, email


def _status(username: str) -> AccountStatus:
    account = services().ports.accounts.find_by_unique("ntua", UniqueKind.USERNAME, username)
    assert account is not None
    return account.status


def test_the_scheduled_function_expires_and_warns(browser: Browser) -> None:
    # Given one account that lapsed yesterday and one that lapses in 7 days
    today = datetime.now(UTC).date()
    lapsed, _ = _postgraduate(today - timedelta(days=1))
    soon, soon_email = _postgraduate(today + timedelta(days=7))

    # When EventBridge fires the daily rule
    event = browser.client.events.generate_cw_event(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=["arn:aws:events:eu-west-1:123456789012:rule/expire_accounts"],
    )
    result = browser.client.lambda_.invoke("expire_accounts", event).payload

    # Then the lapsed account is expired (and says so at login), the other one warned
    assert result["ntua"]["expired"] >= 1
    assert _status(lapsed) is AccountStatus.EXPIRED
    login = browser.post("/api/v1/realms/ntua/sessions", json={"username": lapsed, "password": PASSPHRASE})
    assert login.status == 403 and login.json["code"] == "account_expired"
    assert _status(soon) is AccountStatus.ACTIVE
    warning = browser.mail_to(soon_email)
    assert len(warning) == 1 and "7" in warning[0]["subject"]


def test_the_cli_sweeps_as_of_a_given_day(aws_endpoint: str) -> None:
    # Given an account whose last day is far in the future
    far = date(2040, 6, 30) + timedelta(days=int(unique_email().split(".")[1].split("@")[0]) % 300)
    username, _ = _postgraduate(far)

    # When the operator sweeps as of the day after it
    as_of = far + timedelta(days=1)
    result = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "expire-accounts", "--as-of", as_of.isoformat(), "--realm", "ntua"],
        cwd=ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=120,
    )

    # Then it reports and the account is expired
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"ntua: as of {as_of.isoformat()}, expired ")
    assert _status(username) is AccountStatus.EXPIRED


def test_the_cli_refuses_a_realm_whose_accounts_do_not_expire(aws_endpoint: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "expire-accounts", "--realm", "eiep"],
        cwd=ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "do not expire" in result.stderr
