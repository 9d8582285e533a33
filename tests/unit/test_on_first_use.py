"""Adapters and AWS clients built on first use (``chalicelib.on_first_use``): nothing is
built before it is needed, everything is built once even when a login's threads ask for
it together, and the stand-in answers as the adapter does."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.on_first_use import ClientsOnFirstUse, built_on_first_use


class _Adapter:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, text: str) -> int:
        self.sent.append(text)
        return len(self.sent)


def _slow_counting_factory(builds: list[int]) -> _Adapter:
    builds.append(1)
    time.sleep(0.05)  # long enough for the other threads to arrive while it builds
    return _Adapter()


def test_an_adapter_is_not_built_until_it_is_used_and_then_answers_as_itself() -> None:
    # Given a port built on first use
    builds: list[int] = []
    port = built_on_first_use(lambda: _slow_counting_factory(builds))

    # When nothing has used it, Then nothing was built
    assert builds == []

    # When it is used twice
    assert port.send("first") == 1
    assert port.send("second") == 2

    # Then it was built once, and the calls reached the same adapter
    assert builds == [1]
    assert port.sent == ["first", "second"]


def test_threads_that_use_it_at_once_build_it_once() -> None:
    # Given a port nobody used yet
    builds: list[int] = []
    port = built_on_first_use(lambda: _slow_counting_factory(builds))
    start = threading.Barrier(8)

    def use(n: int) -> int:
        start.wait()
        return port.send(f"call {n}")

    # When eight threads use it at the same moment
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = sorted(pool.map(use, range(8)))

    # Then one adapter was built and served them all
    assert builds == [1]
    assert answers == list(range(1, 9))


def test_a_failed_build_is_retried_on_the_next_use() -> None:
    # Given a port whose first build fails (a secret not readable yet)
    attempts: list[int] = []

    def build() -> _Adapter:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("secret unavailable")
        return _Adapter()

    port = built_on_first_use(build)

    # When it is used, Then the failure surfaces to that caller
    with pytest.raises(RuntimeError, match="secret unavailable"):
        port.send("lost")

    # And the next use builds it again and works
    assert port.send("kept") == 1
    assert len(attempts) == 2


def test_a_client_is_created_on_its_first_lookup_once_and_only_for_its_role() -> None:
    # Given two client roles
    created: list[str] = []

    def factory(role: str) -> object:
        created.append(role)
        time.sleep(0.02)
        return object()

    clients = ClientsOnFirstUse({"dynamodb": lambda: factory("dynamodb"), "s3": lambda: factory("s3")})

    # When threads look one role up at once
    with ThreadPoolExecutor(max_workers=6) as pool:
        found = list(pool.map(lambda _: clients["dynamodb"], range(6)))

    # Then that client alone was created, once, and everyone got it
    assert created == ["dynamodb"]
    assert all(client is found[0] for client in found)
    assert clients.created() == ["dynamodb"]
    assert set(clients) == {"dynamodb", "s3"} and len(clients) == 2


def test_every_client_is_created_when_the_mapping_is_walked_and_an_unknown_role_is_an_error() -> None:
    # Given clients nobody looked up
    clients = ClientsOnFirstUse({"ses": object, "sqs": object})

    # When something wants every client's events (the fault injector, the wire timer)
    every = list(clients.values())

    # Then each exists, and a role nobody declared is a KeyError, as in any mapping
    assert len(every) == 2 and clients.created() == ["ses", "sqs"]
    assert clients.get("kms") is None
    with pytest.raises(KeyError):
        clients["kms"]
