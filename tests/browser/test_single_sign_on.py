"""Single sign-on in Chromium, with the demo application ``make run`` serves.

A teacher opens the demo application, signs in with Mitroo (the e-IEP login page, then
the consent page naming the application and what it receives) and is back, signed in,
the ID token's claims on the page. The second demo application then signs them in
without a password (consent only). Signing out of one ends the realm session, and the
realm's back-channel logout signs the other one out too. With an authenticator app, the
first application's sign-in asks for its code after the password, and the second
application asks for neither.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest

from chalicelib.domain.identity import GsisIdentity
from standins.gsis import make_afm
from tests.support.clicks import press
from tests.support.site import Site, running_site

PASSWORD = "Kal0s!Kodikos"

pytestmark = pytest.mark.xdist_group("browser-sso")


@pytest.fixture(scope="module")
def demo_site(aws_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(aws_endpoint, tmp_path_factory.mktemp("sso") / "site.log", name="sso", demo=True) as served:
        yield served


def _app(page: Any, app: str) -> Any:
    return page.locator(f"section#eiep-{app}")


def test_demo_application_login_consent_sso_and_back_channel_logout(demo_site: Site, page: Any) -> None:
    # Given a teacher with an e-IEP account
    email = "sso.teacher@example.gr"
    identity = GsisIdentity(make_afm(4242), "ΟΙΚΟΝΟΜΟΥ", "ΑΝΝΑ", "ΠΕΤΡΟΣ", "ΜΑΡΙΑ", "1985")
    demo_site.account("eiep", username=email, email=email, password=PASSWORD, identity=identity)

    # When they open the demo application and sign in with Mitroo
    page.goto(demo_site.demo_url)
    _app(page, "a").get_by_role("link", name="Sign in with Mitroo").click()
    page.wait_for_url(re.compile(r"/realms/eiep/login\?"))
    page.get_by_label(re.compile("^Email")).fill(email)
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(PASSWORD)
    page.get_by_role("button", name="Είσοδος", exact=True).click()

    # Then the consent page names the application and each thing it will receive
    page.wait_for_url(re.compile(r"/realms/eiep/oidc/authorize"))
    assert "Demo application" in page.content()
    assert page.locator("li[data-scope='email']").count() == 1
    page.get_by_role("button", name="Να επιτραπεί").click()

    # And they are back, signed in, the claims on the page
    page.wait_for_url(demo_site.demo_url + "/")
    assert _app(page, "a").locator("[data-state='signed-in']").count() == 1
    assert email in _app(page, "a").inner_text() and "ΑΝΝΑ" in _app(page, "a").inner_text()

    # When the second application asks: no password, only its own consent
    _app(page, "b").get_by_role("link", name="Sign in with Mitroo").click()
    page.wait_for_url(re.compile(r"/realms/eiep/oidc/authorize"))
    assert page.get_by_label(re.compile("^Κωδικός πρόσβασης")).count() == 0
    assert "Second demo application" in page.content()
    page.get_by_role("button", name="Να επιτραπεί").click()
    page.wait_for_url(demo_site.demo_url + "/")
    assert _app(page, "b").locator("[data-state='signed-in']").count() == 1

    # When they sign out of the first one (it ends the realm session, and comes back with state)
    _app(page, "a").get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(re.escape(demo_site.demo_url) + r"/\?state=[\w-]+$"))

    # Then the second one is signed out too, by the realm's back-channel logout
    for _ in range(60):
        page.goto(demo_site.demo_url)
        if _app(page, "b").locator("[data-state='signed-out']").count() == 1:
            break
        page.wait_for_timeout(250)
    assert _app(page, "a").locator("[data-state='signed-out']").count() == 1
    assert _app(page, "b").locator("[data-state='signed-out']").count() == 1

    # And a new sign-in asks for the password again
    _app(page, "b").get_by_role("link", name="Sign in with Mitroo").click()
    page.wait_for_url(re.compile(r"/realms/eiep/login\?"))


def test_an_authenticator_app_is_asked_once_for_both_applications(demo_site: Site, page: Any) -> None:
    # Given an NTUA person who set up an authenticator app on the Security page
    username = "sso.totp"
    demo_site.account("ntua", username=username, email="sso.totp@example.gr", password=PASSWORD)
    page.goto(demo_site.realm("ntua", "/login"))
    page.get_by_label(re.compile("^Όνομα χρήστη")).fill(username)
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(PASSWORD)
    page.get_by_role("button", name="Είσοδος", exact=True).click()
    page.wait_for_url("**/realms/ntua/home")
    page.goto(demo_site.realm("ntua", "/account/security"))
    page.get_by_role("button", name="Ρύθμιση εφαρμογής ταυτοποίησης").click()
    secret = page.locator("[data-field='totp-secret']").inner_text()
    page.get_by_label(re.compile("^Ο εξαψήφιος κωδικός")).fill(pyotp.TOTP(secret).now())
    press(page, page.get_by_role("button", name="Επιβεβαίωση"))
    assert page.locator("li[data-kind='totp']").count() == 1
    page.goto(demo_site.realm("ntua", "/home"))
    page.get_by_role("button", name="Αποσύνδεση").click()
    page.wait_for_url(re.compile(r"/realms/ntua$"))

    # When the demo application sends them to sign in: the password, then the app's code
    page.goto(demo_site.demo_url)
    app = page.locator("section#ntua-a")
    app.get_by_role("link", name="Sign in with Mitroo").click()
    page.wait_for_url(re.compile(r"/realms/ntua/login\?"))
    page.get_by_label(re.compile("^Όνομα χρήστη")).fill(username)
    page.get_by_label(re.compile("^Κωδικός πρόσβασης")).fill(PASSWORD)
    page.get_by_role("button", name="Είσοδος", exact=True).click()
    page.wait_for_url(re.compile(r"/realms/ntua/login/second-step\?next="))
    page.get_by_label("Κωδικός από την εφαρμογή ταυτοποίησης").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Συνέχεια", exact=True).click()
    page.wait_for_url(re.compile(r"/realms/ntua/oidc/authorize"))
    page.get_by_role("button", name="Να επιτραπεί").click()

    # Then the application has them signed in, its ID token saying password and one-time code
    page.wait_for_url(demo_site.demo_url + "/")
    assert app.locator("[data-state='signed-in']").count() == 1
    assert '["pwd", "otp"]' in app.inner_text() and '"2"' in app.inner_text()

    # And the second application asks for neither the password nor the code, only consent
    second = page.locator("section#ntua-b")
    second.get_by_role("link", name="Sign in with Mitroo").click()
    page.wait_for_url(re.compile(r"/realms/ntua/oidc/authorize"))
    assert page.get_by_label(re.compile("^Κωδικός")).count() == 0
    page.get_by_role("button", name="Να επιτραπεί").click()
    page.wait_for_url(demo_site.demo_url + "/")
    assert second.locator("[data-state='signed-in']").count() == 1 and '["pwd", "otp"]' in second.inner_text()
