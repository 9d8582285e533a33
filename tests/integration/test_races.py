"""Uniqueness and single use hold under concurrent requests (SPEC §3).

Each thread plays one Lambda container serving one request: it calls the same flow
objects the HTTP handlers call, with the real DynamoDB adapters against the emulator.
(Threads cannot share one Chalice app: ``app.current_request`` is a process-wide
attribute, which is fine in Lambda, where a container serves one request at a time.)
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from chalicelib.container import services
from chalicelib.domain.accounts import UniqueKind
from chalicelib.errors import FlowError
from chalicelib.flows.registration import RegistrationRequest
from chalicelib.realms import get_realm
from tests.support.browser import STRONG_PASSWORD, Browser, unique_email


def _race(calls: list[Callable[[], Any]]) -> Counter[str]:
    """Run every call at the same moment; count outcomes by result or problem code."""
    barrier = threading.Barrier(len(calls))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            call()
            outcome = "ok"
        except FlowError as error:
            outcome = error.code
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_twenty_registrations_with_one_email_make_exactly_one_account(browser: Browser) -> None:
    # Given twenty people, each with their own GSIS flow, typing the same e-mail
    email = unique_email("race")
    flows = [browser.gsis_flow() for _ in range(20)]
    realm = get_realm("eiep")
    registration = services().flows.registration

    def attempt(flow: str) -> Callable[[], Any]:
        request = RegistrationRequest(
            flow, email, STRONG_PASSWORD, STRONG_PASSWORD, "female", browser_binding=browser.jar["mitroo_browser"]
        )
        return lambda: registration.register(realm, request)

    # When they all submit at once
    outcomes = _race([attempt(flow) for flow in flows])

    # Then exactly one account exists and everyone else was told the e-mail is taken
    assert outcomes == Counter({"ok": 1, "email_taken": 19})
    account = services().flows.sessions.accounts.find_by_unique("eiep", UniqueKind.EMAIL, email.casefold())
    assert account is not None
    assert len(browser.mail_to(email)) == 1


def test_thirty_activations_with_one_token_succeed_exactly_once(browser: Browser) -> None:
    # Given a pending account and its activation token
    email = unique_email("race")
    assert browser.register(browser.gsis_flow(), email).status == 201
    token, _ = browser.activation_mail(email)
    realm = get_realm("eiep")
    activation = services().flows.activation

    # When thirty requests present the token at once
    outcomes = _race([lambda: activation.activate_by_token(realm, token) for _ in range(30)])

    # Then one activates and twenty-nine find the token used
    assert outcomes == Counter({"ok": 1, "token_invalid": 29})
    assert browser.login(email).status == 201


def test_one_flow_used_by_ten_concurrent_registrations_makes_one_account(browser: Browser) -> None:
    # Given one GSIS flow and ten submissions of it with different e-mails (a double-click storm)
    flow = browser.gsis_flow()
    realm = get_realm("eiep")
    registration = services().flows.registration

    def attempt(email: str) -> Callable[[], Any]:
        request = RegistrationRequest(
            flow, email, STRONG_PASSWORD, STRONG_PASSWORD, "male", browser_binding=browser.jar["mitroo_browser"]
        )
        return lambda: registration.register(realm, request)

    calls = [attempt(unique_email("flowrace")) for _ in range(10)]
    outcomes = _race(calls)
    assert outcomes == Counter({"ok": 1, "flow_used": 9})
