"""The audit log: who changed which account, how, when and from where (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

RETENTION = timedelta(days=730)
"""How long audit records are kept (DynamoDB TTL removes them after that)."""


@dataclass(frozen=True)
class AuditEntry:
    """One change. ``actor`` is an account id, ``system:<job>`` or ``operator:cli``;
    ``details`` never holds a password, token, full AFM or e-mail address."""

    realm: str
    account_id: str
    action: str
    actor: str
    at: datetime
    address: str = ""
    details: dict[str, str] = field(default_factory=dict)
