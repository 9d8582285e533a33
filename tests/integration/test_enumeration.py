"""Enumeration safety (SPEC §1): for reset (both realms) and resend, an existing and a
missing account get byte-identical answers (ids aside) in similar time.

Timing: medians of 20 requests each, alternating, must differ by less than 25 %. Each
request comes from a fresh address and names a fresh account, so rate limits and
idempotency records never short-cut one side. The suites run in parallel on a small
machine, so a measurement disturbed by the other processes is taken again (up to three
times): a real difference shows in every one.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable

from tests.support.arrange import account_in
from tests.support.browser import Browser, Response, unique_email

ROUNDS = 20


ATTEMPTS = 3

Existing = Callable[[int], Response]


def _compare(browser: Browser, prepare: Callable[[], Existing], missing: Callable[[int], Response]) -> None:
    """``prepare()`` makes ROUNDS fresh existing accounts and returns the call for them."""
    medians = []
    for attempt in range(ATTEMPTS):
        existing_median, missing_median = _measure(browser, prepare(), missing, attempt)
        medians.append((existing_median, missing_median))
        if abs(existing_median - missing_median) / min(existing_median, missing_median) < 0.25:
            return
    raise AssertionError(f"existing and missing accounts answer at different speeds (medians): {medians}")


def _measure(
    browser: Browser, existing: Existing, missing: Callable[[int], Response], attempt: int
) -> tuple[float, float]:
    times: dict[str, list[float]] = {"existing": [], "missing": []}
    bodies: dict[str, set[bytes]] = {"existing": set(), "missing": set()}
    for round_ in range(ROUNDS):
        for name, call in (("existing", existing), ("missing", missing)):
            browser.address = f"100.{64 + attempt}.{round_}.{1 if name == 'existing' else 2}"
            started = time.perf_counter()
            response = call(round_)
            times[name].append(time.perf_counter() - started)
            assert response.status in (201, 202), response.text
            bodies[name].add(re.sub(rb"[A-Za-z0-9_-]{43,}", b"<id>", response.body))
    assert bodies["existing"] == bodies["missing"] and len(bodies["existing"]) == 1
    return statistics.median(times["existing"]), statistics.median(times["missing"])


def test_ntua_reset_answers_alike_for_matching_and_unknown_accounts(browser: Browser) -> None:
    def prepare() -> Existing:
        students = []
        for index in range(ROUNDS):
            username, email = f"enum{index}x{unique_email().split('.')[1].split('@')[0]}", unique_email()
            account_in("ntua", username=username, email=email, password="ο κωδικός μου είναι αρκετά μεγάλος")
            students.append((username, email))

        def existing(i: int) -> Response:
            username, email = students[i]
            return browser.post("/api/v1/realms/ntua/password-resets", json={"username": username, "email": email})

        return existing

    def missing(i: int) -> Response:
        return browser.post(
            "/api/v1/realms/ntua/password-resets", json={"username": f"ghost{i}x", "email": unique_email()}
        )

    _compare(browser, prepare, missing)


def test_eiep_reset_answers_alike_for_registered_and_unknown_addresses(browser: Browser) -> None:
    def prepare() -> Existing:
        registered = [unique_email() for _ in range(ROUNDS)]
        for email in registered:
            account_in("eiep", username=email, email=email, password="Kal0s!Kodikos")
        return lambda i: browser.post("/api/v1/realms/eiep/password-resets", json={"email": registered[i]})

    def missing(i: int) -> Response:
        return browser.post("/api/v1/realms/eiep/password-resets", json={"email": unique_email()})

    _compare(browser, prepare, missing)


def test_resend_answers_alike_for_pending_and_unknown_addresses(browser: Browser) -> None:
    def prepare() -> Existing:
        pending = []
        for _ in range(ROUNDS):
            email = unique_email()
            assert browser.register(browser.gsis_flow(), email).status == 201
            pending.append(email)
        return lambda i: browser.post("/api/v1/realms/eiep/activations/resend", json={"email": pending[i]})

    def missing(i: int) -> Response:
        return browser.post("/api/v1/realms/eiep/activations/resend", json={"email": unique_email()})

    _compare(browser, prepare, missing)
