"""Changing one's e-mail over HTTP (SPEC §2.10): the request, the mails read from the dev
mailbox, the links' pages and buttons, the realm rules — through the Chalice test client
against the emulator."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.container import services
from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.secrets import code_fingerprint, fingerprint
from chalicelib.domain.tokens import Challenge, Purpose
from tests.integration.test_mfa import age_session, form
from tests.support.arrange import account_in
from tests.support.browser import STRONG_PASSWORD, Browser, unique_email

EIEP = "/api/v1/realms/eiep"


def teacher(browser: Browser) -> tuple[str, str]:
    """An active e-IEP account (username = e-mail), signed in in ``browser``; (e-mail, id)."""
    email = unique_email("change")
    account_id = account_in("eiep", username=email, email=email, password=STRONG_PASSWORD)
    signed = browser.login(email)
    assert signed.status == 201, signed.text
    return email, account_id


def ask(browser: Browser, new: str, realm: str = "eiep") -> Any:
    return browser.post(f"/api/v1/realms/{realm}/me/email", json={"email": new})


def link(browser: Browser, address: str, page: str) -> str:
    """The path of the newest ``page`` link mailed to ``address``."""
    for message in browser.mail_to(address):
        for url in message["links"]:
            if f"/realms/eiep/{page}?token=" in url:
                return "/" + url.split("/", 3)[3]
    raise AssertionError(f"no {page} link to {address}")


def token_of(path: str) -> str:
    found = re.search(r"token=([A-Za-z0-9_-]+)", path)
    assert found is not None
    return found.group(1)


def stored_email(account_id: str) -> str:
    account = services().ports.accounts.get("eiep", account_id)
    assert account is not None
    return account.email


def test_a_change_applies_only_when_the_new_address_presses_the_button(browser: Browser) -> None:
    # Given a signed-in teacher who asks for a new address
    old, account_id = teacher(browser)
    new = unique_email("moved")
    asked = ask(browser, new)
    assert asked.status == 202 and asked.json == {"status": "accepted"}

    # Then the new address has a confirmation link and the old one a notice with a cancel link
    confirm = link(browser, new, "email-change/confirm")
    assert link(browser, old, "email-change/cancel")

    # When the link is opened, its page shows a button and nothing changes
    page = browser.get(confirm, html=True)
    assert page.status == 200 and new in page.text and "/email-change/confirm" in page.text
    assert stored_email(account_id) == old

    # When the button is pressed, the address changes
    pressed = browser.post(f"{EIEP}/email-change/confirm", form=form(browser, token=token_of(confirm)), html=True)
    assert pressed.status == 303 and "/realms/eiep/email-change/done?outcome=changed" in pressed.location
    assert stored_email(account_id) == new

    # And the new address signs in, the old one no longer does; the session stayed
    assert browser.get(f"{EIEP}/me/mfa").status == 200
    assert Browser(browser.client, browser.gsis, browser.pump).login(new).status == 201
    assert Browser(browser.client, browser.gsis, browser.pump).login(old).status == 401
    # And the old address heard of it
    subjects = [message["subject"] for message in browser.mail_to(old)]
    assert any("άλλαξε" in subject or "changed" in subject for subject in subjects)


def test_the_old_address_can_register_again(browser: Browser) -> None:
    old, _ = teacher(browser)
    new = unique_email("moved")
    ask(browser, new)
    confirm = token_of(link(browser, new, "email-change/confirm"))
    assert browser.post(f"{EIEP}/email-change/confirm", json={"token": confirm}).status == 200

    registered = browser.register(browser.gsis_flow(), old)

    assert registered.status == 201, registered.text
    holder = services().ports.accounts.find_by_unique("eiep", UniqueKind.EMAIL, old.casefold())
    assert holder is not None and holder.email == old


def test_an_address_with_an_account_gets_the_same_answer_and_a_notice(browser: Browser) -> None:
    # Given another account at the address asked for
    taken = unique_email("taken")
    account_in("eiep", username=taken, email=taken, password=STRONG_PASSWORD)
    old, account_id = teacher(browser)
    free = ask(browser, unique_email("free"))

    # When the teacher asks for the taken address
    asked = ask(browser, taken)

    # Then the answer is the free address's, the taken one gets a notice without a link
    assert (asked.status, asked.json) == (free.status, free.json)
    mails = browser.mail_to(taken)
    assert len(mails) == 1 and not [url for url in mails[0]["links"] if "token=" in url]
    assert stored_email(account_id) == old


def test_an_address_taken_before_the_confirmation_changes_nothing(browser: Browser) -> None:
    old, account_id = teacher(browser)
    new = unique_email("raced")
    ask(browser, new)
    confirm = token_of(link(browser, new, "email-change/confirm"))
    account_in("eiep", username=new, email=new, password=STRONG_PASSWORD)  # registered meanwhile

    page = f"/realms/eiep/email-change/confirm?token={confirm}"
    assert browser.get(page, html=True).status == 200
    refused = browser.post(
        f"{EIEP}/email-change/confirm", form={**form(browser, token=confirm), "form_page": page}, html=True
    )

    # The page says why, with the API's status, and offers no button; nothing moved
    assert refused.status == 409 and 'data-code="email_taken"' in refused.text and "<button" not in refused.text
    assert stored_email(account_id) == old
    assert browser.login(old).status == 201
    # The link is spent: the API says so
    again = browser.post(f"{EIEP}/email-change/confirm", json={"token": confirm})
    assert again.status == 400 and again.json["code"] == "token_invalid"


def test_a_used_link_and_an_expired_link_are_refused_with_a_clear_page(browser: Browser) -> None:
    _, account_id = teacher(browser)
    new = unique_email("used")
    ask(browser, new)
    confirm = link(browser, new, "email-change/confirm")
    assert browser.post(f"{EIEP}/email-change/confirm", json={"token": token_of(confirm)}).status == 200

    used = browser.post(f"{EIEP}/email-change/confirm", json={"token": token_of(confirm)})
    assert used.status == 400 and used.json["code"] == "token_invalid"
    page = browser.get(confirm, html=True)
    assert page.status == 400 and 'data-code="token_invalid"' in page.text and "<button" not in page.text

    # An expired one
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    services().ports.challenges.replace(
        Challenge(
            realm="eiep",
            account_id=account_id,
            purpose=Purpose.EMAIL_CHANGE,
            token_hash=fingerprint(token),
            code_hash=code_fingerprint("000000", salt=fingerprint(token)),
            created_at=now - timedelta(days=2),
            expires_at=now - timedelta(days=1),
            subject=unique_email("late"),
        )
    )
    expired = browser.post(f"{EIEP}/email-change/confirm", json={"token": token})
    assert expired.status == 410 and expired.json["code"] == "token_expired"
    page = browser.get(f"/realms/eiep/email-change/confirm?token={token}", html=True)
    assert page.status == 410 and 'data-code="token_expired"' in page.text


def test_the_cancel_link_cancels_and_ends_every_session(browser: Browser) -> None:
    # Given a change asked from a session, and the owner signed in on another device
    old, account_id = teacher(browser)
    other = Browser(browser.client, browser.gsis, browser.pump)
    assert other.login(old).status == 201
    new = unique_email("hijack")
    ask(browser, new)
    confirm = token_of(link(browser, new, "email-change/confirm"))
    cancel = link(browser, old, "email-change/cancel")

    # When the old address opens the cancel link, nothing happens until the button
    page = other.get(cancel, html=True)
    assert page.status == 200 and "/email-change/cancel" in page.text
    assert browser.get(f"{EIEP}/me/mfa").status == 200
    pressed = other.post(f"{EIEP}/email-change/cancel", form=form(other, token=token_of(cancel)), html=True)

    # Then the change is gone and every session ended
    assert pressed.status == 303 and "outcome=cancelled" in pressed.location
    assert browser.get(f"{EIEP}/me/mfa").status == 401
    assert other.get(f"{EIEP}/me/mfa").status == 401
    assert not services().ports.sessions.live_families("eiep", account_id, datetime.now(UTC))
    assert browser.post(f"{EIEP}/email-change/confirm", json={"token": confirm}).status == 400
    assert stored_email(account_id) == old


def test_a_change_needs_a_recent_authentication(browser: Browser) -> None:
    _, _ = teacher(browser)
    age_session(browser)
    refused = ask(browser, unique_email("late"))
    assert refused.status == 401 and refused.json["code"] == "reauthentication_required"
    page = browser.get("/realms/eiep/account/email", html=True)
    assert page.status == 200 and "/me/reauthenticate" in page.text and 'name="next"' in page.text

    # The inline re-authentication comes back to the page, which then offers the form
    back = browser.post(
        f"{EIEP}/me/reauthenticate",
        form=form(browser, password=STRONG_PASSWORD, next="/realms/eiep/account/email"),
        html=True,
    )
    assert back.status == 303 and back.location.endswith("/realms/eiep/account/email")
    assert 'action="/api/v1/realms/eiep/me/email"' in browser.get("/realms/eiep/account/email", html=True).text


def test_an_invalid_address_is_a_field_error(browser: Browser) -> None:
    teacher(browser)
    refused = ask(browser, "not-an-address")
    assert refused.status == 422 and refused.json["code"] == "invalid_email" and "email" in refused.json["errors"]


def test_ntua_accounts_are_told_the_secretariat_changes_the_address(browser: Browser) -> None:
    username = f"ntuaperson{secrets.randbelow(10**8)}"
    passphrase = "a long passphrase for the account centre"
    account_in("ntua", username=username, email=f"{username}@example.gr", password=passphrase)
    signed = browser.post("/api/v1/realms/ntua/sessions", json={"username": username, "password": passphrase})
    assert signed.status == 201, signed.text

    refused = ask(browser, unique_email("ntua"), realm="ntua")

    assert refused.status == 403 and refused.json["code"] == "forbidden"
    assert "secretariat" in refused.json["detail"]
    page = browser.get("/realms/ntua/account/email", html=True)
    assert 'data-rule="secretariat"' in page.text and "/me/email" not in page.text
    assert 'aria-current="page"' in page.text


def test_the_page_sends_a_visitor_who_is_not_signed_in_to_the_login(browser: Browser) -> None:
    shown = browser.get("/realms/eiep/account/email", html=True)
    assert shown.status in (302, 303) and shown.location.endswith("/realms/eiep/login")
