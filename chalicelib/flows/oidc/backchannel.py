"""Back-Channel Logout 1.0: telling a client that a session it took part in ended.

The session-ending service (``flows/session_ending.py``) queues one task per client; this
is the task. The logout token is a JWT signed with the realm key, ``typ: logout+jwt``
(so it never passes for an ID or access token), with ``iss``, ``aud`` (the client),
``iat``, ``exp``, ``jti``, ``sub``, ``sid`` and the back-channel logout ``events`` claim,
and no ``nonce`` (§2.4). It is posted only to the URI the client registered; the
outbound adapter refuses loopback, link-local and private addresses in a deployed stage
(SSRF). A client that is down answers nothing or an error: the task raises, the queue
delivers it again later, and after the last attempt it lands in the dead-letter queue,
which raises an alarm. Each delivered notice is audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.oidc import BACKCHANNEL_LOGOUT_EVENT
from chalicelib.flows.links import Links
from chalicelib.ports import AuditLog, Clock, OidcClientRepository, OutboundHttp, SecretSource, TokenSigner

log = logging.getLogger(__name__)

LOGOUT_TOKEN_LIFETIME = timedelta(minutes=2)
ACTOR = "system:backchannel-logout"


@dataclass(frozen=True)
class BackchannelLogout:
    clients: OidcClientRepository
    signer: TokenSigner
    outbound: OutboundHttp
    audit: AuditLog
    clock: Clock
    secrets: SecretSource
    links: Links

    def logout_token(self, realm: str, client_id: str, account_id: str, session_id: str) -> str:
        now = self.clock.now()
        issued = int(now.timestamp())
        claims = {
            "iss": self.links.issuer(realm),
            "aud": client_id,
            "iat": issued,
            "exp": issued + int(LOGOUT_TOKEN_LIFETIME.total_seconds()),
            "jti": self.secrets.identifier(),
            "sub": account_id,
            "sid": session_id,
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        }
        return self.signer.sign(claims, typ="logout+jwt")

    def deliver(self, payload: dict[str, str]) -> None:
        """Task: post the logout token to the client's registered URI.

        Raises OutboundFailed (the client did not take it: retried) or OutboundRefused
        (the address is one a deployed stage never calls: dead-lettered, alarmed).
        """
        realm, client_id = payload["realm"], payload["client_id"]
        client = self.clients.get(realm, client_id)
        if client is None or not client.backchannel_logout_uri:
            return  # removed since, or never asked to be told
        token = self.logout_token(realm, client_id, payload["account_id"], payload["session_id"])
        status = self.outbound.post_form(client.backchannel_logout_uri, {"logout_token": token})
        self.audit.record(
            AuditEntry(
                realm,
                payload["account_id"],
                "oidc.backchannel_logout",
                ACTOR,
                self.clock.now(),
                details={
                    "client_id": client_id,
                    "session_id": payload["session_id"],
                    "reason": payload.get("reason", ""),
                    "status": str(status),
                },
            )
        )
        log.info(
            "back-channel logout delivered",
            extra={"realm": realm, "client_id": client_id, "session_id": payload["session_id"], "status": status},
        )
