"""Table definitions in one place: local start-up, tests and the CDK stack read these.

The main table is a single-table design (PK/SK strings, two generic GSIs, TTL attribute
``purge_at``). GSI2 came after GSI1 (the audit log by action): DynamoDB creates one
index per table update, so a deployed table gains it in one deployment. The
idempotency table follows Powertools' contract (``id`` key, TTL attribute
``expiration``). Both are on-demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableSpec:
    logical_name: str
    partition_key: str
    sort_key: str | None
    ttl_attribute: str
    indexes: tuple[IndexSpec, ...] = field(default=())

    def create_table_request(self, table_name: str) -> dict[str, Any]:
        """Arguments for ``CreateTable`` (boto3 client) for this spec under ``table_name``."""
        key_names = [self.partition_key] + ([self.sort_key] if self.sort_key else [])
        for index in self.indexes:
            key_names += [index.partition_key, index.sort_key]
        request: dict[str, Any] = {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": "S"} for name in dict.fromkeys(key_names)
            ],
            "KeySchema": _key_schema(self.partition_key, self.sort_key),
        }
        if self.indexes:
            request["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index.name,
                    "KeySchema": _key_schema(index.partition_key, index.sort_key),
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in self.indexes
            ]
        return request


def _key_schema(partition_key: str, sort_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition_key, "KeyType": "HASH"}]
    if sort_key:
        schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
    return schema


MAIN_TABLE = TableSpec(
    logical_name="main",
    partition_key="PK",
    sort_key="SK",
    ttl_attribute="purge_at",
    indexes=(IndexSpec("GSI1", "GSI1PK", "GSI1SK"), IndexSpec("GSI2", "GSI2PK", "GSI2SK")),
)

IDEMPOTENCY_TABLE = TableSpec(
    logical_name="idempotency",
    partition_key="id",
    sort_key=None,
    ttl_attribute="expiration",
)

ALL_TABLES = (MAIN_TABLE, IDEMPOTENCY_TABLE)
