"""Request and response models of the account centre's sessions, applications and
password change (SPEC §2.10)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class _Output(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


class SessionOutput(_Output):
    id: str
    device: Annotated[str, Field(description="Browser and system from the User-Agent, e.g. 'Firefox 120 on Ubuntu'.")]
    address: str
    started: str
    last_used: str
    current: bool
    applications: Annotated[list[str], Field(description="Names of the applications signed in through it.")]


class SessionsOutput(_Output):
    sessions: list[SessionOutput]


class EndedOutput(_Output):
    ended: int


class ApplicationOutput(_Output):
    client_id: str
    name: str
    scopes: list[str]
    claims: Annotated[list[str], Field(description="What the scopes release about the person.")]
    granted_at: str


class ApplicationsOutput(_Output):
    applications: list[ApplicationOutput]


class PasswordChangeInput(_Input):
    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    password_confirmation: Annotated[str, Field(min_length=1, max_length=1024)]


class PasswordChangedOutput(_Output):
    status: str
    sessions_ended: int


class NoInput(_Input):
    pass
