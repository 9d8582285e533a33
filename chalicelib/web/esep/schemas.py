"""Request and response models of realm esep's API (SPEC §2.7).

Names and e-mail never appear in an input: they come from the EU Login ID token kept in
the flow. Lists and texts are bounded here; the rules (roles, countries, eligibility)
are the flows' business.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from chalicelib.web.schemas import _Input, _Output

Name = Annotated[str, Field(max_length=256)]
Id = Annotated[str, Field(min_length=1, max_length=64)]
Words = Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=50)]
Text = Annotated[str, Field(max_length=5000)]


class EuLoginIdentityOutput(_Output):
    sub: str
    email: str
    given_name: str
    family_name: str


class EsepFlowOutput(_Output):
    intent: Literal["register", "login"]
    identity: EuLoginIdentityOutput
    legacy_account: dict[str, object] | None
    used: bool


def _comma_list(value: object) -> object:
    """A browser form sends a list as one line, comma-separated («Μαθηματικά, Φυσική»)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class EmptyInput(_Input):
    """The body of an action that needs no fields (submit, request validation, leave):
    declaring it lets the pages' form posts in (form-encoded, CSRF-checked) beside JSON."""


class EsepRegistrationInput(_Input):
    flow: Annotated[str, Field(min_length=1, max_length=256, description="The EU Login flow id from the callback.")]
    role: Annotated[str, Field(max_length=32, description="teacher, head_teacher, school_staff, company_staff, other")]
    country: Annotated[str, Field(max_length=8, description="ISO 3166-1 alpha-2 (GR, FR…)")]
    join_etwinning: bool = False
    organisation_ids: Annotated[list[Id], Field(default_factory=list, max_length=20)]
    available_for_projects: bool | None = None
    subjects: Words | None = None
    languages: Words | None = None
    migrate_legacy: bool = False

    @field_validator("organisation_ids", "subjects", "languages", mode="before")
    @classmethod
    def _one_line_from_forms(cls, value: object) -> object:
        """A browser form sends one organisation and subjects as one line, comma-separated."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class EsepRegistrationOutput(_Output):
    account_id: str
    status: str
    migrated: bool
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class FlowSessionInput(_Input):
    flow: Annotated[str, Field(min_length=1, max_length=256)]
    next: Annotated[
        str | None,
        Field(None, max_length=4096, description="Browser form posts: a page of this realm to continue to."),
    ] = None


class OrganisationInput(_Input):
    name: Name
    city: Name
    country: Annotated[str, Field(max_length=8)]
    kind: Annotated[str, Field(max_length=32)]
    etwinning: bool = False
    flow: Annotated[
        str | None,
        Field(None, max_length=256, description="During registration: the EU Login flow instead of a token."),
    ] = None


class OrganisationOutput(_Output):
    organisation_id: str
    name: str
    city: str
    country: str
    kind: str
    etwinning: bool
    etwinning_requested: bool
    status: str


class OrganisationList(_Output):
    organisations: list[OrganisationOutput]


class JoinInput(_Input):
    organisation_id: Id


class ProfileInput(_Input):
    available_for_projects: bool | None = None
    subjects: Words | None = None
    languages: Words | None = None
    bio: Text | None = None
    searchable: bool | None = None

    _lists = field_validator("subjects", "languages", mode="before")(_comma_list)


class MemberOutput(_Output):
    account_id: str
    country: str
    role: str
    status: str
    organisations: list[OrganisationOutput]
    contacts: list[str]


class PersonOutput(_Output):
    account_id: str
    given_name: str
    family_name: str
    country: str
    role: str


class PeopleList(_Output):
    people: list[PersonOutput]


class ContactInput(_Input):
    account_id: Id


class DecisionInput(_Input):
    decision: Annotated[str, Field(max_length=16, description="validate or reject")]
    reason: Annotated[str, Field(max_length=1000)] = ""


class ProjectDecisionInput(_Input):
    decision: Annotated[str, Field(max_length=16, description="approve or reject")]
    reason: Annotated[str, Field(max_length=1000)] = ""


class InvitationInput(_Input):
    decision: Annotated[str, Field(max_length=16, description="accept or decline")]


class DecisionOutput(_Output):
    status: str


class PendingOutput(_Output):
    country: str
    users: list[dict[str, object]]
    organisations: list[OrganisationOutput]
    projects: list[dict[str, object]]


class Pupils(BaseModel):
    count: Annotated[int, Field(ge=0, le=100000)]
    age_min: Annotated[int, Field(ge=0, le=100)]
    age_max: Annotated[int, Field(ge=0, le=100)]


class ProjectInput(_Input):
    organisation_id: Id
    partner_id: Id
    title: Name
    description: Text
    language: Annotated[str, Field(max_length=8)]
    pupils: Pupils
    subjects: Words
    vocational_subjects: Annotated[
        list[Annotated[str, Field(max_length=200)]], Field(default_factory=list, max_length=50)
    ]
    goals: Text
    process: Text
    outcomes: Text

    _lists = field_validator("subjects", "vocational_subjects", mode="before")(_comma_list)

    @model_validator(mode="before")
    @classmethod
    def _pupils_from_a_form(cls, data: object) -> object:
        """A form cannot nest: the wizard sends ``pupils.count``, ``pupils.age_min`` and
        ``pupils.age_max``, the names its problems come back under."""
        if isinstance(data, dict) and "pupils" not in data and any(key.startswith("pupils.") for key in data):
            data = dict(data)
            data["pupils"] = {key[len("pupils.") :]: data.pop(key) for key in list(data) if key.startswith("pupils.")}
        return data


class ProjectOutput(_Output):
    project_id: str
    status: str
    owner_id: str
    partner_id: str
    title: str
    members: list[str]


class MemberAddInput(_Input):
    account_id: Id


class PupilInput(_Input):
    display_name: Annotated[str, Field(max_length=200)]


class PupilOutput(_Output):
    username: str
    password: str
