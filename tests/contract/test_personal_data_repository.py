"""Scheduled deletions and erasure (SPEC §2.10), against the in-memory fake and DynamoDB:
the index of deletions by due day, scheduling once, cancelling, and an erasure that
leaves nothing of the person but a tombstone, releases the guards and happens once."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.domain.accounts import Account, AccountStatus, UniqueKind, normalise_email
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.helpdesk import SupportTicket, TicketStatus
from chalicelib.domain.mfa import Factor, FactorKind
from chalicelib.domain.oidc import Consent
from chalicelib.ports import (
    AccountDirectory,
    AccountRepository,
    AuditLog,
    ChallengeRepository,
    ConsentRepository,
    FactorRepository,
    HelpdeskRepository,
    PersonalDataRepository,
    SessionRepository,
)
from tests.contract.builders import NOW, account, challenge, refresh_token, session_family, unique, unique_hash
from tests.fakes import (
    InMemoryAccountRepository,
    InMemoryAuditLog,
    InMemoryChallengeRepository,
    InMemorySessionRepository,
    InMemoryStore,
    arranged,
    race,
)

ERASED = "account.erased"


def _entry(owner: Account, action: str) -> AuditEntry:
    return AuditEntry(owner.realm, owner.account_id, action, owner.account_id, NOW, "192.0.2.7", {"why": "test"})


class PersonalDataContract:
    repo: PersonalDataRepository
    accounts: AccountRepository
    audit: AuditLog
    factors: FactorRepository
    sessions: SessionRepository
    challenges: ChallengeRepository
    consents: ConsentRepository
    helpdesk: HelpdeskRepository
    directory: AccountDirectory

    def _day(self) -> date:
        # A day of its own per test: the table, and so the realm's index, is shared.
        return date(2040, 1, 1) + timedelta(days=int(unique()[:6], 16) % 40000)

    def _account(self) -> Account:
        created = account(status=AccountStatus.ACTIVE)
        self.accounts.create(created, audit=arranged(created.realm, created.account_id))
        return created

    def _due(self, owner: Account, day: date) -> list[str]:
        return [account_id for account_id, due in self.repo.deletions_due(owner.realm, day) if due <= day]

    def test_a_scheduled_deletion_is_found_from_its_day_on(self) -> None:
        owner, day = self._account(), self._day()
        assert self.repo.schedule_deletion(owner.realm, owner.account_id, day, audit=_entry(owner, "scheduled")) is None
        stored = self.accounts.get(owner.realm, owner.account_id)
        assert stored is not None and stored.deletion_due == day
        assert owner.account_id not in self._due(owner, day - timedelta(days=1))
        assert (owner.account_id, day) in self.repo.deletions_due(owner.realm, day)
        assert "scheduled" in [entry.action for entry in self.audit.entries(owner.realm, owner.account_id)]

    def test_scheduling_again_keeps_the_first_day_and_writes_nothing(self) -> None:
        owner, day = self._account(), self._day()
        self.repo.schedule_deletion(owner.realm, owner.account_id, day, audit=_entry(owner, "first"))
        later = day + timedelta(days=3)
        assert self.repo.schedule_deletion(owner.realm, owner.account_id, later, audit=_entry(owner, "again")) == day
        assert owner.account_id not in self._due(owner, day - timedelta(days=1))
        assert "again" not in [entry.action for entry in self.audit.entries(owner.realm, owner.account_id)]

    def test_scheduling_an_unknown_account_is_a_lookup_error(self) -> None:
        ghost = account()
        with pytest.raises(LookupError):
            self.repo.schedule_deletion(ghost.realm, ghost.account_id, self._day(), audit=_entry(ghost, "x"))

    def test_a_cancel_takes_the_account_out_of_the_index_once(self) -> None:
        owner, day = self._account(), self._day()
        self.repo.schedule_deletion(owner.realm, owner.account_id, day, audit=_entry(owner, "scheduled"))
        assert self.repo.cancel_deletion(owner.realm, owner.account_id, audit=_entry(owner, "cancelled"))
        assert not self.repo.cancel_deletion(owner.realm, owner.account_id, audit=_entry(owner, "cancelled again"))
        stored = self.accounts.get(owner.realm, owner.account_id)
        assert stored is not None and stored.deletion_due is None
        assert owner.account_id not in self._due(owner, day)
        assert not self.repo.erase(owner.realm, owner.account_id, as_of=day, tombstone=_entry(owner, ERASED))
        actions = [entry.action for entry in self.audit.entries(owner.realm, owner.account_id)]
        assert "cancelled" in actions and "cancelled again" not in actions

    def _everything(self, owner: Account) -> dict[str, Any]:
        """Give ``owner`` one of each thing the erasure must take."""
        factor = Factor(
            owner.realm, owner.account_id, unique(), FactorKind.WEBAUTHN, "Key", NOW, credential_id="cred-" + unique()
        )
        self.factors.add(factor, login_key=owner.login_key, audit=_entry(owner, "factor"))
        family = session_family(owner.account_id)
        self.sessions.start(family, refresh_token(family))
        pending = challenge(owner.account_id)
        self.challenges.replace(pending)
        self.consents.grant(Consent(owner.realm, owner.account_id, "client-" + unique(), ("openid",), NOW))
        ticket = SupportTicket(
            unique_hash(),
            owner.realm,
            "technical",
            owner.email.upper(),
            "Please help me.",
            "el",
            TicketStatus.OPEN,
            NOW,
            NOW,
        )
        self.helpdesk.open(ticket)
        return {"challenge": pending, "family": family}

    def _directory_hits(self, owner: Account) -> list[Any]:
        return self.directory.search(owner.realm, normalise_email(owner.email)[:16], limit=50).hits

    def test_an_erasure_leaves_a_tombstone_only_and_releases_the_guards(self) -> None:
        owner, day = self._account(), self._day()
        made = self._everything(owner)
        self.repo.schedule_deletion(owner.realm, owner.account_id, day, audit=_entry(owner, "scheduled"))
        tombstone = AuditEntry(owner.realm, owner.account_id, ERASED, "system:deletion", NOW)

        assert not self.repo.erase(owner.realm, owner.account_id, as_of=day - timedelta(days=1), tombstone=tombstone)
        assert self.accounts.get(owner.realm, owner.account_id) is not None
        assert len(self.helpdesk.sent_from(owner.realm, owner.email)) == 1  # found whatever the address's case
        assert owner.account_id in [hit.account_id for hit in self._directory_hits(owner)]
        assert self.repo.erase(owner.realm, owner.account_id, as_of=day, tombstone=tombstone)

        realm, account_id = owner.realm, owner.account_id
        assert self.accounts.get(realm, account_id) is None
        assert owner.identity is not None
        values = [(UniqueKind.EMAIL, normalise_email(owner.email)), (UniqueKind.AFM, owner.identity.afm)]
        assert self.accounts.holders(realm, [*values, owner.login_key]) == {}
        assert self.accounts.find_login(realm, owner.username.casefold()) is None
        assert self.factors.overview(realm, account_id) == ([], None)
        assert self.sessions.get_family(realm, account_id, made["family"].family_id) is None
        assert self.challenges.find_by_token(made["challenge"].token_hash) is None
        assert self.consents.list(realm, account_id) == []
        assert self.helpdesk.sent_from(realm, owner.email) == []
        assert account_id not in [hit.account_id for hit in self._directory_hits(owner)]
        [kept] = self.audit.entries(realm, account_id)
        assert (kept.action, kept.address, kept.details) == (ERASED, "", {})
        assert account_id not in self._due(owner, day)

        # The address and the AFM are free again
        again = dataclasses.replace(account(email=owner.email, afm=owner.identity.afm), status=AccountStatus.ACTIVE)
        self.accounts.create(again, audit=arranged(again.realm, again.account_id))
        assert self.accounts.find_by_unique(realm, UniqueKind.EMAIL, normalise_email(owner.email)) is not None

    def test_an_erasure_happens_once_however_many_run_it(self) -> None:
        owner, day = self._account(), self._day()
        self._everything(owner)
        self.repo.schedule_deletion(owner.realm, owner.account_id, day, audit=_entry(owner, "scheduled"))
        tombstone = AuditEntry(owner.realm, owner.account_id, ERASED, "system:deletion", NOW)

        results = race(4, lambda _: self.repo.erase(owner.realm, owner.account_id, as_of=day, tombstone=tombstone))

        assert sorted(results, key=str) == [False, False, False, True]
        assert [entry.action for entry in self.audit.entries(owner.realm, owner.account_id)] == [ERASED]
        assert not self.repo.erase(owner.realm, owner.account_id, as_of=day, tombstone=tombstone)


class TestInMemoryPersonalData(PersonalDataContract):
    @pytest.fixture(autouse=True)
    def _repository(self) -> None:
        from tests.fakes_account import InMemoryPersonalData
        from tests.fakes_admin import InMemoryAccountDirectory, InMemoryHelpdeskRepository
        from tests.fakes_mfa import InMemoryFactorRepository
        from tests.fakes_oidc import InMemoryConsentRepository, InMemoryOidcGrantRepository

        store = InMemoryStore()
        self.accounts = InMemoryAccountRepository(store)
        self.audit = InMemoryAuditLog(store)
        self.factors = InMemoryFactorRepository(store)
        self.sessions = InMemorySessionRepository(store)
        self.challenges = InMemoryChallengeRepository(store)
        self.consents = InMemoryConsentRepository(store)
        self.helpdesk = InMemoryHelpdeskRepository(store)
        self.directory = InMemoryAccountDirectory(store)

        from types import SimpleNamespace

        no_esep = SimpleNamespace(members={}, project_links={}, legacy={})
        self.repo = InMemoryPersonalData(
            self.accounts,
            factors=self.factors,
            consents=self.consents,
            helpdesk=self.helpdesk,
            esep=no_esep,
            grants=InMemoryOidcGrantRepository(store),
        )


class TestDynamoPersonalData(PersonalDataContract):
    @pytest.fixture(autouse=True)
    def _repository(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.audit import DynamoAuditLog
        from chalicelib.adapters.dynamodb.challenges import DynamoChallengeRepository
        from chalicelib.adapters.dynamodb.directory import DynamoAccountDirectory
        from chalicelib.adapters.dynamodb.erasure import DynamoPersonalDataRepository
        from chalicelib.adapters.dynamodb.factors import DynamoFactorRepository
        from chalicelib.adapters.dynamodb.helpdesk import DynamoHelpdeskRepository
        from chalicelib.adapters.dynamodb.oidc import DynamoConsentRepository
        from chalicelib.adapters.dynamodb.repositories import DynamoAccountRepository
        from chalicelib.adapters.dynamodb.sessions import DynamoSessionRepository

        self.accounts = DynamoAccountRepository(dynamo_models)
        self.audit = DynamoAuditLog(dynamo_models)
        self.factors = DynamoFactorRepository(dynamo_models)
        self.sessions = DynamoSessionRepository(dynamo_models)
        self.challenges = DynamoChallengeRepository(dynamo_models)
        self.consents = DynamoConsentRepository(dynamo_models)
        self.helpdesk = DynamoHelpdeskRepository(dynamo_models)
        self.directory = DynamoAccountDirectory(dynamo_models)
        self.repo = DynamoPersonalDataRepository(dynamo_models)
