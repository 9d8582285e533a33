"""The embedded emulator's speed-ups (devtools/emulator.py) change no answer of moto's:
queries by partition and by index, after puts, updates, deletes and cancelled
transactions, return what DynamoDB would. (Against LocalStack, whose DynamoDB is AWS's
DynamoDB Local, the same answers are checked there.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def table(aws_endpoint: str) -> Iterator[tuple[Any, str]]:
    client = boto3.client("dynamodb", endpoint_url=aws_endpoint)
    name = f"emulator-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "G", "GS")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI",
                "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}, {"AttributeName": "GS", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    yield client, name
    client.delete_table(TableName=name)  # a LocalStack outlives the run: leave nothing behind


def _item(pk: str, sk: str, g: str | None = None, gs: str = "1") -> dict[str, Any]:
    item = {"PK": {"S": pk}, "SK": {"S": sk}}
    if g is not None:
        item.update({"G": {"S": g}, "GS": {"S": gs}})
    return item


def _by_index(client: Any, name: str, g: str) -> list[str]:
    answer = client.query(
        TableName=name, IndexName="GSI", KeyConditionExpression="G = :g", ExpressionAttributeValues={":g": {"S": g}}
    )
    return [item["PK"]["S"] + "/" + item["SK"]["S"] for item in answer["Items"]]


def _by_partition(client: Any, name: str, pk: str) -> list[str]:
    answer = client.query(TableName=name, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": pk}})
    return [item["SK"]["S"] for item in answer["Items"]]


def test_partition_queries_return_the_partition_sorted(table: tuple[Any, str]) -> None:
    client, name = table
    for sk in ("c", "a", "b"):
        client.put_item(TableName=name, Item=_item("p1", sk))
    client.put_item(TableName=name, Item=_item("p2", "a"))
    assert _by_partition(client, name, "p1") == ["a", "b", "c"]
    assert _by_partition(client, name, "none") == []


def test_index_queries_follow_puts_updates_deletes_and_cancelled_transactions(table: tuple[Any, str]) -> None:
    client, name = table
    client.put_item(TableName=name, Item=_item("a", "1", "march", "2"))
    assert _by_index(client, name, "march") == ["a/1"]  # the index is built here
    client.put_item(TableName=name, Item=_item("b", "1", "march", "1"))
    client.put_item(TableName=name, Item=_item("c", "1"))  # not in the index at all
    assert _by_index(client, name, "march") == ["b/1", "a/1"]  # sorted by the index range key

    # An update moves an item to another index partition
    client.update_item(
        TableName=name,
        Key={"PK": {"S": "a"}, "SK": {"S": "1"}},
        UpdateExpression="SET G = :g",
        ExpressionAttributeValues={":g": {"S": "april"}},
    )
    assert _by_index(client, name, "march") == ["b/1"]
    assert _by_index(client, name, "april") == ["a/1"]

    # A cancelled transaction that would have moved it back changes nothing
    with pytest.raises(ClientError):
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"PK": {"S": "a"}, "SK": {"S": "1"}},
                        "UpdateExpression": "SET G = :g",
                        "ExpressionAttributeValues": {":g": {"S": "march"}},
                    }
                },
                {
                    "Put": {
                        "TableName": name,
                        "Item": _item("b", "1"),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    assert _by_index(client, name, "april") == ["a/1"]
    assert _by_index(client, name, "march") == ["b/1"]

    # A put that replaces an item and a delete both leave the index
    client.put_item(TableName=name, Item=_item("b", "1"))
    client.delete_item(TableName=name, Key={"PK": {"S": "a"}, "SK": {"S": "1"}})
    assert _by_index(client, name, "march") == []
    assert _by_index(client, name, "april") == []


def _page(client: Any, name: str, **options: Any) -> tuple[list[str], Any]:
    answer = client.query(TableName=name, **options)
    return [item["SK"]["S"] for item in answer["Items"]], answer.get("LastEvaluatedKey")


def test_large_partitions_answer_as_small_ones_by_prefix_range_page_and_direction(table: tuple[Any, str]) -> None:
    # Given a partition big enough for the sorted path, with keys in random order
    client, name = table
    import random

    keys = [f"{prefix}{n:03d}" for prefix in ("ab", "abc", "b", "ba") for n in range(60)]
    for sk in random.sample(keys, len(keys)):
        client.put_item(TableName=name, Item=_item("big", sk))
    expected = sorted(keys)

    # Then a prefix, a range and an equality read exactly what they name, in order
    def everything(**options: Any) -> list[str]:
        found, start = [], None
        while True:
            extra = {"ExclusiveStartKey": start} if start else {}
            items, start = _page(client, name, Limit=7, **options, **extra)
            found += items
            if start is None:
                return found

    prefix = {"KeyConditionExpression": "PK = :p AND begins_with(SK, :s)"}
    values = {":p": {"S": "big"}, ":s": {"S": "abc"}}
    assert everything(**prefix, ExpressionAttributeValues=values) == [k for k in expected if k.startswith("abc")]
    backwards = everything(**prefix, ExpressionAttributeValues=values, ScanIndexForward=False)
    assert backwards == [k for k in reversed(expected) if k.startswith("abc")]
    between = {"KeyConditionExpression": "PK = :p AND SK BETWEEN :a AND :b"}
    bounds = {":p": {"S": "big"}, ":a": {"S": "ab010"}, ":b": {"S": "b005"}}
    assert everything(**between, ExpressionAttributeValues=bounds) == [k for k in expected if "ab010" <= k <= "b005"]
    whole = {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "big"}}}
    assert everything(**whole) == expected

    # And it follows deletes and puts made after it was read
    client.delete_item(TableName=name, Key={"PK": {"S": "big"}, "SK": {"S": "abc000"}})
    client.put_item(TableName=name, Item=_item("big", "abc999"))
    after = everything(**prefix, ExpressionAttributeValues=values)
    assert after[0] == "abc001" and after[-1] == "abc999"
