"""A person's scheduled deletion and the erasure of their data, on the main table (SPEC §2.10).

Scheduling sets ``deletion_due`` on the account and files it on GSI2 under
``DELETION#<realm>`` sorted by ``<due day>#<account_id>`` (GSI1 already files accounts by
expiry): the daily sweep reads the days up to today from one partition, so it reads the
accounts due and nothing else. Deletions are rare, so one partition per realm is enough.

The erasure knows where a person's data sits: their account's partition (profile,
sessions, challenges, consents, second factors, eTwinning member record, pending marker
and project links), items keyed by a value of theirs (uniqueness guards, challenge
look-ups, WebAuthn credentials, OIDC grants of their sessions, the directory's entries,
the eTwinning legacy record of their address), the audit partition about them, and the
support tickets sent from their address (GSI2 of the tickets). It goes in three steps:

1. the account is marked ``erasing_at`` on condition that its deletion is due, so a
   cancel that comes later fails rather than keep a half-erased account;
2. everything but the account item is deleted (batch deletes: idempotent, so a retry
   after a failure part-way redoes what is left);
3. one transaction deletes the account item and its guards (each on condition that it
   is this account's, or already gone) and writes the tombstone: the guards are released
   and the e-mail can register again. A concurrent erasure loses here and reports False.

Audit tombstones (action ``account.erased``) are never deleted by step 2, so a second,
concurrent erasure cannot take away the first one's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.aws_errors import is_transient
from chalicelib.adapters.dynamodb.accounts import DynamoAccountRepository, guard_key
from chalicelib.adapters.dynamodb.audit import audit_item
from chalicelib.adapters.dynamodb.common import conditional_failed, day, transact
from chalicelib.adapters.dynamodb.directory import directory_entries
from chalicelib.adapters.dynamodb.esep import legacy_key
from chalicelib.adapters.dynamodb.factors import credential_pk
from chalicelib.adapters.dynamodb.helpdesk import sender_key, ticket_pk
from chalicelib.adapters.dynamodb.models import BoundModels, account_pk
from chalicelib.domain.audit import AuditEntry

ERASED = "account.erased"
"""The tombstone's action: the one audit entry an erasure keeps (and never deletes)."""


def deletion_index_key(realm: str, due: date, account_id: str) -> tuple[str, str]:
    """GSI2 keys that file an account under the day its deletion is due."""
    return f"DELETION#{realm}", f"{due.isoformat()}#{account_id}"


