"""AccountRepository contract: the in-memory fake and DynamoDB behave the same.

Proves: accounts round-trip field for field; each unique value (e-mail, AFM, username)
finds its account within its realm only; a duplicate raises ``DuplicateValue(kind)`` and
writes nothing; consuming a flow is part of the same all-or-nothing write; an
undergraduate's registry link is too, refused while the number links another account or
has graduated; status changes are conditional; and under 20 concurrent creates exactly
one account wins an e-mail, or a registry number.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.accounts import Account, AccountStatus, LoginRecord, UniqueKind, normalise_email
from chalicelib.domain.registry import RegistryEntry, RegistryStatus
from chalicelib.errors import DuplicateValue, FlowAlreadyUsed
from chalicelib.ports import AccountRepository, FlowRepository, RegistryRepository
from tests.contract.builders import AUDIT, NOW, REALM, account, identity_flow, unique, unique_email
from tests.fakes import (
    InMemoryAccountRepository,
    InMemoryFlowRepository,
    InMemoryRegistryRepository,
    InMemoryStore,
    arranged,
    race,
)


class AccountRepositoryContract:
    repo: AccountRepository
    flows: FlowRepository
    registry: RegistryRepository

    # --- create, get, find_by_unique ---------------------------------------------------

    def test_a_created_account_reads_back_field_for_field(self) -> None:
        created = account(roles=("teacher", "admin"), extra={"school": "1ο ΓΕΛ"}, activated_at=None)
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        assert self.repo.get(REALM, created.account_id) == created

    def test_an_account_without_identity_or_password_reads_back(self) -> None:
        legacy = account(identity=None, password_hash=None, gsis_verified=False, gender=None, mobile=None)
        self.repo.create(legacy, audit=arranged(legacy.realm, legacy.account_id))
        assert self.repo.get(REALM, legacy.account_id) == legacy

    def test_an_unknown_account_is_none(self) -> None:
        assert self.repo.get(REALM, unique()) is None

    def test_each_unique_value_finds_the_account(self) -> None:
        created = account()
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        assert created.identity is not None
        for kind, value in [
            (UniqueKind.EMAIL, normalise_email(created.email)),
            (UniqueKind.AFM, created.identity.afm),
            (UniqueKind.USERNAME, created.username),
        ]:
            found = self.repo.find_by_unique(REALM, kind, value)
            assert found is not None and found.account_id == created.account_id, kind

    def test_find_by_unique_expects_the_normalised_value(self) -> None:
        # Given an account whose address has upper-case letters
        created = account(email=f"Maria.{unique()[:8]}@Example.GR")
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        # Then the guard holds the casefolded form; callers normalise before looking up
        assert self.repo.find_by_unique(REALM, UniqueKind.EMAIL, normalise_email(created.email)) is not None
        assert self.repo.find_by_unique(REALM, UniqueKind.EMAIL, created.email) is None

    def test_find_by_unique_for_an_unused_value_is_none(self) -> None:
        assert self.repo.find_by_unique(REALM, UniqueKind.EMAIL, unique_email()) is None

    def test_unique_values_are_scoped_to_the_realm(self) -> None:
        first = account()
        self.repo.create(first, audit=arranged(first.realm, first.account_id))
        assert first.identity is not None
        # The same e-mail and AFM are free in another realm
        other = account(email=first.email, afm=first.identity.afm, realm="ntua")
        self.repo.create(other, audit=arranged(other.realm, other.account_id))
        assert self.repo.find_by_unique("ntua", UniqueKind.EMAIL, normalise_email(first.email)) == other
        assert self.repo.find_by_unique(REALM, UniqueKind.EMAIL, normalise_email(first.email)) == first

    # --- uniqueness guards --------------------------------------------------------------

    def test_a_duplicate_email_raises_duplicate_value_email(self) -> None:
        first = account()
        self.repo.create(first, audit=arranged(first.realm, first.account_id))
        with pytest.raises(DuplicateValue) as raised:
            self.repo.create(account(email=first.email.upper()), audit=AUDIT)
        assert raised.value.kind == "email"

    def test_a_duplicate_afm_raises_duplicate_value_afm(self) -> None:
        first = account()
        self.repo.create(first, audit=arranged(first.realm, first.account_id))
        assert first.identity is not None
        with pytest.raises(DuplicateValue) as raised:
            self.repo.create(account(afm=first.identity.afm), audit=arranged(REALM, "new"))
        assert raised.value.kind == "afm"

    def test_a_duplicate_username_raises_duplicate_value_username(self) -> None:
        first = account()
        self.repo.create(first, audit=arranged(first.realm, first.account_id))
        with pytest.raises(DuplicateValue) as raised:
            self.repo.create(account(username=first.username), audit=arranged(REALM, "new"))
        assert raised.value.kind == "username"

    def test_when_email_and_afm_are_both_taken_the_afm_is_reported(self) -> None:
        first = account()
        self.repo.create(first, audit=arranged(first.realm, first.account_id))
        assert first.identity is not None
        with pytest.raises(DuplicateValue) as raised:
            self.repo.create(account(email=first.email, afm=first.identity.afm), audit=arranged(REALM, "new"))
        assert raised.value.kind == "afm"

    def test_a_failed_create_writes_nothing(self) -> None:
        # Given an account A
        first = account()
        self.repo.create(first, audit=arranged(first.realm, first.account_id))
        assert first.identity is not None
        # When B (new e-mail, A's AFM) fails on the AFM
        rejected = account(afm=first.identity.afm)
        with pytest.raises(DuplicateValue):
            self.repo.create(rejected, audit=arranged(rejected.realm, rejected.account_id))
        # Then neither B nor its e-mail or username guard was written
        assert self.repo.get(REALM, rejected.account_id) is None
        assert self.repo.find_by_unique(REALM, UniqueKind.EMAIL, normalise_email(rejected.email)) is None
        # And C may take B's e-mail with a fresh AFM
        third = account(email=rejected.email)
        self.repo.create(third, audit=arranged(third.realm, third.account_id))
        assert self.repo.find_by_unique(REALM, UniqueKind.EMAIL, normalise_email(rejected.email)) == third

    def test_a_taken_account_id_is_refused_and_the_original_kept(self) -> None:
        first = account()
        self.repo.create(first, audit=arranged(first.realm, first.account_id))
        with pytest.raises(Exception):
            self.repo.create(account(account_id=first.account_id), audit=arranged(REALM, "new"))
        assert self.repo.get(REALM, first.account_id) == first

    def test_a_taken_account_id_is_not_blamed_on_a_fresh_flow(self) -> None:
        # The port promises FlowAlreadyUsed only when the flow was used or vanished
        first = account()
        self.repo.create(first, audit=arranged(first.realm, first.account_id))
        flow = identity_flow()
        self.flows.save_flow(flow)
        with pytest.raises(Exception) as raised:
            self.repo.create(account(account_id=first.account_id), consume_flow=flow.flow_hash, now=NOW, audit=AUDIT)
        assert not isinstance(raised.value, FlowAlreadyUsed)
        stored = self.flows.get_flow(flow.flow_hash)
        assert stored is not None and stored.used_at is None

    # --- consuming a flow in the same write ---------------------------------------------

    def test_create_marks_the_consumed_flow_used(self) -> None:
        flow = identity_flow()
        self.flows.save_flow(flow)
        used_at = NOW + timedelta(minutes=3)
        self.repo.create(account(), consume_flow=flow.flow_hash, now=used_at, audit=AUDIT)
        stored = self.flows.get_flow(flow.flow_hash)
        assert stored is not None and stored.used_at == used_at

    def test_a_used_flow_raises_flow_already_used_and_writes_no_account(self) -> None:
        flow = identity_flow()
        self.flows.save_flow(flow)
        self.repo.create(account(), consume_flow=flow.flow_hash, now=NOW, audit=AUDIT)
        second = account()
        with pytest.raises(FlowAlreadyUsed):
            self.repo.create(second, consume_flow=flow.flow_hash, now=NOW, audit=AUDIT)
        assert self.repo.get(REALM, second.account_id) is None
        assert self.repo.find_by_unique(REALM, UniqueKind.EMAIL, normalise_email(second.email)) is None

    def test_a_missing_flow_raises_flow_already_used(self) -> None:
        rejected = account()
        with pytest.raises(FlowAlreadyUsed):
            self.repo.create(rejected, consume_flow=identity_flow().flow_hash, now=NOW, audit=AUDIT)
        assert self.repo.get(REALM, rejected.account_id) is None

    def test_a_duplicate_fails_before_the_flow_is_used(self) -> None:
        first = account()
        self.repo.create(first, audit=arranged(first.realm, first.account_id))
        flow = identity_flow()
        self.flows.save_flow(flow)
        with pytest.raises(DuplicateValue):
            self.repo.create(account(email=first.email), consume_flow=flow.flow_hash, now=NOW, audit=AUDIT)
        stored = self.flows.get_flow(flow.flow_hash)
        assert stored is not None and stored.used_at is None

    def test_a_used_flow_is_reported_even_when_a_value_is_taken_too(self) -> None:
        first = account()
        flow = identity_flow()
        self.flows.save_flow(flow)
        self.repo.create(first, consume_flow=flow.flow_hash, now=NOW, audit=AUDIT)
        # The same person submits the same flow again (a double click)
        with pytest.raises(FlowAlreadyUsed):
            self.repo.create(account(email=first.email), consume_flow=flow.flow_hash, now=NOW, audit=AUDIT)

    # --- updates ------------------------------------------------------------------------

    def test_set_status_moves_from_the_expected_status(self) -> None:
        created = account()
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        later = NOW + timedelta(hours=1)
        assert self.repo.set_status(
            REALM,
            created.account_id,
            AccountStatus.ACTIVE,
            expected=AccountStatus.PENDING_ACTIVATION,
            now=later,
            audit=AUDIT,
        )
        stored = self.repo.get(REALM, created.account_id)
        assert stored == dataclasses.replace(created, status=AccountStatus.ACTIVE, updated_at=later, activated_at=later)

    def test_set_status_from_another_status_changes_nothing(self) -> None:
        created = account(status=AccountStatus.ACTIVE)
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        assert not self.repo.set_status(
            REALM,
            created.account_id,
            AccountStatus.ACTIVE,
            expected=AccountStatus.PENDING_ACTIVATION,
            now=NOW,
            audit=AUDIT,
        )
        assert self.repo.get(REALM, created.account_id) == created

    def test_set_status_other_than_active_leaves_activated_at(self) -> None:
        created = account(status=AccountStatus.ACTIVE, activated_at=NOW)
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        later = NOW + timedelta(days=1)
        assert self.repo.set_status(
            REALM, created.account_id, AccountStatus.DISABLED, expected=AccountStatus.ACTIVE, now=later, audit=AUDIT
        )
        stored = self.repo.get(REALM, created.account_id)
        assert stored == dataclasses.replace(created, status=AccountStatus.DISABLED, updated_at=later)

    def test_set_status_with_the_username_at_hand_moves_account_and_login_record(self) -> None:
        created = account(status=AccountStatus.ACTIVE)
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        assert self.repo.set_status(
            REALM,
            created.account_id,
            AccountStatus.EXPIRED,
            expected=AccountStatus.ACTIVE,
            now=NOW,
            username=created.username,
            audit=AUDIT,
        )
        login = self.repo.find_login(REALM, created.username)
        assert login is not None and login.status is AccountStatus.EXPIRED

    def test_set_status_with_another_accounts_username_changes_nothing(self) -> None:
        first, second = account(status=AccountStatus.ACTIVE), account(status=AccountStatus.ACTIVE)
        self.repo.create(first, audit=arranged(first.realm, first.account_id))
        self.repo.create(second, audit=arranged(second.realm, second.account_id))
        assert not self.repo.set_status(
            REALM,
            first.account_id,
            AccountStatus.EXPIRED,
            expected=AccountStatus.ACTIVE,
            now=NOW,
            username=second.username,
            audit=AUDIT,
        )
        assert self.repo.get(REALM, first.account_id) == first
        assert self.repo.find_login(REALM, second.username).status is AccountStatus.ACTIVE  # type: ignore[union-attr]

    def test_set_status_of_an_unknown_account_is_false_and_creates_nothing(self) -> None:
        missing = unique()
        assert not self.repo.set_status(
            REALM, missing, AccountStatus.ACTIVE, expected=AccountStatus.PENDING_ACTIVATION, now=NOW, audit=AUDIT
        )
        assert self.repo.get(REALM, missing) is None

    def test_set_password_hash_replaces_the_hash(self) -> None:
        created = account()
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        later = NOW + timedelta(minutes=1)
        self.repo.set_password_hash(REALM, created.account_id, "fake$new", later, audit=AUDIT)
        stored = self.repo.get(REALM, created.account_id)
        assert stored == dataclasses.replace(created, password_hash="fake$new", updated_at=later)

    def test_granted_roles_reach_the_account_and_its_login_record(self) -> None:
        # Given an account with an extra field
        created = account(extra={"given_name": "Ελένη"})
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        later = NOW + timedelta(minutes=1)

        # When an operator grants it a role with its country
        self.repo.grant_roles(REALM, created.account_id, ["nso"], {"nso_country": "GR"}, later, audit=AUDIT)

        # Then both the account and the login record carry it, and the other extra stays
        stored = self.repo.get(REALM, created.account_id)
        assert stored is not None and stored.roles == ("nso",)
        assert stored.extra == {"given_name": "Ελένη", "nso_country": "GR"} and stored.updated_at == later
        login = self.repo.find_login(REALM, created.username)
        assert login is not None and login.roles == ("nso",)

    def test_granting_roles_to_an_unknown_account_raises(self) -> None:
        with pytest.raises(LookupError):
            self.repo.grant_roles(REALM, unique(), ["nso"], {}, NOW, audit=AUDIT)

    def test_set_password_hash_of_an_unknown_account_raises_and_creates_nothing(self) -> None:
        missing = unique()
        with pytest.raises(Exception):
            self.repo.set_password_hash(REALM, missing, "fake$new", NOW, audit=AUDIT)
        assert self.repo.get(REALM, missing) is None

    # --- the login record --------------------------------------------------------------

    def test_find_login_gives_hash_status_and_roles_by_casefolded_username(self) -> None:
        created = account(roles=("secretariat",))
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        login = self.repo.find_login(REALM, created.username.casefold())
        assert login == LoginRecord(REALM, created.account_id, created.password_hash, created.status, ("secretariat",))
        assert self.repo.find_login(REALM, unique_email()) is None
        assert self.repo.find_login("ntua", created.username.casefold()) is None

    def test_the_login_record_follows_status_and_password_changes(self) -> None:
        created = account()
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        self.repo.set_status(
            REALM,
            created.account_id,
            AccountStatus.ACTIVE,
            expected=AccountStatus.PENDING_ACTIVATION,
            now=NOW,
            audit=AUDIT,
        )
        self.repo.set_password_hash(REALM, created.account_id, "fake$rotated", NOW, audit=AUDIT)
        login = self.repo.find_login(REALM, created.username.casefold())
        assert login is not None
        assert (login.status, login.password_hash) == (AccountStatus.ACTIVE, "fake$rotated")

    def test_a_refused_status_change_leaves_the_login_record_alone(self) -> None:
        created = account(status=AccountStatus.DISABLED)
        self.repo.create(created, audit=arranged(created.realm, created.account_id))
        assert not self.repo.set_status(
            REALM,
            created.account_id,
            AccountStatus.ACTIVE,
            expected=AccountStatus.PENDING_ACTIVATION,
            now=NOW,
            audit=AUDIT,
        )
        login = self.repo.find_login(REALM, created.username.casefold())
        assert login is not None and login.status is AccountStatus.DISABLED

    # --- concurrency --------------------------------------------------------------------

    @pytest.mark.slow
    def test_of_20_concurrent_creates_with_one_email_exactly_one_wins(self) -> None:
        email = unique_email()
        candidates = [account(email=email) for _ in range(20)]
        outcomes = race(20, lambda index: self.repo.create(candidates[index], audit=AUDIT))
        winners = [index for index, outcome in enumerate(outcomes) if outcome is None]
        losers = [outcome for outcome in outcomes if outcome is not None]
        assert len(winners) == 1
        assert all(isinstance(exc, DuplicateValue) and exc.kind == "email" for exc in losers), losers
        found = self.repo.find_by_unique(REALM, UniqueKind.EMAIL, normalise_email(email))
        assert found is not None and found.account_id == candidates[winners[0]].account_id

    @pytest.mark.slow
    def test_of_20_concurrent_creates_with_one_flow_exactly_one_wins(self) -> None:
        flow = identity_flow()
        self.flows.save_flow(flow)
        candidates = [account() for _ in range(20)]
        outcomes = race(
            20, lambda i: self.repo.create(candidates[i], consume_flow=flow.flow_hash, now=NOW, audit=AUDIT)
        )
        assert sum(outcome is None for outcome in outcomes) == 1
        assert all(isinstance(o, FlowAlreadyUsed) for o in outcomes if o is not None), outcomes
        assert sum(self.repo.get(REALM, c.account_id) is not None for c in candidates) == 1

    # --- EU Login accounts: guarded by their exact subject ------------------------------

    def test_an_eulogin_account_is_guarded_by_its_exact_subject(self) -> None:
        subject = "Nx" + unique()[:8] + "Q"
        member = account(identity=None, password_hash=None, username=subject, subject=subject)
        self.repo.create(member, audit=AUDIT)
        found = self.repo.find_by_unique(REALM, UniqueKind.SUBJECT, subject)
        assert found is not None and found.account_id == member.account_id and found.subject == subject
        assert self.repo.find_by_unique(REALM, UniqueKind.SUBJECT, subject.lower()) is None
        assert self.repo.find_by_unique(REALM, UniqueKind.USERNAME, subject.casefold()) is None
        # another person whose subject differs only in case has an account of their own
        other = account(identity=None, password_hash=None, username=subject.lower(), subject=subject.lower())
        self.repo.create(other, audit=AUDIT)
        with pytest.raises(DuplicateValue) as again:
            self.repo.create(account(identity=None, password_hash=None, username=subject, subject=subject), audit=AUDIT)
        assert again.value.kind == "subject"

    def test_roles_and_status_reach_an_eulogin_account_and_its_login_record(self) -> None:
        subject = "Rs" + unique()[:8]
        member = account(
            identity=None, password_hash=None, username=subject, subject=subject, status=AccountStatus.ACTIVE
        )
        self.repo.create(member, audit=AUDIT)
        self.repo.grant_roles(REALM, member.account_id, ("nso",), {"nso_country": "GR"}, NOW, audit=AUDIT)
        assert self.repo.set_status(
            REALM, member.account_id, AccountStatus.DISABLED, expected=AccountStatus.ACTIVE, now=NOW, audit=AUDIT
        )
        stored = self.repo.get(REALM, member.account_id)
        assert stored is not None and stored.roles == ("nso",) and stored.status is AccountStatus.DISABLED

    # --- the registry-number guard (one undergraduate account per number) ----------------

    def _undergraduate(self, number: str, **changes: Any) -> Account:
        return account(affiliation="undergraduate", registry_number=number, **changes)

    def test_an_undergraduate_account_is_linked_to_its_registry_entry_in_its_create(self) -> None:
        student = self._undergraduate(unique()[:12])
        self.repo.create(student, audit=AUDIT)
        entry = self.registry.get(REALM, student.registry_number or "")
        assert entry is not None and entry.account_id == student.account_id
        assert (entry.level, entry.status) == ("undergraduate", RegistryStatus.ENROLLED)

    def test_a_second_undergraduate_account_for_a_number_is_refused_and_writes_nothing(self) -> None:
        number = unique()[:12]
        first, second = self._undergraduate(number), self._undergraduate(number)
        self.repo.create(first, audit=AUDIT)
        with pytest.raises(DuplicateValue) as refused:
            self.repo.create(second, audit=AUDIT)
        assert refused.value.kind == "registry_number"
        assert self.repo.get(REALM, second.account_id) is None
        assert self.repo.find_by_unique(REALM, UniqueKind.USERNAME, second.username) is None
        assert self.registry.get(REALM, number).account_id == first.account_id  # type: ignore[union-attr]

    def test_an_undergraduate_account_for_a_graduated_number_is_refused(self) -> None:
        number = unique()[:12]
        self.registry.put(RegistryEntry(REALM, number, "undergraduate", RegistryStatus.GRADUATED, NOW))
        student = self._undergraduate(number)
        with pytest.raises(DuplicateValue) as refused:
            self.repo.create(student, audit=AUDIT)
        assert refused.value.kind == "registry_number"
        assert self.repo.get(REALM, student.account_id) is None
        assert self.registry.get(REALM, number).account_id is None  # type: ignore[union-attr]

    def test_an_enrolled_entry_with_no_account_takes_the_first_undergraduate(self) -> None:
        number = unique()[:12]
        self.registry.put(RegistryEntry(REALM, number, "undergraduate", RegistryStatus.ENROLLED, NOW))
        student = self._undergraduate(number)
        self.repo.create(student, audit=AUDIT)
        assert self.registry.get(REALM, number).account_id == student.account_id  # type: ignore[union-attr]

    def test_other_kinds_of_account_neither_take_nor_need_the_link(self) -> None:
        number = unique()[:12]
        first = self._undergraduate(number)
        self.repo.create(first, audit=AUDIT)
        postgraduate = account(affiliation="postgraduate", registry_number=number)
        self.repo.create(postgraduate, audit=AUDIT)
        assert self.registry.get(REALM, number).account_id == first.account_id  # type: ignore[union-attr]

    def test_create_many_refuses_the_undergraduates_the_registry_refuses(self) -> None:
        live, graduated = unique()[:12], unique()[:12]
        self.repo.create(self._undergraduate(live), audit=AUDIT)
        self.registry.put(RegistryEntry(REALM, graduated, "undergraduate", RegistryStatus.GRADUATED, NOW))
        batch = [self._undergraduate(unique()[:12], identity=None) for _ in range(30)]
        batch[3] = self._undergraduate(live, identity=None)
        batch[20] = self._undergraduate(graduated, identity=None)

        refused = self.repo.create_many(batch, [AUDIT] * len(batch))

        assert refused == {batch[3].account_id: "registry_number", batch[20].account_id: "registry_number"}
        for created in batch:
            entry = self.registry.get(REALM, created.registry_number or "")
            linked = entry is not None and entry.account_id == created.account_id
            assert linked is (created.account_id not in refused)

    @pytest.mark.slow
    def test_of_20_concurrent_undergraduates_with_one_number_exactly_one_wins(self) -> None:
        number = unique()[:12]
        candidates = [self._undergraduate(number) for _ in range(20)]
        outcomes = race(20, lambda index: self.repo.create(candidates[index], audit=AUDIT))
        winners = [index for index, outcome in enumerate(outcomes) if outcome is None]
        assert len(winners) == 1
        assert all(isinstance(o, DuplicateValue) and o.kind == "registry_number" for o in outcomes if o), outcomes
        assert self.registry.get(REALM, number).account_id == candidates[winners[0]].account_id  # type: ignore[union-attr]

    # --- bulk: create_many, holders, find_logins -----------------------------------------

    def test_create_many_creates_every_free_account_and_names_the_clash_of_the_others(self) -> None:
        # Given an account holding an e-mail, and a batch of 40 (more than one transaction)
        holder = account()
        self.repo.create(holder, audit=arranged(holder.realm, holder.account_id))
        batch = [account(identity=None, password_hash=None) for _ in range(40)]
        clash_email = dataclasses.replace(batch[5], email=holder.email)
        clash_username = dataclasses.replace(batch[30], username=holder.username)
        twin = dataclasses.replace(batch[31], account_id=unique(), email=unique_email())  # same username as 31
        batch[5], batch[30] = clash_email, clash_username
        batch.append(twin)

        # When they are created together
        refused = self.repo.create_many(batch, [AUDIT] * len(batch))

        # Then only the clashing ones are refused, with the kind another account holds
        assert refused == {
            clash_email.account_id: "email",
            clash_username.account_id: "username",
            twin.account_id: "username",
        }
        for created in batch:
            stored = self.repo.get(REALM, created.account_id)
            assert (stored == created) is (created.account_id not in refused)
        assert (
            self.repo.find_by_unique(REALM, UniqueKind.EMAIL, normalise_email(holder.email)).account_id
            == holder.account_id
        )  # type: ignore[union-attr]

    def test_create_many_of_nothing_writes_nothing(self) -> None:
        assert self.repo.create_many([], []) == {}

    def test_holders_name_the_account_of_each_held_value_and_omit_free_ones(self) -> None:
        first, second = account(), account()
        self.repo.create(first, audit=arranged(first.realm, first.account_id))
        self.repo.create(second, audit=arranged(second.realm, second.account_id))
        free = unique_email()
        wanted = [
            (UniqueKind.USERNAME, first.username),
            (UniqueKind.EMAIL, normalise_email(second.email)),
            (UniqueKind.EMAIL, free),
            (UniqueKind.USERNAME, first.username),  # asked twice
        ]
        assert self.repo.holders(REALM, wanted) == {
            (UniqueKind.USERNAME, first.username): first.account_id,
            (UniqueKind.EMAIL, normalise_email(second.email)): second.account_id,
        }
        assert self.repo.holders("ntua", wanted) == {}

    def test_find_logins_reads_many_login_records(self) -> None:
        accounts = [account(expires_on=NOW.date() + timedelta(days=n)) for n in range(1, 4)]
        for created in accounts:
            self.repo.create(created, audit=arranged(created.realm, created.account_id))
        names = [created.username for created in accounts] + ["nobody-" + unique()[:8]]
        found = self.repo.find_logins(REALM, names)
        assert set(found) == set(names[:3])
        for created in accounts:
            assert found[created.username] == self.repo.find_login(REALM, created.username)
            assert found[created.username].expires_on == created.expires_on


class TestInMemoryAccountRepository(AccountRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repositories(self) -> None:
        store = InMemoryStore()
        self.repo = InMemoryAccountRepository(store)
        self.flows = InMemoryFlowRepository(store)
        self.registry = InMemoryRegistryRepository(store)


class TestDynamoAccountRepository(AccountRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repositories(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.registry import DynamoRegistryRepository
        from chalicelib.adapters.dynamodb.repositories import DynamoAccountRepository, DynamoFlowRepository

        self.repo = DynamoAccountRepository(dynamo_models)
        self.flows = DynamoFlowRepository(dynamo_models)
        self.registry = DynamoRegistryRepository(dynamo_models)
