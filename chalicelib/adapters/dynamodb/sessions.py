"""Session families and rotating refresh tokens in DynamoDB."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.attempts import attempt_key
from chalicelib.adapters.dynamodb.audit import audit_item
from chalicelib.adapters.dynamodb.common import (
    condition_refused,
    conditional_failed,
    failed_positions,
    load,
    store,
    transact,
)
from chalicelib.adapters.dynamodb.factors import recovery_code_write, recovery_count_write, totp_step_write
from chalicelib.adapters.dynamodb.models import BoundModels, account_pk, session_end_index_key
from chalicelib.adapters.dynamodb.tickets import ticket_key
from chalicelib.domain.mfa import RecoveryCodeUse, TotpStep
from chalicelib.domain.tokens import RefreshToken, RotationOutcome, SessionFamily, SessionStart


class DynamoSessionRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def start(
        self,
        family: SessionFamily,
        token: RefreshToken,
        *,
        clear_attempts: Sequence[str] = (),
        spend_ticket: str | None = None,
        spend_step: TotpStep | None = None,
        spend_code: RecoveryCodeUse | None = None,
    ) -> SessionStart:
        """One BatchWriteItem: both keys are fresh random values, so no condition is needed,
        and a login (SPEC §5 budget) avoids a transaction; the attempt records the login
        settles are deleted in the same call. Should the call fail half-way, a family
        without a token is inert and expires by TTL.

        With ``spend_ticket`` (a second step's ``mfa_token``) one transaction instead: the
        ticket deleted on condition that it is still there and, with ``spend_step``, the
        code's TOTP step spent on its factor (or, with ``spend_code``, the recovery code
        taken out of the account's set, with its audit entry and the login record's count of
        codes left lowered), with the session and the
        settled attempts — two round trips fewer than spending them first, and neither
        token nor code spent without the session. Nothing is written when a condition
        fails; the outcome says which."""
        if spend_ticket is None:
            with self._m.Item.batch_write() as batch:
                batch.save(self._family_item(family))
                batch.save(self._token_item(token))
                for key in clear_attempts:
                    batch.delete(self._m.AttemptItem(*attempt_key(key)))
            return SessionStart.STARTED
        m = self._m

        def build(transaction: TransactWrite) -> None:
            transaction.delete(m.TicketItem(*ticket_key(spend_ticket)), condition=m.Item.pk.exists())
            if spend_step is not None:
                item, actions, condition = totp_step_write(m, spend_step)
                transaction.update(item, actions=actions, condition=condition)
            if spend_code is not None:
                item, actions, condition = recovery_code_write(m, spend_code)
                transaction.update(item, actions=actions, condition=condition)
                transaction.save(audit_item(m, spend_code.audit))
                if spend_code.login_key is not None:  # the login record's count of codes left follows
                    item, actions, condition = recovery_count_write(m, spend_code)
                    transaction.update(item, actions=actions, condition=condition)
            transaction.save(self._family_item(family))
            transaction.save(self._token_item(token))
            for key in clear_attempts:
                transaction.delete(m.AttemptItem(*attempt_key(key)))

        try:
            transact(m, build)
        except TransactWriteError as exc:
            if not condition_refused(exc):
                raise
            # Only the ticket and the proof (step or code) carry conditions; pynamodb sends
            # deletes first, so the ticket is at position 0 and any other refusal is the proof's.
            failed = failed_positions(exc)
            proof = spend_step is not None or spend_code is not None
            if proof and failed and 0 not in failed:
                return SessionStart.PROOF_REFUSED  # the token is still live: the next code may follow
            return SessionStart.TICKET_GONE  # spent by another second step
        return SessionStart.STARTED

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
        return family_from(item)

    def rotate(self, old: RefreshToken, new: RefreshToken, now: datetime) -> RotationOutcome:
        """Mark ``old`` rotated and store ``new`` in one transaction, only while the family
        is not revoked (the same transaction moves the family's ``last_used_at``); any
        failed condition means the old token was spent (REUSED)."""
        m = self._m
        old_item = m.RefreshTokenItem(f"REFRESH#{old.token_hash}", "REFRESH")
        new_item = self._token_item(new)
        family_key = (account_pk(old.realm, old.account_id), f"SESSION#{old.family_id}")

        def build(transaction: TransactWrite) -> None:
            transaction.update(
                m.SessionFamilyItem(*family_key),
                actions=[m.SessionFamilyItem.last_used_at.set(now)],
                condition=m.Item.pk.exists() & m.SessionFamilyItem.revoked_at.does_not_exist(),
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
            if condition_refused(exc):
                return RotationOutcome.REUSED
            raise
        return RotationOutcome.ROTATED

    def revoke_family(self, realm: str, account_id: str, family_id: str, now: datetime) -> SessionFamily | None:
        """One conditional update that answers the family as revoked (ALL_NEW): the
        clients and grants it lists are complete, since issuing a code under a revoked
        family fails (``DynamoOidcGrantRepository.issue``)."""
        m = self._m
        item = m.SessionFamilyItem(*family_key(realm, account_id, family_id))
        try:
            item.update(
                actions=[m.SessionFamilyItem.revoked_at.set(now)],
                condition=m.Item.pk.exists() & m.SessionFamilyItem.revoked_at.does_not_exist(),
            )
        except UpdateError as exc:
            if not conditional_failed(exc):
                raise
            return None
        return family_from(item)

    def revoke_all(self, realm: str, account_id: str, now: datetime) -> int:
        live = self.live_families(realm, account_id, now)
        for family in live:
            self.revoke_family(realm, account_id, family.family_id, now)
        return len(live)

    def live_families(self, realm: str, account_id: str, now: datetime) -> list[SessionFamily]:
        m = self._m
        items = m.SessionFamilyItem.query(
            account_pk(realm, account_id), m.Item.sk.startswith("SESSION#"), consistent_read=True
        )
        return [family for family in map(family_from, items) if family.is_live(now)]

    def add_authentication(
        self, realm: str, account_id: str, family_id: str, method: str, at: datetime
    ) -> SessionFamily | None:
        m = self._m
        item = m.SessionFamilyItem(*family_key(realm, account_id, family_id))
        try:
            item.update(
                actions=[
                    m.SessionFamilyItem.auth_time.set(at),
                    m.SessionFamilyItem.amr.set((m.SessionFamilyItem.amr | []).append([method])),
                ],
                condition=m.Item.pk.exists() & m.SessionFamilyItem.revoked_at.does_not_exist(),
            )
        except UpdateError as exc:
            if not conditional_failed(exc):
                raise
            return None
        return family_from(item)

    def link(self, realm: str, account_id: str, family_id: str, earlier: Sequence[str]) -> None:
        if not earlier:
            return
        m = self._m
        try:
            m.SessionFamilyItem(*family_key(realm, account_id, family_id)).update(
                actions=[m.SessionFamilyItem.linked.add(set(earlier))],
                condition=m.Item.pk.exists(),
            )
        except UpdateError as exc:
            if not conditional_failed(exc):
                raise

    def ended_sessions(self, hour: datetime, now: datetime) -> list[SessionFamily]:
        """Sessions that signed clients in, end within ``hour`` and have ended by ``now``,
        not revoked (one index query: only such sessions are read)."""
        m = self._m
        pk, _ = session_end_index_key("", "", "", hour)
        bound = f"{now.astimezone(UTC):%Y-%m-%dT%H:%M:%S}~"  # "~" sorts after the rest of the key
        items = m.SessionFamilyItem.by_end.query(pk, m.SessionFamilyItem.gsi1sk <= bound)
        return [family for family in map(family_from, items) if family.revoked_at is None and family.expires_at <= now]

    def end_sweep_cursor(self) -> datetime | None:
        try:
            item = self._m.CursorItem.get("CURSOR#sessions#end", "CURSOR", consistent_read=True)
        except DoesNotExist:
            return None
        return datetime.fromisoformat(item.value)

    def set_end_sweep_cursor(self, hour: datetime) -> None:
        item = self._m.CursorItem("CURSOR#sessions#end", "CURSOR")
        item.value = hour.isoformat()
        item.save()

    def _family_item(self, family: SessionFamily) -> Any:
        item = self._m.SessionFamilyItem(*family_key(family.realm, family.account_id, family.family_id))
        store(item, family, skip=("clients", "grants", "linked", "amr"), purge_at=family.expires_at)
        item.user_agent = family.user_agent or None
        item.address = family.address or None
        item.amr = list(family.amr) or None
        item.clients = set(family.clients) or None
        item.grants = set(family.grants) or None
        item.linked = set(family.linked) or None
        return item

    def _token_item(self, token: RefreshToken) -> Any:
        item = self._m.RefreshTokenItem(f"REFRESH#{token.token_hash}", "REFRESH")
        return store(item, token, skip=("token_hash",), purge_at=token.expires_at)


def family_key(realm: str, account_id: str, family_id: str) -> tuple[str, str]:
    return account_pk(realm, account_id), f"SESSION#{family_id}"


def family_from(item: Any) -> SessionFamily:
    return load(
        SessionFamily,
        item,
        amr=tuple(item.amr or ()),
        clients=tuple(sorted(item.clients or ())),
        grants=tuple(sorted(item.grants or ())),
        linked=tuple(sorted(item.linked or ())),
        user_agent=item.user_agent or "",
        address=item.address or "",
    )
