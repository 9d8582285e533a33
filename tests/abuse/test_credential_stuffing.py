"""Credential stuffing is slowed as SPEC §3 says: per account, exponential back-off
after 5 failures (30 s doubling to 15 min); per client address, a sliding window of
attempts by browsers that do not know the account; 429 ``too_many_attempts`` with
``Retry-After``, the same for known and unknown usernames, and nothing written but the
attempt counters.

``tests/integration/test_lockout.py`` shows the first 429 of each kind; these follow the
attack on: the address's window holds however the guesses are spread over accounts and
frees up as it slides; the account's waits double against guesses spread over
addresses, stop at the ceiling, and never let a right password through early; the
owners of the sprayed accounts are never locked out. The clock is moved instead of
waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.clock import SystemClock
from chalicelib.realms import get_realm
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


def test_one_address_spraying_many_accounts_is_held_to_its_sliding_window(
    browser: Browser, clock: Skew, written: Callable[[], Ledger]
) -> None:
    # Given ten accounts whose owners signed in once from their own browsers, and an
    # attacker at one address with a list of username/password pairs: one guess per
    # account, known and unknown usernames mixed
    victims = _accounts(10)
    owners = {}
    for index, owner in enumerate(victims):
        person = Browser(browser.client, browser.gsis, browser.pump)
        person.address = "203.0.113.66" if index == 0 else f"192.0.2.{100 + index}"
        assert person.login(owner).status == 201
        owners[owner] = person
    window = get_realm("eiep").throttling.login_address_limit
    room = window.count - 1  # the first owner's own sign-in from that address counted too
    sprayed = [*victims, *(unique_email("nobody") for _ in range(room - len(victims)))]
    browser.address = "203.0.113.66"
    ledger = written()

    # When the attacker spends the address's window
    assert [browser.login(username, WRONG).status for username in sprayed] == [401] * room

    # Then every further guess from it waits for the window to slide, a right password too
    wait = _refused_for(browser, unique_email("nobody"))
    assert 0 < wait <= window.window.total_seconds()
    _refused_for(browser, victims[1], STRONG_PASSWORD)
    # and nothing but the attempt counters was written (no session, no account change)
    assert ledger.changes() == []
    assert ledger.changes(counters=True), "attempts must be counted"

    # And the owners are not locked out: each sprayed account has one failure only, and
    # the owner who shares the attacker's address signs in from her own browser
    for owner, person in owners.items():
        assert person.login(owner).status == 201, owner

    # And once a whole window has slid by, the address is free again
    clock.wait(int(2 * window.window.total_seconds()))
    assert browser.login(unique_email("nobody"), WRONG).status == 401


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
