"""Open-redirect attempts: no parameter, field or header a visitor controls can send a
browser off-site.

Mitroo takes no ``next``/``return``/``url`` parameter at all: every redirect it answers is
built from ``MITROO_PUBLIC_URL`` and a page name (``flows/links.py``), or is the identity
provider's authorize URL. What a visitor can send (``form_page``, ``?lang=``, the
``intent`` of a GSIS start, extra ``next``/``url``/``return`` parameters, ``Host`` and
``X-Forwarded-Host``) is tried here in every shape an open redirect takes (absolute,
protocol-relative, backslash, encoded, ``javascript:``), and every ``Location`` and every
link on the resulting page is checked to stay on this site.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest

from tests.support.browser import Browser, Response, unique_email

PUBLIC = "http://127.0.0.1:8000"
EVIL = "evil.example"
TARGETS = [
    f"https://{EVIL}/",
    f"//{EVIL}/",
    f"/\\{EVIL}/",
    f"\\\\{EVIL}",
    f"https:{EVIL}",
    f"%2F%2F{EVIL}",
    f"/realms/eiep/..//{EVIL}",
    f"{PUBLIC}.{EVIL}/",
    f"{PUBLIC}@{EVIL}/",
    "javascript:alert(document.domain)",
    f"/%09/{EVIL}",
]
REDIRECT_PARAMETERS = ("next", "url", "return", "return_to", "returnUrl", "redirect", "redirect_uri", "continue")


def _all_parameters(target: str) -> str:
    return urlencode({name: target for name in REDIRECT_PARAMETERS})


def _stays_on_site(answer: Response, *, identity_providers: tuple[str, ...] = ()) -> None:
    """The Location, if any, is a path of ours, under the public URL, or an identity
    provider's authorize endpoint; and no link or form on the page leads elsewhere."""
    location = answer.location
    if location:
        if location.startswith("/"):
            assert not location.startswith(("//", "/\\")), location
        else:
            assert location.startswith((PUBLIC + "/", *identity_providers)), location
        assert EVIL not in location.split("?", 1)[0], location
    for link in re.findall(r'(?:href|action|src)="([^"]*)"', answer.text):
        assert link.startswith(("/", PUBLIC + "/", "#")) and not link.startswith(("//", "/\\")), link
        assert EVIL not in urlsplit(link).netloc, link


def test_sign_in_starts_go_only_to_the_identity_provider_with_our_callback(browser: Browser) -> None:
    assert browser.eulogin is not None
    for target in TARGETS:
        # Given redirect parameters of every common name, pointing off-site
        query = _all_parameters(target)

        # When GSIS and EU Login sign-ins start with them
        gsis = browser.get(f"/realms/eiep/gsis/start?intent=register&{query}", html=True)
        eulogin = browser.get(f"/realms/esep/eulogin/start?{query}", html=True)

        # Then each goes to its identity provider only, which sends the browser back to
        # our registered callback, never to the target
        for answer, provider, callback in (
            (gsis, browser.gsis.base_url + "/oauth/authorize", f"{PUBLIC}/realms/eiep/gsis/callback"),
            (eulogin, browser.eulogin.authorization_endpoint, f"{PUBLIC}/realms/esep/eulogin/callback"),
        ):
            assert answer.status == 302, (target, answer.text)
            assert answer.location.startswith(provider + "?"), answer.location
            assert parse_qs(urlsplit(answer.location).query)["redirect_uri"] == [callback]
            assert EVIL not in answer.location


def test_an_intent_that_is_a_url_is_refused_before_gsis(browser: Browser) -> None:
    for target in TARGETS:
        answer = browser.get(f"/realms/eiep/gsis/start?intent={quote(target, safe='')}", html=True)
        assert answer.status == 422 and 'data-code="invalid_input"' in answer.text, target
        assert not answer.location
        _stays_on_site(answer)


def test_a_gsis_callback_with_redirect_parameters_lands_on_our_page(browser: Browser) -> None:
    # Given a GSIS round trip whose callback URL gets redirect parameters added
    identity = browser.new_identity()
    callback = browser.choose_at_gsis(browser.start_gsis(), identity.key)

    # When the browser opens it
    answer = browser.callback(f"{callback}&{_all_parameters(f'https://{EVIL}/')}")

    # Then it goes to the registration page of this site, with its flow
    assert answer.status == 303
    assert answer.location.startswith(f"{PUBLIC}/realms/eiep/register?flow="), answer.location
    _stays_on_site(answer)


