"""The Sessions tab (SPEC §2.10): where the person is signed in, and ending any of it.

Each live session shows the device it was opened from (parsed from its User-Agent),
the address, when it started and was last used (its last refresh), whether it is the
one asking, and the applications signed in through it. Ending goes through
:class:`SessionEnding`, as every end does: the grants issued under the session are
revoked and each application is told (back-channel logout). Another person's session id
answers exactly as an unknown one (``not_found``): ids reveal nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.oidc import EndReason
from chalicelib.errors import NotFound
from chalicelib.flows.account.devices import describe_device, device_parts
from chalicelib.flows.session_ending import SessionEnding
from chalicelib.flows.sessions import Principal
from chalicelib.ports import Clock, OidcClientRepository, SessionRepository
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionView:
    session_id: str
    device: str
    """``Firefox 120 on Ubuntu`` (empty when the User-Agent says nothing known)."""
    browser: str
    system: str
    address: str
    started: datetime
    last_used: datetime
    current: bool
    applications: tuple[str, ...]
    """Names of the OIDC clients signed in through the session."""


@dataclass(frozen=True)
class AccountSessions:
    sessions: SessionRepository
    clients: OidcClientRepository
    ending: SessionEnding
    clock: Clock

    def list(self, realm: RealmConfig, principal: Principal) -> list[SessionView]:
        """The person's live sessions, the current one first, then the most recently used."""
        families = self.sessions.live_families(realm.id, principal.account_id, self.clock.now())
        names = {client.client_id: client.name for client in self.clients.list(realm.id)} if families else {}
        views = []
        for family in families:
            browser, system = device_parts(family.user_agent)
            views.append(
                SessionView(
                    session_id=family.family_id,
                    device=describe_device(family.user_agent),
                    browser=browser,
                    system=system,
                    address=family.address,
                    started=family.created_at,
                    last_used=family.last_used_at or family.created_at,
                    current=family.family_id == principal.session_id,
                    applications=tuple(sorted(names.get(client_id, client_id) for client_id in family.clients)),
                )
            )
        return sorted(views, key=lambda view: (not view.current, -view.last_used.timestamp()))

    def end(self, realm: RealmConfig, principal: Principal, session_id: str) -> None:
        """End one of the person's own sessions (the current one too: a sign-out).

        Raises NotFound for an unknown, ended or another person's session.
        """
        family = self.sessions.get_family(realm.id, principal.account_id, session_id) if session_id else None
        if family is None or not family.is_live(self.clock.now()):
            raise NotFound("There is no such session.")
        self.ending.end(realm.id, principal.account_id, session_id, EndReason.LOGOUT)
        log.info("session ended by its owner", extra={"realm": realm.id, "account_id": principal.account_id})

    def end_others(self, realm: RealmConfig, principal: Principal) -> int:
        """End every session of the person except the one asking; how many ended."""
        ended = self.ending.end_all(
            realm.id, principal.account_id, EndReason.LOGOUT, actor=principal.account_id, keep=principal.session_id
        )
        log.info("other sessions ended", extra={"realm": realm.id, "account_id": principal.account_id, "ended": ended})
        return ended
