"""Create the tables (with TTL) on an emulator: used by ``make run`` and the tests."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb.schema import TableSpec


def ensure_table(client: Any, spec: TableSpec, table_name: str) -> bool:
    """Create ``table_name`` from ``spec`` unless it exists; True when it was created."""
    try:
        client.create_table(**spec.create_table_request(table_name))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return False
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
    )
    return True
