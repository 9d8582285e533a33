"""ESEP registration and sign-in from an EU Login flow (seed 003 «Α. Εγγραφή», SPEC §2.7).

A new ``sub`` fills the profile for its role and becomes a member ``registered`` until
the NSO of its country validates it; a known ``sub`` gets a session. Names and e-mail
come only from the ID token kept in the flow, never from the request. A legacy account
with the same e-mail is offered once: taken over (profile and organisations) when the
person confirms, and never offered again when they decline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.domain.accounts import Account, AccountStatus, normalise_email
from chalicelib.domain.audit import audit
from chalicelib.domain.esep import (
    SCHOOL_ROLES,
    EsepRole,
    EuLoginIdentity,
    LegacyMember,
    Member,
    MemberStatus,
    OrganisationStatus,
)
from chalicelib.domain.flows import IdentityFlow, Intent
from chalicelib.errors import (
    DuplicateValue,
    EmailTaken,
    FlowAlreadyUsed,
    FlowNotFound,
    FlowUsed,
    InvalidInput,
    StaleRecord,
    UsernameTaken,
)
from chalicelib.flows.esep.eulogin_email import follow_eulogin_email
from chalicelib.flows.esep.rules import clean_country, clean_list
from chalicelib.flows.eulogin_signin import EuLoginSignIn
from chalicelib.flows.mfa.gate import FirstStep
from chalicelib.flows.oauth_states import load_flow
from chalicelib.flows.sessions import Sessions, TokenPair
from chalicelib.ports import AuditLog, Clock, EsepRepository, FlowRepository, SecretSource
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

ROLE_NEEDS_ORGANISATION = frozenset({*SCHOOL_ROLES, EsepRole.COMPANY_STAFF})
"""Roles that work somewhere: at least one organisation (seed 003, step 5)."""
ROLE_NEEDS_SUBJECTS = frozenset({EsepRole.TEACHER})
"""Teachers say what they teach: projects and people search depend on it."""


@dataclass(frozen=True)
class EsepRegistrationRequest:
    flow: str
    role: str
    country: str
    join_etwinning: bool = False
    organisation_ids: list[str] = field(default_factory=list)
    available_for_projects: bool | None = None
    subjects: list[str] | None = None
    languages: list[str] | None = None
    migrate_legacy: bool = False
    browser_binding: str | None = None
    """The binding cookie of the browser presenting the flow (it must be the one that made it)."""


@dataclass(frozen=True)
class EsepRegistered:
    account_id: str
    status: MemberStatus
    tokens: TokenPair
    migrated: bool


@dataclass(frozen=True)
class EsepRegistration:
    signin: EuLoginSignIn
    flows: FlowRepository
    esep: EsepRepository
    sessions: Sessions
    audit: AuditLog
    clock: Clock
    secrets: SecretSource

    def view(self, realm: RealmConfig, flow_id: str, browser_binding: str | None) -> dict[str, Any]:
        """``GET /flows/{F}`` of an EU Login flow: intent, identity, legacy offer (only for
        the browser that made the flow)."""
        flow = self._flow(realm, flow_id, browser_binding)
        legacy = self._legacy_offer(flow) if flow.intent is Intent.REGISTER else None
        return {
            "intent": str(flow.intent),
            "identity": flow.eulogin.public_fields(),
            "legacy_account": _legacy_view(legacy) if legacy else None,
            "used": flow.used_at is not None,
        }

    def register(self, realm: RealmConfig, request: EsepRegistrationRequest) -> EsepRegistered:
        """Create the account and its member record from a ``register`` flow.

        Raises
        ------
        FlowNotFound, FlowExpired, FlowUsed
        InvalidInput
            role, country or organisations do not fit, a required field is missing.
        EmailTaken, UsernameTaken
            the e-mail or the ``sub`` has an account already.
        """
        flow = self._flow(realm, request.flow, request.browser_binding)
        if flow.intent is not Intent.REGISTER:
            raise FlowNotFound("This sign-in is not a registration.")
        if flow.used_at is not None:
            raise FlowUsed()
        identity = flow.eulogin
        legacy = self._legacy_offer(flow)
        migrating = legacy if (legacy is not None and request.migrate_legacy) else None
        role, country, organisation_ids, subjects, languages = self._validated(request, migrating)
        now = self.clock.now()
        account_id = self.secrets.identifier()
        account = Account(
            account_id=account_id,
            realm=realm.id,
            username=identity.subject,
            subject=identity.subject,  # guarded exactly: OIDC subjects are case-sensitive
            email=identity.email,
            status=AccountStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            activated_at=now,
            language=realm.default_language,
            extra={"given_name": identity.given_name, "family_name": identity.family_name},
        )
        member = Member(
            account_id=account_id,
            subject=identity.subject,
            email=normalise_email(identity.email),
            given_name=identity.given_name,
            family_name=identity.family_name,
            country=country,
            role=role,
            join_etwinning=request.join_etwinning,
            status=MemberStatus.REGISTERED,
            created_at=now,
            updated_at=now,
            organisation_ids=organisation_ids,
            available_for_projects=_first_bool(
                request.available_for_projects, migrating.available_for_projects if migrating else None
            ),
            subjects=subjects,
            languages=languages,
            bio=migrating.bio if migrating else "",
        )
        details = {"via": "eulogin", "role": str(role), "country": country, "migrated": "yes" if migrating else "no"}
        try:
            self.esep.register(
                account,
                member,
                consume_flow=flow.flow_hash,
                now=now,
                audit=audit(realm.id, account_id, "account_registered", actor=account_id, at=now, **details),
                migrate_legacy=migrating.email if migrating else None,
            )
        except DuplicateValue as exc:
            if exc.kind == "email":
                raise EmailTaken() from None
            raise UsernameTaken("This EU Login account is registered already.") from None
        except FlowAlreadyUsed:
            raise FlowUsed() from None
        except StaleRecord:
            raise InvalidInput(errors={"migrate_legacy": ["the old account was taken over already"]}) from None
        if legacy is not None and migrating is None:
            self.esep.decline_legacy(legacy.email, identity.subject)
        log.info("esep member registered", extra={"realm": realm.id, "account_id": account_id, "country": country})
        tokens = self.sessions.open(realm, account_id, ())
        return EsepRegistered(account_id, MemberStatus.REGISTERED, tokens, migrated=migrating is not None)

    def login(self, realm: RealmConfig, flow_id: str, browser_binding: str | None) -> TokenPair:
        """A session for the known ``sub`` of a ``login`` flow; one per flow, only in the
        browser that made it, and only by a POST (the page shows a button): a link to
        someone else's login flow signs nobody in (login CSRF, session swap).

        Raises FlowNotFound, FlowExpired, FlowUsed.
        """
        flow = self._flow(realm, flow_id, browser_binding)
        if flow.intent is not Intent.LOGIN:
            raise FlowNotFound("This sign-in has no account yet: register first.")
        account_id = flow.params.get("account_id", "")
        account = self.sessions.accounts.get(realm.id, account_id)
        if account is None:
            raise FlowNotFound()
        if not self.flows.mark_flow_used(flow.flow_hash, self.clock.now()):
            raise FlowUsed()
        self.sessions.require_usable(account.status)
        account = follow_eulogin_email(self.sessions.accounts, self.esep, account, flow.eulogin.email, self.clock.now())
        if account.second_factors > 0:  # EU Login was the first step; the factor follows
            raise self.sessions.second_step.demand(
                realm,
                FirstStep(account.account_id, account.roles, "fed", subject=account.subject or ""),
                browser_binding,
            )
        pair = self.sessions.open(realm, account.account_id, account.roles)
        return replace(pair, mfa_enrolment_required=realm.requires_second_factor(account.roles))

    # --- helpers ---------------------------------------------------------------------

    def _flow(self, realm: RealmConfig, flow_id: str, browser_binding: str | None) -> IdentityFlow:
        flow = self.signin_flow(realm, flow_id, browser_binding)
        if flow.intent not in (Intent.REGISTER, Intent.LOGIN):
            raise FlowNotFound()
        return flow

    def signin_flow(self, realm: RealmConfig, flow_id: str, browser_binding: str | None) -> IdentityFlow:
        """A live EU Login flow of ``realm`` (used or not) of this browser. Raises
        FlowNotFound, FlowExpired."""
        flow = load_flow(self.flows, realm, flow_id, self.clock.now(), browser_binding)
        if not isinstance(flow.identity, EuLoginIdentity):
            raise FlowNotFound()
        return flow

    def _legacy_offer(self, flow: IdentityFlow) -> LegacyMember | None:
        identity = flow.eulogin
        legacy = self.esep.get_legacy(normalise_email(identity.email))
        if legacy is None or legacy.declined_by is not None:
            return None
        return legacy

    def _validated(
        self, request: EsepRegistrationRequest, legacy: LegacyMember | None
    ) -> tuple[EsepRole, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        errors: dict[str, list[str]] = {}
        try:
            role = EsepRole(request.role)
        except ValueError:
            errors["role"] = [f"must be one of {', '.join(str(r) for r in EsepRole)}"]
            role = EsepRole.OTHER
        country = clean_country(request.country, errors)
        if request.join_etwinning and role not in SCHOOL_ROLES:
            errors["join_etwinning"] = ["only school staff can join eTwinning"]
        subjects = clean_list(request.subjects or (legacy.subjects if legacy else ()), "subjects", errors)
        languages = clean_list(request.languages or (legacy.languages if legacy else ()), "languages", errors)
        wanted = list(dict.fromkeys([*request.organisation_ids, *(legacy.organisation_ids if legacy else ())]))
        organisations = self.esep.get_organisations(wanted) if wanted else {}
        unknown = [oid for oid in wanted if oid not in organisations]
        if unknown:
            errors["organisation_ids"] = [f"unknown organisation {oid}" for oid in unknown]
        elif any(organisations[oid].status is OrganisationStatus.REJECTED for oid in wanted):
            errors["organisation_ids"] = ["a rejected organisation cannot be joined"]
        if role in ROLE_NEEDS_ORGANISATION and not wanted:
            errors.setdefault("organisation_ids", []).append("add at least one organisation you work at")
        if role in ROLE_NEEDS_SUBJECTS and not subjects:
            errors.setdefault("subjects", []).append("teachers name at least one subject")
        if errors:
            raise InvalidInput(errors=errors)
        return role, country, tuple(wanted), subjects, languages


def _first_bool(*values: bool | None) -> bool:
    return next((value for value in values if value is not None), False)


def _legacy_view(legacy: LegacyMember) -> dict[str, Any]:
    return {
        "given_name": legacy.given_name,
        "family_name": legacy.family_name,
        "country": legacy.country,
        "role": str(legacy.role),
        "organisations": len(legacy.organisation_ids),
        "subjects": list(legacy.subjects),
    }
