"""Request and response models of the consoles' API (SPEC §2.11), built on first use."""

from datetime import date
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Reason = Annotated[str | None, Field(None, max_length=1000, description="Why (kept in the audit log).")]


class _Input(BaseModel):
    # Built on first use, not at import: the consoles' models must not lengthen a cold start.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class _Output(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


class ReasonInput(_Input):
    reason: Reason = None


class RolesInput(_Input):
    """``roles`` as a JSON list (or, from a browser form, a comma-separated line or one
    checkbox per role: ``role_admin=on``…)."""

    roles: Annotated[list[str], Field(default_factory=list, max_length=8, description="The administrative roles.")]
    country: Annotated[str | None, Field(None, max_length=8, description="For nso: its country (ISO code).")] = None
    role_admin: Annotated[str | None, Field(None, max_length=8)] = None
    role_secretariat: Annotated[str | None, Field(None, max_length=8)] = None
    role_helpdesk: Annotated[str | None, Field(None, max_length=8)] = None
    role_nso: Annotated[str | None, Field(None, max_length=8)] = None

    @field_validator("roles", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _checkboxes(self) -> Self:
        for role in ("admin", "secretariat", "helpdesk", "nso"):
            if getattr(self, f"role_{role}") and role not in self.roles:
                self.roles.append(role)
        return self


class ExpiryInput(_Input):
    expires_on: Annotated[date, Field(description="The last day the account may be used.")]
    reason: Reason = None


class RegistryGraduationInput(_Input):
    """The registrar's «mark graduated» form (the API's PUT takes level and status)."""

    level: Annotated[str, Field(max_length=32)] = "undergraduate"
    status: Annotated[str, Field(max_length=32)] = "graduated"


class AccountSummary(_Output):
    account_id: str
    username: str
    name: str
    email: str
    status: str
    roles: list[str]
    matched: list[str]
    registry_number: str | None = None
    expires_on: date | None = None


class AccountListOutput(_Output):
    accounts: list[AccountSummary]
    cursor: str | None = Field(None, description="Opaque: pass it back as ?cursor= for the next page.")
    examined: int = Field(description="Index entries this page read (rows are those that passed every check).")


class StandingOutput(_Output):
    code: str
    params: dict[str, str]


class SessionOutput(_Output):
    session_id: str
    started_at: str
    expires_at: str
    methods: list[str] = Field(default_factory=list, description="How the person signed in (RFC 8176 amr).")
    applications: list[str] = Field(default_factory=list, description="Clients signed in through it.")


class AuditEntryOutput(_Output):
    at: str
    account_id: str
    action: str
    actor: str
    address: str
    details: dict[str, str]


class AccountDetailsOutput(_Output):
    account: dict[str, Any]
    standing: list[StandingOutput]
    factors: list[dict[str, str]]
    sessions: list[SessionOutput]
    audit: list[AuditEntryOutput]


class AccountActionOutput(_Output):
    account_id: str
    status: str
    roles: list[str]
    expires_on: date | None = None
    sessions_ended: bool | None = None


class ResendOutput(_Output):
    account_id: str
    mail: str = Field(description="activation or welcome")


class FactorsRemovedOutput(_Output):
    account_id: str
    removed: int


class AuditListOutput(_Output):
    entries: list[AuditEntryOutput]
    cursor: str | None = None


class ReplyInput(_Input):
    message: Annotated[str, Field(max_length=10_000)]


class TicketStatusInput(_Input):
    status: Annotated[str, Field(max_length=16, description="open, answered or closed")]
    reason: Reason = None


class ReplyOutput(_Output):
    at: str
    author: str
    message: str


class TicketOutput(_Output):
    ticket_id: str = Field(description="The ticket's reference in the console (the SHA-256 of its id).")
    topic: str
    email: str
    status: str
    created_at: str
    updated_at: str
    description: str | None = None
    afm: str | None = None
    language: str | None = None
    replies: list[ReplyOutput] | None = None


class TicketListOutput(_Output):
    tickets: list[TicketOutput]
    cursor: str | None = None
