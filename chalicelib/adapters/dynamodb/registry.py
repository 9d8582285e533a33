"""The student registry in DynamoDB: ``REGISTRY#r#<registry number>``."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamodb.common import load
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.registry import RegistryEntry, RegistryStatus


class DynamoRegistryRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def _key(self, realm: str, registry_number: str) -> tuple[str, str]:
        return f"REGISTRY#{realm}#{registry_number}", "REGISTRY"

    def get(self, realm: str, registry_number: str) -> RegistryEntry | None:
        try:
            item = self._m.RegistryItem.get(*self._key(realm, registry_number), consistent_read=True)
        except DoesNotExist:
            return None
        return load(RegistryEntry, item, status=RegistryStatus(item.status))

    def put(self, entry: RegistryEntry) -> None:
        m = self._m
        actions = [
            m.RegistryItem.realm.set(entry.realm),
            m.RegistryItem.registry_number.set(entry.registry_number),
            m.RegistryItem.level.set(entry.level),
            m.RegistryItem.status.set(str(entry.status)),
            m.RegistryItem.updated_at.set(entry.updated_at),
            m.Item.kind.set(m.RegistryItem),
        ]
        if entry.account_id is not None:
            actions.append(m.RegistryItem.account_id.set(entry.account_id))
        m.RegistryItem(*self._key(entry.realm, entry.registry_number)).update(actions=actions)

    def link_account(self, realm: str, registry_number: str, account_id: str, now: datetime) -> None:
        m = self._m
        status = m.RegistryItem.status
        m.RegistryItem(*self._key(realm, registry_number)).update(
            actions=[
                m.RegistryItem.realm.set(realm),
                m.RegistryItem.registry_number.set(registry_number),
                m.RegistryItem.level.set(m.RegistryItem.level | "undergraduate"),
                status.set(status | str(RegistryStatus.ENROLLED)),
                m.RegistryItem.account_id.set(account_id),
                m.RegistryItem.updated_at.set(now),
                m.Item.kind.set(m.RegistryItem),
            ]
        )
