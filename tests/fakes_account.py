"""In-memory fake of the personal-data port (scheduled deletions and erasure), over the
other fakes' storage: it passes the same contract as the DynamoDB adapter
(``tests/contract/test_personal_data_repository.py``)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from chalicelib.domain.accounts import normalise_email
from chalicelib.domain.audit import AuditEntry
from tests.fakes import InMemoryAccountRepository

ERASED = "account.erased"


class InMemoryPersonalData:
    def __init__(
        self, accounts: InMemoryAccountRepository, *, factors: Any, consents: Any, helpdesk: Any, esep: Any, grants: Any
    ) -> None:
        self.accounts = accounts
        self.store = accounts.store
        self.factors, self.consents, self.helpdesk, self.esep, self.grants = factors, consents, helpdesk, esep, grants
        self.erasing: set[tuple[str, str]] = set()

    def schedule_deletion(self, realm: str, account_id: str, due: date, *, audit: AuditEntry) -> date | None:
        s = self.store
        with s.lock:
            account = s.accounts.get((realm, account_id))
            if account is None:
                raise LookupError(account_id)
            if account.deletion_due is not None:
                return account.deletion_due
            s.accounts[(realm, account_id)] = dataclasses.replace(account, deletion_due=due, updated_at=audit.at)
            s.audit.append(audit)
            return None

    def cancel_deletion(self, realm: str, account_id: str, *, audit: AuditEntry) -> bool:
        s = self.store
        with s.lock:
            account = s.accounts.get((realm, account_id))
            if account is None or account.deletion_due is None or (realm, account_id) in self.erasing:
                return False
            s.accounts[(realm, account_id)] = dataclasses.replace(account, deletion_due=None, updated_at=audit.at)
            s.audit.append(audit)
            return True

    def deletions_due(self, realm: str, as_of: date) -> list[tuple[str, date]]:
        with self.store.lock:
            due = [
                (account.deletion_due, account.account_id)
                for (r, _), account in self.store.accounts.items()
                if r == realm and account.deletion_due is not None and account.deletion_due <= as_of
            ]
        return [(account_id, day) for day, account_id in sorted(due)]

    def erase(self, realm: str, account_id: str, *, as_of: date, tombstone: AuditEntry) -> bool:
        s = self.store
        with s.lock:
            account = s.accounts.get((realm, account_id))
            if account is None or account.deletion_due is None or account.deletion_due > as_of:
                return False
            self.erasing.add((realm, account_id))
            mine = (realm, account_id)
            del s.accounts[mine]
            for key in [key for key, owner in s.guards.items() if key[0] == realm and owner == account_id]:
                del s.guards[key]
            for key in [key for key in s.challenges if key[:2] == mine]:
                s.challenge_lookups = {h: k for h, k in s.challenge_lookups.items() if k != key}
                del s.challenges[key]
            for key in [key for key in s.families if key[:2] == mine]:
                del s.families[key]
            s.tokens = {h: t for h, t in s.tokens.items() if (t.realm, t.account_id) != mine}
            s.audit[:] = [e for e in s.audit if (e.realm, e.account_id) != mine or e.action == ERASED]
            s.audit.append(tombstone)
            f = self.factors
            f.factors = {k: v for k, v in f.factors.items() if k[:2] != mine}
            f.recovery.pop(mine, None)
            f.credentials = {k: v for k, v in f.credentials.items() if tuple(v[:2]) != mine}
            self.consents.consents = {k: v for k, v in self.consents.consents.items() if k[:2] != mine}
            self.grants.grants = {k: v for k, v in self.grants.grants.items() if (v.realm, v.account_id) != mine}
            wanted = normalise_email(account.email)
            self.helpdesk.tickets = {
                k: t
                for k, t in self.helpdesk.tickets.items()
                if not (k[0] == realm and normalise_email(t.email) == wanted)
            }
            member = self.esep.members.pop(account_id, None)
            self.esep.project_links.pop(account_id, None)
            if member is not None:
                self.esep.legacy.pop(normalise_email(member.email), None)
            self.erasing.discard(mine)
            return True
