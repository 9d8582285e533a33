"""A mail that SES refuses never loses the account: it is stored first, the mail can be asked for again."""

from __future__ import annotations

import os

import boto3

from chalicelib.container import services
from chalicelib.domain.accounts import AccountStatus, UniqueKind
from tests.support.browser import Browser, unique_email

API = "/api/v1/realms/eiep"


def test_a_refused_activation_mail_keeps_the_account_and_resend_delivers_later(
    browser: Browser, aws_endpoint: str
) -> None:
    ses = boto3.client("ses", endpoint_url=aws_endpoint, region_name=os.environ["AWS_REGION"])
    sender = services().settings.mail_sender
    email = unique_email()
    flow = browser.gsis_flow()

    # Given SES refuses every message (the sender is not verified)
    ses.delete_identity(Identity=sender)
    try:
        # When the person registers and the mail task runs
        registered = browser.register(flow, email)
        assert browser.run_tasks() == 0  # the task failed: SQS keeps it for a retry
    finally:
        ses.verify_email_identity(EmailAddress=sender)

    # Then the account exists, pending, and no mail went out
    assert registered.status == 201
    account = services().flows.sessions.accounts.find_by_unique("eiep", UniqueKind.EMAIL, email.casefold())
    assert account is not None and account.status is AccountStatus.PENDING_ACTIVATION
    assert browser.mail_to(email) == []

    # When SES works again and the person asks for the mail, it arrives and activates
    assert browser.post(f"{API}/activations/resend", json={"email": email}).status == 202
    token, _ = browser.activation_mail(email)
    assert browser.post(f"{API}/activations", json={"token": token}).status == 200
