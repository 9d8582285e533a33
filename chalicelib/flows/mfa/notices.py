"""Mail on every change of an account's second factors (SPEC §2.9, §2.10): added, removed,
or reset by an administrator. Queued by the change, sent by the worker; the payload
carries ids only, the worker reads the account."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.domain.mail import MailMessage
from chalicelib.flows.links import Links
from chalicelib.ports import AccountRepository, Mailer
from chalicelib.realms import get_realm

log = logging.getLogger(__name__)

CHANGES = ("added", "removed", "reset")


@dataclass(frozen=True)
class FactorNotices:
    accounts: AccountRepository
    mailer: Mailer
    links: Links

    def deliver(self, payload: dict[str, str]) -> None:
        """Task: tell the person a second factor was added, removed or reset."""
        realm = get_realm(payload["realm"])
        change = payload.get("change", "")
        account = self.accounts.get(realm.id, payload["account_id"])
        if account is None or change not in CHANGES:
            log.info("factor notice dropped", extra={"realm": realm.id, "change": change})
            return
        language = account.language if account.language in realm.languages else realm.default_language
        kind = payload.get("kind", "")
        self.mailer.send(
            MailMessage(
                template=f"mfa_{change}",
                to=account.email,
                language=language,
                context={
                    "realm_name": getattr(realm.name, language),
                    "first_name": account.identity.first_name if account.identity else "",
                    "username": account.username,
                    "kind": kind if kind in ("totp", "webauthn") else "",
                    "security_url": self.links.page(realm.id, "account/security"),
                    "login_url": self.links.page(realm.id, "login"),
                },
            )
        )
