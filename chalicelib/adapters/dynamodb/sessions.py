"""Session families and rotating refresh tokens in DynamoDB."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.attempts import attempt_key
from chalicelib.adapters.dynamodb.common import conditional_failed, failed_positions, load, store, transact
from chalicelib.adapters.dynamodb.models import BoundModels, account_pk
from chalicelib.domain.tokens import RefreshToken, RotationOutcome, SessionFamily


class DynamoSessionRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def start(self, family: SessionFamily, token: RefreshToken, *, clear_attempts: Sequence[str] = ()) -> None:
        """One BatchWriteItem: both keys are fresh random values, so no condition is needed,
        and a login (SPEC §5 budget) avoids a transaction; the attempt records the login
        settles are deleted in the same call. Should the call fail half-way, a family
        without a token is inert and expires by TTL."""
        with self._m.Item.batch_write() as batch:
            batch.save(self._family_item(family))
            batch.save(self._token_item(token))
            for key in clear_attempts:
                batch.delete(self._m.AttemptItem(*attempt_key(key)))

    def find_token(self, token_hash: str) -> RefreshToken | None:
        try:
            item = self._m.RefreshTokenItem.get(f"REFRESH#{token_hash}", "REFRESH", consistent_read=True)
        except DoesNotExist:
            return None
        return load(RefreshToken, item, token_hash=token_hash)

    def get_family(self, realm: str, account_id: str, family_id: str) -> SessionFamily | None:
        try:
            item = self._m.SessionFamilyItem.get(
                account_pk(realm, account_id), f"SESSION#{family_id}", consistent_read=True
            )
        except DoesNotExist:
            return None
        return load(SessionFamily, item)

    def rotate(self, old: RefreshToken, new: RefreshToken, now: datetime) -> RotationOutcome:
        """Mark ``old`` rotated and store ``new`` in one transaction, only while the family
        is not revoked; any failed condition means the old token was spent (REUSED)."""
        m = self._m
        old_item = m.RefreshTokenItem(f"REFRESH#{old.token_hash}", "REFRESH")
        new_item = self._token_item(new)
        family_key = (account_pk(old.realm, old.account_id), f"SESSION#{old.family_id}")

        def build(transaction: TransactWrite) -> None:
            transaction.condition_check(
                m.SessionFamilyItem, *family_key, condition=m.SessionFamilyItem.revoked_at.does_not_exist()
            )
            transaction.save(new_item, condition=m.Item.pk.does_not_exist())
            transaction.update(
                old_item,
                actions=[m.RefreshTokenItem.rotated_at.set(now)],
                condition=m.Item.pk.exists() & m.RefreshTokenItem.rotated_at.does_not_exist(),
            )

        try:
            transact(m, build)
        except TransactWriteError as exc:
            # A failed condition (or a cancellation without reasons, as some emulators
            # answer) means the token was spent; throttling or a conflict decided nothing,
            # and must not revoke the session as a replay would.
            cancelled = exc.cause_response_code == "TransactionCanceledException"
            if failed_positions(exc) or (cancelled and not exc.cancellation_reasons):
                return RotationOutcome.REUSED
            raise
        return RotationOutcome.ROTATED

    def revoke_family(self, realm: str, account_id: str, family_id: str, now: datetime) -> None:
        m = self._m
        try:
            m.SessionFamilyItem(account_pk(realm, account_id), f"SESSION#{family_id}").update(
                actions=[m.SessionFamilyItem.revoked_at.set(now)],
                condition=m.Item.pk.exists() & m.SessionFamilyItem.revoked_at.does_not_exist(),
            )
        except UpdateError as exc:
            if not conditional_failed(exc):
                raise

    def revoke_all(self, realm: str, account_id: str, now: datetime) -> int:
        m = self._m
        live = [
            item
            for item in m.SessionFamilyItem.query(
                account_pk(realm, account_id), m.Item.sk.startswith("SESSION#"), consistent_read=True
            )
            if item.revoked_at is None and item.expires_at > now
        ]
        for item in live:
            self.revoke_family(realm, account_id, item.family_id, now)
        return len(live)

    def _family_item(self, family: SessionFamily) -> Any:
        key = (account_pk(family.realm, family.account_id), f"SESSION#{family.family_id}")
        return store(self._m.SessionFamilyItem(*key), family, purge_at=family.expires_at)

    def _token_item(self, token: RefreshToken) -> Any:
        item = self._m.RefreshTokenItem(f"REFRESH#{token.token_hash}", "REFRESH")
        return store(item, token, skip=("token_hash",), purge_at=token.expires_at)
