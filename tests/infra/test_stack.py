"""The synthesized stacks: what an operator relies on, asserted on the templates."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from chalicelib.adapters.dynamodb.schema import IDEMPOTENCY_TABLE, MAIN_TABLE
from chalicelib.settings import Settings
from infra.stages import STAGES

pytestmark = pytest.mark.xdist_group("infra")

FUNCTIONS = ("APIHandler", "RunTasks", "ExpireAccounts", "EndExpiredSessions")
# Settings a deployed stage must set rather than default (local defaults are wrong there).
DEPLOYED_SETTINGS = {
    "MITROO_ENV",
    "MITROO_PUBLIC_URL",
    "MITROO_TABLE_NAME",
    "MITROO_IDEMPOTENCY_TABLE_NAME",
    "MITROO_TASK_QUEUE_NAME",
    "MITROO_UPLOAD_BUCKET",
    "MITROO_MAIL_SENDER",
    "MITROO_SES_CONFIGURATION_SET",
    "MITROO_MAIL_RATE_PER_SECOND",
    "MITROO_GSIS_BASE_URL",
    "MITROO_GSIS_CLIENT_ID",
    "MITROO_GSIS_CLIENT_SECRET_NAME",
    "MITROO_EULOGIN_ISSUER",
    "MITROO_EULOGIN_CLIENT_ID",
    "MITROO_EULOGIN_CLIENT_SECRET_NAME",
    "MITROO_JWT_PRIVATE_KEY_SECRET",
}


@pytest.fixture(scope="module", params=sorted(STAGES))
def stage(request: pytest.FixtureRequest, synthesized: tuple[Any, Path]) -> tuple[str, Template, dict[str, Any]]:
    stacks, _ = synthesized
    name = request.param
    template = Template.from_stack(stacks[name])
    return name, template, template.to_json()


def _resources(raw: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in raw["Resources"].items() if value["Type"] == kind}


def test_the_settings_named_here_exist_in_the_app() -> None:
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert DEPLOYED_SETTINGS <= aliases


def test_tables_follow_the_app_definitions_with_ttl_pitr_and_protection(stage: Any) -> None:
    name, template, _ = stage
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": {
                "TableName": f"mitroo-{name}-main",
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [
                    {"AttributeName": MAIN_TABLE.partition_key, "KeyType": "HASH"},
                    {"AttributeName": MAIN_TABLE.sort_key, "KeyType": "RANGE"},
                ],
                "GlobalSecondaryIndexes": [
                    Match.object_like(
                        {
                            "IndexName": "GSI1",
                            "KeySchema": [
                                {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                                {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                            ],
                            "Projection": {"ProjectionType": "ALL"},
                        }
                    ),
                    Match.object_like(
                        {
                            "IndexName": "GSI2",
                            "KeySchema": [
                                {"AttributeName": "GSI2PK", "KeyType": "HASH"},
                                {"AttributeName": "GSI2SK", "KeyType": "RANGE"},
                            ],
                            "Projection": {"ProjectionType": "ALL"},
                        }
                    ),
                ],
                "TimeToLiveSpecification": {"AttributeName": MAIN_TABLE.ttl_attribute, "Enabled": True},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "DeletionProtectionEnabled": True,
            },
            "DeletionPolicy": "Retain",
        },
    )
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": f"mitroo-{name}-idempotency",
            "KeySchema": [{"AttributeName": IDEMPOTENCY_TABLE.partition_key, "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": IDEMPOTENCY_TABLE.ttl_attribute, "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )


def test_the_task_queue_dead_letters_after_five_receives_and_feeds_the_worker(stage: Any) -> None:
    name, template, raw = stage
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "QueueName": f"mitroo-{name}-tasks",
            "RedrivePolicy": {"maxReceiveCount": 5, "deadLetterTargetArn": Match.any_value()},
            "SqsManagedSseEnabled": True,
        },
    )
    template.has_resource_properties("AWS::SQS::Queue", {"QueueName": f"mitroo-{name}-tasks-dlq"})
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"], "EventSourceArn": Match.any_value()},
    )
    worker = raw["Resources"]["RunTasks"]["Properties"]
    assert worker["Timeout"] == 300 and worker["ReservedConcurrentExecutions"] == STAGES[name].worker_concurrency


def test_the_expiry_job_runs_daily(stage: Any) -> None:
    _, _, raw = stage
    events = raw["Resources"]["ExpireAccounts"]["Properties"]["Events"]
    [schedule] = events.values()
    assert schedule["Type"] == "Schedule" and schedule["Properties"]["Schedule"] == "cron(15 2 * * ? *)"


def test_sessions_that_ran_out_are_swept_every_15_minutes(stage: Any) -> None:
    _, _, raw = stage
    [schedule] = raw["Resources"]["EndExpiredSessions"]["Properties"]["Events"].values()
    assert schedule["Type"] == "Schedule" and schedule["Properties"]["Schedule"] == "rate(15 minutes)"


def test_the_upload_bucket_is_private_encrypted_and_forgets_jobs(stage: Any) -> None:
    _, template, _ = stage
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": Match.any_value(),
            "LifecycleConfiguration": {
                "Rules": Match.array_with([Match.object_like({"Prefix": "jobs/", "ExpirationInDays": 90})])
            },
        },
    )


def test_every_function_gets_the_whole_environment_and_the_stack_role(stage: Any) -> None:
    _, _, raw = stage
    roles = {json.dumps(fn["Properties"]["Role"]) for fn in _resources(raw, "AWS::Serverless::Function").values()}
    assert len(roles) == 1 and "FunctionRole" in roles.pop()
    for function in FUNCTIONS:
        variables = raw["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert DEPLOYED_SETTINGS <= set(variables), function
        assert variables["MITROO_ENV"] == "deployed"
        assert "MITROO_DEV_ROUTES" not in variables and "MITROO_JWT_PRIVATE_KEY" not in variables


def test_permissions_are_exact_and_never_wildcards_on_data(stage: Any) -> None:
    _, _, raw = stage
    statements = [
        statement
        for policy in _resources(raw, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    data_prefixes = ("dynamodb:", "s3:", "sqs:", "secretsmanager:", "ses:")
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert all("*" not in action for action in actions), actions
        if any(action.startswith(data_prefixes) for action in actions):
            assert "*" not in resources, statement
        assert "dynamodb:Scan" not in actions
    dynamodb = [s for s in statements if any(str(a).startswith("dynamodb:") for a in s["Action"])]
    assert dynamodb and {"dynamodb:GetItem", "dynamodb:BatchWriteItem"} <= set(dynamodb[0]["Action"])


def test_alarms_watch_errors_throttles_dead_letters_and_bounces(stage: Any) -> None:
    _, _, raw = stage
    alarms = _resources(raw, "AWS::CloudWatch::Alarm").values()
    watched = {(alarm["Properties"].get("Namespace"), alarm["Properties"].get("MetricName")) for alarm in alarms}
    assert {
        ("AWS/ApiGateway", "5XXError"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Lambda", "Errors"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SES", "Reputation.BounceRate"),
    } <= watched
    assert all(alarm["Properties"].get("AlarmActions") for alarm in alarms)


def test_an_alarm_watches_back_channel_logouts_that_gave_up(stage: Any) -> None:
    _, _, raw = stage
    alarms = [alarm["Properties"] for alarm in _resources(raw, "AWS::CloudWatch::Alarm").values()]
    [watching] = [alarm for alarm in alarms if alarm.get("MetricName") == "BackchannelLogoutDeadLettered"]
    assert watching["Namespace"] == "Mitroo" and watching["Threshold"] == 1 and watching["AlarmActions"]
    assert {"Name": "service", "Value": "mitroo"} in watching["Dimensions"]
    queues = _resources(raw, "AWS::SQS::Queue").values()
    receives = [
        q["Properties"]["RedrivePolicy"]["maxReceiveCount"] for q in queues if "RedrivePolicy" in q["Properties"]
    ]
    functions = _resources(raw, "AWS::Serverless::Function") or _resources(raw, "AWS::Lambda::Function")
    told = {f["Properties"]["Environment"]["Variables"].get("MITROO_TASK_MAX_RECEIVES") for f in functions.values()}
    assert told == {str(receives[0])}


def test_the_api_serves_the_openid_provider(stage: Any) -> None:
    _, _, raw = stage
    [api] = _resources(raw, "AWS::Serverless::Api").values() or _resources(raw, "AWS::ApiGateway::RestApi").values()
    paths = api["Properties"].get("DefinitionBody", api["Properties"].get("Body", {}))["paths"]
    for path in (
        "/realms/{realm}/.well-known/openid-configuration",
        "/realms/{realm}/oidc/authorize",
        "/realms/{realm}/oidc/token",
        "/realms/{realm}/oidc/userinfo",
        "/realms/{realm}/oidc/logout",
        "/realms/{realm}/oidc/revoke",
        "/realms/{realm}/oidc/introspect",
        "/api/v1/realms/{realm}/admin/oidc-clients",
    ):
        assert path in paths, path
    assert {"get", "post"} <= set(paths["/realms/{realm}/oidc/authorize"])


def test_secrets_are_stack_resources_the_functions_name(stage: Any) -> None:
    name, template, _ = stage
    for secret in ("jwt-private-key", "gsis-client-secret", "eulogin-client-secret"):
        template.has_resource_properties("AWS::SecretsManager::Secret", {"Name": f"mitroo-{name}/{secret}"})


def test_cfn_lint_passes_on_every_template(synthesized: tuple[Any, Path]) -> None:
    _, outdir = synthesized
    templates = sorted(str(path) for path in outdir.glob("*.template.json"))
    assert len(templates) == len(STAGES)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), *templates],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_lambda_package_is_under_30_mb_and_has_no_dev_code(synthesized: tuple[Any, Path]) -> None:
    import zipfile

    _, outdir = synthesized
    package = max(outdir.glob("asset.*.zip"), key=lambda path: path.stat().st_size)
    assert package.stat().st_size <= 30 * 1024 * 1024, package.stat().st_size
    names = zipfile.ZipFile(package).namelist()
    assert "app.py" in names and any(name.startswith("chalicelib/") for name in names)
    assert not any(re.match(r"(standins|devtools|tests|bench|infra)/", name) for name in names)
    # Built from a clean snapshot: no bytecode from the developer's tree.
    assert not [name for name in names if name.startswith("chalicelib/") and "__pycache__" in name]
