"""National validation (SPEC §2.7): the NSO of a country validates or rejects its
members, organisations and projects; the people concerned are told by mail.

An NSO administrator is an ESEP account with role ``nso`` and ``nso_country`` (granted
by an operator, ``chalicelib.cli grant-role``); it acts only on its own country.
Decisions change the record first; the mail goes through the task queue (retried,
never lost, never blocking the decision).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.audit import AuditEntry, audit
from chalicelib.domain.esep import NSO_ROLE, MemberStatus, OrganisationStatus, ProjectStatus
from chalicelib.domain.mail import MailMessage
from chalicelib.domain.tasks import Task
from chalicelib.errors import Forbidden, InvalidInput, NotFound
from chalicelib.flows.esep.network import organisation_view, retried
from chalicelib.ports import AccountRepository, AuditLog, Clock, EsepRepository, Mailer, TaskQueue
from chalicelib.realms import RealmConfig, get_realm

log = logging.getLogger(__name__)

DECISION_MAIL = "esep.decision_mail"
REASON_LENGTH = 1000


@dataclass(frozen=True)
class NsoDesk:
    """Who the NSO administrator is, checked on every request (not from the token)."""

    account_id: str
    country: str


@dataclass(frozen=True)
class EsepValidation:
    esep: EsepRepository
    accounts: AccountRepository
    audit: AuditLog
    tasks: TaskQueue
    mailer: Mailer
    clock: Clock

    def desk(self, realm: RealmConfig, account_id: str, roles: tuple[str, ...]) -> NsoDesk:
        """The caller as an NSO administrator. Raises Forbidden."""
        account = self.accounts.get(realm.id, account_id) if NSO_ROLE in roles else None
        country = account.extra.get("nso_country", "") if account is not None else ""
        if account is None or NSO_ROLE not in account.roles or not country:
            raise Forbidden("Only a national support organisation can do this.")
        return NsoDesk(account_id, country)

    def pending(self, desk: NsoDesk) -> dict[str, Any]:
        members, organisations, projects = self.esep.pending(desk.country)
        return {
            "country": desk.country,
            "users": [
                {
                    "account_id": m.account_id,
                    "given_name": m.given_name,
                    "family_name": m.family_name,
                    "role": str(m.role),
                    "organisation_ids": list(m.organisation_ids),
                    "registered_at": m.created_at.isoformat(),
                }
                for m in members
            ],
            "organisations": [organisation_view(o) for o in organisations],
            "projects": [
                {"project_id": p.project_id, "title": p.title, "owner_id": p.owner_id, "partner_id": p.partner_id}
                for p in projects
            ],
        }

    def desk_view(self, desk: NsoDesk) -> dict[str, Any]:
        """:meth:`pending` with what the desk page shows beside each item, so the NSO sees
        the seed's «Συχνά προβλήματα» where they arise: each waiting user's organisations
        with their state (``schools_validated`` False: one of them is not validated, so
        validating the user alone will not let them join a project), each organisation's
        request (a new organisation, or a validated one in the non-eTwinning tab asking to
        join eTwinning), and the names of each project's teachers."""
        view = self.pending(desk)
        wanted = [oid for user in view["users"] for oid in user["organisation_ids"]]
        organisations = self.esep.get_organisations(list(dict.fromkeys(wanted)))
        for user in view["users"]:
            schools = [organisations[oid] for oid in user["organisation_ids"] if oid in organisations]
            user["organisations"] = [organisation_view(o) for o in schools]
            user["schools_validated"] = all(o.status is OrganisationStatus.VALIDATED for o in schools)
        for organisation in view["organisations"]:
            organisation["request"] = "new" if organisation["status"] == "pending" else "etwinning"
        people = [person for p in view["projects"] for person in (p["owner_id"], p["partner_id"])]
        members = self.esep.get_members(list(dict.fromkeys(people)))
        for project in view["projects"]:
            for role in ("owner", "partner"):
                member = members.get(str(project[f"{role}_id"]))
                project[f"{role}_name"] = member.display_name if member else ""
        return view

    def decide_member(self, realm: RealmConfig, desk: NsoDesk, account_id: str, decision: str, reason: str) -> str:
        validate = _decision(decision, reason)
        clean_reason = reason.strip() or None

        def change() -> str:
            member = self.esep.get_member(account_id)
            if member is None or member.country != desk.country:
                raise NotFound("No such user in your country.")
            member.status = MemberStatus.ACTIVE if validate else MemberStatus.REJECTED
            member.reason = None if validate else clean_reason
            member.updated_at = now = self.clock.now()
            entry = self._entry(realm, desk, account_id, "user", account_id, str(member.status), now)
            self.esep.save_member(member, audit=entry)
            return str(member.status)

        status = retried(change)
        self._after(realm, account_id, "user", account_id, status, clean_reason)
        return status

    def decide_organisation(
        self, realm: RealmConfig, desk: NsoDesk, organisation_id: str, decision: str, reason: str
    ) -> str:
        """Validating puts the organisation in the eTwinning list when that was asked."""
        validate = _decision(decision, reason)
        clean_reason = reason.strip() or None

        def change() -> tuple[str, str, str | None]:
            organisation = self.esep.get_organisation(organisation_id)
            if organisation is None or organisation.country != desk.country:
                raise NotFound("No such organisation in your country.")
            if validate:
                organisation.status = OrganisationStatus.VALIDATED
                organisation.etwinning = organisation.etwinning or organisation.etwinning_requested
                organisation.reason = None
            elif organisation.status is OrganisationStatus.PENDING:
                organisation.status = OrganisationStatus.REJECTED
                organisation.reason = clean_reason
            else:  # a validated organisation asking for eTwinning: only the request is refused
                organisation.reason = clean_reason
            refused_request = not validate and organisation.status is OrganisationStatus.VALIDATED
            organisation.etwinning_requested = False
            organisation.updated_at = self.clock.now()
            self.esep.save_organisation(organisation)
            told = "etwinning_refused" if refused_request else str(organisation.status)
            return str(organisation.status), told, organisation.created_by

        status, told, creator = retried(change)
        if creator:
            self.audit.record(
                self._entry(realm, desk, creator, "organisation", organisation_id, told, self.clock.now())
            )
            self._after(realm, creator, "organisation", organisation_id, told, clean_reason)
        return status

    def decide_project(self, realm: RealmConfig, desk: NsoDesk, project_id: str, decision: str, reason: str) -> str:
        approve = decision == "approve"
        if decision not in ("approve", "reject"):
            raise InvalidInput(errors={"decision": ["must be approve or reject"]})
        clean_reason = reason.strip() or None

        def change() -> tuple[str, tuple[str, ...]]:
            project = self.esep.get_project(project_id)
            if project is None or project.country != desk.country:
                raise NotFound("No such project in your country.")
            if project.status is not ProjectStatus.ACCEPTED:
                raise InvalidInput(errors={"project": ["only a project its partner accepted waits for approval"]})
            project.status = ProjectStatus.ACTIVE if approve else ProjectStatus.REJECTED
            project.reason = None if approve else clean_reason
            if approve:
                project.members = tuple(dict.fromkeys((*project.members, project.owner_id, project.partner_id)))
            project.updated_at = self.clock.now()
            self.esep.save_project(project)
            return str(project.status), (project.owner_id, project.partner_id)

        status, people = retried(change)
        for person in people:
            self.audit.record(self._entry(realm, desk, person, "project", project_id, status, self.clock.now()))
            self._after(realm, person, "project", project_id, status, clean_reason)
        return status

    @staticmethod
    def _entry(
        realm: RealmConfig, desk: NsoDesk, account_id: str, what: str, subject_id: str, status: str, now: datetime
    ) -> AuditEntry:
        """The audit entry of an NSO decision, in the history of the person it concerns."""
        details = {"subject": subject_id, "status": status}
        return audit(realm.id, account_id, f"esep.{what}_decision", actor=desk.account_id, at=now, **details)

    def _after(
        self, realm: RealmConfig, account_id: str, what: str, subject_id: str, status: str, reason: str | None
    ) -> None:
        """Tell the person (by mail, through the queue)."""
        payload = {"realm": realm.id, "account_id": account_id, "what": what, "subject": subject_id, "status": status}
        if reason:
            payload["reason"] = reason
        self.tasks.enqueue(Task(DECISION_MAIL, payload))
        log.info("esep decision", extra={"realm": realm.id, "what": what, "subject_id": subject_id, "status": status})

    def deliver_decision(self, payload: dict[str, str]) -> None:
        """Task: tell the person what the NSO decided."""
        realm = get_realm(payload["realm"])
        member = self.esep.get_member(payload["account_id"])
        if member is None:
            return
        name = payload["subject"]
        if payload["what"] == "organisation":
            organisation = self.esep.get_organisation(payload["subject"])
            name = organisation.name if organisation else name
        elif payload["what"] == "project":
            project = self.esep.get_project(payload["subject"])
            name = project.title if project else name
        language = realm.default_language
        context: dict[str, object] = {
            "realm_name": getattr(realm.name, language),
            "first_name": member.given_name,
            "what": payload["what"],
            "name": name,
            "status": payload["status"],
            "reason": payload.get("reason", ""),
        }
        self.mailer.send(MailMessage("esep_decision", member.email, language, context))


def _decision(decision: str, reason: str) -> bool:
    if decision not in ("validate", "reject"):
        raise InvalidInput(errors={"decision": ["must be validate or reject"]})
    if decision == "reject" and not reason.strip():
        raise InvalidInput(errors={"reason": ["say why, so the person can put it right"]})
    if len(reason) > REASON_LENGTH:
        raise InvalidInput(errors={"reason": [f"at most {REASON_LENGTH} characters"]})
    return decision == "validate"
