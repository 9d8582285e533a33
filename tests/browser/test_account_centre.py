"""The account centre in Chromium (SPEC §2.10), without script needed: a password changed
on the Profile tab signs the same person out in another browser; a session ended from the
Sessions tab signs that other browser out, while this one stays."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.site import Site

PASSPHRASE = "correct horse battery staple of the account"
NEW_PASSPHRASE = "a new and rather long passphrase here"
_names = itertools.count(1)


def _person(site: Site) -> str:
    username = f"browser.acct{next(_names)}"
    site.account("ntua", username=username, email=f"{username}@example.gr", password=PASSPHRASE)
    return username


def _sign_in(page: Any, site: Site, username: str, password: str = PASSPHRASE) -> None:
    page.goto(site.realm("ntua", "/login"))
    page.get_by_label(re.compile("^Όνομα χρήστη")).fill(username)
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(password)
    page.get_by_role("button", name="Είσοδος", exact=True).click()
    page.wait_for_url("**/realms/ntua/home")


@pytest.fixture
def other_page(chromium: Any) -> Iterator[Any]:
    """A second browser (its own cookies): the same person's laptop."""
    context = chromium.new_context(locale="el-GR")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _signed_out(page: Any, site: Site) -> bool:
    page.goto(site.realm("ntua", "/account"))
    return bool(re.search(r"/realms/ntua/login", page.url))


def test_a_password_changed_on_the_profile_signs_the_other_browser_out(site: Site, page: Any, other_page: Any) -> None:
    # Given a person signed in in two browsers
    username = _person(site)
    _sign_in(page, site, username)
    _sign_in(other_page, site, username)

    # When they change the password on the Profile tab of the first
    page.get_by_role("link", name="Ο λογαριασμός σας").first.click()
    page.wait_for_url("**/realms/ntua/account")
    page.get_by_label(re.compile("^Τρέχων κωδικός")).fill(PASSPHRASE)
    page.get_by_label(re.compile("^Νέος κωδικός πρόσβασης$|^Νέος κωδικός πρόσβασης \\*")).fill(NEW_PASSPHRASE)
    page.get_by_label(re.compile("^Νέος κωδικός πρόσβασης ξανά")).fill(NEW_PASSPHRASE)
    page.get_by_role("button", name="Αλλαγή κωδικού").click()

    # Then the first browser is told and stays signed in; the other is signed out
    page.wait_for_url("**/realms/ntua/account?done=password")
    assert page.locator("[data-notice='password']").count() == 1
    assert _signed_out(other_page, site)
    assert not _signed_out(page, site)


def test_a_session_is_ended_from_the_sessions_page(site: Site, page: Any, other_page: Any) -> None:
    # Given a person signed in in two browsers, on the Sessions tab of the first
    username = _person(site)
    _sign_in(other_page, site, username)
    _sign_in(page, site, username)
    page.goto(site.realm("ntua", "/account/sessions"))
    assert page.locator("tr[data-session]").count() == 2

    # When they sign the other session out
    page.locator("tr[data-session]:not([data-current])").get_by_role("button", name="Αποσύνδεση").click()

    # Then one session is left, this one, and the other browser is signed out
    page.wait_for_url("**/account/sessions?done=ended")
    assert page.locator("tr[data-session]").count() == 1
    assert page.locator("tr[data-current]").count() == 1
    assert _signed_out(other_page, site)
