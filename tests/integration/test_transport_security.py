"""HSTS (issue 11 §6): when the service is public over https, every answer — pages, API
answers, redirects, problems — tells browsers to use https only, so a later visit typed
as http://, or a link an attacker rewrote, never goes over the network in clear. A local
run over http sends none (a browser would otherwise refuse the dev server)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.browser import Browser

REQUESTS = [
    ("GET", "/realms/eiep/login", True),  # a page
    ("GET", "/api/v1/health", False),  # an API answer
    ("GET", "/api/v1/realms/nowhere/me", False),  # a problem
    ("GET", "/realms/esep/eulogin/start", True),  # a redirect
    ("GET", "/no/such/thing", False),  # the fallback 404
]


@pytest.fixture
def over_https() -> Iterator[None]:
    """The settings of a service public at an https address (settings are built once per
    process: rebuilt here, and again after)."""
    from chalicelib.settings import get_settings

    before = os.environ["MITROO_PUBLIC_URL"]
    os.environ["MITROO_PUBLIC_URL"] = "https://mitroo.example.gr"
    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ["MITROO_PUBLIC_URL"] = before
        get_settings.cache_clear()


@pytest.mark.parametrize(("method", "path", "html"), REQUESTS)
def test_every_answer_over_https_carries_hsts(
    browser: Browser, over_https: None, method: str, path: str, html: bool
) -> None:
    answer = browser.request(method, path, html=html)
    value = answer.headers.get("strict-transport-security", "")
    assert value.startswith("max-age="), (answer.status, answer.headers)
    assert int(value.split(";")[0].split("=")[1]) >= 31536000 and "includesubdomains" in value.lower()


@pytest.mark.parametrize(("method", "path", "html"), REQUESTS)
def test_a_local_run_over_http_sends_none(browser: Browser, method: str, path: str, html: bool) -> None:
    answer = browser.request(method, path, html=html)
    assert "strict-transport-security" not in answer.headers
