"""Ending sessions: the one place a session ends, whatever the reason (SPEC §2.8).

Logout, a password change or reset, a change of roles, a disabled, expired or retired
account, a replayed refresh token, a new sign-in in the same browser: each ends the
session here, so each does the same three things. The session family is revoked (its
refresh tokens, its access tokens at the next check, its single sign-on cookie); the
OpenID grants issued under it are revoked (their refresh tokens, their access tokens at
userinfo); and every client that took part gets a Back-Channel Logout token through the
task queue, which retries a client that is down and dead-letters what never got through
(Keycloak skips expiry and self-deletion, keycloak#25171 and #13272; this does not).

Only the caller whose revocation took effect does the rest, so two concurrent logouts
notify each client once. Sessions linked to the ended one (replaced in the same browser
by a new sign-in of the same person) end with it. Sessions that simply run out are
found by :meth:`SessionEnding.sweep` (a schedule) and end here too.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.domain.audit import audit
from chalicelib.domain.oidc import EndReason
from chalicelib.domain.secrets import fingerprint, same
from chalicelib.domain.tasks import Task
from chalicelib.domain.tokens import SessionFamily, parse_browser_session
from chalicelib.errors import TaskQueueError
from chalicelib.ports import AuditLog, Clock, OidcGrantRepository, SessionRepository, TaskQueue

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
SWEEP_CATCH_UP = timedelta(days=2)
"""How far back a sweep looks when it has no cursor or missed runs."""

BACKCHANNEL_LOGOUT = "oidc.backchannel_logout"
"""Task kind: deliver one logout token to one client (``flows/oidc/backchannel.py``)."""

SYSTEM = "system:sessions"


@dataclass(frozen=True)
class SessionEnding:
    sessions: SessionRepository
    grants: OidcGrantRepository
    tasks: TaskQueue
    audit: AuditLog
    clock: Clock

    def end(
        self,
        realm: str,
        account_id: str,
        session_id: str,
        reason: EndReason,
        *,
        actor: str | None = None,
        address: str = "",
    ) -> bool:
        """End one session (and those linked to it); False if it had ended already."""
        return self._end(realm, account_id, session_id, reason, actor or account_id, address, depth=0) > 0

    def end_all(
        self,
        realm: str,
        account_id: str,
        reason: EndReason,
        *,
        actor: str | None = None,
        address: str = "",
        keep: str | None = None,
    ) -> int:
        """End every live session of the account except ``keep``; how many ended."""
        ended = 0
        for family in self.sessions.live_families(realm, account_id, self.clock.now()):
            if family.family_id != keep:
                ended += self._end(realm, account_id, family.family_id, reason, actor or SYSTEM, address, depth=0)
        return ended

    def sweep(self, now: datetime) -> int:
        """End the sessions that ran out since the last sweep (reason ``session_expired``),
        so their clients hear of it as of any other end (keycloak#25171: Keycloak does
        not). Only sessions that signed a client in are filed for this, by the hour they
        end; a missed run catches up (at most :data:`SWEEP_CATCH_UP`). Returns how many
        ended."""
        current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        cursor = self.sessions.end_sweep_cursor()
        start = current - SWEEP_CATCH_UP if cursor is None else max(cursor + HOUR, current - SWEEP_CATCH_UP)
        ended = 0
        hour = start
        while hour <= current:
            for family in self.sessions.ended_sessions(hour, now):
                ended += self._end(
                    family.realm, family.account_id, family.family_id, EndReason.SESSION_EXPIRED, SYSTEM, "", depth=0
                )
            hour += HOUR
        self.sessions.set_end_sweep_cursor(current - HOUR)  # this hour is swept again next time
        log.info("ended sessions swept", extra={"sessions_ended": ended, "from": start.isoformat()})
        return ended

    def browser_session(self, realm: str, cookie: str | None) -> SessionFamily | None:
        """The live session an SSO cookie names, if the cookie's secret is its own."""
        parsed = parse_browser_session(cookie)
        if parsed is None:
            return None
        account_id, session_id, secret = parsed
        family = self.sessions.get_family(realm, account_id, session_id)
        if (
            family is None
            or not family.is_live(self.clock.now())
            or family.browser_hash is None
            or not same(family.browser_hash, fingerprint(secret))
        ):
            return None
        return family

    def end_browser_session(self, realm: str, cookie: str | None, reason: EndReason, *, address: str = "") -> bool:
        """End the session of this browser's SSO cookie (a logout page, RP-initiated
        logout); False when the cookie names no live session of its own."""
        family = self.browser_session(realm, cookie)
        if family is None:
            return False
        return self.end(realm, family.account_id, family.family_id, reason, address=address)

    def supersede(self, realm: str, earlier_cookie: str | None, account_id: str, session_id: str) -> None:
        """A new sign-in in a browser that had a session: one browser, one SSO session
        per realm (the cookie now names the new one). The same person's earlier session
        (re-authentication for ``prompt=login`` or ``max_age``) is linked to the new one,
        so its applications stay signed in and are told when the new session ends.
        Another person's earlier session is left to its own end: this browser no longer
        holds any of its cookies."""
        earlier = self.browser_session(realm, earlier_cookie)
        if earlier is None or earlier.family_id == session_id or earlier.account_id != account_id:
            return
        self.sessions.link(realm, account_id, session_id, [earlier.family_id])

    def _end(
        self, realm: str, account_id: str, session_id: str, reason: EndReason, actor: str, address: str, depth: int
    ) -> int:
        now = self.clock.now()
        family = self.sessions.revoke_family(realm, account_id, session_id, now)
        if family is None:
            return 0
        for grant_id in family.grants:
            self.grants.revoke(grant_id, now)
        self._notify(family, reason)
        entry = audit(
            realm,
            account_id,
            "session.ended",
            actor=actor,
            at=now,
            session_id=session_id,
            reason=str(reason),
            clients=",".join(family.clients),
        )
        self.audit.record(dataclasses.replace(entry, address=address) if address else entry)
        log.info(
            "session ended",
            extra={"realm": realm, "account_id": account_id, "session_id": session_id, "reason": str(reason)},
        )
        ended = 1
        if depth < 8:  # linked sessions form a short chain; the bound keeps a cycle finite
            for earlier in family.linked:
                ended += self._end(realm, account_id, earlier, reason, actor, address, depth + 1)
        return ended

    def _notify(self, family: SessionFamily, reason: EndReason) -> None:
        """One logout task per client; a task queued twice runs once (``once`` key)."""
        tasks = [
            Task(
                BACKCHANNEL_LOGOUT,
                {
                    "realm": family.realm,
                    "client_id": client_id,
                    "account_id": family.account_id,
                    "session_id": family.family_id,
                    "reason": str(reason),
                },
                once=f"logout:{family.realm}:{family.family_id}:{client_id}",
            )
            for client_id in family.clients
        ]
        if not tasks:
            return
        try:
            self.tasks.enqueue_many(tasks)
        except TaskQueueError:
            # The session and its grants are revoked already: the clients' tokens stop
            # working at their next use. Only the push notice is lost, and logged.
            log.error(
                "back-channel logout not queued",
                extra={"realm": family.realm, "session_id": family.family_id, "clients": len(tasks)},
            )
