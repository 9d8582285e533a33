"""Deployed stacks keep the signing key and client secrets in Secrets Manager; the app
reads them through Powertools parameters (against the emulator here)."""

from __future__ import annotations

import uuid

import boto3
import pytest

from chalicelib.container import secret_value


def test_a_secret_is_read_by_name_and_none_names_nothing(aws_endpoint: str) -> None:
    name = f"mitroo/test/{uuid.uuid4().hex}"
    boto3.client("secretsmanager", endpoint_url=aws_endpoint).create_secret(Name=name, SecretString="s3cr3t-value")
    assert secret_value(name) == "s3cr3t-value"
    assert secret_value(None) is None and secret_value("") is None


def test_a_missing_secret_is_an_error_not_a_silent_default(aws_endpoint: str) -> None:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    with pytest.raises(GetParameterError):
        secret_value(f"mitroo/test/missing-{uuid.uuid4().hex}")
