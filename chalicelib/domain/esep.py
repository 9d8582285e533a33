"""The European School Education Platform / eTwinning realm (seed 003): members,
organisations, projects and pupils.

An ESEP account (:class:`~chalicelib.domain.accounts.Account`, username = EU Login
``sub``) carries the sign-in; its :class:`Member` carries what eTwinning knows about
the person. Every record has a ``version`` that the repository checks on write, so two
concurrent changes of one record never silently overwrite each other.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.identity import comparable

NSO_ROLE = "nso"
"""The role of a National Support Organisation's staff (validation, the desk)."""
PUPIL_ROLE = "pupil"
ORGANISATION_KINDS = ("school", "vocational_school", "university", "company", "association", "public_body", "other")
IMAGE_MAX_BYTES = 2 * 1024 * 1024
"""A project's image (PNG or JPEG). These values live in the domain, not in the flows, so
the pages and routes that show them load no eTwinning flow at cold start."""


@dataclass(frozen=True)
class EuLoginIdentity:
    """What EU Login asserts in a validated ID token. ``subject`` (``sub``) is the key;
    the e-mail is only shown and used to offer a legacy migration."""

    subject: str
    email: str
    given_name: str
    family_name: str

    def public_fields(self) -> dict[str, str]:
        return {
            "sub": self.subject,
            "email": self.email,
            "given_name": self.given_name,
            "family_name": self.family_name,
        }


class EsepRole(enum.StrEnum):
    TEACHER = "teacher"
    HEAD_TEACHER = "head_teacher"
    SCHOOL_STAFF = "school_staff"
    COMPANY_STAFF = "company_staff"
    OTHER = "other"


SCHOOL_ROLES = frozenset({EsepRole.TEACHER, EsepRole.HEAD_TEACHER, EsepRole.SCHOOL_STAFF})
"""Roles that may join eTwinning (seed 003, step 4)."""


class MemberStatus(enum.StrEnum):
    REGISTERED = "registered"
    """Signed up; waits for the national support organisation (NSO) of the country."""
    ACTIVE = "active"
    REJECTED = "rejected"


class OrganisationStatus(enum.StrEnum):
    PENDING = "pending"
    VALIDATED = "validated"
    REJECTED = "rejected"


class ProjectStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    """The partner has been invited."""
    ACCEPTED = "accepted"
    """The partner accepted; waits for national approval."""
    DECLINED = "declined"
    ACTIVE = "active"
    REJECTED = "rejected"


class EligibilityRule(enum.StrEnum):
    """Why a person may not be added to a project (seed 003, «ΣΥΧΝΑ ΠΡΟΒΛΗΜΑΤΑ» 3)."""

    NOT_ACTIVE = "not_active"
    NOT_TEACHER = "not_teacher"
    NOT_AVAILABLE_FOR_PROJECTS = "not_available_for_projects"
    ORGANISATION_NOT_VALIDATED = "organisation_not_validated"


def search_key(text: str) -> str:
    """Text as searched: no accents, no case, single spaces («Σχολείο» = «ΣΧΟΛΕΙΟ» = «σχολειο»)."""
    return comparable(text)


@dataclass
class Member:
    account_id: str
    subject: str
    email: str
    given_name: str
    family_name: str
    country: str
    """ISO 3166-1 alpha-2, upper case."""
    role: EsepRole
    join_etwinning: bool
    status: MemberStatus
    created_at: datetime
    updated_at: datetime
    organisation_ids: tuple[str, ...] = ()
    available_for_projects: bool = False
    searchable: bool = True
    subjects: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    bio: str = ""
    contacts: tuple[str, ...] = ()
    """Account ids, in the order they were added."""
    reason: str | None = None
    """The NSO's reason when it rejected the member."""
    version: int = 0

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    def search_text(self) -> str:
        return search_key(self.display_name)


@dataclass
class Organisation:
    organisation_id: str
    name: str
    city: str
    country: str
    kind: str
    """school, company, association, … (free text chosen from a list in the form)."""
    etwinning: bool
    """In the eTwinning list; False organisations may ask for eTwinning validation."""
    status: OrganisationStatus
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    etwinning_requested: bool = False
    reason: str | None = None
    version: int = 0

    def search_text(self) -> str:
        return search_key(f"{self.name} {self.city}")

    @property
    def awaits_nso(self) -> bool:
        """Shown in the NSO's pending list: new organisations and eTwinning requests."""
        return self.status is OrganisationStatus.PENDING or (
            self.etwinning_requested and not self.etwinning and self.status is not OrganisationStatus.REJECTED
        )


@dataclass
class Project:
    project_id: str
    owner_id: str
    organisation_id: str
    partner_id: str
    title: str
    description: str
    language: str
    pupils_count: int
    pupils_age_min: int
    pupils_age_max: int
    subjects: tuple[str, ...]
    goals: str
    process: str
    outcomes: str
    status: ProjectStatus
    country: str
    """The owner's country: its NSO approves the project."""
    created_at: datetime
    updated_at: datetime
    vocational_subjects: tuple[str, ...] = ()
    image_key: str | None = None
    members: tuple[str, ...] = ()
    """Account ids of the teachers in the project (owner and partner once accepted)."""
    pupils: tuple[str, ...] = ()
    """Account ids of the pupil logins created for the project."""
    reason: str | None = None
    version: int = 0


@dataclass
class LegacyMember:
    """An account of the old eTwinning / School Education Gateway, loaded by an operator,
    offered once to the EU Login user with the same e-mail."""

    email: str
    """Normalised (lower case); the key."""
    given_name: str
    family_name: str
    country: str
    role: EsepRole
    created_at: datetime
    organisation_ids: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    bio: str = ""
    available_for_projects: bool = False
    declined_by: str | None = None
    """The ``sub`` that was offered the migration and declined it (offered once)."""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Viewer:
    """Who looks at a project: a member, a pupil, or an NSO administrator of a country."""

    account_id: str
    roles: tuple[str, ...]
    nso_country: str | None = None
