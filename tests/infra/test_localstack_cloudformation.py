"""The stack's tables and queues, created through LocalStack's CloudFormation, come up as
the template says: TTL on, the dead-letter queue wired. Runs in `make test-localstack`
(it needs LocalStack's CloudFormation; moto's is not the point here)."""

from __future__ import annotations

import copy
import json
import os
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

pytestmark = pytest.mark.xdist_group("infra")

KINDS = ("AWS::DynamoDB::Table", "AWS::SQS::Queue")


def _localstack() -> str:
    endpoint = os.environ.get("MITROO_TEST_AWS_ENDPOINT_URL") or ""
    if not endpoint:
        pytest.skip("LocalStack only: make test-localstack")
    try:
        with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=5) as answer:
            json.load(answer)
    except OSError:
        pytest.skip(f"{endpoint} is not LocalStack")
    return endpoint


def _data_template(template: dict[str, Any], suffix: str) -> dict[str, Any]:
    """The template's tables and queues alone, renamed with ``suffix`` and deletable."""
    resources = {}
    for key, resource in template["Resources"].items():
        if resource["Type"] not in KINDS:
            continue
        copied = copy.deepcopy(resource)
        properties = copied["Properties"]
        for name_key in ("TableName", "QueueName"):
            if name_key in properties:
                properties[name_key] = f"{properties[name_key]}-{suffix}"
        properties.pop("DeletionProtectionEnabled", None)
        copied.pop("DeletionPolicy", None)
        copied.pop("UpdateReplacePolicy", None)
        resources[key] = copied
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def test_tables_and_queues_come_up_with_ttl_and_dead_letters(synthesized: tuple[Any, Path]) -> None:
    endpoint = _localstack()
    _, outdir = synthesized
    template = json.loads((outdir / "Mitroo-staging.template.json").read_text())
    suffix = uuid.uuid4().hex[:6]
    session = boto3.session.Session(region_name=os.environ.get("AWS_REGION", "eu-west-1"))
    cloudformation = session.client("cloudformation", endpoint_url=endpoint)
    name = f"mitroo-data-{suffix}"

    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(_data_template(template, suffix)))
    try:
        status = ""
        for _ in range(120):
            status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
            if not status.endswith("IN_PROGRESS"):
                break
            time.sleep(1)
        assert status == "CREATE_COMPLETE", status

        dynamodb = session.client("dynamodb", endpoint_url=endpoint)
        for table, attribute in (
            (f"mitroo-staging-main-{suffix}", "purge_at"),
            (f"mitroo-staging-idempotency-{suffix}", "expiration"),
        ):
            ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            assert ttl["TimeToLiveStatus"] in ("ENABLED", "ENABLING") and ttl["AttributeName"] == attribute, table
        indexes = dynamodb.describe_table(TableName=f"mitroo-staging-main-{suffix}")["Table"]["GlobalSecondaryIndexes"]
        # DescribeTable lists indexes in no promised order (LocalStack's varies run to run)
        assert sorted(index["IndexName"] for index in indexes) == ["GSI1", "GSI2"]

        sqs = session.client("sqs", endpoint_url=endpoint)
        url = sqs.get_queue_url(QueueName=f"mitroo-staging-tasks-{suffix}")["QueueUrl"]
        redrive = json.loads(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
        )
        assert int(redrive["maxReceiveCount"]) == 5 and redrive["deadLetterTargetArn"].endswith(
            f"mitroo-staging-tasks-dlq-{suffix}"
        )
    finally:
        cloudformation.delete_stack(StackName=name)
