"""Runtime settings from the environment: defaults for a local run, the operator-facing
variable names, and refusal of configurations that cannot run (a deployed stage without
its signing key, malformed values)."""

from __future__ import annotations

import pytest

from chalicelib.settings import Settings, SettingsError


def test_an_empty_environment_is_a_local_run_with_defaults() -> None:
    settings = Settings.from_environ({})
    assert settings.environment == "local" and settings.is_local
    assert settings.public_url == "http://127.0.0.1:8000" and not settings.secure_cookies
    assert settings.aws_region == "eu-west-1" and settings.aws_endpoint_url is None
    assert (settings.table_name, settings.idempotency_table_name) == ("mitroo-local-main", "mitroo-local-idempotency")
    assert settings.jwt_private_key is None and settings.dev_routes is False
    assert (settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism) == (2, 19456, 1)


def test_the_region_falls_back_to_aws_default_region() -> None:
    assert Settings.from_environ({"AWS_DEFAULT_REGION": "eu-central-1"}).aws_region == "eu-central-1"


def test_aws_region_wins_over_aws_default_region() -> None:
    environ = {"AWS_REGION": "eu-south-1", "AWS_DEFAULT_REGION": "eu-central-1"}
    assert Settings.from_environ(environ).aws_region == "eu-south-1"


def test_variables_are_read_by_their_documented_names() -> None:
    settings = Settings.from_environ(
        {
            "MITROO_ENV": "test",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
            "MITROO_TABLE_NAME": "t-main",
            "MITROO_GSIS_CLIENT_ID": "client",
            "MITROO_DEV_ROUTES": "1",
            "MITROO_ARGON2_TIME_COST": "3",
        }
    )
    assert settings.environment == "test" and settings.is_local
    assert settings.aws_endpoint_url == "http://127.0.0.1:4566" and settings.table_name == "t-main"
    assert settings.gsis_client_id == "client" and settings.dev_routes is True and settings.argon2_time_cost == 3


def test_trailing_slashes_are_stripped_from_base_urls() -> None:
    settings = Settings.from_environ(
        {"MITROO_PUBLIC_URL": "https://mitroo.example.gr/", "MITROO_GSIS_BASE_URL": "https://gsis.test/oauth2server/"}
    )
    assert settings.public_url == "https://mitroo.example.gr" and settings.secure_cookies
    assert settings.gsis_base_url == "https://gsis.test/oauth2server"


def test_blank_optional_values_count_as_unset() -> None:
    settings = Settings.from_environ({"AWS_ENDPOINT_URL": "", "MITROO_SES_CONFIGURATION_SET": ""})
    assert settings.aws_endpoint_url is None and settings.ses_configuration_set is None


@pytest.mark.parametrize("key", [None, ""])
def test_a_deployed_stage_without_a_signing_key_is_refused(key: str | None) -> None:
    environ = {"MITROO_ENV": "deployed"} | ({"MITROO_JWT_PRIVATE_KEY": key} if key is not None else {})
    with pytest.raises(SettingsError, match="MITROO_JWT_PRIVATE_KEY"):
        Settings.from_environ(environ)


def test_a_deployed_stage_with_a_signing_key_is_not_local() -> None:
    settings = Settings.from_environ({"MITROO_ENV": "deployed", "MITROO_JWT_PRIVATE_KEY": "-----BEGIN…"})
    assert not settings.is_local


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({"MITROO_ENV": "production"}, "MITROO_ENV"),
        ({"MITROO_ARGON2_MEMORY_KIB": "1024"}, "MITROO_ARGON2_MEMORY_KIB"),
        ({"MITROO_ARGON2_TIME_COST": "zero"}, "MITROO_ARGON2_TIME_COST"),
        ({"MITROO_GSIS_TIMEOUT_SECONDS": "soon"}, "MITROO_GSIS_TIMEOUT_SECONDS"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_variable(environ: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_environ(environ)


def test_unrelated_variables_are_ignored() -> None:
    assert Settings.from_environ({"PATH": "/usr/bin", "HOME": "/root"}) == Settings.from_environ({})


def test_settings_are_immutable() -> None:
    settings = Settings.from_environ({})
    with pytest.raises(Exception):
        settings.public_url = "https://elsewhere"  # type: ignore[misc]