class DynamoPersonalDataRepository:
    """:class:`~chalicelib.ports.PersonalDataRepository` on the main table."""

    def __init__(self, models: BoundModels) -> None:
        self._m = models

    # --- scheduling -----------------------------------------------------------------------------

    def schedule_deletion(self, realm: str, account_id: str, due: date, *, audit: AuditEntry) -> date | None:
        m = self._m
        gsi2pk, gsi2sk = deletion_index_key(realm, due, account_id)
        account = m.Account(account_pk(realm, account_id), "PROFILE")

        def build(transaction: TransactWrite) -> None:
            transaction.save(audit_item(m, audit))
            transaction.update(
                account,
                actions=[
                    m.Account.deletion_due.set(due.isoformat()),
                    m.Account.gsi2pk.set(gsi2pk),
                    m.Account.gsi2sk.set(gsi2sk),
                    m.Account.updated_at.set(audit.at),
                ],
                condition=m.Item.pk.exists() & m.Account.deletion_due.does_not_exist(),
            )

        try:
            transact(m, build)
        except TransactWriteError as exc:
            if is_transient(exc):
                raise
            stored = self._account(realm, account_id)
            if stored is None:
                raise LookupError(f"no account {account_id} in {realm}") from None
            if stored.deletion_due is not None:
                return day(stored.deletion_due)
            raise
        return None

    def cancel_deletion(self, realm: str, account_id: str, *, audit: AuditEntry) -> bool:
        m = self._m
        account = m.Account(account_pk(realm, account_id), "PROFILE")

        def build(transaction: TransactWrite) -> None:
            transaction.save(audit_item(m, audit))
            transaction.update(
                account,
                actions=[
                    m.Account.deletion_due.remove(),
                    m.Account.gsi2pk.remove(),
                    m.Account.gsi2sk.remove(),
                    m.Account.updated_at.set(audit.at),
                ],
                condition=m.Account.deletion_due.exists() & m.Account.erasing_at.does_not_exist(),
            )

        try:
            transact(m, build)
        except TransactWriteError as exc:
            if is_transient(exc):
                raise
            return False
        return True

    def deletions_due(self, realm: str, as_of: date) -> list[tuple[str, date]]:
        m = self._m
        # Sort keys start with the ISO day; "~" sorts after "#<account id>".
        condition = m.Account.gsi2sk < as_of.isoformat() + "~"
        found = []
        for item in m.Account.by_deletion.query(f"DELETION#{realm}", condition):
            due = day(item.gsi2sk.split("#", 1)[0])
            assert due is not None
            found.append((item.gsi2sk.split("#", 1)[1], due))
        return found

    # --- erasure -----------------------------------------------------------------------------------

    def erase(self, realm: str, account_id: str, *, as_of: date, tombstone: AuditEntry) -> bool:
        m = self._m
        pk = account_pk(realm, account_id)
        items = list(m.Item.query(pk, consistent_read=True))
        stored = next((item for item in items if isinstance(item, m.Account)), None)
        if stored is None or not stored.deletion_due or stored.deletion_due > as_of.isoformat():
            return False
        if not self._mark_erasing(stored, as_of, tombstone):
            return False
        account = DynamoAccountRepository._from_item(stored)
        doomed: list[Any] = [item for item in items if item is not stored]
        for item in items:
            doomed += self._keyed_by(item)
        doomed += directory_entries(m, account)
        doomed += [
            item
            for item in m.AuditItem.query(f"AUDIT#{realm}#{account_id}", consistent_read=True)
            if item.action != ERASED
        ]
        doomed += self._tickets(realm, account.email)
        with m.Item.batch_write() as batch:
            for item in doomed:
                batch.delete(item)
        guards = [m.Guard(*guard_key(realm, kind, value)) for kind, value in account.unique_values().items()]

        def build(transaction: TransactWrite) -> None:
            for guard in guards:
                transaction.delete(guard, condition=m.Item.pk.does_not_exist() | (m.Guard.account_id == account_id))
            transaction.delete(m.Account(pk, "PROFILE"), condition=m.Item.pk.exists())
            transaction.save(audit_item(m, tombstone))

        try:
            transact(m, build)
        except TransactWriteError as exc:
            if is_transient(exc):
                raise
            return False  # erased by a concurrent call
        return True

    def _mark_erasing(self, stored: Any, as_of: date, tombstone: AuditEntry) -> bool:
        m = self._m
        try:
            stored.update(
                actions=[m.Account.erasing_at.set(tombstone.at)],
                condition=m.Item.pk.exists() & (m.Account.deletion_due <= as_of.isoformat()),
            )
        except UpdateError as exc:
            if conditional_failed(exc):
                return False  # cancelled, or erased, meanwhile
            raise
        return True

    def _keyed_by(self, item: Any) -> list[Any]:
        """Items outside the account's partition that an item of it names."""
        m = self._m
        if isinstance(item, m.ChallengeItem):
            return [m.ChallengeLookup(f"TOKEN#{item.token_hash}", "TOKEN")]
        if isinstance(item, m.FactorItem) and item.credential_id:
            return [m.CredentialItem(credential_pk(item.credential_id), "CREDENTIAL")]
        if isinstance(item, m.SessionFamilyItem):
            return [m.OidcGrantItem(f"OIDCGRANT#{grant_id}", "GRANT") for grant_id in item.grants or ()]
        if isinstance(item, m.EsepMemberItem):
            return [m.EsepLegacyItem(*legacy_key(item.email))]
        return []

    def _tickets(self, realm: str, email: str) -> list[Any]:
        """Every item (ticket and replies) of the support tickets sent from ``email``."""
        m = self._m
        found: list[Any] = []
        for ticket in m.SupportTicketItem.by_sender.query(sender_key(realm, email)):
            found += list(m.Item.query(ticket_pk(realm, ticket.pk.rsplit("#", 1)[1]), consistent_read=True))
        return found

    def _account(self, realm: str, account_id: str) -> Any | None:
        try:
            return self._m.Account.get(account_pk(realm, account_id), "PROFILE", consistent_read=True)
        except DoesNotExist:
            return None
