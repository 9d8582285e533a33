"""What ``prepare`` makes and ``reset`` takes back (devtools/emulator.py), on the test
emulator: moto, or LocalStack under ``make test-localstack``, where one emulator serves
every test process and outlives the run. Resetting one set of names leaves another's
tables, queue, bucket and mail alone, and the dev mailbox reads only its sender's mail."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from chalicelib.adapters.dev_mailbox import EmulatorMailbox
from chalicelib.settings import Settings
from devtools.emulator import prepare, reset


def _settings(endpoint: str) -> Settings:
    tag = f"state-{uuid.uuid4().hex[:8]}"
    return Settings.from_environ(
        {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint,
            "MITROO_TABLE_NAME": f"{tag}-main",
            "MITROO_IDEMPOTENCY_TABLE_NAME": f"{tag}-idempotency",
            "MITROO_TASK_QUEUE_NAME": f"{tag}-tasks",
            "MITROO_UPLOAD_BUCKET": f"{tag}-uploads",
            "MITROO_MAIL_SENDER": f"{tag}@mitroo.local",
        }
    )


class Aws:
    """Clients on the test emulator, and what one set of names holds."""

    def __init__(self, endpoint: str) -> None:
        region = os.environ["AWS_REGION"]
        self.dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
        self.sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=region)
        self.ses = boto3.client("ses", endpoint_url=endpoint, region_name=region)
        self.s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=region,
            config=Config(s3={"addressing_style": "path"}),
        )
        self.endpoint = endpoint

    def fill(self, settings: Settings) -> None:
        """One item, one queued message, one object and one mail under these names."""
        self.dynamodb.put_item(TableName=settings.table_name, Item={"PK": {"S": "p"}, "SK": {"S": "s"}})
        self.sqs.send_message(QueueUrl=self._queue(settings.task_queue_name), MessageBody="{}")
        self.s3.put_object(Bucket=settings.upload_bucket, Key="jobs/x/input.xlsx", Body=b"PK")
        self.ses.send_email(
            Source=settings.mail_sender,
            Destination={"ToAddresses": [f"to.{uuid.uuid4().hex[:8]}@example.gr"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
        )

    def held(self, settings: Settings) -> dict[str, int]:
        """How many items, visible messages, objects and mails these names hold."""
        queue = self._queue(settings.task_queue_name)
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
        return {
            "items": self.dynamodb.scan(TableName=settings.table_name, Select="COUNT")["Count"],
            "messages": int(attributes["Attributes"]["ApproximateNumberOfMessages"]),
            "objects": self.s3.list_objects_v2(Bucket=settings.upload_bucket).get("KeyCount", 0),
            "mails": len(EmulatorMailbox(self.endpoint, sender=settings.mail_sender).messages()),
        }

    def drop(self, settings: Settings) -> None:
        """Leave nothing behind on an emulator that outlives the run."""
        reset(settings)  # tables and queues gone, bucket and mail emptied
        self.s3.delete_bucket(Bucket=settings.upload_bucket)
        self.ses.delete_identity(Identity=settings.mail_sender)

    def _queue(self, name: str) -> str:
        return str(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])


@pytest.fixture
def aws(aws_endpoint: str) -> Aws:
    return Aws(aws_endpoint)


@pytest.fixture
def two(aws: Aws, aws_endpoint: str) -> Iterator[tuple[Settings, Settings]]:
    mine, other = _settings(aws_endpoint), _settings(aws_endpoint)
    prepare(mine)
    prepare(other)
    yield mine, other
    aws.drop(mine)
    aws.drop(other)


def test_reset_empties_its_own_names_and_nothing_else(aws: Aws, two: tuple[Settings, Settings]) -> None:
    mine, other = two
    # Given both sets of names hold an item, a message, an object and a mail
    aws.fill(mine)
    aws.fill(other)
    full = {"items": 1, "messages": 1, "objects": 1, "mails": 1}
    assert aws.held(mine) == full and aws.held(other) == full

    # When one is reset and prepared again (a new test run on a long-lived LocalStack)
    reset(mine)
    prepare(mine)

    # Then it holds nothing, and the other still holds everything
    assert aws.held(mine) == {"items": 0, "messages": 0, "objects": 0, "mails": 0}
    assert aws.held(other) == full


def test_prepare_twice_keeps_what_is_there(aws: Aws, two: tuple[Settings, Settings]) -> None:
    mine, _ = two
    aws.fill(mine)
    prepare(mine)  # `make run` restarted against the same LocalStack
    assert aws.held(mine) == {"items": 1, "messages": 1, "objects": 1, "mails": 1}


def test_the_mailbox_reads_only_its_senders_mail(aws: Aws, two: tuple[Settings, Settings]) -> None:
    mine, other = two
    aws.fill(mine)
    aws.fill(other)
    aws.fill(mine)
    messages = EmulatorMailbox(aws.endpoint, sender=mine.mail_sender).messages()
    assert [m["from"] for m in messages] == [mine.mail_sender] * 2
    everyone = EmulatorMailbox(aws.endpoint).messages()
    assert {other.mail_sender, mine.mail_sender} <= {m["from"] for m in everyone}
