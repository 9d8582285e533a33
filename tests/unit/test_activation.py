"""E-mail activation: by link token or typed code, once, before expiry, newest mail only.

Proves: a link or code activates a pending account exactly once; expiry gives
TokenExpired; a resend kills the previous link and code; wrong codes are counted and the
realm's limit discards the challenge; unknown addresses look like wrong codes; resend is
silent unless a pending account has the address.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.domain.accounts import AccountStatus
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.tokens import Purpose
from chalicelib.errors import AccountDisabled, TokenExpired, TokenInvalid
from chalicelib.realms import get_realm
from tests.fakes import Kit, arranged

EMAIL = "maria@example.gr"


def _mailed(kit: Kit, email: str = EMAIL) -> tuple[str, str]:
    """(token, code) of the newest mail to ``email``."""
    context = kit.mailer.to(email)[-1].context
    return parse_qs(urlsplit(context["link"]).query)["token"][0], context["code"]


def _status(kit: Kit, account_id: str) -> AccountStatus:
    account = kit.accounts.get("eiep", account_id)
    assert account is not None
    return account.status


@pytest.fixture
def pending(kit: Kit, maria: GsisIdentity) -> str:
    """Maria's pending account id (one activation mail sent)."""
    return kit.register(maria, EMAIL).account_id


def test_the_link_token_activates_the_account(kit: Kit, pending: str) -> None:
    token, _ = _mailed(kit)
    kit.clock.advance(hours=2)
    assert kit.activation.activate_by_token(kit.realm, token) is AccountStatus.ACTIVE
    account = kit.accounts.get("eiep", pending)
    assert account is not None and account.activated_at == kit.clock.now()


def test_a_resend_whose_mail_fails_leaves_the_earlier_mail_working(kit: Kit, pending: str) -> None:
    # Given the first mail arrived, and the resend's mail cannot be sent
    token, _ = _mailed(kit)
    kit.mailer.fail_next(1)

    # When the person asks for another mail
    kit.activation.resend(kit.realm, EMAIL)

    # Then the first mail's link still activates the account
    assert kit.activation.activate_by_token(kit.realm, token) is AccountStatus.ACTIVE


def test_a_first_mail_that_fails_leaves_no_live_challenge_and_resend_works(kit: Kit, maria: GsisIdentity) -> None:
    # Given registration succeeded but its mail failed
    kit.mailer.fail_next(1)
    account_id = kit.register(maria, EMAIL).account_id
    assert kit.challenges.repository.find_for_account("eiep", account_id, Purpose.ACTIVATION) is None

    # When the person asks again, the new mail activates the account
    kit.activation.resend(kit.realm, EMAIL)
    token, _ = _mailed(kit)
    assert kit.activation.activate_by_token(kit.realm, token) is AccountStatus.ACTIVE


def test_the_link_token_works_once(kit: Kit, pending: str) -> None:
    token, _ = _mailed(kit)
    kit.activation.activate_by_token(kit.realm, token)
    with pytest.raises(TokenInvalid):
        kit.activation.activate_by_token(kit.realm, token)


def test_an_expired_link_token_is_token_expired_and_activates_nothing(kit: Kit, pending: str) -> None:
    token, _ = _mailed(kit)
    kit.clock.advance(days=1)
    with pytest.raises(TokenExpired):
        kit.activation.activate_by_token(kit.realm, token)
    assert _status(kit, pending) is AccountStatus.PENDING_ACTIVATION


@pytest.mark.parametrize("token", ["", "never-issued-token"])
def test_an_unknown_link_token_is_token_invalid(kit: Kit, pending: str, token: str) -> None:
    with pytest.raises(TokenInvalid):
        kit.activation.activate_by_token(kit.realm, token)


def test_a_link_token_of_another_realm_is_token_invalid(kit: Kit, pending: str) -> None:
    token, _ = _mailed(kit)
    with pytest.raises(TokenInvalid):
        kit.activation.activate_by_token(get_realm("ntua"), token)
    assert _status(kit, pending) is AccountStatus.PENDING_ACTIVATION


def test_after_a_resend_only_the_newest_mail_works(kit: Kit, pending: str) -> None:
    # Given a first mail and then a resend
    old_token, old_code = _mailed(kit)
    kit.activation.resend(kit.realm, EMAIL)
    new_token, new_code = _mailed(kit)
    assert (new_token, new_code) != (old_token, old_code)
    # Then the old link and the old code are dead
    with pytest.raises(TokenInvalid):
        kit.activation.activate_by_token(kit.realm, old_token)
    with pytest.raises(TokenInvalid):
        kit.activation.activate_by_code(kit.realm, EMAIL, old_code)
    # And the new link works
    assert kit.activation.activate_by_token(kit.realm, new_token) is AccountStatus.ACTIVE


def test_the_code_activates_the_account(kit: Kit, pending: str) -> None:
    _, code = _mailed(kit)
    assert kit.activation.activate_by_code(kit.realm, " MARIA@Example.gr ", f" {code} ") is AccountStatus.ACTIVE
    assert _status(kit, pending) is AccountStatus.ACTIVE


