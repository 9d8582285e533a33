"""The Applications tab (SPEC §2.10): the OpenID clients the person allowed, and taking
that back.

Each consent shows the client's name and the claims its scopes release
(``domain.oidc.SCOPE_CLAIMS``, as the consent page listed them). Revoking one removes
the consent (audited in the same write), so the next sign-in to that client asks again;
revokes every grant that client holds under the person's live sessions, so its refresh
tokens and access tokens stop working; and tells the client, once per session, through a
Back-Channel Logout token on the task queue (retried, dead-lettered). The sessions
themselves go on: the person stays signed in here and in the other applications.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.audit import audit
from chalicelib.domain.oidc import SCOPE_CLAIMS
from chalicelib.domain.tasks import Task
from chalicelib.errors import NotFound, TaskQueueError
from chalicelib.flows.session_ending import BACKCHANNEL_LOGOUT
from chalicelib.flows.sessions import Principal
from chalicelib.ports import (
    Clock,
    ConsentRepository,
    OidcClientRepository,
    OidcGrantRepository,
    SessionRepository,
    TaskQueue,
)
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

REVOKED_REASON = "consent_revoked"
"""The ``reason`` of the logout task (the client's sessions go on elsewhere)."""


@dataclass(frozen=True)
class ApplicationView:
    client_id: str
    name: str
    scopes: tuple[str, ...]
    claims: tuple[str, ...]
    """What the scopes release (``sub`` always)."""
    granted_at: datetime


@dataclass(frozen=True)
class AccountApplications:
    consents: ConsentRepository
    clients: OidcClientRepository
    grants: OidcGrantRepository
    sessions: SessionRepository
    tasks: TaskQueue
    clock: Clock

    def list(self, realm: RealmConfig, principal: Principal) -> list[ApplicationView]:
        consents = self.consents.list(realm.id, principal.account_id)
        names = {client.client_id: client.name for client in self.clients.list(realm.id)} if consents else {}
        views = [
            ApplicationView(
                client_id=consent.client_id,
                name=names.get(consent.client_id, consent.client_id),
                scopes=tuple(sorted(consent.scopes)),
                claims=claims_of(consent.scopes),
                granted_at=consent.granted_at,
            )
            for consent in consents
        ]
        return sorted(views, key=lambda view: view.name.casefold())

    def revoke(self, realm: RealmConfig, principal: Principal, client_id: str) -> int:
        """Take back the consent to ``client_id``; how many of its grants were revoked.

        Raises NotFound when the person had not consented to that client.
        """
        now = self.clock.now()
        entry = audit(realm.id, principal.account_id, "application.revoked", actor=principal.account_id, at=now)
        entry.details["client_id"] = client_id[:200]
        if not client_id or not self.consents.revoke(realm.id, principal.account_id, client_id, audit=entry):
            raise NotFound("You have not allowed this application.")
        revoked, tasks = 0, []
        for family in self.sessions.live_families(realm.id, principal.account_id, now):
            if client_id not in family.clients:
                continue
            for grant_id in family.grants:
                grant = self.grants.get(grant_id)
                if grant is not None and grant.client_id == client_id and grant.account_id == principal.account_id:
                    revoked += int(self.grants.revoke(grant_id, now))
            tasks.append(
                Task(
                    BACKCHANNEL_LOGOUT,
                    {
                        "realm": realm.id,
                        "client_id": client_id,
                        "account_id": principal.account_id,
                        "session_id": family.family_id,
                        "reason": REVOKED_REASON,
                    },
                    once=f"revoke:{realm.id}:{family.family_id}:{client_id}:{now.timestamp()}",
                )
            )
        if tasks:
            try:
                self.tasks.enqueue_many(tasks)
            except TaskQueueError:  # the grants are revoked already: only the push notice is lost
                log.error("back-channel logout not queued", extra={"realm": realm.id, "client_id": client_id})
        log.info("application revoked", extra={"realm": realm.id, "client_id": client_id, "grants": revoked})
        return revoked


def claims_of(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """The claims ``scopes`` release, in the order the consent page lists them."""
    given = set(scopes)
    return tuple(claim for scope, claims in SCOPE_CLAIMS.items() if scope in given for claim in claims)
