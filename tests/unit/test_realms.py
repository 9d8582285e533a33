"""Realm configuration: the three shipped TOML files load and validate, and a bad
configuration is refused with a clear error rather than half-loaded."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib import realms
from chalicelib.realms import (
    REALM_IDS,
    CompositionPolicy,
    RealmConfig,
    RealmConfigError,
    StrengthPolicy,
    UnknownRealm,
    all_realms,
    get_realm,
)

VALID: dict[str, Any] = {
    "id": "demo",
    "name": {"el": "Δοκιμή", "en": "Demo"},
    "identity_source": "gsis",
    "username": "email",
    "password_policy": {"kind": "composition", "min_length": 8, "max_length": 15},
}


def _with(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    data.update(changes)
    return data


def test_every_shipped_realm_loads() -> None:
    loaded = all_realms()
    assert tuple(loaded) == REALM_IDS == ("eiep", "esep", "ntua")
    assert all(config.id == realm_id for realm_id, config in loaded.items())


def test_eiep_uses_gsis_and_the_composition_policy() -> None:
    eiep = get_realm("eiep")
    assert (eiep.identity_source, eiep.username) == ("gsis", "email")
    assert isinstance(eiep.password_policy, CompositionPolicy)
    assert (eiep.password_policy.min_length, eiep.password_policy.max_length) == (8, 15)
    assert eiep.password_policy.symbols == "!@#$%^&*()"
    assert eiep.lifetimes.oauth_state == timedelta(minutes=10) and eiep.lifetimes.activation == timedelta(days=1)
    assert eiep.activation_code_attempts == 5 and eiep.support is not None


def test_esep_has_no_local_passwords() -> None:
    esep = get_realm("esep")
    assert (esep.identity_source, esep.username, esep.password_policy) == ("eulogin", "eulogin_sub", None)


def test_ntua_uses_the_strength_policy() -> None:
    ntua = get_realm("ntua")
    assert ntua.password_policy == StrengthPolicy(kind="strength", min_length=15, max_length=128, min_score=3)
    assert ntua.lifetimes.password_setup == timedelta(days=7)


def test_an_unknown_realm_is_unknown_realm() -> None:
    with pytest.raises(UnknownRealm):
        get_realm("nope")


def test_a_minimal_config_gets_the_default_lifetimes_and_languages() -> None:
    config = RealmConfig.model_validate(VALID)
    assert config.languages == ("el", "en") and config.default_language == "el"
    assert config.lifetimes.flow == timedelta(minutes=15) and config.activation_code_attempts == 5


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_with(default_language="en", languages=["el"]), id="default language not offered"),
        pytest.param(_with(languages=["el", "fr"]), id="unsupported language"),
        pytest.param(_with(username="eulogin_sub"), id="eulogin_sub without eulogin"),
        pytest.param(_with(password_policy=None), id="local passwords without a policy"),
        pytest.param(_with(identity_source="ldap"), id="unknown identity source"),
        pytest.param(_with(color="blue"), id="unknown field"),
        pytest.param(_with(activation_code_attempts=0), id="no code attempts"),
        pytest.param(_with(activation_code_attempts=11), id="too many code attempts"),
        pytest.param(_with(name={"el": "Δοκιμή"}), id="name without English"),
        pytest.param(_with(lifetimes={"flow": "soon"}), id="unreadable lifetime"),
        pytest.param(_with(lifetimes={"flow": "PT15M", "forever": "P1D"}), id="unknown lifetime"),
        pytest.param(
            _with(password_policy={"kind": "composition", "min_length": 16, "max_length": 15}), id="min above max"
        ),
        pytest.param(
            _with(password_policy={"kind": "strength", "min_length": 6, "max_length": 64, "min_score": 3}),
            id="strength shorter than 8",
        ),
        pytest.param(
            _with(password_policy={"kind": "strength", "min_length": 15, "max_length": 64, "min_score": 5}),
            id="score above 4",
        ),
        pytest.param(_with(password_policy={"kind": "entropy", "min_length": 8}), id="unknown policy kind"),
        pytest.param(
            _with(password_policy={"kind": "composition", "min_length": 1, "max_length": 8, "symbols": ""}),
            id="symbol required but none allowed",
        ),
        pytest.param(
            _with(password_policy={"kind": "composition", "min_length": 1, "max_length": 3}),
            id="shorter than the required classes",
        ),
        pytest.param(
            _with(password_policy={"kind": "strength", "min_length": 20, "max_length": 16, "min_score": 3}),
            id="strength min above max",
        ),
    ],
)
def test_a_bad_config_does_not_validate(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RealmConfig.model_validate(data)


def test_a_config_is_immutable() -> None:
    config = RealmConfig.model_validate(VALID)
    with pytest.raises(ValidationError):
        config.id = "other"  # type: ignore[misc]


def _files_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(realms, "resources", SimpleNamespace(files=lambda _package: tmp_path))


VALID_TOML = """
id = "eiep"
name = { el = "Δ", en = "D" }
identity_source = "gsis"
username = "email"
[password_policy]
kind = "composition"
min_length = 8
max_length = 15
"""


def test_loading_a_valid_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _files_from(tmp_path, monkeypatch, "eiep.toml", VALID_TOML)
    assert realms._load("eiep").name.en == "D"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("id = ", id="not TOML"),
        pytest.param(VALID_TOML.replace('"gsis"', '"taxisnet"'), id="does not validate"),
        pytest.param(VALID_TOML.replace('id = "eiep"', 'id = "ntua"'), id="declares another id"),
    ],
)
def test_a_bad_realm_file_raises_realm_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    _files_from(tmp_path, monkeypatch, "eiep.toml", text)
    with pytest.raises(RealmConfigError, match=r"eiep\.toml"):
        realms._load("eiep")
