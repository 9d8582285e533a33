"""Credential stuffing is slowed as SPEC §3 says: per account and per client address,
exponential back-off after 5 failures (30 s doubling to 15 min), 429 ``too_many_attempts``
with ``Retry-After``, the same for known and unknown usernames, and nothing written
but the failure counters.

``tests/integration/test_lockout.py`` shows the first 429 of each kind; these follow the
attack on: the waits double with every further failure from the same address (across
accounts) or against the same account (across addresses), stop at the ceiling, never
let a right password through early, and never lock the owners of the sprayed accounts
out of their own addresses. The clock is moved instead of waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.clock import SystemClock
from tests.abuse.conftest import Ledger
from tests.support.arrange import account_in
from tests.support.browser import STRONG_PASSWORD, Browser, unique_email

WRONG = "Wr0ng!pass"


class Skew:
    """How far the app's clock runs ahead of the real one."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def wait(self, seconds: int) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Skew]:
    skew = Skew()
    monkeypatch.setattr(SystemClock, "now", lambda self: datetime.now(UTC) + skew.offset)
    yield skew


def _accounts(count: int) -> list[str]:
    """Active e-IEP accounts (username = e-mail), all with the same strong password."""
    emails = [unique_email("sprayed") for _ in range(count)]
    for email in emails:
        account_in("eiep", username=email, email=email, password=STRONG_PASSWORD)
    return emails


def _refused_for(browser: Browser, username: str, password: str = WRONG) -> int:
    """The Retry-After of a login that must be refused with 429 too_many_attempts."""
    answer = browser.login(username, password)
    assert answer.status == 429, answer.text
    assert answer.json["code"] == "too_many_attempts"
    assert "access_token" not in answer.text
    return int(answer.headers["retry-after"])


def test_one_address_spraying_many_accounts_waits_twice_as_long_after_each_failure(
    browser: Browser, clock: Skew, written: Callable[[], Ledger]
) -> None:
    # Given ten accounts, and an attacker at one address with a list of username/password
    # pairs: one guess per account, known and unknown usernames mixed
    victims = _accounts(10)
    sprayed = iter([*victims[:3], unique_email("nobody"), *victims[3:]])
    browser.address = "203.0.113.66"
    ledger = written()

    # When five guesses fail, the address backs off for 30 s; a guess after each wait
    # fails again and doubles the wait, whichever account it aims at
    assert [browser.login(next(sprayed), WRONG).status for _ in range(5)] == [401] * 5
    waits = []
    for _ in range(3):
        waits.append(_refused_for(browser, next(sprayed)))
        clock.wait(waits[-1] + 1)
        assert browser.login(next(sprayed), WRONG).status == 401
    waits.append(_refused_for(browser, victims[-1]))

    # Then the waits double: 30, 60, 120, 240 seconds
    assert waits == [30, 60, 120, 240]
    # and even a right password from that address is refused while it waits
    assert _refused_for(browser, victims[0], STRONG_PASSWORD) == 240
    # and nothing but the failure counters was written (no session, no account change)
    assert ledger.changes() == []
    assert ledger.changes(counters=True), "failures must be counted"

    # And the owners, each at an address of their own, are not locked out: every
    # sprayed account has one failure only
    for index, owner in enumerate(victims):
        browser.address = f"192.0.2.{100 + index}"
        assert browser.login(owner).status == 201


def test_one_account_tried_from_many_addresses_backs_off_up_to_fifteen_minutes(
    browser: Browser, clock: Skew, written: Callable[[], Ledger]
) -> None:
    # Given an account, and a botnet: every guess comes from a new address
    [victim] = _accounts(1)
    addresses = (f"198.18.{n // 250}.{n % 250 + 1}" for n in range(1000))

    def guess(password: str = WRONG) -> int:
        browser.address = next(addresses)
        return browser.login(victim, password).status

    ledger = written()

    # When five addresses fail once each
    assert [guess() for _ in range(5)] == [401] * 5

    # Then the account backs off for every address, and the wait doubles with each
    # failure after a wait, up to the 15-minute ceiling
    waits = []
    for _ in range(7):
        browser.address = next(addresses)
        waits.append(_refused_for(browser, victim))
        clock.wait(waits[-1] + 1)
        assert guess() == 401
    assert waits == [30, 60, 120, 240, 480, 900, 900]
    # and the right password is refused too while the account waits: a stuffing list
    # that holds it gains nothing by spreading over addresses
    browser.address = next(addresses)
    assert _refused_for(browser, victim, STRONG_PASSWORD) == 900
    assert ledger.changes() == []

    # And once the wait is over the owner signs in, which clears the account's failures
    clock.wait(901)
    assert guess(STRONG_PASSWORD) == 201
    assert guess() == 401


def test_one_address_cycling_through_e_mails_is_slowed_on_resets_and_tickets(
    browser: Browser, written: Callable[[], Ledger]
) -> None:
    # Given one address asking for password resets and opening helpdesk tickets, a new
    # e-mail address every time (so no per-address-of-mail limit applies)
    def reset() -> int:
        return browser.post("/api/v1/realms/eiep/password-resets", json={"email": unique_email()}).status

    def ticket() -> int:
        body = {"topic": "technical", "email": unique_email(), "description": "Δεν μπορώ να συνδεθώ."}
        return browser.post("/api/v1/realms/eiep/support-tickets", json=body).status

    # When it goes on past the realm's limits per address (30 resets, 10 tickets an hour)
    resets = [reset() for _ in range(30)]
    tickets = [ticket() for _ in range(10)]
    ledger = written()
    refused = [
        browser.post("/api/v1/realms/eiep/password-resets", json={"email": unique_email()}),
        browser.post(
            "/api/v1/realms/eiep/support-tickets",
            json={"topic": "technical", "email": unique_email(), "description": "Δεν μπορώ να συνδεθώ."},
        ),
    ]

    # Then the next of each is 429 too_many_attempts with a Retry-After within the hour,
    # and writes nothing (no reset ticket, no helpdesk ticket, no mail queued)
    assert resets == [201] * 30 and tickets == [201] * 10
    for answer in refused:
        assert answer.status == 429, answer.text
        assert answer.json["code"] == "too_many_attempts"
        assert 0 < int(answer.headers["retry-after"]) <= 3600
    assert ledger.changes() == []
    browser.run_tasks()
