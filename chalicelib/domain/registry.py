"""The student registry the IT directorate keeps (seed 004): whether an undergraduate has
graduated. Graduation retires the undergraduate username for good."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class RegistryStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    GRADUATED = "graduated"


@dataclass(frozen=True)
class RegistryEntry:
    realm: str
    registry_number: str
    level: str
    status: RegistryStatus
    updated_at: datetime
    account_id: str | None = None
    """The undergraduate account issued under this registry number, if any."""
