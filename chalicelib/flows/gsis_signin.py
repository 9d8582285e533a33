"""Proving identity through GSIS: start, callback, and reading the resulting flow.

GSIS is plain OAuth2 (ANCHORS §1): Mitroo keeps the ``state`` server-side, single use,
expiring, and bound to the browser that started it through a cookie whose hash is stored
with the state. A completed round trip becomes an :class:`IdentityFlow` that the next page
reads by id; nothing from GSIS ever comes back through the client.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.flows import IdentityFlow, Intent
from chalicelib.domain.secrets import fingerprint
from chalicelib.domain.tickets import TicketKind
from chalicelib.errors import (
    IdentityProviderError,
    InvalidInput,
    TokenExpired,
    TokenInvalid,
)
from chalicelib.flows.oauth_states import load_flow, save_state, take_state
from chalicelib.ports import Clock, FlowRepository, GsisProvider, SecretSource, TicketRepository
from chalicelib.realms import RealmConfig

GSIS_INTENTS = (Intent.REGISTER, Intent.CERTIFY, Intent.RESET_PASSWORD, Intent.RECOVER_EMAIL)
"""What a person may go to GSIS for (``login`` belongs to EU Login realms)."""

TICKETED_INTENTS: dict[Intent, tuple[str, TicketKind]] = {
    Intent.CERTIFY: ("ticket", TicketKind.CERTIFICATION),
    Intent.RESET_PASSWORD: ("reset", TicketKind.PASSWORD_RESET),
}
"""Intents that continue something begun earlier: the query parameter naming its ticket."""


@dataclass(frozen=True)
class StartedSignIn:
    redirect_url: str
    browser_binding: str
    """Cookie value to set (the existing one when the browser already had it)."""


@dataclass(frozen=True)
class CompletedSignIn:
    flow_id: str
    intent: Intent


@dataclass(frozen=True)
class GsisSignIn:
    flows: FlowRepository
    provider: GsisProvider
    tickets: TicketRepository
    clock: Clock
    secrets: SecretSource

    def start(
        self, realm: RealmConfig, intent: str, browser_binding: str | None, params: dict[str, str] | None = None
    ) -> StartedSignIn:
        """Create a state and the GSIS authorize URL for ``intent``.

        Raises
        ------
        InvalidInput
            for an intent this realm does not offer.
        """
        if realm.identity_source != "gsis":
            raise InvalidInput("This realm does not use GSIS.", errors={"realm": ["GSIS is not used here"]})
        try:
            chosen = Intent(intent)
        except ValueError:
            chosen = None
        if chosen is None or chosen not in GSIS_INTENTS:
            allowed = ", ".join(str(i) for i in GSIS_INTENTS)
            raise InvalidInput(errors={"intent": [f"must be one of {allowed}"]}) from None
        flow_params = self._ticket_params(realm, chosen, params or {})
        binding = browser_binding or self.secrets.token()
        state = self.secrets.token()
        now = self.clock.now()
        save_state(
            self.flows,
            realm,
            provider="gsis",
            intent=chosen,
            state=state,
            browser_binding=binding,
            now=now,
            params=flow_params,
        )
        return StartedSignIn(self.provider.authorization_url(state), binding)

    def _ticket_params(self, realm: RealmConfig, intent: Intent, params: dict[str, str]) -> dict[str, str]:
        """For intents that continue a ticket, check it now (fail before GSIS, not after)
        and carry only its hash into the flow."""
        if intent not in TICKETED_INTENTS:
            return {}
        name, kind = TICKETED_INTENTS[intent]
        value = params.get(name) or ""
        ticket = self.tickets.get(fingerprint(value)) if value else None
        if ticket is None or ticket.kind is not kind or ticket.realm != realm.id:
            raise TokenInvalid(errors={name: ["unknown or already used"]})
        if ticket.is_expired(self.clock.now()):
            raise TokenExpired()
        return {"ticket_hash": ticket.ticket_hash}

    def complete(
        self,
        realm: RealmConfig,
        *,
        state: str | None,
        code: str | None,
        error: str | None,
        browser_binding: str | None,
    ) -> CompletedSignIn:
        """Turn GSIS's answer into a flow.

        The state is removed before anything else, so a replay of the same callback fails
        even when the first attempt failed later on.

        Raises
        ------
        StateInvalid
            unknown, replayed, expired, foreign-realm state, or another browser's.
        IdentityProviderError
            GSIS reported an error, gave no code, or its answer was unusable.
        """
        now = self.clock.now()
        stored = take_state(self.flows, realm, provider="gsis", state=state, browser_binding=browser_binding, now=now)
        if error:
            raise IdentityProviderError("GSIS did not confirm your identity (the sign-in was cancelled or refused).")
        if not code:
            raise IdentityProviderError("GSIS answered without an authorization code.")
        identity = self.provider.fetch_identity(code)
        flow_id = self.secrets.token()
        self.flows.save_flow(
            IdentityFlow(
                flow_hash=fingerprint(flow_id),
                realm=realm.id,
                intent=stored.intent,
                identity=identity,
                created_at=now,
                expires_at=now + realm.lifetimes.flow,
                params=stored.params,
                browser_hash=stored.browser_hash,
            )
        )
        return CompletedSignIn(flow_id, stored.intent)

    def load(self, realm: RealmConfig, flow_id: str, browser_binding: str | None) -> IdentityFlow:
        """The live flow ``flow_id`` of this realm (used or not), for the browser that
        started it (``oauth_states.load_flow``).

        Raises
        ------
        FlowNotFound, FlowExpired
        """
        return load_flow(self.flows, realm, flow_id, self.clock.now(), browser_binding)
