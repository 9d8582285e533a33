"""Fixtures for the repository contracts: the DynamoDB item classes on the test emulator."""

from __future__ import annotations

import os
from typing import Any

import pytest


@pytest.fixture(scope="session")
def dynamo_models(aws_endpoint: str) -> Any:
    """Item classes bound to this process's test table (created by ``aws_endpoint``)."""
    from chalicelib.adapters.dynamodb.models import TableBinding, bind_models

    return bind_models(TableBinding(os.environ["MITROO_TABLE_NAME"], os.environ["AWS_REGION"], aws_endpoint))
