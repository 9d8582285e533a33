"""The daily expiry sweep: expire what passed, warn at 30 and 7 days (once), audit,
catch up missed days, and never look at accounts filed under other days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.errors import AccountExpired
from tests.fakes import Kit, arranged, build_flows

TODAY = date(2025, 3, 3)  # the fakes' clock starts on this day


@pytest.fixture
def ntua() -> Kit:
    return build_flows("ntua")


def _account(kit: Kit, name: str, expires_on: date, status: AccountStatus = AccountStatus.ACTIVE) -> Account:
    now = kit.clock.now()
    account = Account(
        account_id=name,
        realm="ntua",
        username=name,
        email=f"{name}@example.gr",
        status=status,
        created_at=now,
        updated_at=now,
        password_hash=kit.hasher.hash("a long enough passphrase here"),
        affiliation="postgraduate",
        expires_on=expires_on,
    )
    kit.accounts.create(account, audit=arranged(account.realm, account.account_id))
    return account


def _status(kit: Kit, account_id: str) -> AccountStatus:
    account = kit.accounts.get("ntua", account_id)
    assert account is not None
    return account.status


def test_an_account_past_its_last_day_is_expired_and_audited(ntua: Kit) -> None:
    # Given accounts whose last day was yesterday, is today, and is tomorrow
    _account(ntua, "yesterday", TODAY - timedelta(days=1))
    _account(ntua, "today", TODAY)
    _account(ntua, "tomorrow", TODAY + timedelta(days=1))

    # When the sweep runs today
    report = ntua.flows.expiry.sweep(ntua.realm, TODAY)

    # Then only yesterday's account expired, with an audit record, and it cannot sign in
    assert report.expired == 1
    assert [_status(ntua, n) for n in ("yesterday", "today", "tomorrow")] == [
        AccountStatus.EXPIRED,
        AccountStatus.ACTIVE,
        AccountStatus.ACTIVE,
    ]
    [entry] = [e for e in ntua.flows.expiry.audit.entries("ntua", "yesterday") if e.action != "arranged by the test"]
    assert (entry.action, entry.actor) == ("account_expired", "system:expiry")
    with pytest.raises(AccountExpired):
        ntua.sessions.login(ntua.realm, "yesterday", "a long enough passphrase here")


def test_owners_are_warned_thirty_and_seven_days_before_once_each(ntua: Kit) -> None:
    _account(ntua, "in30", TODAY + timedelta(days=30))
    _account(ntua, "in7", TODAY + timedelta(days=7))
    _account(ntua, "in8", TODAY + timedelta(days=8))

    first = ntua.flows.expiry.sweep(ntua.realm, TODAY)
    again = ntua.flows.expiry.sweep(ntua.realm, TODAY)

    assert first.warned == {30: 1, 7: 1} and again.warned == {30: 0, 7: 0}
    warned = sorted(message.to for message in ntua.mailer.sent if message.template == "expiry_warning")
    assert warned == ["in30@example.gr", "in7@example.gr"]
    context = next(m.context for m in ntua.mailer.sent if m.to == "in7@example.gr")
    assert context["days"] == 7 and context["expires_on"] == (TODAY + timedelta(days=7)).strftime("%d/%m/%Y")


def test_a_renewed_account_is_warned_again_for_its_new_date(ntua: Kit) -> None:
    _account(ntua, "renewed", TODAY + timedelta(days=30))
    ntua.flows.expiry.sweep(ntua.realm, TODAY)
    ntua.accounts.set_expiry("ntua", "renewed", TODAY + timedelta(days=60), ntua.clock.now())
    ntua.flows.expiry.sweep(ntua.realm, TODAY + timedelta(days=30))
    assert sum(m.to == "renewed@example.gr" for m in ntua.mailer.sent) == 2


def test_missed_days_are_caught_up(ntua: Kit) -> None:
    # Given a sweep on Monday, then none until Thursday
    ntua.flows.expiry.sweep(ntua.realm, TODAY)
    _account(ntua, "tuesday", TODAY + timedelta(days=1))
    _account(ntua, "wednesday", TODAY + timedelta(days=2))

    report = ntua.flows.expiry.sweep(ntua.realm, TODAY + timedelta(days=3))

    assert (report.first, report.last) == (TODAY + timedelta(days=1), TODAY + timedelta(days=3))
    assert report.expired == 2


def test_the_sweep_reads_only_accounts_of_the_days_it_looks_at(ntua: Kit) -> None:
    for index in range(50):
        _account(ntua, f"far{index}", TODAY + timedelta(days=200 + index))
    _account(ntua, "due", TODAY - timedelta(days=1))
    report = ntua.flows.expiry.sweep(ntua.realm, TODAY)
    assert report.examined == 1


def test_disabled_accounts_are_neither_expired_nor_warned(ntua: Kit) -> None:
    _account(ntua, "gone", TODAY - timedelta(days=1), AccountStatus.DISABLED)
    _account(ntua, "quiet", TODAY + timedelta(days=7), AccountStatus.DISABLED)
    report = ntua.flows.expiry.sweep(ntua.realm, TODAY)
    assert report.expired == 0 and report.warned == {30: 0, 7: 0}
    assert _status(ntua, "gone") is AccountStatus.DISABLED


def test_login_refuses_an_account_past_its_day_even_before_the_sweep(ntua: Kit) -> None:
    _account(ntua, "lapsed", TODAY - timedelta(days=1))
    with pytest.raises(AccountExpired):
        ntua.sessions.login(ntua.realm, "lapsed", "a long enough passphrase here")
