"""Request and response models of the HTTP API: they validate input and document it.

Models forbid unknown fields: in particular the GSIS identity fields (AFM, names) cannot
be smuggled into a registration, because they come only from the stored flow.
"""

from datetime import date
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Short = Annotated[str, Field(max_length=256)]
Secret = Annotated[str, Field(max_length=1024)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, defer_build=True)


class _Output(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


class RegistrationInput(_Input):
    flow: Annotated[str, Field(min_length=1, max_length=256, description="The GSIS flow id from the callback.")]
    email: Annotated[str, Field(max_length=254, description="Becomes the username.")]
    password: Secret
    password_confirmation: Secret
    gender: Annotated[str, Field(max_length=16, description="female, male or other")]
    registry_number: Annotated[
        str | None, Field(None, max_length=32, description="Teacher registry number; empty means the AFM.")
    ] = None
    mobile: Annotated[str | None, Field(None, max_length=32)] = None
    language: Annotated[Literal["el", "en"] | None, Field(None, description="Language of mail and pages.")] = None


class RegistrationOutput(_Output):
    account_id: str
    status: str


class ActivationInput(_Input):
    token: Annotated[str | None, Field(None, max_length=256, description="The token from the mailed link.")] = None
    email: Annotated[str | None, Field(None, max_length=254)] = None
    code: Annotated[str | None, Field(None, max_length=16, description="The code from the mail.")] = None

    @model_validator(mode="after")
    def _token_or_code(self) -> Self:
        if not self.token and not (self.email and self.code):
            raise ValueError("give either token, or email and code")
        return self


class ResendInput(_Input):
    email: Annotated[str, Field(max_length=254)]


class StatusOutput(_Output):
    status: str


class LoginInput(_Input):
    username: Annotated[str, Field(min_length=1, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    next: Annotated[
        str | None,
        Field(
            None,
            max_length=4096,
            description="Browser form posts: a page of this realm to continue to (an authorization request).",
        ),
    ] = None


class RefreshInput(_Input):
    refresh_token: Annotated[
        str | None, Field(None, max_length=256, description="Optional when the refresh cookie is sent.")
    ] = None


class TokenOutput(_Output):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    mfa_enrolment_required: bool | None = Field(
        None, description="True: the account's role needs a second factor; this session may only enrol one."
    )


class IdentityOutput(_Output):
    afm: str
    last_name: str
    first_name: str
    father_name: str
    mother_name: str
    birth_year: str


class FlowOutput(_Output):
    intent: str
    expires_at: str
    used: bool
    identity: IdentityOutput
    email: str | None = None
    status: str | None = None


class ProfileOutput(_Output):
    account_id: str
    realm: str
    username: str
    email: str
    status: str
    identity: IdentityOutput | None = None
    gsis_verified: bool
    gender: str | None = None
    registry_number: str | None = None
    mobile: str | None = None
    language: str
    roles: list[str]
    created_at: str
    deletion_due: str | None = Field(
        default=None, description="The day the account is due to be erased (SPEC §2.10); absent when none is scheduled."
    )


class HealthOutput(_Output):
    status: Literal["ok"]


class Problem(_Output):
    """RFC 9457 problem details; ``code`` is one of SPEC §6."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    errors: dict[str, list[str]] | None = None


class PasswordResetInput(_Input):
    email: Annotated[str, Field(max_length=254, description="The account's e-mail (e-IEP) or external e-mail (NTUA).")]
    username: Annotated[
        str | None, Field(None, max_length=254, description="Required where recovery is by mail (NTUA).")
    ] = None


class PasswordResetStarted(_Output):
    reset: str
    gsis_url: str


class PasswordResetCompletion(_Input):
    password: Secret
    password_confirmation: Secret
    flow: Annotated[str | None, Field(None, max_length=256, description="GSIS realms: the reset-password flow.")] = None
    token: Annotated[str | None, Field(None, max_length=256, description="Mail realms: the link's token.")] = None
    username: Annotated[str | None, Field(None, max_length=254, description="Mail realms, with code.")] = None
    code: Annotated[str | None, Field(None, max_length=16, description="Mail realms: the code from the mail.")] = None


class PasswordSetupInput(_Input):
    token: Annotated[str, Field(min_length=1, max_length=256)]
    password: Secret
    password_confirmation: Secret


class PasswordCheckInput(_Input):
    password: Secret
    username: Annotated[str | None, Field(None, max_length=254)] = None
    email: Annotated[str | None, Field(None, max_length=254)] = None


class PasswordCheckOutput(_Output):
    acceptable: bool
    score: int
    violations: list[str]
    messages: list[str]
    feedback: dict[str, object]


class CertificationInput(_Input):
    flow: Annotated[str, Field(min_length=1, max_length=256)]
    decision: Literal["certify", "return"]


class CertificationCancelled(_Output):
    status: Literal["cancelled"]
    support_url: str


class SupportTicketInput(_Input):
    topic: Annotated[str, Field(min_length=1, max_length=64)]
    email: Annotated[str, Field(max_length=254)]
    afm: Annotated[str | None, Field(None, max_length=16, description="Optional; helps the helpdesk.")] = None
    description: Annotated[str, Field(max_length=5000)]
    language: Annotated[Literal["el", "en"] | None, Field(None)] = None


class SupportTicketOutput(_Output):
    ticket_id: str


class LegacyImportInput(_Input):
    format: Literal["jsonl", "csv"]
    content: Annotated[str, Field(max_length=900_000, description="The file's text (JSON lines or CSV).")]


class LegacyRowOutput(_Output):
    line: int
    status: Literal["created", "duplicate", "rejected"]
    reason: str | None = None


class LegacyImportOutput(_Output):
    created: int
    duplicates: int
    rejected: int
    problems: list[LegacyRowOutput]


class AdminAccountInput(_Input):
    kind: Annotated[str, Field(description="undergraduate, postgraduate, doctoral or staff")]
    first_name: Annotated[str, Field(max_length=100)]
    last_name: Annotated[str, Field(max_length=100)]
    father_name: Annotated[str, Field(max_length=100)]
    mother_name: Annotated[str, Field(max_length=100)]
    external_email: Annotated[str, Field(max_length=254, description="Outside the institution's domains.")]
    registry_number: Annotated[str, Field(max_length=32)]
    username: Annotated[
        str | None, Field(None, max_length=32, description="Contains the surname; assigned when omitted.")
    ] = None
    expires_on: Annotated[date | None, Field(None, description="The last valid day (programme end).")] = None
    mobile: Annotated[str | None, Field(None, max_length=32)] = None
    previous_username: Annotated[str | None, Field(None, max_length=64)] = None
    address: Annotated[str | None, Field(None, max_length=200)] = None
    area: Annotated[str | None, Field(None, max_length=100)] = None
    postcode: Annotated[str | None, Field(None, max_length=16)] = None
    supervisor: Annotated[str | None, Field(None, max_length=200)] = None
    supervisor_email: Annotated[str | None, Field(None, max_length=254)] = None

    @field_validator("expires_on", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """A browser form sends an empty date field as an empty string."""
        return None if value == "" else value


class AdminAccountOutput(_Output):
    account_id: str
    username: str
    status: str
    created: bool
    """False when the person's earlier (non-undergraduate) account was reactivated."""


class RegistryInput(_Input):
    level: Annotated[str, Field(description="undergraduate, postgraduate, doctoral or staff")]
    status: Literal["enrolled", "graduated"]


class RegistryOutput(_Output):
    registry_number: str
    level: str
    status: str
    account_id: str | None = None


class JobUploadInput(_Input):
    upload: Annotated[
        bool,
        Field(description="true: answer with a presigned URL to PUT a large file to, then start the job."),
    ]


class JobAccepted(_Output):
    job_id: str
    status: str
    upload_url: str | None = None
    """Only for ``{"upload": true}``: PUT the .xlsx here (Content-Type as given), then
    POST ``start_url``."""
    upload_headers: dict[str, str] | None = None
    start_url: str | None = None


class JobOutput(_Output):
    job_id: str
    kind: str
    status: str
    dry_run: bool
    total: int
    processed: int
    accepted: int
    rejected: int
    already_applied: int
    reason: str | None = None
    awaiting_upload: bool = False
    created_at: str
    updated_at: str
    report_url: str | None = None
