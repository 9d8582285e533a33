"""Page languages: complete catalogues, and the choice of language (query, cookie,
Accept-Language, realm default)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.web.i18n import LANGUAGES, Translator, accepted_languages, catalogue, choose_language, switch_url
from chalicelib.web.problems import STATUS_BY_CODE

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"
TEMPLATE_DIRS = (CHALICELIB / "web" / "templates", CHALICELIB / "mail" / "templates")
_LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']\s*[,)]""")


def _request(query: dict[str, str] | None = None, cookie: str | None = None, accept: str | None = None) -> Any:
    headers = {}
    if cookie:
        headers["cookie"] = cookie
    if accept:
        headers["accept-language"] = accept
    return SimpleNamespace(query_params=query, headers=headers, context={"path": "/realms/eiep/login"})


def test_both_catalogues_have_exactly_the_same_keys() -> None:
    greek, english = set(catalogue("el")), set(catalogue("en"))
    assert greek - english == set(), "missing in en.toml"
    assert english - greek == set(), "missing in el.toml"


def test_every_key_a_page_or_mail_template_names_is_in_the_catalogues() -> None:
    used = set()
    for folder in TEMPLATE_DIRS:
        for template in folder.glob("*.*"):
            used |= set(_LITERAL_KEY.findall(template.read_text(encoding="utf-8")))
    assert any(key.startswith("mail.") for key in used) and any(key.startswith("login.") for key in used)
    assert used, "no keys found: the pattern is wrong"
    for language in LANGUAGES:
        assert used - set(catalogue(language)) == set(), language


def test_every_problem_code_has_a_message_in_both_languages() -> None:
    for language in LANGUAGES:
        missing = {code for code in STATUS_BY_CODE if f"problems.{code}" not in catalogue(language)}
        assert missing == set(), language


def test_the_texts_differ_between_languages_where_they_should() -> None:
    assert Translator("el")("login.title") == "Είσοδος"
    assert Translator("en")("login.title") == "Sign in"


def test_placeholders_are_filled_and_unknown_keys_fall_back() -> None:
    assert Translator("en")("home.welcome", name="Maria") == "Welcome, Maria"
    assert Translator("en")("no.such_key") == "no.such_key"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-GB,en;q=0.9,el;q=0.8", ["en", "en", "el"]),
        ("el;q=0.5, en;q=0.9", ["en", "el"]),
        ("fr, *;q=0.1", ["fr"]),
        ("en;q=0, el", ["el"]),
        ("", []),
    ],
)
def test_accept_language_is_read_by_preference(header: str, expected: list[str]) -> None:
    assert accepted_languages(header) == expected


def test_the_query_wins_and_is_remembered_in_a_cookie() -> None:
    language, cookie = choose_language(_request({"lang": "en"}, cookie="mitroo_lang=el", accept="el"))
    assert language == "en" and cookie is not None and cookie.startswith("mitroo_lang=en;")


def test_then_the_cookie_then_the_browser_then_greek() -> None:
    assert choose_language(_request(cookie="mitroo_lang=en", accept="el")) == ("en", None)
    assert choose_language(_request(accept="en-US,en;q=0.9")) == ("en", None)
    assert choose_language(_request(accept="fr-FR")) == ("el", None)
    assert choose_language(_request({"lang": "de"})) == ("el", None)


def test_a_realm_with_one_language_always_gets_it() -> None:
    assert choose_language(_request({"lang": "en"}), allowed=("el",), default="el") == ("el", None)


def test_the_switch_link_keeps_the_query_and_replaces_the_language() -> None:
    request = _request({"flow": "abc", "lang": "el"})
    assert switch_url(request, "en") == "/realms/eiep/login?flow=abc&lang=en"


def test_field_messages_are_said_in_the_page_language() -> None:
    from chalicelib.realms import get_realm
    from chalicelib.web.field_messages import localise

    greek = Translator("el")
    assert localise(
        greek, "invalid_input", {"email": ["Field required"], "afm": ["String should have at most 9 characters"]}
    ) == {
        "email": ["Το πεδίο είναι υποχρεωτικό."],
        "afm": ["Έως 9 χαρακτήρες."],
    }
    assert localise(greek, "invalid_email", {"email": ["The domain name x is not valid."]}) == {
        "email": ["Η διεύθυνση email δεν είναι έγκυρη."]
    }
    policy = get_realm("ntua").password_policy
    said = localise(
        greek,
        "password_policy",
        {"password": ["Password is too easy to guess."]},
        violations=("too_short", "too_guessable"),
        policy=policy,
    )
    assert said["password"][0].startswith("Ο κωδικός χρειάζεται: τουλάχιστον 15 χαρακτήρες")
    # A sentence we do not know stays as the API wrote it
    assert localise(greek, "invalid_input", {"x": ["something new"]}) == {"x": ["something new"]}
