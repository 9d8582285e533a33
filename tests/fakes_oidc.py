"""In-memory OpenID Provider ports, behaving as the DynamoDB adapters do
(``tests/contract/test_oidc_repositories.py`` runs the same cases against both).

They share :class:`~tests.fakes.InMemoryStore` and its lock with the session fake: a
code is issued, and its client and grant noted on the session, in one locked step that
holds only while the session is live and still the browser's, as the DynamoDB
transaction does.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.esep import Member
from chalicelib.domain.oidc import Consent, Expectations, OidcClient, OidcGrant
from chalicelib.domain.tokens import SessionFamily
from chalicelib.errors import OutboundFailed, OutboundRefused
from tests.fakes import InMemoryAccountRepository, InMemoryStore


class InMemoryOidcClientRepository:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clients: dict[tuple[str, str], OidcClient] = {}

    def create(self, client: OidcClient) -> None:
        with self._lock:
            key = (client.realm, client.client_id)
            if key in self.clients:
                raise RuntimeError("client id already stored")
            self.clients[key] = client

    def get(self, realm: str, client_id: str) -> OidcClient | None:
        with self._lock:
            return self.clients.get((realm, client_id))

    def list(self, realm: str) -> list[OidcClient]:
        with self._lock:
            return [client for (r, _), client in sorted(self.clients.items()) if r == realm]

    def save(self, client: OidcClient) -> bool:
        with self._lock:
            key = (client.realm, client.client_id)
            if key not in self.clients:
                return False
            self.clients[key] = client
            return True

    def remove(self, realm: str, client_id: str) -> bool:
        with self._lock:
            return self.clients.pop((realm, client_id), None) is not None


class InMemoryOidcGrantRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.grants: dict[str, OidcGrant] = {}
        self.assertions: dict[tuple[str, str], datetime] = {}
        self.consents: InMemoryConsentRepository | None = None

    def issue(self, grant: OidcGrant, *, browser_hash: str, now: datetime, expect: Expectations | None = None) -> bool:
        key = (grant.realm, grant.account_id, grant.session_id)
        with self.store.lock:
            family = self.store.families.get(key)
            if (
                family is None
                or family.revoked_at is not None
                or family.browser_hash != browser_hash
                or not now < family.expires_at
            ):
                return False
            if expect is not None and not self._expected(grant, family, expect):
                return False
            if grant.grant_id in self.grants:
                raise RuntimeError("grant id already stored")
            self.grants[grant.grant_id] = grant
            self.store.families[key] = dataclasses.replace(
                family,
                clients=tuple(sorted({*family.clients, grant.client_id})),
                grants=tuple(sorted({*family.grants, grant.grant_id})),
            )
            return True

    def _expected(self, grant: OidcGrant, family: SessionFamily, expect: Expectations) -> bool:
        account = self.store.accounts.get((grant.realm, grant.account_id))
        if (family.auth_time, family.expires_at, family.amr) != (expect.auth_time, expect.expires_at, expect.amr):
            return False
        if account is None or account.status is not AccountStatus.ACTIVE or account.is_past_expiry(expect.today):
            return False
        if expect.single_factor_roles is not None and (
            account.second_factors > 0 or set(account.roles) & set(expect.single_factor_roles)
        ):
            return False
        if expect.consent_scopes is None:
            return True
        consent = self.consents.get(grant.realm, grant.account_id, grant.client_id) if self.consents else None
        return consent is not None and consent.covers(expect.consent_scopes)

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
        with self.store.lock:
            grant = self.grants.get(grant_id)
            if (
                grant is None
                or grant.code_hash != code_hash
                or grant.client_id != client_id
                or grant.code_used_at is not None
                or grant.revoked_at is not None
                or not now < grant.code_expires_at
            ):
                return None
            changes: dict[str, Any] = {"code_used_at": now, "spent_refresh": ()}
            if refresh_hash is not None:
                changes.update(refresh_hash=refresh_hash, refresh_expires_at=refresh_expires_at)
            redeemed = dataclasses.replace(grant, **changes)
            self.grants[grant_id] = redeemed
            return redeemed

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
        with self.store.lock:
            grant = self.grants.get(grant_id)
            if (
                grant is None
                or grant.refresh_hash != old_hash
                or grant.client_id != client_id
                or grant.revoked_at is not None
                or grant.refresh_expires_at is None
                or not now < grant.refresh_expires_at
                or not now < grant.expires_at
                or not set(scopes) <= set(grant.scopes)
            ):
                return None
            slots = dict(self._slots.get(grant_id, {}))
            slots[slot] = old_hash
            self._slots[grant_id] = slots
            rotated = dataclasses.replace(
                grant,
                refresh_hash=new_hash,
                refresh_expires_at=expires_at,
                spent_refresh=tuple(slots[name] for name in sorted(slots)),
            )
            self.grants[grant_id] = rotated
            return rotated

    @property
    def _slots(self) -> dict[str, dict[str, str]]:
        slots: dict[str, dict[str, str]] = self.__dict__.setdefault("_slot_table", {})
        return slots

    def get(self, grant_id: str) -> OidcGrant | None:
        with self.store.lock:
            return self.grants.get(grant_id)

    def revoke(self, grant_id: str, now: datetime) -> bool:
        with self.store.lock:
            grant = self.grants.get(grant_id)
            if grant is None or grant.revoked_at is not None:
                return False
            self.grants[grant_id] = dataclasses.replace(grant, revoked_at=now)
            return True

    def remember_assertion(self, client_id: str, jti: str, expires_at: datetime) -> bool:
        with self.store.lock:
            if (client_id, jti) in self.assertions:
                return False
            self.assertions[(client_id, jti)] = expires_at
            return True


class InMemoryConsentRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.consents: dict[tuple[str, str, str], Consent] = {}

    def grant(self, consent: Consent) -> None:
        key = (consent.realm, consent.account_id, consent.client_id)
        with self.store.lock:
            earlier = self.consents.get(key)
            scopes = set(consent.scopes) | set(earlier.scopes if earlier else ())
            self.consents[key] = dataclasses.replace(consent, scopes=tuple(sorted(scopes)))

    def get(self, realm: str, account_id: str, client_id: str) -> Consent | None:
        with self.store.lock:
            return self.consents.get((realm, account_id, client_id))

    def list(self, realm: str, account_id: str) -> list[Consent]:
        with self.store.lock:
            return [c for (r, a, _), c in sorted(self.consents.items()) if r == realm and a == account_id]

    def revoke(self, realm: str, account_id: str, client_id: str, *, audit: AuditEntry | None = None) -> bool:
        with self.store.lock:
            gone = self.consents.pop((realm, account_id, client_id), None) is not None
            if gone and audit is not None:
                self.store.audit.append(audit)
            return gone


class InMemoryOidcLookup:
    def __init__(
        self,
        store: InMemoryStore,
        accounts: InMemoryAccountRepository,
        grants: InMemoryOidcGrantRepository,
        consents: InMemoryConsentRepository,
        esep: Any,
    ) -> None:
        self.store, self.accounts, self.grants, self.consents, self.esep = store, accounts, grants, consents, esep
        self.reads = 0

    def authorization_context(
        self, realm: str, account_id: str, family_id: str, client_id: str
    ) -> tuple[SessionFamily | None, Account | None, Consent | None]:
        self.reads += 1
        with self.store.lock:
            family = self.store.families.get((realm, account_id, family_id))
        return family, self.accounts.get(realm, account_id), self.consents.get(realm, account_id, client_id)

    def userinfo_context(
        self, realm: str, account_id: str, grant_id: str, *, with_member: bool
    ) -> tuple[OidcGrant | None, Account | None, Member | None]:
        self.reads += 1
        member = self.esep.get_member(account_id) if with_member else None
        return self.grants.get(grant_id), self.accounts.get(realm, account_id), member


class RecordingOutbound:
    """Posts nothing: records what would be posted; ``down`` makes a URL fail (a client
    that does not answer), ``refused`` makes it an address a deployed stage never calls."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, dict[str, str]]] = []
        self.down: set[str] = set()
        self.refused: set[str] = set()
        self.documents: dict[str, Any] = {}

    def post_form(self, url: str, fields: dict[str, str]) -> int:
        if url in self.refused:
            raise OutboundRefused(url)
        if url in self.down:
            raise OutboundFailed(url)
        self.posted.append((url, dict(fields)))
        return 200

    def get_json(self, url: str) -> Any:
        if url not in self.documents:
            raise OutboundFailed(url)
        return self.documents[url]

    def refusal(self, url: str) -> str | None:
        return "must not be a private address" if "10.0.0." in url else None


def oidc_fakes(store: InMemoryStore, accounts: InMemoryAccountRepository, esep: Any) -> dict[str, Any]:
    """The OpenID Provider's ports for :func:`tests.fakes.build_flows`."""
    grants = InMemoryOidcGrantRepository(store)
    consents = InMemoryConsentRepository(store)
    grants.consents = consents
    return {
        "oidc_clients": InMemoryOidcClientRepository(),
        "oidc_grants": grants,
        "consents": consents,
        "oidc_lookup": InMemoryOidcLookup(store, accounts, grants, consents, esep),
        "outbound": RecordingOutbound(),
    }
