"""In-memory fakes of the administration ports: the account directory, the audit search
and the helpdesk's tickets. They pass the same contracts as the DynamoDB adapters
(``tests/contract/test_admin_repositories.py``), cursors included: a page's ``after``
is the last key read, so pages of the fakes cut where DynamoDB's would."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

from chalicelib.domain.accounts import normalise_email
from chalicelib.domain.audit import AuditEntry, AuditPage, AuditQuery
from chalicelib.domain.directory import SEPARATOR, DirectoryHit, DirectoryPage, role_keys, search_keys
from chalicelib.domain.helpdesk import SupportTicket, TicketPage, TicketReply, TicketStatus
from tests.fakes import InMemoryStore


def _page_after(keys: list[str], after: str | None, limit: int) -> tuple[list[str], str | None]:
    """Keys from after ``after`` (exclusive), ``limit`` of them, and the last one read
    when the page is full (DynamoDB then returns a LastEvaluatedKey, even at the end)."""
    start = 0
    if after is not None:
        position = json.loads(after)
        start = next((index for index, key in enumerate(keys) if key > position), len(keys))
    chosen = keys[start : start + limit]
    return chosen, (json.dumps(chosen[-1]) if len(chosen) == limit else None)


class InMemoryAccountDirectory:
    """The directory computed from the store's accounts (what the entries would say)."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    def _entries(self, realm: str) -> dict[str, tuple[str, tuple[str, ...]]]:
        with self.store.lock:
            accounts = [a for (r, _), a in self.store.accounts.items() if r == realm]
        found: dict[str, tuple[str, tuple[str, ...]]] = {}
        for account in accounts:
            for key, fields in search_keys(account).items():
                found[f"F{key}{SEPARATOR}{account.account_id}"] = (account.account_id, fields)
            for role, key in role_keys(account).items():
                found[f"R{role}\n{key}{SEPARATOR}{account.account_id}"] = (account.account_id, ())
        return found

    def search(self, realm: str, prefix: str, *, limit: int, after: str | None = None) -> DirectoryPage:
        if not prefix:
            raise ValueError("a directory search needs a prefix")
        return self._page(realm, f"F{prefix}", limit, after)

    def with_role(self, realm: str, role: str, *, limit: int, after: str | None = None) -> DirectoryPage:
        return self._page(realm, f"R{role}\n", limit, after)

    def _page(self, realm: str, prefix: str, limit: int, after: str | None) -> DirectoryPage:
        entries = self._entries(realm)
        keys = sorted(key for key in entries if key.startswith(prefix))
        chosen, next_after = _page_after(keys, after, limit)
        hits = []
        for key in chosen:
            account_id, fields = entries[key]
            with self.store.lock:
                account = self.store.accounts.get((realm, account_id))
            shown = key.split("\n", 1)[1] if key.startswith("R") else key[1:]
            hits.append(
                DirectoryHit(
                    account_id=account_id,
                    key=shown.rsplit(SEPARATOR, 1)[0],
                    fields=fields,
                    account=dataclasses.replace(account) if account else None,
                )
            )
        return DirectoryPage(hits, next_after)


class InMemoryAuditSearch:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    def search(self, realm: str, query: AuditQuery, *, limit: int, after: str | None = None) -> AuditPage:
        if query.account is None and query.actor is None and query.action is None:
            raise ValueError("an audit query names an account, an actor or an action")
        with self.store.lock:
            entries = [e for e in self.store.audit if e.realm == realm]
        # The index the query names first, newest first; the rest is a filter on what it reads.
        if query.account is not None:
            indexed = [e for e in entries if e.account_id == query.account]
        elif query.actor is not None:
            indexed = [e for e in entries if e.actor == query.actor]
        else:
            indexed = [e for e in entries if e.action == query.action]
        indexed = [
            e
            for e in indexed
            if (query.start is None or e.at >= query.start) and (query.end is None or e.at < query.end)
        ]
        ordered = sorted(enumerate(indexed), key=lambda pair: (pair[1].at, pair[0]), reverse=True)
        keys = [f"{10**17 - round(entry.at.timestamp() * 10**6):020d}#{10**9 - index:010d}" for index, entry in ordered]
        by_key = dict(zip(keys, (entry for _, entry in ordered), strict=True))
        chosen, next_after = _page_after(sorted(keys), after, limit)
        kept = [by_key[key] for key in chosen if self._passes(by_key[key], query)]
        return AuditPage([dataclasses.replace(e, details=dict(e.details)) for e in kept], next_after)

    @staticmethod
    def _passes(entry: AuditEntry, query: AuditQuery) -> bool:
        return (
            (query.actor is None or entry.actor == query.actor)
            and (query.action is None or entry.action == query.action)
            and (query.account is None or entry.account_id == query.account)
        )


class InMemoryHelpdeskRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.tickets: dict[tuple[str, str], SupportTicket] = {}

    def open(self, ticket: SupportTicket) -> None:
        with self.store.lock:
            key = (ticket.realm, ticket.ticket_hash)
            if key in self.tickets:
                raise RuntimeError("ticket exists")
            self.tickets[key] = dataclasses.replace(ticket, replies=())

    def get(self, realm: str, ticket_hash: str) -> SupportTicket | None:
        with self.store.lock:
            return self.tickets.get((realm, ticket_hash))

    def queue(self, realm: str, status: TicketStatus, *, limit: int, after: str | None = None) -> TicketPage:
        with self.store.lock:
            chosen_tickets = {
                f"{t.created_at.isoformat()}{SEPARATOR}{t.ticket_hash}": t
                for (r, _), t in self.tickets.items()
                if r == realm and t.status is status
            }
        chosen, next_after = _page_after(sorted(chosen_tickets), after, limit)
        return TicketPage([dataclasses.replace(chosen_tickets[key], replies=()) for key in chosen], next_after)

    def reply(
        self, realm: str, ticket_hash: str, reply: TicketReply, status: TicketStatus, *, audit: AuditEntry
    ) -> bool:
        with self.store.lock:
            ticket = self.tickets.get((realm, ticket_hash))
            if ticket is None or ticket.status is TicketStatus.CLOSED:
                return False
            self.tickets[(realm, ticket_hash)] = dataclasses.replace(
                ticket,
                status=status,
                updated_at=reply.at,
                replies=tuple(sorted((*ticket.replies, reply), key=lambda r: r.at)),
            )
            self.store.audit.append(audit)
            return True

    def set_status(
        self, realm: str, ticket_hash: str, status: TicketStatus, *, now: datetime, audit: AuditEntry
    ) -> bool:
        with self.store.lock:
            ticket = self.tickets.get((realm, ticket_hash))
            if ticket is None:
                return False
            self.tickets[(realm, ticket_hash)] = dataclasses.replace(ticket, status=status, updated_at=now)
            self.store.audit.append(audit)
            return True

    def sent_from(self, realm: str, email: str) -> list[SupportTicket]:
        wanted = normalise_email(email)
        with self.store.lock:
            found = [t for (r, _), t in self.tickets.items() if r == realm and normalise_email(t.email) == wanted]
        return sorted(found, key=lambda ticket: ticket.created_at)
