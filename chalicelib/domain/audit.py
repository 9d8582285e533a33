"""The audit log: who changed which account, how, when and from where (SPEC §3).

Every account change carries its :class:`AuditEntry` into the very write that makes the
change (repositories take it as an argument and put it in the same transaction), so no
change is ever stored unaudited, even by a worker that dies right after it.

*Where from* is the client address of the request being served. The web layer states
it once per request (:func:`origin`) rather than every flow passing it along; the CLI
states ``cli``, queued tasks ``task``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

RETENTION = timedelta(days=730)
"""How long audit records are kept (DynamoDB TTL removes them after that)."""

OPERATOR = "operator:cli"
"""The actor of an operator's command line."""

_ORIGIN: ContextVar[str] = ContextVar("mitroo_audit_origin", default="")
_USER_AGENT: ContextVar[str] = ContextVar("mitroo_user_agent", default="")


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


def audit(realm: str, account_id: str, action: str, *, actor: str, at: datetime, **details: str) -> AuditEntry:
    """An entry for a change made now, from where the current request came."""
    return AuditEntry(realm, account_id, action, actor, at, _ORIGIN.get(), dict(details))


@contextlib.contextmanager
def origin(address: str, user_agent: str = "") -> Iterator[None]:
    """Changes audited inside come from ``address`` (a request's client, ``cli``, ``task``);
    a session started inside records both (``Sessions.open``: every way of signing in
    passes there, so none has to carry them along)."""
    token = _ORIGIN.set(address)
    agent = _USER_AGENT.set(user_agent)
    try:
        yield
    finally:
        _USER_AGENT.reset(agent)
        _ORIGIN.reset(token)


def request_origin() -> tuple[str, str]:
    """(client address, User-Agent) of the request being served; empty outside one."""
    return _ORIGIN.get(), _USER_AGENT.get()


@dataclass(frozen=True)
class AuditQuery:
    """Which entries an administrator asks for (SPEC §2.11): an account's, an actor's or
    an action's — each an index, so a query reads only what it lists — within a period
    (``start`` inclusive, ``end`` exclusive); the other two of account, actor and
    action narrow further."""

    account: str | None = None
    actor: str | None = None
    action: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    """Newest first."""
    after: str | None
    """Where the next page starts, None after the last page."""
