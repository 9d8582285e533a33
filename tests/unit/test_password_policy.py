"""Password policies: e-IEP's composition rules and NTUA's strength rule (zxcvbn).

Proves each composition rule by example, the messages and meter score, and that NTUA
accepts a long passphrase but rejects short, repetitive or name-based passwords.
"""

from __future__ import annotations

import pytest

from chalicelib.flows.password_policy import check_password
from chalicelib.realms import CompositionPolicy, StrengthPolicy, get_realm


@pytest.fixture(scope="module")
def eiep() -> CompositionPolicy:
    policy = get_realm("eiep").password_policy
    assert isinstance(policy, CompositionPolicy)
    return policy


@pytest.fixture(scope="module")
def ntua() -> StrengthPolicy:
    policy = get_realm("ntua").password_policy
    assert isinstance(policy, StrengthPolicy)
    return policy


@pytest.mark.parametrize("password", ["Passw0rd!", "aB3$aB3$", "Xy9(Xy9)Xy9*Xy9", "Z1a@" * 2])
def test_eiep_accepts_passwords_meeting_every_rule(eiep: CompositionPolicy, password: str) -> None:
    result = check_password(eiep, password)
    assert result.acceptable and result.violations == () and result.messages == () and result.score == 4


@pytest.mark.parametrize(
    ("password", "violations"),
    [
        ("Pa0!", ("too_short",)),
        ("Passw0rd!Passw0r", ("too_long",)),
        ("PASSW0RD!", ("missing_lowercase",)),
        ("passw0rd!", ("missing_uppercase",)),
        ("Password!", ("missing_digit",)),
        ("Passw0rdd", ("missing_symbol",)),
        ("Passw0rd-", ("missing_symbol", "invalid_characters")),
        ("Pass w0rd!", ("invalid_characters",)),
        ("Κωδικός1!A", ("missing_lowercase", "invalid_characters")),
    ],
)
def test_eiep_names_each_broken_rule(eiep: CompositionPolicy, password: str, violations: tuple[str, ...]) -> None:
    result = check_password(eiep, password)
    assert not result.acceptable and result.violations == violations
    assert len(result.messages) == len(violations)


def test_eiep_messages_quote_the_limits(eiep: CompositionPolicy) -> None:
    assert check_password(eiep, "Pa0!").messages == ("Password must be at least 8 characters long.",)
    assert check_password(eiep, "Passw0rdd").messages == ("Password must contain one of !@#$%^&*().",)


def test_eiep_meter_is_zero_for_nothing_and_grows_with_rules_met(eiep: CompositionPolicy) -> None:
    assert check_password(eiep, "").score == 0
    assert check_password(eiep, "password").score < check_password(eiep, "Passw0rd").score < 4


def test_eiep_ignores_user_inputs(eiep: CompositionPolicy) -> None:
    assert check_password(eiep, "Maria1980!", ["Maria"]).acceptable


def test_ntua_accepts_a_long_passphrase(ntua: StrengthPolicy) -> None:
    result = check_password(ntua, "agapw poly th mairh")
    assert result.acceptable and result.violations == () and result.score >= 3


def test_ntua_rejects_a_strong_but_short_password(ntua: StrengthPolicy) -> None:
    result = check_password(ntua, "Tr0ub4dor&3")
    assert not result.acceptable and result.violations == ("too_short",)


def test_ntua_rejects_a_repeated_character(ntua: StrengthPolicy) -> None:
    result = check_password(ntua, "aaaaaaaaaaaaaaa")
    assert result.violations == ("too_guessable",) and result.score < 3
    assert result.feedback["warning"]


@pytest.mark.parametrize("password", ["qwertyuiopasdfgh", "1qaz2wsx3edc4rfv"])
def test_ntua_rejects_keyboard_walks(ntua: StrengthPolicy, password: str) -> None:
    assert check_password(ntua, password).violations == ("too_guessable",)


def test_ntua_counts_the_persons_names_as_guessable(ntua: StrengthPolicy) -> None:
    # A password the dictionary alone finds strong is weak once it is just the person's names
    inputs = ["xanthippi", "nikolaidou", "xanthippi.nikolaidou@ntua.gr"]
    assert check_password(ntua, "nikolaidouxanthippi").acceptable
    assert check_password(ntua, "nikolaidouxanthippi", inputs).violations == ("too_guessable",)
    assert not check_password(ntua, "xanthippi.nikolaidou@ntua.gr", inputs).acceptable


def test_ntua_allows_unicode_and_spaces(ntua: StrengthPolicy) -> None:
    assert check_password(ntua, "αγαπώ πολύ τη μαίρη στο ΕΜΠ").acceptable


def test_ntua_accepts_a_passphrase_between_73_and_128_characters(ntua: StrengthPolicy) -> None:
    passphrase = "when the saints go marching in on a cold athenian morning by the sea of salamina"
    assert 72 < len(passphrase) <= 128
    assert check_password(ntua, passphrase).acceptable


def test_ntua_rejects_more_than_128_characters_as_too_long(ntua: StrengthPolicy) -> None:
    result = check_password(ntua, "correct horse battery staple " * 5)
    assert "too_long" in result.violations and "Password must be at most 128 characters long." in result.messages
