"""The account directory in DynamoDB: entries that file accounts by folded key and by role.

An entry is a small item beside nothing else: ``FIND#r#<first character>`` /
``<folded key>⇥<account_id>`` for the keys of ``domain/directory.search_keys`` and
``ROLE#r#<role>`` / ``<folded username>⇥<account_id>`` for each role. A prefix search
is one Query of one partition (``begins_with`` on the sort key), a role listing one
Query; each reads one DynamoDB page of at most ``limit`` entries and then the accounts
they name in one BatchGetItem. The account repository writes the entries in the
transactions that create an account or change its roles or names
(:func:`directory_entries`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.dynamodb.common import one_page, start_key
from chalicelib.adapters.dynamodb.models import BoundModels, account_pk
from chalicelib.domain.accounts import Account
from chalicelib.domain.directory import SEPARATOR, DirectoryHit, DirectoryPage, role_keys, search_keys

BATCH_GET_KEYS = 100
"""DynamoDB's limit of keys in one BatchGetItem."""


def find_partition(realm: str, key: str) -> str:
    return f"FIND#{realm}#{key[0]}"


def role_partition(realm: str, role: str) -> str:
    return f"ROLE#{realm}#{role}"


def search_entry(models: BoundModels, realm: str, account_id: str, key: str, fields: Sequence[str]) -> Any:
    item = models.DirectoryEntryItem(find_partition(realm, key), f"{key}{SEPARATOR}{account_id}")
    item.account_id = account_id
    item.fields = list(fields)
    return item


def role_entry(models: BoundModels, realm: str, account_id: str, role: str, username_key: str) -> Any:
    item = models.DirectoryEntryItem(role_partition(realm, role), f"{username_key}{SEPARATOR}{account_id}")
    item.account_id = account_id
    return item


def directory_entries(models: BoundModels, account: Account) -> list[Any]:
    """Every entry that files ``account``: its search keys, then its roles."""
    entries = [
        search_entry(models, account.realm, account.account_id, key, fields)
        for key, fields in search_keys(account).items()
    ]
    entries += [
        role_entry(models, account.realm, account.account_id, role, username_key)
        for role, username_key in role_keys(account).items()
    ]
    return entries


def entry_count(account: Account) -> int:
    """How many items :func:`directory_entries` puts in a transaction."""
    return len(search_keys(account)) + len(role_keys(account))


class DynamoAccountDirectory:
    """:class:`~chalicelib.ports.AccountDirectory` on the main table."""

    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def search(self, realm: str, prefix: str, *, limit: int, after: str | None = None) -> DirectoryPage:
        if not prefix:
            raise ValueError("a directory search needs a prefix")
        cls = self._m.DirectoryEntryItem
        results = cls.query(
            find_partition(realm, prefix),
            cls.sk.startswith(prefix),
            page_size=limit,
            last_evaluated_key=start_key(after),
            consistent_read=True,
        )
        return self._page(realm, results)

    def with_role(self, realm: str, role: str, *, limit: int, after: str | None = None) -> DirectoryPage:
        cls = self._m.DirectoryEntryItem
        results = cls.query(
            role_partition(realm, role), page_size=limit, last_evaluated_key=start_key(after), consistent_read=True
        )
        return self._page(realm, results)

    def reindex(self, account: Account) -> int:
        """File ``account`` under its current keys and roles (the one-off backfill of
        accounts stored before the directory existed); entries are idempotent puts."""
        entries = directory_entries(self._m, account)
        with self._m.DirectoryEntryItem.batch_write() as batch:
            for entry in entries:
                batch.save(entry)
        return len(entries)

    def _page(self, realm: str, results: Any) -> DirectoryPage:
        items, after = one_page(results, self._m.DirectoryEntryItem)
        accounts = self._accounts(realm, [item.account_id for item in items])
        hits = [
            DirectoryHit(
                account_id=item.account_id,
                key=item.sk.rsplit(SEPARATOR, 1)[0],
                fields=tuple(item.fields or ()),
                account=accounts.get(item.account_id),
            )
            for item in items
        ]
        return DirectoryPage(hits, after)

    def _accounts(self, realm: str, account_ids: Sequence[str]) -> dict[str, Account]:
        from chalicelib.adapters.dynamodb.accounts import DynamoAccountRepository

        wanted = list(dict.fromkeys(account_ids))
        found: dict[str, Account] = {}
        for start in range(0, len(wanted), BATCH_GET_KEYS):
            keys = [(account_pk(realm, account_id), "PROFILE") for account_id in wanted[start : start + BATCH_GET_KEYS]]
            for item in self._m.Account.batch_get(keys, consistent_read=True):
                account = DynamoAccountRepository._from_item(item)
                found[account.account_id] = account
        return found
