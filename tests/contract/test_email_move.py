"""AccountRepository.change_email contract: the in-memory fake and DynamoDB behave the same.

Proves: the e-mail guard moves (the old address is free after, the new one finds the
account), with ``move_username`` the username guard and its login record too (same
password hash, status, roles), the directory files the account under the new address
only, and the audit entry is written; an address another account holds refuses the
change and nothing moves; an account whose e-mail changed since it was read is refused;
under concurrent changes to one address exactly one account wins it. A challenge keeps
the address it is about.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.accounts import AccountStatus, UniqueKind, normalise_email
from chalicelib.domain.tokens import Purpose
from chalicelib.errors import DuplicateValue
from chalicelib.ports import AccountDirectory, AccountRepository, AuditLog, ChallengeRepository
from tests.contract.builders import NOW, REALM, account, challenge, unique, unique_email
from tests.fakes import (
    InMemoryAccountRepository,
    InMemoryAuditLog,
    InMemoryChallengeRepository,
    InMemoryStore,
    arranged,
)
from tests.fakes import race as race_threads


class EmailMoveContract:
    repo: AccountRepository
    audit: AuditLog
    directory: AccountDirectory
    challenges: ChallengeRepository

    def _active(self, **changes: Any) -> Any:
        created = account(status=AccountStatus.ACTIVE, **changes)
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        return created

    def test_the_guards_move_with_the_login_record_and_the_old_address_is_free(self) -> None:
        # Given an active account whose username is its e-mail
        before = self._active(roles=("teacher",))
        new = unique_email()
        later = NOW + timedelta(seconds=1)

        # When it moves to a new address (username too)
        changed = self.repo.change_email(
            before, new, move_username=True, now=later, audit=arranged(REALM, before.account_id, "email_changed")
        )

        # Then the account, its e-mail guard and its login record are the new address's
        assert changed.email == new and changed.username == new.casefold()
        assert self.repo.get(REALM, before.account_id) == dataclasses.replace(
            before, email=new, username=new.casefold(), updated_at=later
        )
        found = self.repo.find_by_unique(REALM, UniqueKind.EMAIL, normalise_email(new))
        assert found is not None and found.account_id == before.account_id
        login = self.repo.find_login(REALM, new.casefold())
        assert login is not None
        assert (login.account_id, login.password_hash, login.status, login.roles) == (
            before.account_id,
            before.password_hash,
            AccountStatus.ACTIVE,
            ("teacher",),
        )
        # And the old address and username are free for anyone
        assert self.repo.find_by_unique(REALM, UniqueKind.EMAIL, normalise_email(before.email)) is None
        assert self.repo.find_login(REALM, before.username) is None
        reuse = self._active(email=before.email)
        assert self.repo.find_login(REALM, before.username) is not None
        assert reuse.account_id != before.account_id

    def test_the_change_is_audited_in_the_same_write(self) -> None:
        before = self._active()
        self.repo.change_email(
            before,
            unique_email(),
            move_username=True,
            now=NOW,
            audit=arranged(REALM, before.account_id, "email_changed"),
        )
        assert "email_changed" in [entry.action for entry in self.audit.entries(REALM, before.account_id)]

    def test_the_directory_files_the_account_under_the_new_address_only(self) -> None:
        tag = unique()[:10]
        before = self._active(email=f"old{tag}@example.gr", roles=("teacher",))
        self.repo.change_email(
            before, f"new{tag}@example.gr", move_username=True, now=NOW, audit=arranged(REALM, before.account_id)
        )
        assert [hit.account_id for hit in self.directory.search(REALM, f"new{tag}", limit=10).hits] == [
            before.account_id
        ]
        assert self.directory.search(REALM, f"old{tag}", limit=10).hits == []

    def test_without_moving_the_username_only_the_address_moves(self) -> None:
        before = self._active(username=f"user{unique()[:10]}")
        new = unique_email()
        changed = self.repo.change_email(before, new, move_username=False, now=NOW, audit=arranged(REALM, "x"))
        assert changed.username == before.username
        assert self.repo.find_login(REALM, before.username) is not None
        assert self.repo.find_by_unique(REALM, UniqueKind.EMAIL, normalise_email(new)) is not None

    def test_an_address_another_account_holds_refuses_and_nothing_moves(self) -> None:
        holder = self._active()
        before = self._active()
        with pytest.raises(DuplicateValue):
            self.repo.change_email(
                before, holder.email.upper(), move_username=True, now=NOW, audit=arranged(REALM, before.account_id)
            )
        assert self.repo.get(REALM, before.account_id) == before
        assert self.repo.find_login(REALM, before.username) is not None
        found = self.repo.find_by_unique(REALM, UniqueKind.EMAIL, normalise_email(holder.email))
        assert found is not None and found.account_id == holder.account_id

    def test_an_account_whose_address_changed_since_it_was_read_is_refused(self) -> None:
        before = self._active()
        self.repo.change_email(before, unique_email(), move_username=True, now=NOW, audit=arranged(REALM, "x"))
        with pytest.raises(LookupError):
            self.repo.change_email(before, unique_email(), move_username=True, now=NOW, audit=arranged(REALM, "x"))

    def test_of_concurrent_changes_to_one_address_exactly_one_wins(self) -> None:
        people = [self._active() for _ in range(6)]
        wanted = unique_email()

        def attempt(index: int) -> Any:
            return self.repo.change_email(
                people[index], wanted, move_username=True, now=NOW, audit=arranged(REALM, people[index].account_id)
            )

        results = race_threads(len(people), attempt)
        winners = [result for result in results if not isinstance(result, BaseException)]
        assert len(winners) == 1, results
        assert all(isinstance(result, DuplicateValue) for result in results if isinstance(result, BaseException))
        found = self.repo.find_by_unique(REALM, UniqueKind.EMAIL, normalise_email(wanted))
        assert found is not None and found.account_id == winners[0].account_id

    def test_a_challenge_keeps_the_address_it_is_about(self) -> None:
        pending = challenge(purpose=Purpose.EMAIL_CHANGE, subject="new@example.gr")
        self.challenges.replace(pending)
        assert self.challenges.find_by_token(pending.token_hash) == pending
        plain = challenge()
        self.challenges.replace(plain)
        found = self.challenges.find_for_account(REALM, plain.account_id, plain.purpose)
        assert found is not None and found.subject is None


class TestInMemoryEmailMove(EmailMoveContract):
    @pytest.fixture(autouse=True)
    def _repositories(self) -> None:
        from tests.fakes_admin import InMemoryAccountDirectory

        store = InMemoryStore()
        self.repo = InMemoryAccountRepository(store)
        self.audit = InMemoryAuditLog(store)
        self.directory = InMemoryAccountDirectory(store)
        self.challenges = InMemoryChallengeRepository(store)


class TestDynamoEmailMove(EmailMoveContract):
    @pytest.fixture(autouse=True)
    def _repositories(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.audit import DynamoAuditLog
        from chalicelib.adapters.dynamodb.challenges import DynamoChallengeRepository
        from chalicelib.adapters.dynamodb.directory import DynamoAccountDirectory
        from chalicelib.adapters.dynamodb.repositories import DynamoAccountRepository

        self.repo = DynamoAccountRepository(dynamo_models)
        self.audit = DynamoAuditLog(dynamo_models)
        self.directory = DynamoAccountDirectory(dynamo_models)
        self.challenges = DynamoChallengeRepository(dynamo_models)

    def test_the_login_records_copy_of_the_factors_moves_with_it(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.factors import DynamoFactorRepository
        from chalicelib.domain.audit import AuditEntry
        from chalicelib.domain.mfa import Factor, FactorCopy, FactorKind, RecoveryCodes, TotpKey

        # Given an account whose username is its e-mail, with a TOTP factor and two codes
        before = self._active()
        factors = DynamoFactorRepository(dynamo_models)
        phone = Factor(
            REALM, before.account_id, unique(), FactorKind.TOTP, "Phone", NOW, confirmed=False, sealed_secret="sealed"
        )
        factors.add_pending(phone)
        codes = RecoveryCodes(REALM, before.account_id, frozenset({unique(), unique()}), NOW)
        audit = AuditEntry(REALM, before.account_id, "totp_added", before.account_id, NOW)
        assert factors.confirm(phone, step=1, login_key=before.login_key, now=NOW, audit=audit, recovery=codes)
        moved = self.repo.get(REALM, before.account_id)
        assert moved is not None

        # When it moves to a new address (username too)
        new = unique_email()
        later = NOW + timedelta(seconds=1)
        self.repo.change_email(
            moved, new, move_username=True, now=later, audit=arranged(REALM, before.account_id, "email_changed")
        )

        # Then the new login record carries the same copy: a TOTP sign-in reads no factor list
        login = self.repo.find_login(REALM, new.casefold())
        assert login is not None and login.second_factors == 1
        assert login.factors == FactorCopy((TotpKey(phone.factor_id, "sealed"),), 2)
