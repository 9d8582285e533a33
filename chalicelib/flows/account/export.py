"""The person's data as one JSON document (SPEC §2.10; GDPR articles 15 and 20).

Everything stored about the person, read through the ports that keep it: the profile and
identity, roles and status, second factors without their secrets (kind, label, dates),
live sessions (when they started and end, how the person signed in, the applications
they signed in to), OIDC consents, the audit entries about them, the support tickets
sent from their address with the helpdesk's replies, and in eTwinning their member
record, organisations and projects. Password hashes, sealed secrets, public keys,
credential ids and browser bindings are left out: they are the service's means of
checking, not facts about the person, and some would weaken the account if leaked.

A document of personal data is handed out only to a session that proved who it is in the
last minutes (``require_recent``), as a password change is: a stolen cookie is not
enough.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from chalicelib.domain.accounts import Account
from chalicelib.domain.identity import GsisIdentity
from chalicelib.errors import Unauthorized
from chalicelib.flows.mfa.reauthentication import Reauthentication
from chalicelib.flows.sessions import Principal
from chalicelib.ports import (
    AccountRepository,
    AuditLog,
    Clock,
    ConsentRepository,
    EsepRepository,
    FactorRepository,
    HelpdeskRepository,
    SessionRepository,
)
from chalicelib.realms import RealmConfig

FORMAT = "mitroo-export/1"


def _plain(value: Any) -> Any:
    """A value as JSON has it: dates ISO, enums by value, tuples as lists."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)  # StrEnum values as plain strings
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    return value


def _identity(identity: GsisIdentity | None) -> dict[str, Any] | None:
    return _plain(identity) if identity is not None else None


@dataclass(frozen=True)
class DataExport:
    accounts: AccountRepository
    factors: FactorRepository
    sessions: SessionRepository
    consents: ConsentRepository
    audit: AuditLog
    helpdesk: HelpdeskRepository
    esep: EsepRepository
    reauthentication: Reauthentication
    clock: Clock

    def export(self, realm: RealmConfig, principal: Principal) -> dict[str, Any]:
        """The document. Raises ReauthenticationRequired past five minutes, Unauthorized
        for an account that no longer exists."""
        self.reauthentication.require_recent(principal)
        account = self.accounts.get(realm.id, principal.account_id)
        if account is None:
            raise Unauthorized()
        now = self.clock.now()
        document: dict[str, Any] = {
            "format": FORMAT,
            "realm": realm.id,
            "exported_at": now.isoformat(),
            "account": self._account(account),
            "second_factors": self._factors(realm, account),
            "sessions": [
                {
                    "session_id": family.family_id,
                    "started_at": _plain(family.created_at),
                    "ends_at": _plain(family.expires_at),
                    "last_authenticated_at": _plain(family.auth_time),
                    "last_used_at": _plain(family.last_used_at or family.created_at),
                    "user_agent": family.user_agent,
                    "address": family.address,
                    "methods": list(family.amr),
                    "applications": list(family.clients),
                    "current": family.family_id == principal.session_id,
                }
                for family in self.sessions.live_families(realm.id, account.account_id, now)
            ],
            "consents": [
                {
                    "client_id": consent.client_id,
                    "scopes": list(consent.scopes),
                    "granted_at": _plain(consent.granted_at),
                }
                for consent in self.consents.list(realm.id, account.account_id)
            ],
            "audit": [
                {
                    "at": _plain(entry.at),
                    "action": entry.action,
                    "actor": entry.actor,
                    "address": entry.address,
                    "details": dict(entry.details),
                }
                for entry in sorted(self.audit.entries(realm.id, account.account_id), key=lambda entry: entry.at)
            ],
            "support_tickets": [
                {
                    "topic": ticket.topic,
                    "email": ticket.email,
                    "afm": ticket.afm,
                    "description": ticket.description,
                    "language": ticket.language,
                    "status": str(ticket.status),
                    "created_at": _plain(ticket.created_at),
                    "updated_at": _plain(ticket.updated_at),
                    "replies": [{"at": _plain(reply.at), "message": reply.message} for reply in ticket.replies],
                }
                for ticket in self.helpdesk.sent_from(realm.id, account.email)
            ],
        }
        if realm.identity_source == "eulogin":
            document["etwinning"] = self._etwinning(account)
        return document

    @staticmethod
    def _account(account: Account) -> dict[str, Any]:
        return {
            "account_id": account.account_id,
            "username": account.username,
            "email": account.email,
            "status": str(account.status),
            "roles": list(account.roles),
            "identity": _identity(account.identity),
            "gsis_verified": account.gsis_verified,
            "gender": account.gender,
            "registry_number": account.registry_number,
            "mobile": account.mobile,
            "language": account.language,
            "affiliation": account.affiliation,
            "created_at": _plain(account.created_at),
            "updated_at": _plain(account.updated_at),
            "activated_at": _plain(account.activated_at),
            "expires_on": _plain(account.expires_on),
            "deletion_due": _plain(account.deletion_due),
            "eulogin_subject": account.subject,
            "has_password": bool(account.password_hash),
            "extra": dict(account.extra),
        }

    def _factors(self, realm: RealmConfig, account: Account) -> dict[str, Any]:
        factors, codes = self.factors.overview(realm.id, account.account_id)
        return {
            "factors": [
                {
                    "kind": str(factor.kind),
                    "label": factor.label,
                    "confirmed": factor.confirmed,
                    "created_at": _plain(factor.created_at),
                    "last_used_at": _plain(factor.last_used_at),
                }
                for factor in factors
            ],
            "recovery_codes_left": len(codes.hashes) if codes is not None else 0,
        }

    def _etwinning(self, account: Account) -> dict[str, Any]:
        member = self.esep.get_member(account.account_id)
        if member is None:
            return {"member": None, "organisations": [], "projects": []}
        organisations = self.esep.get_organisations(list(member.organisation_ids))
        return {
            "member": _plain(member),
            "organisations": [_plain(organisation) for organisation in organisations.values()],
            "projects": [_plain(project) for project in self.esep.projects_of(account.account_id)],
        }
