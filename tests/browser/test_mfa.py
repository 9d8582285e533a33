"""Second factors in Chromium (SPEC §2.9): a virtual authenticator (WebAuthn over the
DevTools protocol: resident keys, user verification) registers a passkey on the Security
page and signs in with it, from the button and from autofill, with no password typed;
an authenticator app is set up by reading the key off the page and typing a pyotp code.
The site runs as ``http://localhost:<port>`` because browsers refuse an IP address as
a WebAuthn RP ID."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

import pyotp

from tests.support.clicks import press
from tests.support.site import Site

PASSPHRASE = "correct horse battery staple of the browser"
_names = itertools.count(1)


def _person(site: Site) -> str:
    username = f"browser.mfa{next(_names)}"
    site.account("ntua", username=username, email=f"{username}@example.gr", password=PASSPHRASE)
    return username


def _authenticator(page: Any) -> tuple[Any, str]:
    """A platform authenticator that keeps passkeys and verifies its user (a fingerprint);
    the DevTools session and the authenticator's id."""
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    added = session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return session, str(added["authenticatorId"])


def _sign_in_with_password(page: Any, site: Site, username: str) -> None:
    page.goto(site.realm("ntua", "/login"))
    page.get_by_label(re.compile("^Όνομα χρήστη")).fill(username)
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(PASSPHRASE)
    page.get_by_role("button", name="Είσοδος", exact=True).click()
    page.wait_for_url("**/realms/ntua/home")


def _sign_out(page: Any, site: Site) -> None:
    page.goto(site.realm("ntua", "/home"))
    page.get_by_role("button", name="Αποσύνδεση").click()
    page.wait_for_url(re.compile(r"/realms/ntua$"))


def test_a_passkey_is_added_on_the_security_page_and_signs_in_without_a_password(
    localhost_site: Site, page: Any
) -> None:
    # Given a person signed in with the password, in a browser with a platform authenticator
    site = localhost_site
    authenticator, authenticator_id = _authenticator(page)
    username = _person(site)
    _sign_in_with_password(page, site, username)

    # When they add a passkey on the Security page
    page.goto(site.realm("ntua", "/account/security"))
    page.get_by_label("Όνομα (π.χ. «Φορητός εργασίας»)").fill("Φορητός")
    page.get_by_role("button", name="Προσθήκη passkey").click()
    page.wait_for_url("**/account/security?done=added")

    # Then it is listed, and the authenticator holds a discoverable credential for this site
    assert page.locator("li[data-kind='webauthn']").inner_text().startswith("Φορητός")
    [credential] = authenticator.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert credential["isResidentCredential"] and credential["rpId"] == "localhost"

    # And after signing out, in a browser without passkey autofill (else the page's own
    # conditional request may sign them in before the click), «Είσοδος με passkey» signs
    # in with no username or password typed
    _sign_out(page, site)
    page.add_init_script("PublicKeyCredential.isConditionalMediationAvailable = undefined;")
    page.goto(site.realm("ntua", "/login"))
    assert page.evaluate("PublicKeyCredential.isConditionalMediationAvailable") is None
    page.get_by_role("button", name="Είσοδος με passkey").click()
    page.wait_for_url("**/realms/ntua/home")
    assert username in page.locator("[data-field='username']").inner_text()


def test_passkey_autofill_signs_in_from_the_username_field(localhost_site: Site, page: Any) -> None:
    # Given a person with a passkey in this browser's authenticator
    site = localhost_site
    _authenticator(page)
    username = _person(site)
    _sign_in_with_password(page, site, username)
    page.goto(site.realm("ntua", "/account/security"))
    page.get_by_role("button", name="Προσθήκη passkey").click()
    page.wait_for_url("**/account/security?done=added")
    _sign_out(page, site)

    # When the sign-in page opens: its username field asks for passkeys (conditional
    # mediation), and the person picks theirs in the autofill (the virtual authenticator
    # picks the only one)
    page.goto(site.realm("ntua", "/login"))
    field = page.get_by_label(re.compile("^Όνομα χρήστη"))
    assert field.get_attribute("autocomplete") == "username webauthn"
    field.click()

    # Then they are signed in without typing anything
    page.wait_for_url("**/realms/ntua/home")
    assert username in page.locator("[data-field='username']").inner_text()


def test_an_authenticator_app_is_set_up_from_the_page_and_asked_for_at_the_next_sign_in(
    localhost_site: Site, page: Any
) -> None:
    # Given a signed-in person on the Security page
    site = localhost_site
    username = _person(site)
    _sign_in_with_password(page, site, username)
    page.goto(site.realm("ntua", "/account/security"))

    # When they start an authenticator app, read the key off the page and type the app's code
    press(page, page.get_by_role("button", name="Ρύθμιση εφαρμογής ταυτοποίησης"))
    assert page.locator(".qr svg").count() == 1
    secret = page.locator("[data-field='totp-secret']").inner_text()
    page.get_by_label(re.compile("^Ο εξαψήφιος κωδικός")).fill(pyotp.TOTP(secret).now())
    press(page, page.get_by_role("button", name="Επιβεβαίωση"))

    # Then ten recovery codes are shown once, with a download, and the app is listed
    assert page.locator("[data-field='recovery-codes'] li").count() == 10
    assert page.get_by_role("link", name="Λήψη ως κείμενο").get_attribute("href").startswith("data:text/plain")
    assert page.locator("li[data-kind='totp']").count() == 1

    # And the next sign-in asks for the app's code after the password
    _sign_out(page, site)
    page.goto(site.realm("ntua", "/login"))
    page.get_by_label(re.compile("^Όνομα χρήστη")).fill(username)
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(PASSPHRASE)
    page.get_by_role("button", name="Είσοδος", exact=True).click()
    page.wait_for_url("**/login/second-step")
    page.get_by_label("Κωδικός από την εφαρμογή ταυτοποίησης").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Συνέχεια", exact=True).click()
    page.wait_for_url("**/realms/ntua/home")
