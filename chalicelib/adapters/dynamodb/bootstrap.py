"""Create the tables (with TTL) on an emulator: used by ``make run`` and the tests."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb.schema import TableSpec


def ensure_table(client: Any, spec: TableSpec, table_name: str) -> bool:
    """Create ``table_name`` from ``spec`` unless it exists; True when it was created.

    An existing table (a LocalStack that outlived an upgrade) gains the indexes the spec
    added since, one at a time as DynamoDB requires."""
    try:
        client.create_table(**spec.create_table_request(table_name))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
        add_missing_indexes(client, spec, table_name)
        return False
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
    )
    return True


def add_missing_indexes(client: Any, spec: TableSpec, table_name: str) -> list[str]:
    """Create the spec's global secondary indexes the table lacks; their names."""
    table = client.describe_table(TableName=table_name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    added = []
    for index in spec.indexes:
        if index.name in present:
            continue
        client.update_table(
            TableName=table_name,
            AttributeDefinitions=[
                {"AttributeName": index.partition_key, "AttributeType": "S"},
                {"AttributeName": index.sort_key, "AttributeType": "S"},
            ],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": index.name,
                        "KeySchema": [
                            {"AttributeName": index.partition_key, "KeyType": "HASH"},
                            {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                }
            ],
        )
        client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
        added.append(index.name)
    return added
