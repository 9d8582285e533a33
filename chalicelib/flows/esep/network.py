"""A member's place in eTwinning: organisations, profile, people search and contacts
(seed 003 «Α. Εγγραφή» steps 5–8 and «ΣΥΧΝΑ ΠΡΟΒΛΗΜΑΤΑ» 1).

Versioned records make every change read → modify → conditional write; a write that
loses a race reads again and retries, so two tabs never undo each other's change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from chalicelib.domain.esep import ORGANISATION_KINDS, Member, Organisation, OrganisationStatus, search_key
from chalicelib.errors import Forbidden, InvalidInput, NotFound, StaleRecord
from chalicelib.flows.esep.rules import clean_country, clean_list, failed_rules
from chalicelib.ports import Clock, EsepRepository, SecretSource

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRIES = 5
SEARCH_LIMIT = 50
BIO_LENGTH = 2000


def retried(change: Callable[[], T]) -> T:
    """Run a read-modify-write again when another writer got there first."""
    for _ in range(RETRIES - 1):
        try:
            return change()
        except StaleRecord:
            continue
    return change()


@dataclass(frozen=True)
class EsepNetwork:
    esep: EsepRepository
    clock: Clock
    secrets: SecretSource

    # --- members ---------------------------------------------------------------------

    def member(self, account_id: str) -> Member:
        """The caller's member record. Raises NotFound (an account without one: a pupil)."""
        member = self.esep.get_member(account_id)
        if member is None:
            raise NotFound("There is no eTwinning profile for this account.")
        return member

    def member_view(self, member: Member) -> dict[str, Any]:
        organisations = self.esep.get_organisations(member.organisation_ids)
        return {
            "account_id": member.account_id,
            "given_name": member.given_name,
            "family_name": member.family_name,
            "email": member.email,
            "country": member.country,
            "role": str(member.role),
            "join_etwinning": member.join_etwinning,
            "status": str(member.status),
            "reason": member.reason,
            "available_for_projects": member.available_for_projects,
            "searchable": member.searchable,
            "subjects": list(member.subjects),
            "languages": list(member.languages),
            "bio": member.bio,
            "organisations": [
                organisation_view(organisations[oid]) for oid in member.organisation_ids if oid in organisations
            ],
            "contacts": list(member.contacts),
        }

    def standing(self, member: Member) -> dict[str, Any]:
        """Why a member can or cannot take part in projects, and what each of their
        organisations still needs (seed 003, «ΣΥΧΝΑ ΠΡΟΒΛΗΜΑΤΑ» 1 and 3), for the pages
        to answer the seed's questions where the member is.

        ``rules``: every eligibility rule the member fails, in the seed's order.
        ``organisations``: each of theirs with ``tab`` (``etwinning`` or ``non_etwinning``,
        the two tabs of the seed's profile) and ``can_request`` (the «Request eTwinning
        validation» button applies: not in eTwinning, not asked yet, not rejected).
        """
        organisations = self.esep.get_organisations(member.organisation_ids)
        shown = []
        for oid in member.organisation_ids:
            organisation = organisations.get(oid)
            if organisation is None:
                continue
            view = organisation_view(organisation)
            view["tab"] = "etwinning" if organisation.etwinning else "non_etwinning"
            view["can_request"] = (
                not organisation.etwinning
                and not organisation.etwinning_requested
                and organisation.status is not OrganisationStatus.REJECTED
            )
            view["reason"] = organisation.reason
            shown.append(view)
        return {
            "status": str(member.status),
            "reason": member.reason,
            "rules": [str(rule) for rule in failed_rules(member, organisations)],
            "organisations": shown,
            "not_validated": [o["name"] for o in shown if o["status"] != str(OrganisationStatus.VALIDATED)],
        }

    def people_named(self, account_ids: list[str]) -> list[dict[str, Any]]:
        """What people search shows of each of ``account_ids`` (contacts, project members),
        in the order given; accounts without a member record are left out."""
        found = self.esep.get_members(account_ids)
        return [person_view(found[i]) for i in account_ids if i in found]

    def update_profile(self, account_id: str, changes: dict[str, Any]) -> Member:
        """``PATCH /me``: only the optional profile fields; identity and status are not
        the member's to change."""
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for name in ("available_for_projects", "searchable"):
            if changes.get(name) is not None:
                values[name] = bool(changes[name])
        for name in ("subjects", "languages"):
            if changes.get(name) is not None:
                values[name] = clean_list(changes[name], name, errors)
        if changes.get("bio") is not None:
            bio = str(changes["bio"]).strip()
            if len(bio) > BIO_LENGTH:
                errors["bio"] = [f"at most {BIO_LENGTH} characters"]
            values["bio"] = bio
        if errors:
            raise InvalidInput(errors=errors)

        def change() -> Member:
            member = self.member(account_id)
            for name, value in values.items():
                setattr(member, name, value)
            member.updated_at = self.clock.now()
            self.esep.save_member(member)
            return member

        return retried(change)

    def people(self, *, text: str, country: str | None, subject: str | None) -> list[dict[str, Any]]:
        """Members who let themselves be found (``searchable``)."""
        errors: dict[str, list[str]] = {}
        wanted_country = clean_country(country, errors) if country else None
        if errors:
            raise InvalidInput(errors=errors)
        found = self.esep.search_members(
            country=wanted_country,
            text=search_key(text or ""),
            subject=subject.strip() if subject and subject.strip() else None,
            limit=SEARCH_LIMIT,
        )
        return [person_view(member) for member in found]

    def add_contact(self, account_id: str, contact_id: str) -> Member:
        if contact_id == account_id:
            raise InvalidInput(errors={"account_id": ["you cannot add yourself"]})
        other = self.esep.get_member(contact_id)
        if other is None or not other.searchable:
            raise NotFound("No such person.")

        def change() -> Member:
            member = self.member(account_id)
            if contact_id not in member.contacts:
                member.contacts = (*member.contacts, contact_id)
                member.updated_at = self.clock.now()
                self.esep.save_member(member)
            return member

        return retried(change)

    def remove_contact(self, account_id: str, contact_id: str) -> Member:
        def change() -> Member:
            member = self.member(account_id)
            if contact_id not in member.contacts:
                raise NotFound("This person is not among your contacts.")
            member.contacts = tuple(c for c in member.contacts if c != contact_id)
            member.updated_at = self.clock.now()
            self.esep.save_member(member)
            return member

        return retried(change)

    # --- organisations ---------------------------------------------------------------

    def search_organisations(self, *, text: str, country: str | None) -> list[dict[str, Any]]:
        errors: dict[str, list[str]] = {}
        wanted_country = clean_country(country, errors) if country else None
        if errors:
            raise InvalidInput(errors=errors)
        found = self.esep.search_organisations(country=wanted_country, text=search_key(text or ""), limit=SEARCH_LIMIT)
        return [organisation_view(organisation) for organisation in found]

    def create_organisation(
        self, *, name: str, city: str, country: str, kind: str, etwinning: bool, created_by: str | None
    ) -> Organisation:
        """A new organisation, ``pending`` until the NSO of its country validates it."""
        errors: dict[str, list[str]] = {}
        clean_name, clean_city = " ".join(name.split()), " ".join(city.split())
        if not 3 <= len(clean_name) <= 200:
            errors["name"] = ["must be 3 to 200 characters long"]
        if not 1 <= len(clean_city) <= 100:
            errors["city"] = ["must be 1 to 100 characters long"]
        if kind not in ORGANISATION_KINDS:
            errors["kind"] = [f"must be one of {', '.join(ORGANISATION_KINDS)}"]
        clean = clean_country(country, errors)
        if errors:
            raise InvalidInput(errors=errors)
        now = self.clock.now()
        organisation = Organisation(
            organisation_id=self.secrets.identifier(),
            name=clean_name,
            city=clean_city,
            country=clean,
            kind=kind,
            etwinning=False,
            etwinning_requested=bool(etwinning),
            status=OrganisationStatus.PENDING,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        self.esep.create_organisation(organisation)
        log.info("esep organisation registered", extra={"organisation_id": organisation.organisation_id})
        return organisation

    def join(self, account_id: str, organisation_id: str) -> Member:
        organisation = self.esep.get_organisation(organisation_id)
        if organisation is None or organisation.status is OrganisationStatus.REJECTED:
            raise NotFound("No such organisation.")

        def change() -> Member:
            member = self.member(account_id)
            if organisation_id not in member.organisation_ids:
                member.organisation_ids = (*member.organisation_ids, organisation_id)
                member.updated_at = self.clock.now()
                self.esep.save_member(member)
            return member

        return retried(change)

    def leave(self, account_id: str, organisation_id: str) -> Member:
        def change() -> Member:
            member = self.member(account_id)
            if organisation_id not in member.organisation_ids:
                raise NotFound("You are not in this organisation.")
            member.organisation_ids = tuple(o for o in member.organisation_ids if o != organisation_id)
            member.updated_at = self.clock.now()
            self.esep.save_member(member)
            return member

        return retried(change)

    def request_etwinning_validation(self, account_id: str, organisation_id: str) -> Organisation:
        """«Request eTwinning validation» for one of the member's organisations that is
        not in the eTwinning list; it then waits in its NSO's list."""
        member = self.member(account_id)
        if organisation_id not in member.organisation_ids:
            raise Forbidden("Only people of an organisation can ask for its validation.")

        def change() -> Organisation:
            organisation = self.esep.get_organisation(organisation_id)
            if organisation is None:
                raise NotFound("No such organisation.")
            if organisation.etwinning:
                raise InvalidInput(errors={"organisation_id": ["the organisation is in eTwinning already"]})
            if organisation.status is OrganisationStatus.REJECTED:
                raise InvalidInput(errors={"organisation_id": ["the organisation was rejected"]})
            if not organisation.etwinning_requested:
                organisation.etwinning_requested = True
                organisation.updated_at = self.clock.now()
                self.esep.save_organisation(organisation)
            return organisation

        return retried(change)


def organisation_view(organisation: Organisation) -> dict[str, Any]:
    return {
        "organisation_id": organisation.organisation_id,
        "name": organisation.name,
        "city": organisation.city,
        "country": organisation.country,
        "kind": organisation.kind,
        "etwinning": organisation.etwinning,
        "etwinning_requested": organisation.etwinning_requested,
        "status": str(organisation.status),
    }


def person_view(member: Member) -> dict[str, Any]:
    """What people search shows of someone: no e-mail, no contacts."""
    return {
        "account_id": member.account_id,
        "given_name": member.given_name,
        "family_name": member.family_name,
        "country": member.country,
        "role": str(member.role),
        "subjects": list(member.subjects),
        "languages": list(member.languages),
        "available_for_projects": member.available_for_projects,
    }