def test_a_refused_form_naming_another_page_is_shown_here_never_redirected(browser: Browser) -> None:
    # Given a browser with a CSRF token
    browser.get("/realms/eiep/login", html=True)
    for index, target in enumerate(TARGETS):
        # When it posts a login that fails (from an address of its own: no back-off),
        # with a form_page that is not one of our pages
        browser.address = f"192.0.2.{200 + index}"
        form = {"csrf_token": browser.jar["mitroo_csrf"], "form_page": target, "username": unique_email()}
        answer = browser.post("/api/v1/realms/eiep/sessions", form={**form, "password": "x"}, html=True)

        # Then the problem is shown on a page of ours, with no redirect
        assert answer.status == 401, (target, answer.text)
        assert answer.headers["content-type"].startswith("text/html")
        assert not answer.location
        _stays_on_site(answer)


def test_a_successful_form_post_goes_to_our_next_page_whatever_it_names(browser: Browser) -> None:
    # Given an active account, and a login form post naming an off-site form_page
    email = unique_email()
    browser.register(browser.gsis_flow(), email)
    token, _ = browser.activation_mail(email)
    assert browser.post("/api/v1/realms/eiep/activations", json={"token": token}).status == 200
    browser.get("/realms/eiep/login", html=True)
    form = {"csrf_token": browser.jar["mitroo_csrf"], "form_page": f"https://{EVIL}/", "password": "Kal0s!Kodikos"}

    # When it is posted with the right password
    answer = browser.post("/api/v1/realms/eiep/sessions", form={**form, "username": email}, html=True)

    # Then the browser goes to the realm's home page
    assert answer.status == 303 and answer.location == f"{PUBLIC}/realms/eiep/home"

    # And a ``next`` (an application's authorization request) that is not a page of the
    # realm is ignored: the browser still goes home
    for target in (f"https://{EVIL}/", f"//{EVIL}/", "/realms/ntua/home", "/realms/eiep/..//evil"):
        answer = browser.post(
            "/api/v1/realms/eiep/sessions", form={**form, "username": email, "next": target}, html=True
        )
        assert answer.status == 303 and answer.location == f"{PUBLIC}/realms/eiep/home", target


def test_the_language_switch_and_its_links_stay_on_the_page(browser: Browser) -> None:
    for target in TARGETS:
        # Given a page opened with ?lang= and redirect parameters pointing off-site
        query = f"lang={quote(target, safe='')}&{_all_parameters(target)}"
        answer = browser.get(f"/realms/eiep/login?{query}", html=True)

        # Then it is the page itself (no redirect), its language links are this path,
        # and the redirect parameters are at most data in a query string of ours
        assert answer.status == 200 and not answer.location, target
        _stays_on_site(answer)
        switches = re.findall(r'class="lang" href="([^"]+)"', answer.text)
        assert switches and all(link.startswith("/realms/eiep/login?") for link in switches), switches


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/realms/eiep/logout"), ("GET", "/realms/eiep/home"), ("GET", "/realms/ntua/admin/jobs")],
)
def test_pages_that_redirect_go_to_fixed_pages(browser: Browser, method: str, path: str) -> None:
    # Given redirect parameters in the query and the body, and a forged Host
    browser.get("/realms/eiep/login", html=True)
    headers = {"Host": EVIL, "X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "https"}
    form = {"csrf_token": browser.jar["mitroo_csrf"], "next": f"https://{EVIL}/"}

    # When the page is opened (or posted to)
    answer = browser.request(
        method,
        f"{path}?{_all_parameters(f'https://{EVIL}/')}",
        form=form if method == "POST" else None,
        headers=headers,
        html=True,
    )

    # Then it redirects to its own fixed page on this site
    assert answer.status == 303, answer.text
    assert answer.location in ("/realms/eiep", "/realms/eiep/login", "/realms/ntua/login"), answer.location
