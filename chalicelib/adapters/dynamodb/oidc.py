"""The OpenID Provider's records in DynamoDB: clients, grants, consents, and the reads
of its hot paths (key patterns in ``models.py``).

Every state change of a grant is one conditional ``UpdateItem`` that returns the item as
written (``ALL_NEW``): the condition decides which of concurrent requests wins (one
redemption of a code, one rotation of a refresh token), and the winner gets what it
needs to mint its tokens without a second read. Issuing a code is the one transaction:
the grant is stored and its client and id are added to the session family only while
that family is live and still the browser's.

Clients change rarely and are read by every request of the provider, so each container
keeps what it read for ``cache_seconds`` (10 s by default): a rotated secret or a removed
client stops working in every container within that time, and at once in the one that
made the change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.accounts import DynamoAccountRepository
from chalicelib.adapters.dynamodb.audit import audit_item
from chalicelib.adapters.dynamodb.common import conditional_failed, failed_positions, load, plain_map, transact
from chalicelib.adapters.dynamodb.esep import DynamoEsepRepository, member_key
from chalicelib.adapters.dynamodb.models import BoundModels, account_pk, session_end_index_key
from chalicelib.adapters.dynamodb.sessions import family_from, family_key
from chalicelib.domain.accounts import Account
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.esep import Member
from chalicelib.domain.oidc import Consent, Expectations, OidcClient, OidcGrant
from chalicelib.domain.secrets import fingerprint
from chalicelib.domain.tokens import SessionFamily


def client_key(realm: str, client_id: str) -> tuple[str, str]:
    return f"OIDCCLIENTS#{realm}", f"CLIENT#{client_id}"


def grant_key(grant_id: str) -> tuple[str, str]:
    return f"OIDCGRANT#{grant_id}", "GRANT"


def consent_key(realm: str, account_id: str, client_id: str) -> tuple[str, str]:
    return account_pk(realm, account_id), f"CONSENT#{client_id}"


def client_from(item: Any) -> OidcClient:
    return load(
        OidcClient,
        item,
        redirect_uris=tuple(item.redirect_uris or ()),
        scopes=tuple(item.scopes or ()),
        post_logout_redirect_uris=tuple(item.post_logout_redirect_uris or ()),
    )


def grant_from(item: Any) -> OidcGrant:
    spent = plain_map(item.spent_refresh)
    return load(
        OidcGrant,
        item,
        scopes=tuple(sorted(item.scopes or ())),
        amr=tuple(item.amr or ()),
        spent_refresh=tuple(spent[slot] for slot in sorted(spent)),
    )


def consent_from(item: Any) -> Consent:
    return load(Consent, item, scopes=tuple(sorted(item.scopes or ())))


class DynamoOidcClientRepository:
    def __init__(self, models: BoundModels, *, cache_seconds: float = 10.0) -> None:
        self._m = models
        self._ttl = cache_seconds
        self._cache: dict[tuple[str, str], tuple[float, OidcClient]] = {}
        self._lock = threading.Lock()

    def create(self, client: OidcClient) -> None:
        self._item(client).save(condition=self._m.Item.pk.does_not_exist())
        self._forget(client.realm, client.client_id)

    def get(self, realm: str, client_id: str) -> OidcClient | None:
        key = (realm, client_id)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            client = client_from(self._m.OidcClientItem.get(*client_key(realm, client_id), consistent_read=True))
        except DoesNotExist:
            self._forget(realm, client_id)
            return None
        if self._ttl > 0:
            with self._lock:
                if len(self._cache) > 1000:
                    self._cache.clear()
                self._cache[key] = (time.monotonic() + self._ttl, client)
        return client

    def list(self, realm: str) -> list[OidcClient]:
        m = self._m
        pk, _ = client_key(realm, "")
        return [client_from(item) for item in m.OidcClientItem.query(pk, m.Item.sk.startswith("CLIENT#"))]

    def save(self, client: OidcClient) -> bool:
        try:
            self._item(client).save(condition=self._m.Item.pk.exists())
        except PutError as exc:
            if conditional_failed(exc):
                return False
            raise
        finally:
            self._forget(client.realm, client.client_id)
        return True

    def remove(self, realm: str, client_id: str) -> bool:
        m = self._m
        try:
            m.OidcClientItem(*client_key(realm, client_id)).delete(condition=m.Item.pk.exists())
        except Exception as exc:
            if conditional_failed(exc):
                return False
            raise
        finally:
            self._forget(realm, client_id)
        return True

    def _forget(self, realm: str, client_id: str) -> None:
        with self._lock:
            self._cache.pop((realm, client_id), None)

    def _item(self, client: OidcClient) -> Any:
        item = self._m.OidcClientItem(*client_key(client.realm, client.client_id))
        for name in OidcClient.__dataclass_fields__:
            value = getattr(client, name)
            setattr(item, name, list(value) if isinstance(value, tuple) else value)
        return item


class DynamoOidcGrantRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def issue(self, grant: OidcGrant, *, browser_hash: str, now: datetime, expect: Expectations | None = None) -> bool:
        m = self._m
        item = m.OidcGrantItem(*grant_key(grant.grant_id))
        for name in OidcGrant.__dataclass_fields__:
            value = getattr(grant, name)
            if name == "spent_refresh":
                continue
            setattr(item, name, list(value) if isinstance(value, tuple) else value)
        item.scopes = set(grant.scopes) or None
        item.amr = list(grant.amr) or None
        item.purge_at = grant.expires_at
        family = m.SessionFamilyItem(*family_key(grant.realm, grant.account_id, grant.session_id))
        # Each clause is one the write relies on; an equality on an attribute also says
        # the item exists, and an expected end equal to the one the cookie carries
        # (checked unexpired before) stands for ``expires_at > now``.
        session_holds = m.SessionFamilyItem.revoked_at.does_not_exist() & (
            m.SessionFamilyItem.browser_hash == browser_hash
        )
        if expect is None:
            session_holds &= m.SessionFamilyItem.expires_at > now
        else:
            session_holds &= (
                (m.SessionFamilyItem.expires_at == expect.expires_at)
                & (m.SessionFamilyItem.auth_time == expect.auth_time)
                & (m.SessionFamilyItem.amr == list(expect.amr))
            )

        def build(transaction: TransactWrite) -> None:
            transaction.save(item, condition=m.Item.pk.does_not_exist())
            index_pk, index_sk = session_end_index_key(
                grant.realm, grant.account_id, grant.session_id, grant.expires_at
            )
            transaction.update(
                family,
                actions=[
                    m.SessionFamilyItem.clients.add({grant.client_id}),
                    m.SessionFamilyItem.grants.add({grant.grant_id}),
                    m.SessionFamilyItem.gsi1pk.set(index_pk),
                    m.SessionFamilyItem.gsi1sk.set(index_sk),
                ],
                condition=session_holds,
            )
            if expect is not None:
                self._expectations(transaction, grant, expect)

        try:
            transact(m, build)
        except TransactWriteError as exc:
            if failed_positions(exc):
                return False
            raise
        return True

    def _expectations(self, transaction: TransactWrite, grant: OidcGrant, expect: Expectations) -> None:
        """The account may sign in (active, not past its last day; after a password
        alone, it has no second factor and no role that needs one) and, for a client
        that is not trusted, the person allowed every scope before."""
        m = self._m
        account = (m.Account.status == "active") & (
            m.Account.expires_on.does_not_exist() | (m.Account.expires_on >= expect.today.isoformat())
        )
        if expect.single_factor_roles is not None:
            account &= m.Account.second_factors.does_not_exist() | (m.Account.second_factors == 0)
            for role in expect.single_factor_roles:
                account &= ~m.Account.roles.contains(role)
        transaction.condition_check(m.Account, account_pk(grant.realm, grant.account_id), "PROFILE", condition=account)
        if expect.consent_scopes is not None:
            consent = m.Item.pk.exists()
            for scope in expect.consent_scopes:
                consent &= m.ConsentItem.scopes.contains(scope)
            transaction.condition_check(
                m.ConsentItem, *consent_key(grant.realm, grant.account_id, grant.client_id), condition=consent
            )

    def redeem(
        self,
        grant_id: str,
        *,
        code_hash: str,
        client_id: str,
        now: datetime,
        refresh_hash: str | None,
        refresh_expires_at: datetime | None,
    ) -> OidcGrant | None:
        m = self._m
        g = m.OidcGrantItem
        actions = [g.code_used_at.set(now), g.spent_refresh.set({})]
        if refresh_hash is not None and refresh_expires_at is not None:
            actions += [g.refresh_hash.set(refresh_hash), g.refresh_expires_at.set(refresh_expires_at)]
        condition = (
            (g.code_hash == code_hash)  # also: the grant exists
            & (g.client_id == client_id)
            & g.code_used_at.does_not_exist()
            & g.revoked_at.does_not_exist()
            & (g.code_expires_at > now)  # within 60 s of issue, so well before the session ends
        )
        return self._update(grant_id, actions, condition)

    def rotate(
        self,
        grant_id: str,
        *,
        client_id: str,
        old_hash: str,
        new_hash: str,
        slot: str,
        expires_at: datetime,
        scopes: Sequence[str],
        now: datetime,
    ) -> OidcGrant | None:
        m = self._m
        g = m.OidcGrantItem
        actions = [
            g.refresh_hash.set(new_hash),
            g.refresh_expires_at.set(expires_at),
            g.spent_refresh[slot].set(old_hash),
        ]
        condition = (
            (g.refresh_hash == old_hash)  # also: the grant exists
            & (g.client_id == client_id)
            & g.revoked_at.does_not_exist()
            & (g.refresh_expires_at > now)
            & (g.expires_at > now)
        )
        for scope in scopes:
            condition &= g.scopes.contains(scope)
        return self._update(grant_id, actions, condition)

    def get(self, grant_id: str) -> OidcGrant | None:
        try:
            return grant_from(self._m.OidcGrantItem.get(*grant_key(grant_id), consistent_read=True))
        except DoesNotExist:
            return None

    def revoke(self, grant_id: str, now: datetime) -> bool:
        m = self._m
        return (
            self._update(
                grant_id,
                [m.OidcGrantItem.revoked_at.set(now)],
                m.Item.pk.exists() & m.OidcGrantItem.revoked_at.does_not_exist(),
            )
            is not None
        )

    def remember_assertion(self, client_id: str, jti: str, expires_at: datetime) -> bool:
        m = self._m
        item = m.AssertionItem(f"ASSERTION#{client_id}#{fingerprint(jti)}", "ASSERTION")
        item.expires_at = expires_at
        item.purge_at = expires_at
        try:
            item.save(condition=m.Item.pk.does_not_exist())
        except PutError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def _update(self, grant_id: str, actions: list[Any], condition: Any) -> OidcGrant | None:
        item = self._m.OidcGrantItem(*grant_key(grant_id))
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if conditional_failed(exc):
                return None
            raise
        return grant_from(item)


class DynamoConsentRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def grant(self, consent: Consent) -> None:
        """Read, merge, write: consents are given one page at a time by one person, and a
        lost race only asks again."""
        earlier = self.get(consent.realm, consent.account_id, consent.client_id)
        scopes = set(consent.scopes) | set(earlier.scopes if earlier else ())
        item = self._m.ConsentItem(*consent_key(consent.realm, consent.account_id, consent.client_id))
        item.realm, item.account_id, item.client_id = consent.realm, consent.account_id, consent.client_id
        item.scopes = scopes or None
        item.granted_at = consent.granted_at
        item.save()

    def get(self, realm: str, account_id: str, client_id: str) -> Consent | None:
        try:
            return consent_from(
                self._m.ConsentItem.get(*consent_key(realm, account_id, client_id), consistent_read=True)
            )
        except DoesNotExist:
            return None

    def list(self, realm: str, account_id: str) -> list[Consent]:
        m = self._m
        items = m.ConsentItem.query(
            account_pk(realm, account_id), m.Item.sk.startswith("CONSENT#"), consistent_read=True
        )
        return [consent_from(item) for item in items]

    def revoke(self, realm: str, account_id: str, client_id: str, *, audit: AuditEntry | None = None) -> bool:
        """A conditional delete; with ``audit``, one transaction with the audit record."""
        m = self._m
        item = m.ConsentItem(*consent_key(realm, account_id, client_id))
        try:
            if audit is None:
                item.delete(condition=m.Item.pk.exists())
            else:
                entry = audit_item(m, audit)

                def build(transaction: TransactWrite) -> None:
                    transaction.delete(item, condition=m.Item.pk.exists())
                    transaction.save(entry)

                transact(m, build)
        except Exception as exc:
            if conditional_failed(exc) or (isinstance(exc, TransactWriteError) and failed_positions(exc)):
                return False
            raise
        return True


class DynamoOidcLookup:
    """The provider's hot reads, each one BatchGetItem (strongly consistent)."""

    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def authorization_context(
        self, realm: str, account_id: str, family_id: str, client_id: str
    ) -> tuple[SessionFamily | None, Account | None, Consent | None]:
        keys = {
            family_key(realm, account_id, family_id): "family",
            (account_pk(realm, account_id), "PROFILE"): "account",
            consent_key(realm, account_id, client_id): "consent",
        }
        found = self._batch(keys)
        family = family_from(found["family"]) if "family" in found else None
        account = DynamoAccountRepository._from_item(found["account"]) if "account" in found else None
        consent = consent_from(found["consent"]) if "consent" in found else None
        return family, account, consent

    def userinfo_context(
        self, realm: str, account_id: str, grant_id: str, *, with_member: bool
    ) -> tuple[OidcGrant | None, Account | None, Member | None]:
        keys = {grant_key(grant_id): "grant", (account_pk(realm, account_id), "PROFILE"): "account"}
        if with_member:
            keys[member_key(account_id)] = "member"
        found = self._batch(keys)
        grant = grant_from(found["grant"]) if "grant" in found else None
        account = DynamoAccountRepository._from_item(found["account"]) if "account" in found else None
        member = DynamoEsepRepository._member(found["member"]) if "member" in found else None
        return grant, account, member

    def _batch(self, keys: dict[tuple[str, str], str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for item in self._m.Item.batch_get(list(keys), consistent_read=True):
            role = keys.get((item.pk, item.sk))
            if role is not None:
                found[role] = item
        return found
