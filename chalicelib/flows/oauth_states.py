"""The server side of an OAuth ``state``, and the flow a completed round trip leaves,
shared by GSIS and EU Login sign-ins.

Only hashes are stored: of the state and of the browser-binding cookie. A state is taken
(removed) before it is checked, so a replayed callback fails even when the first one
failed later on; it must belong to the realm and provider, be unexpired, and come back
to the browser that started it.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.flows import IdentityFlow, Intent, OAuthState
from chalicelib.domain.secrets import fingerprint, same
from chalicelib.errors import FlowExpired, FlowNotFound, StateInvalid
from chalicelib.ports import FlowRepository
from chalicelib.realms import RealmConfig


def save_state(
    flows: FlowRepository,
    realm: RealmConfig,
    *,
    provider: str,
    intent: Intent,
    state: str,
    browser_binding: str,
    now: datetime,
    params: dict[str, str],
) -> None:
    flows.save_state(
        OAuthState(
            state_hash=fingerprint(state),
            realm=realm.id,
            provider=provider,
            intent=intent,
            browser_hash=fingerprint(browser_binding),
            created_at=now,
            expires_at=now + realm.lifetimes.oauth_state,
            params=params,
        )
    )


def take_state(
    flows: FlowRepository,
    realm: RealmConfig,
    *,
    provider: str,
    state: str | None,
    browser_binding: str | None,
    now: datetime,
) -> OAuthState:
    """The stored state, removed. Raises StateInvalid for an unknown, replayed, expired,
    foreign (realm or provider) state, or one that another browser started."""
    if not state:
        raise StateInvalid()
    stored = flows.take_state(fingerprint(state))
    if (
        stored is None
        or stored.realm != realm.id
        or stored.provider != provider
        or now >= stored.expires_at
        or not browser_binding
        or not same(stored.browser_hash, fingerprint(browser_binding))
    ):
        raise StateInvalid()
    return stored


ANOTHER_BROWSER = (
    "This sign-in was started in another browser (or its cookies were cleared): start again from this browser."
)


def load_flow(
    flows: FlowRepository, realm: RealmConfig, flow_id: str, now: datetime, browser_binding: str | None
) -> IdentityFlow:
    """The live flow ``flow_id`` of ``realm`` (used or not), for the browser that started it.

    The id alone is a bearer value that travels in URLs (and can be planted on someone
    else); every read, use or consumption also needs the binding cookie of the browser
    whose GSIS or EU Login round trip made the flow.

    Raises FlowNotFound (unknown, foreign realm, or another browser's), FlowExpired.
    """
    flow = flows.get_flow(fingerprint(flow_id)) if flow_id else None
    if flow is None or flow.realm != realm.id:
        raise FlowNotFound()
    if not browser_binding or not flow.browser_hash or not same(flow.browser_hash, fingerprint(browser_binding)):
        raise FlowNotFound(ANOTHER_BROWSER)
    if flow.is_expired(now):
        raise FlowExpired()
    return flow
