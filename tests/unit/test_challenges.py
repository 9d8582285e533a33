"""Action challenges: only fingerprints are stored, each challenge is bound to its realm
and purpose, and expiry is checked in code (TTL deletes late)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.accounts import Account
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.secrets import code_fingerprint, fingerprint
from chalicelib.domain.tokens import Purpose
from chalicelib.errors import TokenExpired, TokenInvalid
from tests.fakes import Kit

LIFETIME = timedelta(hours=1)


@pytest.fixture
def account(kit: Kit, maria: GsisIdentity) -> Account:
    registered = kit.register(maria, "maria@example.gr")
    found = kit.accounts.get("eiep", registered.account_id)
    assert found is not None
    return found


def test_only_fingerprints_of_token_and_code_are_stored(kit: Kit, account: Account) -> None:
    issued = kit.challenges.issue(account, Purpose.PASSWORD_RESET, LIFETIME)
    stored = kit.challenge_repository.find_for_account("eiep", account.account_id, Purpose.PASSWORD_RESET)
    assert stored == issued.challenge
    assert stored.token_hash == fingerprint(issued.token) != issued.token
    assert stored.code_hash == code_fingerprint(issued.code, salt=stored.token_hash)
    assert issued.code not in stored.code_hash and stored.expires_at == kit.clock.now() + LIFETIME


def test_a_code_fingerprint_depends_on_the_challenge(kit: Kit, account: Account) -> None:
    first = kit.challenges.issue(account, Purpose.PASSWORD_RESET, LIFETIME).challenge
    assert code_fingerprint("123456", salt=first.token_hash) != code_fingerprint("123456", salt=fingerprint("other"))


def test_redeeming_a_token_returns_the_challenge_once(kit: Kit, account: Account) -> None:
    issued = kit.challenges.issue(account, Purpose.PASSWORD_RESET, LIFETIME)
    assert kit.challenges.redeem_token("eiep", Purpose.PASSWORD_RESET, issued.token) == issued.challenge
    with pytest.raises(TokenInvalid):
        kit.challenges.redeem_token("eiep", Purpose.PASSWORD_RESET, issued.token)


def test_a_token_for_another_purpose_is_invalid_and_survives(kit: Kit, account: Account) -> None:
    issued = kit.challenges.issue(account, Purpose.PASSWORD_RESET, LIFETIME)
    with pytest.raises(TokenInvalid):
        kit.challenges.redeem_token("eiep", Purpose.ACTIVATION, issued.token)
    assert kit.challenges.redeem_token("eiep", Purpose.PASSWORD_RESET, issued.token) == issued.challenge


def test_a_token_is_good_until_the_instant_it_expires(kit: Kit, account: Account) -> None:
    issued = kit.challenges.issue(account, Purpose.PASSWORD_RESET, LIFETIME)
    kit.clock.advance(minutes=59, seconds=59)
    kit.challenges.redeem_token("eiep", Purpose.PASSWORD_RESET, issued.token)
    again = kit.challenges.issue(account, Purpose.PASSWORD_RESET, LIFETIME)
    kit.clock.advance(hours=1)
    with pytest.raises(TokenExpired):
        kit.challenges.redeem_token("eiep", Purpose.PASSWORD_RESET, again.token)


def test_purposes_are_independent(kit: Kit, account: Account) -> None:
    reset = kit.challenges.issue(account, Purpose.PASSWORD_RESET, LIFETIME)
    kit.challenges.issue(account, Purpose.PASSWORD_SETUP, LIFETIME)
    assert kit.challenges.redeem_token("eiep", Purpose.PASSWORD_RESET, reset.token) == reset.challenge


def test_redeeming_a_code_without_an_account_is_invalid(kit: Kit) -> None:
    with pytest.raises(TokenInvalid):
        kit.challenges.redeem_code(None, Purpose.PASSWORD_RESET, "100001", 5)


def test_redeeming_a_code_with_no_live_challenge_is_invalid(kit: Kit, account: Account) -> None:
    with pytest.raises(TokenInvalid):
        kit.challenges.redeem_code(account, Purpose.PASSWORD_RESET, "100001", 5)


def test_the_attempt_limit_is_the_callers(kit: Kit, account: Account) -> None:
    issued = kit.challenges.issue(account, Purpose.PASSWORD_RESET, LIFETIME)
    with pytest.raises(TokenInvalid):
        kit.challenges.redeem_code(account, Purpose.PASSWORD_RESET, "wrong", max_attempts=1)
    with pytest.raises(TokenInvalid):
        kit.challenges.redeem_code(account, Purpose.PASSWORD_RESET, issued.code, max_attempts=1)
