"""Request and response models of the "Your data" API (SPEC §2.10): export and self-deletion."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class DeleteInput(BaseModel):
    """The form's confirmation; a JSON ``DELETE`` sends no body."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class DeletionScheduledOutput(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)

    deletion_due: Annotated[
        str, Field(description="The day (ISO date) the account is erased unless a sign-in cancels it before.")
    ]
    grace_days: Annotated[int, Field(description="The realm's grace period, in days.")]


class ExportOutput(BaseModel):
    """The document (``mitroo-export/1``); every section is listed, empty when nothing is stored."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    format: str
    realm: str
    exported_at: str
    account: dict[str, object]
    second_factors: dict[str, object]
    sessions: list[dict[str, object]]
    consents: list[dict[str, object]]
    audit: list[dict[str, object]]
    support_tickets: list[dict[str, object]]
