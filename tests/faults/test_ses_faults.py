"""SES throttling and refusals: the account is kept, the mail task fails and SQS delivers
it again, and the person gets the mail exactly once, with a link that works."""

from __future__ import annotations

from chalicelib.domain.accounts import AccountStatus
from chalicelib.flows import activation
from tests.faults.state import API, account_with_email, link_token, live_challenge, mails
from tests.support.browser import Browser, unique_email
from tests.support.faults import SES_MESSAGE_REJECTED, SES_THROTTLING, Faults, FaultyPump


def test_one_throttled_send_is_retried_by_the_sdk_and_mailed_once(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given SES throttles the next SendEmail once ("Maximum sending rate exceeded.")
    faults.inject("ses.SendEmail", SES_THROTTLING, times=1)
    email = unique_email()

    # When a person registers and the mail task runs
    assert browser.register(browser.gsis_flow(), email).status == 201
    browser.run_tasks()

    # Then botocore's second attempt went through, within the task's first delivery
    assert faults.attempts["ses.SendEmail"] == 2
    assert [count for _, count in pump.delivered(activation.SEND)] == [1]
    # and exactly one mail arrived, whose link activates the pending account
    [mail] = mails(browser, email)
    assert browser.post(f"{API}/activations", json={"token": link_token(mail)}).status == 200
    account = account_with_email("eiep", email)
    assert account is not None and account.status is AccountStatus.ACTIVE


def test_throttling_beyond_the_sdk_retries_fails_the_task_and_the_redelivery_mails_once(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given SES throttles every SendEmail
    rule = faults.inject("ses.SendEmail", SES_THROTTLING)
    email = unique_email()

    # When a person registers and the mail task runs
    registered = browser.register(browser.gsis_flow(), email)
    assert browser.run_tasks() == 0

    # Then the account is stored, pending, with no live activation challenge (the one the
    # failed task issued was withdrawn) and no mail; the task waits in SQS
    assert registered.status == 201
    account = account_with_email("eiep", email)
    assert account is not None and account.status is AccountStatus.PENDING_ACTIVATION
    assert live_challenge(account) is None
    assert mails(browser, email) == []
    assert rule.injected == 2  # both attempts of the one delivery were throttled
    assert len(pump.in_flight) == 1

    # When SES recovers and the visibility timeout passes
    faults.clear()
    pump.visibility_timeout_passes()
    assert browser.run_tasks() == 1

    # Then the second delivery sent the mail, once, and its link activates the account
    assert [count for _, count in pump.delivered(activation.SEND)] == [2]
    [mail] = mails(browser, email)
    assert browser.post(f"{API}/activations", json={"token": link_token(mail)}).status == 200


def test_a_rejected_resend_keeps_the_earlier_link_working_and_is_mailed_once_redelivered(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given a person who got the activation mail
    email = unique_email()
    assert browser.register(browser.gsis_flow(), email).status == 201
    browser.run_tasks()
    [first] = mails(browser, email)
    account = account_with_email("eiep", email)
    assert account is not None
    earlier = live_challenge(account)

    # When they ask for it again while SES rejects the message (MessageRejected: not retried)
    rejected = faults.inject("ses.SendEmail", SES_MESSAGE_REJECTED)
    assert browser.post(f"{API}/activations/resend", json={"email": email}).status == 202
    assert browser.run_tasks() == 0

    # Then one attempt was made, nothing was sent, and the first mail's challenge is back
    assert rejected.injected == 1
    assert len(mails(browser, email)) == 1
    assert live_challenge(account) == earlier

    # When SES accepts mail again and SQS redelivers the resend
    faults.clear()
    pump.visibility_timeout_passes()
    assert browser.run_tasks() == 1

    # Then exactly one more mail arrived; its link works and replaced the first one's
    second, _ = mails(browser, email)
    assert second["html"] != first["html"]
    assert browser.post(f"{API}/activations", json={"token": link_token(first)}).json["code"] == "token_invalid"
    assert browser.post(f"{API}/activations", json={"token": link_token(second)}).status == 200


def test_a_mail_ses_never_accepts_goes_to_the_dead_letter_queue_and_the_account_stays(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given SES rejects every message
    faults.inject("ses.SendEmail", SES_MESSAGE_REJECTED)
    email = unique_email()
    assert browser.register(browser.gsis_flow(), email).status == 201

    # When SQS delivers the mail task again after every failure, as long as it will
    for _ in range(8):
        browser.run_tasks()
        if not pump.visibility_timeout_passes():
            break

    # Then it was tried five times (the queue's maxReceiveCount), then dead-lettered
    assert [count for _, count in pump.delivered(activation.SEND)] == [5]
    dead = pump.dead_letters()
    assert [body["kind"] for body in dead] == [activation.SEND]
    # and the account is there, pending, without a live challenge
    account = account_with_email("eiep", email)
    assert account is not None and account.status is AccountStatus.PENDING_ACTIVATION
    assert live_challenge(account) is None

    # When SES recovers, the person asks for the mail and gets it once
    faults.clear()
    assert browser.post(f"{API}/activations/resend", json={"email": email}).status == 202
    browser.run_tasks()
    [mail] = mails(browser, email)
    assert browser.post(f"{API}/activations", json={"token": link_token(mail)}).status == 200
