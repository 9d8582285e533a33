"""What a GSIS flow's page shows: the identity GSIS confirmed, plus what its intent needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.flows import Intent
from chalicelib.flows.certification import Certification
from chalicelib.flows.gsis_recovery import GsisRecovery
from chalicelib.flows.gsis_signin import GsisSignIn
from chalicelib.ports import AccountRepository
from chalicelib.realms import RealmConfig


@dataclass(frozen=True)
class FlowViews:
    signin: GsisSignIn
    accounts: AccountRepository
    recovery: GsisRecovery
    certification: Certification

    def describe(self, realm: RealmConfig, flow_id: str, browser_binding: str | None) -> dict[str, Any]:
        """SPEC §2.1 "read flow": per intent, certify → registry and differences;
        reset-password → username or no_matching_account; recover-email → e-mail or no_account.
        Only for the browser that made the flow."""
        flow = self.signin.load(realm, flow_id, browser_binding)
        view: dict[str, Any] = {
            "intent": str(flow.intent),
            "expires_at": flow.expires_at.isoformat(),
            "used": flow.used_at is not None,
            "identity": flow.gsis.public_fields(),
        }
        if flow.intent is Intent.RECOVER_EMAIL:
            account = self.accounts.find_by_unique(realm.id, UniqueKind.AFM, flow.gsis.afm)
            view.update({"email": account.email} if account else {"status": "no_account"})
        elif flow.intent is Intent.RESET_PASSWORD:
            view.update(self.recovery.view(realm, flow))
        elif flow.intent is Intent.CERTIFY and flow.used_at is None:
            view.update(self.certification.view(realm, flow))
        return view
