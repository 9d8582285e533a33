"""Login back-off and action limits: per username, per address and per known browser,
silent about accounts.

Proves: five failures are free, the sixth attempt waits 30 s, then the wait doubles up
to 15 minutes; the wait applies to unknown usernames too; a right password clears the
username; one address is held to a sliding window of attempts (an IPv6 client to its
/64); a browser that signed in before has a back-off of its own, so neither a guesser
nor the address's window locks its owner out; action limits count per key and per
address and answer with the seconds left in the window.
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


def test_many_usernames_from_one_address_are_held_to_the_address_window(kit: Kit) -> None:
    # Given the address window of the realm (attempts by unknown browsers per 15 minutes)
    window = kit.realm.throttling.login_address_limit
    # When one address sprays one failure each over many usernames
    for index in range(window.count):
        _fail(kit, f"user{index}@example.gr")
    # Then the next attempt from it waits for the window, whatever the username
    assert 0 < _retry_after(kit, "user99999@example.gr") <= window.window.total_seconds()


def test_a_few_typos_behind_a_school_nat_lock_nobody_else_out(kit: Kit, maria: GsisIdentity) -> None:
    # Given five colleagues behind one address who each mistyped once
    kit.activated(maria, "maria@example.gr")
    for index in range(5):
        _fail(kit, f"colleague{index}@example.gr")
    # When a teacher who never failed signs in from the same address
    # Then she is let in
    assert kit.sessions.login(kit.realm, "maria@example.gr", PASSWORD, ADDRESS).access_token


def test_an_ipv6_client_counts_as_its_whole_slash_64(kit: Kit) -> None:
    window = kit.realm.throttling.login_address_limit
    for index in range(window.count):
        _fail(kit, f"user{index}@example.gr", address=f"2001:db8:1:2::{index + 1:x}")
    with pytest.raises(TooManyAttempts):
        kit.sessions.login(kit.realm, "other@example.gr", PASSWORD, "2001:db8:1:2:ffff::9")
    # Another /64 is another client
    _fail(kit, "other@example.gr", address="2001:db8:1:3::1")


def test_a_known_browser_is_not_locked_out_by_a_guesser(kit: Kit, maria: GsisIdentity) -> None:
    # Given Maria signed in once from her browser, which keeps its device cookie
    kit.activated(maria, "maria@example.gr")
    device = kit.sessions.login(kit.realm, "maria@example.gr", PASSWORD, "192.0.2.60").device_cookie
    # When a stranger exhausts her username's free failures from elsewhere
    _fail(kit, "maria@example.gr", address="198.51.100.99", times=5)
    assert _retry_after(kit, "maria@example.gr", "198.51.100.99") == 30
    # Then her own browser still signs her in
    pair = kit.sessions.login(kit.realm, "maria@example.gr", PASSWORD, "192.0.2.60", device_cookie=device)
    assert pair.access_token


def test_a_known_browser_backs_off_on_its_own_failures(kit: Kit, maria: GsisIdentity) -> None:
    kit.activated(maria, "maria@example.gr")
    device = kit.sessions.login(kit.realm, "maria@example.gr", PASSWORD, ADDRESS).device_cookie
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            kit.sessions.login(kit.realm, "maria@example.gr", "Wr0ng!pass", ADDRESS, device_cookie=device)
    with pytest.raises(TooManyAttempts) as refused:
        kit.sessions.login(kit.realm, "maria@example.gr", PASSWORD, ADDRESS, device_cookie=device)
    assert refused.value.retry_after == 30


def test_a_device_cookie_of_another_account_or_a_forged_one_is_a_stranger(kit: Kit, maria: GsisIdentity) -> None:
    kit.activated(maria, "maria@example.gr")
    device = kit.sessions.login(kit.realm, "maria@example.gr", PASSWORD, ADDRESS).device_cookie
    assert device is not None
    devices = kit.flows.sessions.devices
    assert devices.recognise(kit.realm, "maria@example.gr", device) is not None
    assert devices.recognise(kit.realm, "other@example.gr", device) is None
    assert devices.recognise(kit.realm, "maria@example.gr", device[:-4] + "AAAA") is None
    assert devices.recognise(kit.realm, "maria@example.gr", "not-a-cookie") is None


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
