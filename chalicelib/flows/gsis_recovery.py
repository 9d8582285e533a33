"""Forgotten password in a GSIS realm (e-IEP, seed 000 §4): e-mail, then GSIS, then a new
password — only when the account with that e-mail has the tax number GSIS confirmed.

The first request stores the e-mail in a reset ticket and answers the same for every
address (201 with the GSIS link). Only after GSIS has proven who the person is does the
flow tell whether that e-mail and that AFM belong to one account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.accounts import Account, AccountStatus, UniqueKind, normalise_email
from chalicelib.domain.emails import valid_email
from chalicelib.domain.flows import IdentityFlow, Intent
from chalicelib.domain.tickets import TicketKind
from chalicelib.errors import FlowUsed, IdentityMismatch, InvalidInput
from chalicelib.flows.gsis_signin import GsisSignIn
from chalicelib.flows.links import Links
from chalicelib.flows.passwords import Passwords, user_inputs
from chalicelib.flows.tickets import Tickets
from chalicelib.ports import AccountRepository, Clock, FlowRepository
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StartedReset:
    reset: str
    gsis_url: str


@dataclass(frozen=True)
class GsisRecovery:
    signin: GsisSignIn
    flows: FlowRepository
    accounts: AccountRepository
    tickets: Tickets
    passwords: Passwords
    clock: Clock
    links: Links

    def request(self, realm: RealmConfig, email: str) -> StartedReset:
        """Remember the e-mail and point to GSIS; the same answer for every address."""
        address = normalise_email(valid_email(email))
        data = {"email": address}
        reset = self.tickets.issue(realm.id, TicketKind.PASSWORD_RESET, realm.lifetimes.password_reset, data)
        return StartedReset(
            reset, self.links.page(realm.id, "gsis/start", intent=str(Intent.RESET_PASSWORD), reset=reset)
        )

    def match(self, realm: RealmConfig, flow: IdentityFlow) -> Account | None:
        """The account with the reset's e-mail, if it holds the AFM GSIS confirmed."""
        ticket = self.tickets.live(flow.params.get("ticket_hash", ""), TicketKind.PASSWORD_RESET, realm.id)
        if ticket is None:
            return None
        account = self.accounts.find_by_unique(realm.id, UniqueKind.EMAIL, ticket.data.get("email", ""))
        if (
            account is None
            or account.identity is None
            or not account.identity.afm
            or account.identity.afm != flow.gsis.afm
            or account.status in (AccountStatus.DISABLED, AccountStatus.EXPIRED)
        ):
            return None
        return account

    def view(self, realm: RealmConfig, flow: IdentityFlow) -> dict[str, Any]:
        account = self.match(realm, flow)
        return {"username": account.username} if account else {"status": "no_matching_account"}

    def complete(
        self, realm: RealmConfig, flow_id: str, password: str, confirmation: str, browser_binding: str | None
    ) -> Account:
        """Set the new password; the flow and its reset ticket are then spent.

        Raises
        ------
        FlowNotFound, FlowExpired, FlowUsed
        IdentityMismatch
            no account has both the e-mail and the AFM GSIS confirmed.
        PasswordsMismatch, PasswordPolicyViolation
        """
        flow = self.signin.load(realm, flow_id, browser_binding)
        if flow.intent is not Intent.RESET_PASSWORD:
            raise InvalidInput(errors={"flow": ["this flow was not started to reset a password"]})
        if flow.used_at is not None:
            raise FlowUsed()
        account = self.match(realm, flow)
        if account is None:
            raise IdentityMismatch("No account has this e-mail address and the tax number GSIS confirmed.")
        self.passwords.require_acceptable(realm, password, confirmation, user_inputs(account))
        if not self.flows.mark_flow_used(flow.flow_hash, self.clock.now()):
            raise FlowUsed()
        self.passwords.change(realm, account, password, action="password_reset", via="gsis")
        self.tickets.repository.take(flow.params["ticket_hash"])
        return account
