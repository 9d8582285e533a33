"""The login benchmark (``bench.login``) measures what its labels say: a *returning*
browser sends the device cookie of its earlier sign-in and is recognised, and a *new*
browser plays a client at an address of its own. Both were once broken without a
sign: the cookie was looked up as ``set-cookie`` in a header dict that spells it
``Set-Cookie``, and the address header was ignored, so both series ran as one new
browser at 127.0.0.1 — and the address window refused the benchmark once it grew."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import bench.common
from bench.common import BENCH_PASSWORD, login_once, make_client
from chalicelib.flows.throttling import Throttle
from tests.support.arrange import account_in


def test_the_benchmark_s_returning_browser_is_recognised_and_a_new_one_comes_from_its_own_address(
    chalice_app: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the benchmark's account (under a name of this test's own)
    username = f"bench.{uuid.uuid4().hex[:10]}@example.gr"
    account_in("eiep", username=username, email=username, password=BENCH_PASSWORD)
    monkeypatch.setattr(bench.common, "BENCH_USERNAME", username)
    seen: list[tuple[str, str | None]] = []
    original = Throttle.login_claims

    def spy(self: Throttle, realm: Any, name: str, address: str, device: str | None) -> Any:
        seen.append((address, device))
        return original(self, realm, name, address, device)

    monkeypatch.setattr(Throttle, "login_claims", spy)

    # When it signs in once, again with the device cookie it got, and as a new browser elsewhere
    with make_client() as client:
        device = login_once(client)
        login_once(client, device)
        login_once(client, None, "203.0.113.9")

    # Then the first sign-in gave a device cookie, the second was a known browser's,
    # and the third came from its own address as an unknown browser
    assert device
    assert seen[0][1] is None and seen[1][1] is not None
    assert seen[2] == ("203.0.113.9", None)
