"""The student registry in DynamoDB: ``REGISTRY#r#<registry number>``.

An undergraduate account is linked to its entry in the account's create transaction
(``DynamoAccountRepository.stage_registry_link``): the link is the registry-number guard.
"""

from __future__ import annotations

from collections.abc import Sequence

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamodb.accounts import registry_key
from chalicelib.adapters.dynamodb.common import load
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.registry import RegistryEntry, RegistryStatus


class DynamoRegistryRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def _key(self, realm: str, registry_number: str) -> tuple[str, str]:
        return registry_key(realm, registry_number)

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

    def get_many(self, realm: str, registry_numbers: Sequence[str]) -> dict[str, RegistryEntry]:
        keys = [self._key(realm, number) for number in dict.fromkeys(registry_numbers)]
        return {
            item.registry_number: load(RegistryEntry, item, status=RegistryStatus(item.status))
            for item in self._m.RegistryItem.batch_get(keys, consistent_read=True)
        }
