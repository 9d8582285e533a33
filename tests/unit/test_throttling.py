"""Login back-off and action limits: per username and per address, silent about accounts.

Proves: five failures are free, the sixth attempt waits 30 s, then the wait doubles up
to 15 minutes; the wait applies to unknown usernames too; a right password clears the
username's failures but not the address's; action limits count per key and per address
and answer with the seconds left in the window.
"""

from __future__ import annotations

import pytest

from chalicelib.domain.identity import GsisIdentity
from chalicelib.errors import InvalidCredentials, TooManyAttempts
from tests.fakes import Kit

ADDRESS = "203.0.113.7"
PASSWORD = "Passw0rd!"


def _fail(kit: Kit, username: str, address: str = ADDRESS, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            kit.sessions.login(kit.realm, username, "Wr0ng!pass", address)


def _retry_after(kit: Kit, username: str, address: str = ADDRESS) -> int:
    with pytest.raises(TooManyAttempts) as refused:
        kit.sessions.login(kit.realm, username, PASSWORD, address)
    assert refused.value.retry_after is not None
    return refused.value.retry_after


def test_five_failures_are_free_and_the_next_attempt_waits_thirty_seconds(kit: Kit, maria: GsisIdentity) -> None:
    kit.activated(maria, "maria@example.gr")
    _fail(kit, "maria@example.gr", times=5)
    assert _retry_after(kit, "maria@example.gr") == 30


def test_the_wait_doubles_with_each_failure_up_to_fifteen_minutes(kit: Kit) -> None:
    username = "nobody@example.gr"
    _fail(kit, username, times=5)
    waits = []
    for _ in range(8):
        # Refused while backing off; after waiting, the attempt is checked (and fails again)
        wait = _retry_after(kit, username)
        waits.append(wait)
        kit.clock.advance(seconds=wait)
        _fail(kit, username)
    assert waits == [30, 60, 120, 240, 480, 900, 900, 900]


def test_an_unknown_username_backs_off_exactly_like_a_known_one(kit: Kit, maria: GsisIdentity) -> None:
    kit.activated(maria, "maria@example.gr")
    _fail(kit, "maria@example.gr", address="198.51.100.1", times=5)
    _fail(kit, "ghost@example.gr", address="198.51.100.2", times=5)
    known = _retry_after(kit, "maria@example.gr", "198.51.100.1")
    unknown = _retry_after(kit, "ghost@example.gr", "198.51.100.2")
    assert known == unknown == 30


def test_the_wait_ends_and_a_right_password_clears_the_username(kit: Kit, maria: GsisIdentity) -> None:
    kit.activated(maria, "maria@example.gr")
    _fail(kit, "maria@example.gr", times=5)
    kit.clock.advance(seconds=30)
    assert kit.sessions.login(kit.realm, "maria@example.gr", PASSWORD, "192.0.2.50").access_token
    # The username starts afresh: five more failures are free again (from a clean address)
    _fail(kit, "maria@example.gr", address="192.0.2.51", times=5)


def test_many_usernames_from_one_address_are_slowed_by_the_address(kit: Kit) -> None:
    # Credential stuffing: one failure each for many accounts, all from one address
    for index in range(5):
        _fail(kit, f"user{index}@example.gr")
    assert _retry_after(kit, "user99@example.gr") == 30


def test_one_username_from_many_addresses_is_slowed_by_the_username(kit: Kit) -> None:
    for index in range(5):
        _fail(kit, "target@example.gr", address=f"192.0.2.{index}")
    assert _retry_after(kit, "target@example.gr", "192.0.2.200") == 30


def test_the_password_is_not_checked_while_backing_off(kit: Kit, maria: GsisIdentity) -> None:
    kit.activated(maria, "maria@example.gr")
    _fail(kit, "maria@example.gr", times=5)
    verified_before = kit.hasher.verifications
    _retry_after(kit, "maria@example.gr")
    assert kit.hasher.verifications == verified_before


def test_action_limits_count_per_key_and_answer_with_the_rest_of_the_window(kit: Kit) -> None:
    limits = kit.realm.throttling.actions["password_reset"]
    for index in range(limits.per_key.count):
        kit.flows.throttle.limit(kit.realm, "password_reset", "maria@example.gr", f"192.0.2.{index}")
    with pytest.raises(TooManyAttempts) as refused:
        kit.flows.throttle.limit(kit.realm, "password_reset", "MARIA@example.gr ", "192.0.2.250")
    assert 0 < (refused.value.retry_after or 0) <= limits.per_key.window.total_seconds()


def test_action_limits_count_per_address(kit: Kit) -> None:
    limits = kit.realm.throttling.actions["password_reset"]
    for index in range(limits.per_address.count):
        kit.flows.throttle.limit(kit.realm, "password_reset", f"person{index}@example.gr", ADDRESS)
    with pytest.raises(TooManyAttempts):
        kit.flows.throttle.limit(kit.realm, "password_reset", "someone.else@example.gr", ADDRESS)


def test_an_action_without_limits_is_not_counted(kit: Kit) -> None:
    for _ in range(1000):
        kit.flows.throttle.limit(kit.realm, "no_such_action", "key", ADDRESS)