def test_link_and_code_are_one_challenge(kit: Kit, pending: str) -> None:
    token, code = _mailed(kit)
    kit.activation.activate_by_token(kit.realm, token)
    with pytest.raises(TokenInvalid):
        kit.activation.activate_by_code(kit.realm, EMAIL, code)


def test_a_wrong_code_is_counted_before_it_is_compared(kit: Kit, pending: str) -> None:
    with pytest.raises(TokenInvalid):
        kit.activation.activate_by_code(kit.realm, EMAIL, "000000")
    [counted] = [item for key, item in kit.store.attempts.items() if f"#code#activation#{pending}" in key]
    assert counted["n"] == 1
    assert _status(kit, pending) is AccountStatus.PENDING_ACTIVATION


def test_the_right_code_still_works_after_one_fewer_wrong_codes_than_the_limit(kit: Kit, pending: str) -> None:
    _, code = _mailed(kit)
    for _ in range(kit.realm.activation_code_attempts - 1):
        with pytest.raises(TokenInvalid):
            kit.activation.activate_by_code(kit.realm, EMAIL, "000000")
    assert kit.activation.activate_by_code(kit.realm, EMAIL, code) is AccountStatus.ACTIVE


def test_at_the_wrong_code_limit_the_challenge_is_discarded(kit: Kit, pending: str) -> None:
    # Given the realm's limit of wrong codes was reached
    token, code = _mailed(kit)
    for _ in range(kit.realm.activation_code_attempts):
        with pytest.raises(TokenInvalid):
            kit.activation.activate_by_code(kit.realm, EMAIL, "000000")
    # Then neither the right code nor the link works any more
    with pytest.raises(TokenInvalid):
        kit.activation.activate_by_code(kit.realm, EMAIL, code)
    with pytest.raises(TokenInvalid):
        kit.activation.activate_by_token(kit.realm, token)
    assert _status(kit, pending) is AccountStatus.PENDING_ACTIVATION
    # And a new mail starts over
    kit.activation.resend(kit.realm, EMAIL)
    assert kit.activation.activate_by_code(kit.realm, EMAIL, _mailed(kit)[1]) is AccountStatus.ACTIVE


def test_an_expired_code_is_token_expired(kit: Kit, pending: str) -> None:
    _, code = _mailed(kit)
    kit.clock.advance(days=1)
    with pytest.raises(TokenExpired):
        kit.activation.activate_by_code(kit.realm, EMAIL, code)


def test_a_code_for_an_unknown_address_looks_like_a_wrong_code(kit: Kit, pending: str) -> None:
    _, code = _mailed(kit)
    with pytest.raises(TokenInvalid):
        kit.activation.activate_by_code(kit.realm, "nobody@example.gr", code)
    assert _status(kit, pending) is AccountStatus.PENDING_ACTIVATION


def test_the_code_is_checked_against_the_addressed_account_only(kit: Kit, pending: str, nikos: GsisIdentity) -> None:
    # Given Nikos also registered; Maria's code must not activate him
    kit.register(nikos, "nikos@example.gr")
    _, maria_code = _mailed(kit)
    with pytest.raises(TokenInvalid):
        kit.activation.activate_by_code(kit.realm, "nikos@example.gr", maria_code)


def test_resend_for_an_unknown_address_sends_nothing(kit: Kit, pending: str) -> None:
    kit.activation.resend(kit.realm, "nobody@example.gr")
    assert len(kit.mailer.sent) == 1


def test_resend_for_an_active_account_sends_nothing(kit: Kit, pending: str) -> None:
    kit.activation.activate_by_token(kit.realm, _mailed(kit)[0])
    kit.activation.resend(kit.realm, EMAIL)
    assert len(kit.mailer.sent) == 1


def test_resend_for_a_pending_account_sends_a_new_mail(kit: Kit, pending: str) -> None:
    kit.activation.resend(kit.realm, "Maria@Example.GR")
    assert len(kit.mailer.to(EMAIL)) == 2


def test_a_failed_resend_is_silent(kit: Kit, pending: str) -> None:
    # A failed mail is logged, not raised: the endpoint answers 202 either way
    kit.mailer.fail_next(1)
    kit.activation.resend(kit.realm, EMAIL)
    assert len(kit.mailer.sent) == 1


def test_activation_never_reenables_a_disabled_account(kit: Kit, pending: str) -> None:
    # Given an administrator disabled the account before it was activated
    token, _ = _mailed(kit)
    assert kit.accounts.set_status(
        "eiep",
        pending,
        AccountStatus.DISABLED,
        expected=AccountStatus.PENDING_ACTIVATION,
        now=kit.clock.now(),
        audit=arranged("x", "x"),
    )
    # When the mailed link is used, the person is told the account is disabled, and it stays so
    with pytest.raises(AccountDisabled):
        kit.activation.activate_by_token(kit.realm, token)
    assert _status(kit, pending) is AccountStatus.DISABLED
