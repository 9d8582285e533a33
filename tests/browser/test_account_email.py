"""Changing one's e-mail in Chromium (SPEC §2.10), end to end through the dev mailbox:
the confirmation link's page changes nothing until its button is pressed."""

from __future__ import annotations

import os
import random
import re
from typing import Any

from tests.browser.conftest import Site
from tests.browser.test_journeys import PASSWORD, open_mail_link


def _stored_email(site: Site, account_id: str) -> str:
    from chalicelib.adapters.dynamodb.models import TableBinding, bind_models
    from chalicelib.adapters.dynamodb.repositories import DynamoAccountRepository

    models = bind_models(TableBinding(site.table_name, os.environ.get("AWS_REGION", "eu-west-1"), site.endpoint))
    account = DynamoAccountRepository(models).get("eiep", account_id)
    assert account is not None
    return account.email


def test_the_new_address_confirms_with_the_button_of_the_mailed_link(site: Site, page: Any) -> None:
    from chalicelib.domain.identity import GsisIdentity
    from tests.fakes import afm_with_check_digit

    # Given a teacher signed in to e-IEP
    tag = random.randrange(10**6, 10**7)
    old, new = f"old.{tag}@example.gr", f"new.{tag}@example.gr"
    identity = GsisIdentity(afm_with_check_digit(f"7{tag}"), "ΔΗΜΟΥ", "ΕΛΕΝΗ", "ΓΙΑΝΝΗΣ", "ΜΑΡΙΑ", "1985")
    account_id = site.account("eiep", username=old, email=old, password=PASSWORD, identity=identity)
    page.goto(site.realm("eiep", "/login"))
    page.get_by_label(re.compile("^Email")).fill(old)
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(PASSWORD)
    page.get_by_role("button", name="Είσοδος", exact=True).click()
    page.wait_for_url(re.compile(r"/realms/eiep/home"))

    # When they ask for a new address on the account centre's page
    page.goto(site.realm("eiep", "/account/email"))
    assert page.get_by_role("link", name="Προφίλ").get_attribute("aria-current") == "page"
    assert old in page.locator("[data-field=current-email]").inner_text()
    page.get_by_label(re.compile("^Νέα διεύθυνση e-mail")).fill(new)
    page.get_by_role("button", name="Αποστολή συνδέσμου επιβεβαίωσης").click()
    page.wait_for_url(re.compile(r"/realms/eiep/account/email\?done=requested"))

    # Then the link mailed to the new address opens a page that changes nothing by itself
    open_mail_link(page, site, new, "/realms/eiep/email-change/confirm?token=")
    page.wait_for_url(re.compile(r"/realms/eiep/email-change/confirm\?token="))
    assert new in page.locator("[data-field=new-email]").inner_text()
    assert _stored_email(site, account_id) == old

    # When its button is pressed, the address changes
    page.get_by_role("button", name="Επιβεβαίωση της αλλαγής").click()
    page.wait_for_url(re.compile(r"/realms/eiep/email-change/done\?outcome=changed"))
    assert _stored_email(site, account_id) == new
    page.goto(site.realm("eiep", "/account/email"))
    assert new in page.locator("[data-field=current-email]").inner_text()
