"""``GET /`` (SPEC §1): the page a newcomer opening ``make run``'s address sees first —
every realm, named in the page's language, with a link to its own page."""

from __future__ import annotations

import re

import pytest

from chalicelib.realms import all_realms
from tests.support.browser import Browser


@pytest.mark.parametrize("language", ["el", "en"])
def test_the_root_lists_every_realm_with_a_link_to_it(browser: Browser, language: str) -> None:
    answer = browser.get(f"/?lang={language}", html=True)

    assert answer.status == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert f'<html lang="{language}">' in answer.text
    links = dict(re.findall(r'<a href="(/realms/[a-z]+)"[^>]*>([^<]+)</a>', answer.text))
    assert set(links) == {f"/realms/{realm_id}" for realm_id in all_realms()}
    for realm_id, realm in all_realms().items():
        assert links[f"/realms/{realm_id}"].strip() == getattr(realm.name, language)
    assert len(re.findall(r"<h1[ >]", answer.text)) == 1


def test_each_link_opens_its_realm(browser: Browser) -> None:
    for realm_id in all_realms():
        assert browser.get(f"/realms/{realm_id}", html=True).status == 200


def test_the_root_in_greek_by_default(browser: Browser) -> None:
    answer = browser.get("/", html=True)
    assert answer.status == 200 and '<html lang="el">' in answer.text
