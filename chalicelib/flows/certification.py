"""One-time GSIS certification of legacy accounts (e-IEP, seed 000 §3).

Accounts imported from the old registry are not GSIS-verified. Their first correct
login is answered with a short-lived certification ticket instead of a session; after
GSIS, the person sees registry and GSIS data side by side and either certifies (the
registry identity is overwritten from GSIS, the account is verified, a session opens)
or returns (nothing changes; support can help). Like Keycloak's "review profile" on
first broker login, but the GSIS fields stay read-only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from chalicelib.domain.accounts import Account
from chalicelib.domain.audit import audit
from chalicelib.domain.flows import IdentityFlow, Intent
from chalicelib.domain.identity import comparable
from chalicelib.domain.tickets import TicketKind
from chalicelib.errors import (
    AfmRegistered,
    DuplicateValue,
    FlowAlreadyUsed,
    FlowUsed,
    IdentityMismatch,
    InvalidInput,
    TokenInvalid,
)
from chalicelib.flows.gsis_signin import GsisSignIn
from chalicelib.flows.links import Links
from chalicelib.flows.sessions import Sessions, TokenPair
from chalicelib.flows.tickets import Tickets
from chalicelib.ports import AccountRepository, Clock
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

COMPARED = ("afm", "last_name", "first_name", "father_name", "mother_name")


@dataclass(frozen=True)
class Cancelled:
    support_url: str


@dataclass(frozen=True)
class Certification:
    signin: GsisSignIn
    accounts: AccountRepository
    tickets: Tickets
    sessions: Sessions
    clock: Clock
    links: Links

    def view(self, realm: RealmConfig, flow: IdentityFlow) -> dict[str, Any]:
        """Registry data, and every field where it differs from GSIS (accents and case aside)."""
        return self._compare(self._account(realm, flow), flow)

    def _compare(self, account: Account, flow: IdentityFlow) -> dict[str, Any]:
        registry = self._registry(account)
        gsis = flow.gsis.public_fields()
        differences = [
            {"field": name, "registry": registry[name], "gsis": gsis[name]}
            for name in COMPARED
            if comparable(registry[name]) != comparable(gsis[name])
        ]
        return {"registry": registry, "differences": differences}

    def decide(
        self,
        realm: RealmConfig,
        flow_id: str,
        decision: Literal["certify", "return"],
        browser_binding: str | None,
    ) -> TokenPair | Cancelled:
        """Certify (and sign in) or return (nothing changes).

        Raises
        ------
        FlowNotFound, FlowExpired, FlowUsed
        TokenInvalid
            the flow's certification ticket is gone or expired.
        IdentityMismatch
            the AFM on record differs from the one GSIS confirmed.
        AfmRegistered
            another account holds GSIS's AFM.
        """
        flow = self.signin.load(realm, flow_id, browser_binding)
        if flow.intent is not Intent.CERTIFY:
            raise InvalidInput(errors={"flow": ["this flow was not started for certification"]})
        if flow.used_at is not None:
            raise FlowUsed()
        account = self._account(realm, flow)
        if decision == "return":
            log.info("certification declined", extra={"realm": realm.id, "account_id": account.account_id})
            return Cancelled(realm.support.url if realm.support else self.links.page(realm.id, ""))
        on_record = account.identity.afm if account.identity else ""
        if on_record and on_record != flow.gsis.afm:
            raise IdentityMismatch()
        try:
            now = self.clock.now()
            changed = ",".join(item["field"] for item in self._compare(account, flow)["differences"])
            entry = audit(realm.id, account.account_id, "account_certified", actor=account.account_id, at=now)
            if changed:
                entry.details["overwritten"] = changed  # the names of the fields, never their values
            self.accounts.certify(
                realm.id, account.account_id, flow.gsis, consume_flow=flow.flow_hash, now=now, audit=entry
            )
        except DuplicateValue:
            raise AfmRegistered() from None
        except FlowAlreadyUsed:
            raise FlowUsed() from None
        self.tickets.repository.take(flow.params["ticket_hash"])
        log.info("account certified", extra={"realm": realm.id, "account_id": account.account_id})
        return self.sessions.open(realm, account.account_id, account.roles)

    def _account(self, realm: RealmConfig, flow: IdentityFlow) -> Account:
        ticket = self.tickets.live(flow.params.get("ticket_hash", ""), TicketKind.CERTIFICATION, realm.id)
        if ticket is None:
            raise TokenInvalid("The certification ticket has expired; please sign in again.")
        account = self.accounts.get(realm.id, ticket.data["account_id"])
        if account is None:
            raise TokenInvalid()
        if account.gsis_verified:
            raise FlowUsed("This account is already certified.")
        return account

    @staticmethod
    def _registry(account: Account) -> dict[str, str]:
        if account.identity is None:
            return dict.fromkeys(COMPARED, "")
        fields = account.identity.public_fields()
        return {name: fields[name] for name in COMPARED}
