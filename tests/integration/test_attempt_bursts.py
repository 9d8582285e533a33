"""Attempt limits hold when the guesses arrive together (SPEC §3, issue 11 §1).

Many Lambda containers serve one API, so an attacker sends a burst, not a queue. Each
test releases N threads at once against the real adapters on the emulator and counts
how many secrets were actually compared (the hasher, or the code comparator, wrapped):
a burst must earn no more comparisons than the same guesses sent one at a time.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.container import services
from chalicelib.domain.accounts import AccountStatus
from chalicelib.domain.tokens import Purpose
from chalicelib.errors import FlowError
from chalicelib.realms import get_realm
from tests.fakes import arranged
from tests.support.arrange import account_in
from tests.support.browser import STRONG_PASSWORD, unique_email

WRONG = "Wr0ng!pass"


class Comparisons:
    """Counts calls of a wrapped method across threads."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.count += 1
            return method(*args, **kwargs)

        return counted


@contextmanager
def counting(target: object, *names: str) -> Iterator[Comparisons]:
    comparisons = Comparisons()
    for name in names:
        setattr(target, name, comparisons.wrap(getattr(target, name)))
    try:
        yield comparisons
    finally:
        for name in names:
            delattr(target, name)  # the class's method shows through again


def burst(calls: list[Callable[[], Any]]) -> Counter[str]:
    """Run every call at the same moment; the outcomes by problem code ("ok" for none)."""
    barrier = threading.Barrier(len(calls))

    def shoot(call: Callable[[], Any]) -> str:
        barrier.wait(timeout=60)
        try:
            call()
        except FlowError as error:
            return error.code
        return "ok"

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return Counter(pool.map(shoot, calls))


@pytest.fixture
def app_services(chalice_app: object) -> Any:
    return services()


def test_thirty_parallel_wrong_passwords_earn_no_more_comparisons_than_the_free_failures(app_services: Any) -> None:
    # Given an active account
    realm = get_realm("eiep")
    email = unique_email()
    account_in("eiep", username=email, email=email, password=STRONG_PASSWORD)
    flow = app_services.flows.sessions
    free = realm.throttling.login_free_failures

    # When thirty wrong passwords arrive at once, each from its own address
    calls = [(lambda i=i: flow.login(realm, email, WRONG, f"198.18.{i}.1")) for i in range(30)]
    with counting(flow.hasher, "verify") as compared:
        outcomes = burst(calls)

    # Then no more passwords were compared than five sequential guesses would get
    assert compared.count <= free, outcomes
    assert outcomes == Counter({"invalid_credentials": free, "too_many_attempts": 30 - free})


def test_a_right_password_inside_a_burst_after_the_free_failures_is_not_even_compared(app_services: Any) -> None:
    # Given an account whose free failures a first burst spent
    realm = get_realm("eiep")
    email = unique_email()
    account_in("eiep", username=email, email=email, password=STRONG_PASSWORD)
    flow = app_services.flows.sessions
    burst([(lambda i=i: flow.login(realm, email, WRONG, f"198.18.{i}.2")) for i in range(5)])

    # When a second burst of twenty-four wrong guesses and the right one arrives
    calls = [(lambda i=i: flow.login(realm, email, WRONG, f"198.18.{i}.3")) for i in range(24)]
    calls.append(lambda: flow.login(realm, email, STRONG_PASSWORD, "198.18.99.3"))
    with counting(flow.hasher, "verify") as compared:
        outcomes = burst(calls)

    # Then nothing was compared and nobody signed in: the account is backing off
    assert compared.count == 0
    assert outcomes == Counter({"too_many_attempts": 25})


def test_one_address_spraying_many_usernames_at_once_is_held_to_the_address_limit(app_services: Any) -> None:
    # Given the realm's per-address limit of attempts from browsers it does not know
    realm = get_realm("eiep")
    limit = realm.throttling.login_address_limit.count
    flow = app_services.flows.sessions

    # When limit + 20 different usernames are tried from one address at once
    calls = [(lambda: flow.login(realm, unique_email(), WRONG, "198.19.7.7")) for _ in range(limit + 20)]
    with counting(flow.hasher, "verify") as compared:  # an unknown username's decoy hash is a verify too
        outcomes = burst(calls)

    # Then at most the limit's worth of attempts were worked on; the rest were refused first
    assert compared.count <= limit, outcomes
    assert outcomes["too_many_attempts"] >= 20


def _pending(email: str) -> str:
    now = datetime.now(UTC)
    from chalicelib.domain.accounts import Account

    ports = services().ports
    account = Account(
        account_id=ports.secrets.identifier(),
        realm="eiep",
        username=email.casefold(),
        email=email,
        status=AccountStatus.PENDING_ACTIVATION,
        created_at=now,
        updated_at=now,
        password_hash=None,
    )
    ports.accounts.create(account, audit=arranged(account.realm, account.account_id))
    return account.account_id


def test_forty_parallel_wrong_activation_codes_earn_at_most_the_allowed_comparisons(
    app_services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pending account with a live activation challenge
    import chalicelib.flows.challenges as challenges_module

    realm = get_realm("eiep")
    email = unique_email()
    account_id = _pending(email)
    account = services().ports.accounts.get("eiep", account_id)
    issued = app_services.flows.challenges.issue(account, Purpose.ACTIVATION, realm.lifetimes.activation)
    wrong = "000000" if issued.code != "000000" else "111111"
    compared = Comparisons()
    monkeypatch.setattr(challenges_module, "same", compared.wrap(challenges_module.same))

    # When forty wrong codes arrive at once, with the right code among them
    activation = app_services.flows.activation
    calls = [(lambda: activation.activate_by_code(realm, email, wrong)) for _ in range(39)]
    calls.insert(30, lambda: activation.activate_by_code(realm, email, issued.code))
    outcomes = burst(calls)

    # Then at most the allowed number of codes were compared, and the account stays
    # pending unless the right code was one of them
    assert compared.count <= realm.activation_code_attempts, outcomes
    assert outcomes["ok"] <= 1


def test_forty_parallel_wrong_reset_codes_earn_at_most_the_allowed_comparisons(
    app_services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an NTUA account with a live reset challenge
    import chalicelib.flows.challenges as challenges_module

    realm = get_realm("ntua")
    username = f"burst{unique_email().split('@')[0].replace('.', '')}"[:30]
    account_id = account_in("ntua", username=username, email=unique_email(), password="agapw poly th mairh sto vouno")
    account = services().ports.accounts.get("ntua", account_id)
    issued = app_services.flows.challenges.issue(account, Purpose.PASSWORD_RESET, realm.lifetimes.password_reset)
    wrong = "000000" if issued.code != "000000" else "111111"
    compared = Comparisons()
    monkeypatch.setattr(challenges_module, "same", compared.wrap(challenges_module.same))

    # When forty wrong codes arrive at once
    passwords = app_services.flows.passwords
    new = "kainourgio synthimatiko poly makry"
    calls = [(lambda: passwords.complete_reset_by_code(realm, username, wrong, new, new)) for _ in range(40)]
    outcomes = burst(calls)

    # Then at most the allowed number of codes were compared
    assert compared.count <= realm.activation_code_attempts, outcomes
    assert outcomes["ok"] == 0
