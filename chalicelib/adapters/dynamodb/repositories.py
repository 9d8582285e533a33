"""DynamoDB implementations of the repository ports (see ``models.py`` for key patterns).

Single use and uniqueness rest on DynamoDB conditions, never on read-then-write in code:
a conditional delete or a transaction decides who wins, so the answers stay right under
concurrent requests (SPEC §3).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.models import BoundModels, account_pk
from chalicelib.domain.accounts import Account, AccountStatus, LoginRecord, UniqueKind
from chalicelib.domain.flows import IdentityFlow, Intent, OAuthState
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.secrets import fingerprint
from chalicelib.domain.tokens import Challenge, Purpose, RefreshToken, RotationOutcome, SessionFamily
from chalicelib.flows.errors import DuplicateValue, FlowAlreadyUsed

_CONFLICT_RETRIES = 4


def _conditional_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _transact(models: BoundModels, build: Callable[[TransactWrite], None]) -> None:
    """Run a write transaction, retrying only when DynamoDB reports a conflict.

    A ``TransactionConflict`` means another transaction touched the same items at the
    same moment; the outcome is still undecided, so trying again is correct. Condition
    failures are final and surface as :class:`TransactWriteError`.
    """
    connection = models.Item._get_connection().connection
    for attempt in range(_CONFLICT_RETRIES):
        try:
            with TransactWrite(connection=connection) as transaction:
                build(transaction)
            return
        except TransactWriteError as exc:
            codes = {reason.code for reason in (exc.cancellation_reasons or []) if reason}
            if "TransactionConflict" not in codes or "ConditionalCheckFailed" in codes:
                raise
            if attempt == _CONFLICT_RETRIES - 1:
                raise
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))


def _failed_positions(exc: TransactWriteError) -> set[int]:
    return {
        position
        for position, reason in enumerate(exc.cancellation_reasons or [])
        if reason is not None and reason.code == "ConditionalCheckFailed"
    }


def _guard_pk(realm: str, kind: UniqueKind | str, value: str) -> str:
    return f"UNIQUE#{realm}#{kind}#{fingerprint(value)}"


class DynamoAccountRepository:
    """Accounts, their uniqueness guards, and the login record.

    The username guard doubles as the login record: it carries a copy of the password
    hash, status and roles, so a login costs one read before the hash check. Every write
    of those three fields updates the account and the guard in one transaction.
    """

    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def create(self, account: Account, *, consume_flow: str | None = None, now: datetime | None = None) -> None:
        m = self._m
        guards = sorted(account.unique_values().items())
        item = self._to_item(account)

        def build(transaction: TransactWrite) -> None:
            # pynamodb sends puts before updates; positions below rely on that order.
            transaction.save(item, condition=m.Item.pk.does_not_exist())
            for kind, value in guards:
                guard = m.Guard(_guard_pk(account.realm, kind, value), "UNIQUE")
                guard.account_id = account.account_id
                guard.unique_kind = str(kind)
                if kind is UniqueKind.USERNAME:
                    guard.password_hash = account.password_hash
                    guard.status = str(account.status)
                    guard.roles = list(account.roles)
                transaction.save(guard, condition=m.Item.pk.does_not_exist())
            if consume_flow is not None:
                flow = m.FlowItem(f"FLOW#{consume_flow}", "FLOW")
                transaction.update(
                    flow,
                    actions=[m.FlowItem.used_at.set(now or account.created_at)],
                    condition=m.Item.pk.exists() & m.FlowItem.used_at.does_not_exist(),
                )

        try:
            _transact(m, build)
        except TransactWriteError as exc:
            self._explain(exc, account, guards, consume_flow)
            raise

    def _explain(
        self, exc: TransactWriteError, account: Account, guards: list[tuple[UniqueKind, str]], consume_flow: str | None
    ) -> None:
        """Raise the domain error a cancelled create means; return if it means none."""
        failed = _failed_positions(exc)
        flow_position = len(guards) + 1
        if consume_flow is not None and flow_position in failed:
            raise FlowAlreadyUsed() from None  # a used flow explains every other conflict
        if failed:
            for position, (kind, _) in enumerate(guards, start=1):
                if position in failed:
                    raise DuplicateValue(str(kind)) from None
            return
        # No reasons came back (some emulators): look at what the transaction checked.
        if consume_flow is not None and self._flow_spent(consume_flow):
            raise FlowAlreadyUsed() from None
        for kind, value in guards:
            if self._guard(account.realm, kind, value) is not None:
                raise DuplicateValue(str(kind)) from None

    def _flow_spent(self, flow_hash: str) -> bool:
        try:
            flow = self._m.FlowItem.get(f"FLOW#{flow_hash}", "FLOW", consistent_read=True)
        except DoesNotExist:
            return True
        return flow.used_at is not None

    def _guard(self, realm: str, kind: UniqueKind, value: str) -> Any | None:
        try:
            return self._m.Guard.get(_guard_pk(realm, kind, value), "UNIQUE", consistent_read=True)
        except DoesNotExist:
            return None

    def get(self, realm: str, account_id: str) -> Account | None:
        try:
            item = self._m.Account.get(account_pk(realm, account_id), "PROFILE", consistent_read=True)
        except DoesNotExist:
            return None
        return self._from_item(item)

    def find_by_unique(self, realm: str, kind: UniqueKind, value: str) -> Account | None:
        guard = self._guard(realm, kind, value)
        return self.get(realm, guard.account_id) if guard is not None else None

    def find_login(self, realm: str, username: str) -> LoginRecord | None:
        guard = self._guard(realm, UniqueKind.USERNAME, username)
        if guard is None or guard.status is None:
            return None
        return LoginRecord(
            realm=realm,
            account_id=guard.account_id,
            password_hash=guard.password_hash,
            status=AccountStatus(guard.status),
            roles=tuple(guard.roles or ()),
        )

    def set_status(
        self, realm: str, account_id: str, status: AccountStatus, *, expected: AccountStatus, now: datetime
    ) -> bool:
        m = self._m
        actions = [m.Account.status.set(str(status)), m.Account.updated_at.set(now)]
        if status is AccountStatus.ACTIVE:
            actions.append(m.Account.activated_at.set(now))
        try:
            self._update_with_login(
                realm, account_id, actions, [m.Guard.status.set(str(status))], m.Account.status == str(expected)
            )
        except (TransactWriteError, DoesNotExist):
            return False
        return True

    def set_password_hash(self, realm: str, account_id: str, password_hash: str, now: datetime) -> None:
        m = self._m
        self._update_with_login(
            realm,
            account_id,
            [m.Account.password_hash.set(password_hash), m.Account.updated_at.set(now)],
            [m.Guard.password_hash.set(password_hash)],
            m.Item.pk.exists(),
        )

    def _update_with_login(
        self, realm: str, account_id: str, account_actions: list[Any], login_actions: list[Any], condition: Any
    ) -> None:
        """Update the account and its login record together, or neither.

        Raises ``DoesNotExist`` for an unknown account and ``TransactWriteError`` when
        ``condition`` (on the account) does not hold.
        """
        m = self._m
        current = m.Account.get(account_pk(realm, account_id), "PROFILE", consistent_read=True)
        login = m.Guard(_guard_pk(realm, UniqueKind.USERNAME, current.username.casefold()), "UNIQUE")
        account = m.Account(account_pk(realm, account_id), "PROFILE")

        def build(transaction: TransactWrite) -> None:
            transaction.update(account, actions=account_actions, condition=condition)
            transaction.update(login, actions=login_actions, condition=m.Guard.account_id == account_id)

        _transact(m, build)

    def _to_item(self, account: Account) -> Any:
        m = self._m
        item = m.Account(account_pk(account.realm, account.account_id), "PROFILE")
        item.account_id = account.account_id
        item.realm = account.realm
        item.username = account.username
        item.email = account.email
        item.status = str(account.status)
        item.password_hash = account.password_hash
        item.identity = _identity_map(account.identity) if account.identity else None
        item.gsis_verified = account.gsis_verified
        item.gender = account.gender
        item.registry_number = account.registry_number
        item.mobile = account.mobile
        item.language = account.language
        item.roles = list(account.roles)
        item.created_at = account.created_at
        item.updated_at = account.updated_at
        item.activated_at = account.activated_at
        item.extra = dict(account.extra)
        return item

    @staticmethod
    def _from_item(item: Any) -> Account:
        return Account(
            account_id=item.account_id,
            realm=item.realm,
            username=item.username,
            email=item.email,
            status=AccountStatus(item.status),
            created_at=item.created_at,
            updated_at=item.updated_at,
            password_hash=item.password_hash,
            identity=_identity(item.identity) if item.identity else None,
            gsis_verified=bool(item.gsis_verified),
            gender=item.gender,
            registry_number=item.registry_number,
            mobile=item.mobile,
            language=item.language,
            roles=tuple(item.roles or ()),
            activated_at=item.activated_at,
            extra=dict(item.extra.as_dict() if hasattr(item.extra, "as_dict") else item.extra or {}),
        )


def _identity_map(identity: GsisIdentity) -> dict[str, str]:
    return {**identity.public_fields(), "userid": identity.userid}


def _identity(stored: Any) -> GsisIdentity:
    data = stored.as_dict() if hasattr(stored, "as_dict") else dict(stored)
    return GsisIdentity(
        afm=data["afm"],
        last_name=data["last_name"],
        first_name=data["first_name"],
        father_name=data.get("father_name") or "",
        mother_name=data.get("mother_name") or "",
        birth_year=data.get("birth_year") or "",
        userid=data.get("userid") or "",
    )


def _plain(mapping: Any) -> dict[str, str]:
    data = mapping.as_dict() if hasattr(mapping, "as_dict") else dict(mapping or {})
    return {str(key): str(value) for key, value in data.items()}


def _take(item_class: Any, pk: str, sk: str) -> Any | None:
    """Read an item and delete it with a condition: only one caller gets it."""
    try:
        item = item_class.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return None
    try:
        item.delete(condition=item_class.pk.exists())
    except DeleteError as exc:
        if _conditional_failed(exc):
            return None
        raise
    return item


class DynamoFlowRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def save_state(self, state: OAuthState) -> None:
        item = self._m.OAuthStateItem(f"OAUTHSTATE#{state.state_hash}", "STATE")
        item.realm = state.realm
        item.provider = state.provider
        item.intent = str(state.intent)
        item.browser_hash = state.browser_hash
        item.params = dict(state.params)
        item.created_at = state.created_at
        item.expires_at = state.expires_at
        item.purge_at = state.expires_at
        item.save(condition=self._m.Item.pk.does_not_exist())

    def take_state(self, state_hash: str) -> OAuthState | None:
        item = _take(self._m.OAuthStateItem, f"OAUTHSTATE#{state_hash}", "STATE")
        if item is None:
            return None
        return OAuthState(
            state_hash=state_hash,
            realm=item.realm,
            provider=item.provider,
            intent=Intent(item.intent),
            browser_hash=item.browser_hash,
            created_at=item.created_at,
            expires_at=item.expires_at,
            params=_plain(item.params),
        )

    def save_flow(self, flow: IdentityFlow) -> None:
        item = self._m.FlowItem(f"FLOW#{flow.flow_hash}", "FLOW")
        item.realm = flow.realm
        item.intent = str(flow.intent)
        item.identity = _identity_map(flow.identity)
        item.params = dict(flow.params)
        item.created_at = flow.created_at
        item.expires_at = flow.expires_at
        item.used_at = flow.used_at
        item.purge_at = flow.expires_at
        item.save(condition=self._m.Item.pk.does_not_exist())

    def get_flow(self, flow_hash: str) -> IdentityFlow | None:
        try:
            item = self._m.FlowItem.get(f"FLOW#{flow_hash}", "FLOW", consistent_read=True)
        except DoesNotExist:
            return None
        return IdentityFlow(
            flow_hash=flow_hash,
            realm=item.realm,
            intent=Intent(item.intent),
            identity=_identity(item.identity),
            created_at=item.created_at,
            expires_at=item.expires_at,
            used_at=item.used_at,
            params=_plain(item.params),
        )


class DynamoChallengeRepository:
    """The challenge lives beside its account; ``TOKEN#h`` items only point to it.

    Replacing a challenge overwrites the account-side item, so an older link's lookup
    still resolves but no longer matches the stored token hash: it is dead.
    """

    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def replace(self, challenge: Challenge) -> None:
        m = self._m
        lookup = m.ChallengeLookup(f"TOKEN#{challenge.token_hash}", "TOKEN")
        lookup.realm = challenge.realm
        lookup.account_id = challenge.account_id
        lookup.purpose = str(challenge.purpose)
        lookup.purge_at = challenge.expires_at
        lookup.save()
        item = m.ChallengeItem(account_pk(challenge.realm, challenge.account_id), f"CHALLENGE#{challenge.purpose}")
        item.realm = challenge.realm
        item.account_id = challenge.account_id
        item.purpose = str(challenge.purpose)
        item.token_hash = challenge.token_hash
        item.code_hash = challenge.code_hash
        item.failed_attempts = challenge.failed_attempts
        item.created_at = challenge.created_at
        item.expires_at = challenge.expires_at
        item.purge_at = challenge.expires_at
        item.save()

    def find_by_token(self, token_hash: str) -> Challenge | None:
        try:
            lookup = self._m.ChallengeLookup.get(f"TOKEN#{token_hash}", "TOKEN", consistent_read=True)
        except DoesNotExist:
            return None
        challenge = self.find_for_account(lookup.realm, lookup.account_id, Purpose(lookup.purpose))
        if challenge is None or challenge.token_hash != token_hash:
            return None
        return challenge

    def find_for_account(self, realm: str, account_id: str, purpose: Purpose) -> Challenge | None:
        try:
            item = self._m.ChallengeItem.get(
                account_pk(realm, account_id), f"CHALLENGE#{purpose}", consistent_read=True
            )
        except DoesNotExist:
            return None
        return Challenge(
            realm=item.realm,
            account_id=item.account_id,
            purpose=Purpose(item.purpose),
            token_hash=item.token_hash,
            code_hash=item.code_hash,
            created_at=item.created_at,
            expires_at=item.expires_at,
            failed_attempts=int(item.failed_attempts or 0),
        )

    def _key(self, challenge: Challenge) -> Any:
        return self._m.ChallengeItem(
            account_pk(challenge.realm, challenge.account_id), f"CHALLENGE#{challenge.purpose}"
        )

    def record_failure(self, challenge: Challenge) -> int:
        m = self._m
        try:
            item = self._key(challenge)
            item.update(
                actions=[m.ChallengeItem.failed_attempts.add(1)],
                condition=m.ChallengeItem.token_hash == challenge.token_hash,
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                return challenge.failed_attempts + 1
            raise
        return int(item.failed_attempts)

    def consume(self, challenge: Challenge) -> bool:
        m = self._m
        try:
            self._key(challenge).delete(condition=m.ChallengeItem.token_hash == challenge.token_hash)
        except DeleteError as exc:
            if _conditional_failed(exc):
                return False
            raise
        self._drop_lookup(challenge.token_hash)
        return True

    def discard(self, challenge: Challenge) -> None:
        m = self._m
        try:
            self._key(challenge).delete(condition=m.ChallengeItem.token_hash == challenge.token_hash)
        except DeleteError as exc:
            if not _conditional_failed(exc):
                raise
        self._drop_lookup(challenge.token_hash)

    def _drop_lookup(self, token_hash: str) -> None:
        self._m.ChallengeLookup(f"TOKEN#{token_hash}", "TOKEN").delete()


class DynamoSessionRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def start(self, family: SessionFamily, token: RefreshToken) -> None:
        """One BatchWriteItem: both keys are fresh random values, so no condition is needed,
        and a login (SPEC §5 budget) avoids a transaction. Should the call fail half-way,
        a family without a token is inert and expires by TTL."""
        with self._m.Item.batch_write() as batch:
            batch.save(self._family_item(family))
            batch.save(self._token_item(token))

    def find_token(self, token_hash: str) -> RefreshToken | None:
        try:
            item = self._m.RefreshTokenItem.get(f"REFRESH#{token_hash}", "REFRESH", consistent_read=True)
        except DoesNotExist:
            return None
        return RefreshToken(
            token_hash=token_hash,
            realm=item.realm,
            account_id=item.account_id,
            family_id=item.family_id,
            created_at=item.created_at,
            expires_at=item.expires_at,
            rotated_at=item.rotated_at,
        )

    def get_family(self, realm: str, account_id: str, family_id: str) -> SessionFamily | None:
        try:
            item = self._m.SessionFamilyItem.get(
                account_pk(realm, account_id), f"SESSION#{family_id}", consistent_read=True
            )
        except DoesNotExist:
            return None
        return self._family(item)

    def rotate(self, old: RefreshToken, new: RefreshToken, now: datetime) -> RotationOutcome:
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
            _transact(m, build)
        except TransactWriteError as exc:
            if _failed_positions(exc) or not exc.cancellation_reasons:
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
            if not _conditional_failed(exc):
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
        item = self._m.SessionFamilyItem(account_pk(family.realm, family.account_id), f"SESSION#{family.family_id}")
        item.realm = family.realm
        item.account_id = family.account_id
        item.family_id = family.family_id
        item.created_at = family.created_at
        item.expires_at = family.expires_at
        item.revoked_at = family.revoked_at
        item.purge_at = family.expires_at
        return item

    def _token_item(self, token: RefreshToken) -> Any:
        item = self._m.RefreshTokenItem(f"REFRESH#{token.token_hash}", "REFRESH")
        item.realm = token.realm
        item.account_id = token.account_id
        item.family_id = token.family_id
        item.created_at = token.created_at
        item.expires_at = token.expires_at
        item.rotated_at = token.rotated_at
        item.purge_at = token.expires_at
        return item

    @staticmethod
    def _family(item: Any) -> SessionFamily:
        return SessionFamily(
            realm=item.realm,
            account_id=item.account_id,
            family_id=item.family_id,
            created_at=item.created_at,
            expires_at=item.expires_at,
            revoked_at=item.revoked_at,
        )
