"""EsepRepository contract: the in-memory fake and DynamoDB behave the same.

Proves: a registration creates account and member and uses the flow in one
all-or-nothing write (a taken sub or e-mail, a used flow or a vanished legacy record
writes nothing); member, organisation and project writes are versioned (a stale write is
refused and changes nothing); batched reads leave unknown ids out; searches ignore
accents and case, keep to the country when one is given, and show only searchable
people and organisations that are not rejected; the NSO's pending list follows every
change of state; legacy records are stored, read and declined.

The DynamoDB table is shared by every test of the process: records carry a unique tag in
their names, or a country no other test uses, so a search or pending list shows only the
test's own records.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.accounts import UniqueKind, normalise_email
from chalicelib.domain.esep import (
    MemberStatus,
    OrganisationStatus,
    ProjectStatus,
    search_key,
)
from chalicelib.errors import DuplicateValue, FlowAlreadyUsed, StaleRecord
from chalicelib.ports import AccountRepository, EsepRepository, FlowRepository
from tests.contract.builders import (
    AUDIT,
    ESEP,
    NOW,
    esep_account,
    esep_member,
    identity_flow,
    legacy_member,
    organisation,
    project,
    unique,
    unique_country,
    unique_email,
    unique_tag,
)
from tests.fakes import InMemoryAccountRepository, InMemoryFlowRepository, InMemoryStore, race
from tests.fakes_esep import FakeEsepRepository


class EsepRepositoryContract:
    repo: EsepRepository
    accounts: AccountRepository
    flows: FlowRepository

    def fresh_flow(self) -> str:
        flow = identity_flow(realm=ESEP)
        self.flows.save_flow(flow)
        return flow.flow_hash

    def registered(self, **changes: Any) -> Any:
        """A member registered through :meth:`register` (version 1)."""
        account = esep_account()
        member = esep_member(account, **changes)
        self.repo.register(account, member, consume_flow=self.fresh_flow(), now=NOW, audit=AUDIT)
        return member

    # --- register -----------------------------------------------------------------------

    def test_register_creates_the_account_and_the_member_and_uses_the_flow(self) -> None:
        # Given a fresh EU Login flow
        flow_hash = self.fresh_flow()
        account = esep_account()
        member = esep_member(account, bio="Μαθηματικός", contacts=(unique(),), available_for_projects=True)
        used_at = NOW + timedelta(minutes=2)

        # When the person registers
        self.repo.register(account, member, consume_flow=flow_hash, now=used_at, audit=AUDIT)

        # Then account and member are stored, the member at version 1, and the flow is used
        assert member.version == 1
        assert self.accounts.get(ESEP, account.account_id) == account
        assert self.accounts.find_by_unique(ESEP, UniqueKind.USERNAME, account.username) == account
        assert self.repo.get_member(account.account_id) == member
        flow = self.flows.get_flow(flow_hash)
        assert flow is not None and flow.used_at == used_at

    def test_register_with_a_taken_sub_raises_duplicate_value_and_writes_nothing(self) -> None:
        # Given a registered member
        first = self.registered()
        # When someone else registers with the same EU Login sub (username)
        account = esep_account(username=first.subject)
        member = esep_member(account)
        flow_hash = self.fresh_flow()
        with pytest.raises(DuplicateValue) as raised:
            self.repo.register(account, member, consume_flow=flow_hash, now=NOW, audit=AUDIT)
        # Then nothing of the second registration was written
        assert raised.value.kind in {"username", "subject"}
        self.assert_not_registered(account.account_id, member, flow_hash, email=account.email)

    def test_register_with_a_taken_email_raises_duplicate_value_and_writes_nothing(self) -> None:
        # Given a registered member
        first = self.registered()
        # When another sub registers with the same e-mail
        account = esep_account(email=first.email.upper())
        member = esep_member(account)
        flow_hash = self.fresh_flow()
        with pytest.raises(DuplicateValue) as raised:
            self.repo.register(account, member, consume_flow=flow_hash, now=NOW, audit=AUDIT)
        # Then nothing of it was written
        assert raised.value.kind == "email"
        self.assert_not_registered(account.account_id, member, flow_hash)

    def test_register_with_a_used_flow_raises_flow_already_used_and_writes_nothing(self) -> None:
        # Given a flow that registered someone already
        flow_hash = self.fresh_flow()
        self.repo.register(first := esep_account(), esep_member(first), consume_flow=flow_hash, now=NOW, audit=AUDIT)
        # When it is submitted again for another account
        account = esep_account()
        second = esep_member(account)
        with pytest.raises(FlowAlreadyUsed):
            self.repo.register(account, second, consume_flow=flow_hash, now=NOW, audit=AUDIT)
        # Then no account and no member were written
        assert second.version == 0
        assert self.accounts.get(ESEP, account.account_id) is None
        assert self.repo.get_member(account.account_id) is None
        assert self.accounts.find_by_unique(ESEP, UniqueKind.EMAIL, normalise_email(account.email)) is None

    def test_register_with_a_missing_flow_raises_flow_already_used(self) -> None:
        account = esep_account()
        with pytest.raises(FlowAlreadyUsed):
            self.repo.register(
                account, esep_member(account), consume_flow=identity_flow().flow_hash, now=NOW, audit=AUDIT
            )
        assert self.repo.get_member(account.account_id) is None

    def test_register_with_migrate_legacy_removes_the_legacy_record(self) -> None:
        # Given a legacy record with the person's e-mail
        account = esep_account()
        self.repo.put_legacy(legacy_member(email=normalise_email(account.email)))
        # When the person registers and takes it over
        member = esep_member(account)
        self.repo.register(
            account,
            member,
            consume_flow=self.fresh_flow(),
            now=NOW,
            audit=AUDIT,
            migrate_legacy=normalise_email(account.email),
        )
        # Then the member exists and the legacy record is gone
        assert self.repo.get_member(account.account_id) == member
        assert self.repo.get_legacy(normalise_email(account.email)) is None

    def test_register_migrating_a_vanished_legacy_record_raises_stale_record_and_writes_nothing(self) -> None:
        # Given no legacy record for the e-mail (another tab migrated it already)
        account = esep_account()
        member = esep_member(account)
        flow_hash = self.fresh_flow()
        # When the person registers asking to migrate it
        with pytest.raises(StaleRecord):
            self.repo.register(
                account,
                member,
                consume_flow=flow_hash,
                now=NOW,
                audit=AUDIT,
                migrate_legacy=normalise_email(account.email),
            )
        # Then nothing was written and the flow may still be used
        self.assert_not_registered(account.account_id, member, flow_hash, email=account.email)

    def test_a_used_flow_is_reported_before_a_vanished_legacy_record(self) -> None:
        # Given a registration that migrated a legacy record (a double click follows)
        account = esep_account()
        email = normalise_email(account.email)
        self.repo.put_legacy(legacy_member(email=email))
        flow_hash = self.fresh_flow()
        self.repo.register(
            account, esep_member(account), consume_flow=flow_hash, now=NOW, audit=AUDIT, migrate_legacy=email
        )
        # When the same flow is submitted again
        again = esep_account(email=account.email, username=account.username)
        with pytest.raises(FlowAlreadyUsed):
            self.repo.register(
                again, esep_member(again), consume_flow=flow_hash, now=NOW, audit=AUDIT, migrate_legacy=email
            )

    def assert_not_registered(self, account_id: str, member: Any, flow_hash: str, *, email: str | None = None) -> None:
        assert member.version == 0
        assert self.accounts.get(ESEP, account_id) is None
        assert self.repo.get_member(account_id) is None
        if email is not None:
            assert self.accounts.find_by_unique(ESEP, UniqueKind.EMAIL, normalise_email(email)) is None
        flow = self.flows.get_flow(flow_hash)
        assert flow is not None and flow.used_at is None

    # --- versioned writes ---------------------------------------------------------------

    def test_save_member_stores_the_next_version_and_advances_the_object(self) -> None:
        # Given a registered member (version 1)
        member = self.registered()
        # When it is changed and saved
        member.bio = "Φυσικός"
        member.subjects = ("physics", "chemistry")
        self.repo.save_member(member)
        # Then the stored record is version 2, as is the object
        assert member.version == 2
        assert self.repo.get_member(member.account_id) == member

    def test_a_stale_member_write_is_refused_and_changes_nothing(self) -> None:
        # Given two copies of one member read at version 1
        member = self.registered()
        first, second = self.repo.get_member(member.account_id), self.repo.get_member(member.account_id)
        assert first is not None and second is not None
        # When the first is saved, then the second
        first.bio = "first"
        self.repo.save_member(first)
        second.bio = "second"
        with pytest.raises(StaleRecord):
            self.repo.save_member(second)
        # Then the first write stands and the refused object keeps its version
        assert second.version == 1
        assert self.repo.get_member(member.account_id) == first

    def test_saving_an_unknown_member_is_stale_and_creates_nothing(self) -> None:
        member = esep_member()
        with pytest.raises(StaleRecord):
            self.repo.save_member(member)
        assert self.repo.get_member(member.account_id) is None

    def test_a_read_member_is_a_copy(self) -> None:
        member = self.registered()
        read = self.repo.get_member(member.account_id)
        assert read is not None
        read.bio = "changed locally"
        assert self.repo.get_member(member.account_id) == member

    def test_organisations_are_created_once_and_saved_by_version(self) -> None:
        # Given a new organisation
        created = organisation(status=OrganisationStatus.PENDING, etwinning=False, created_by=unique())
        self.repo.create_organisation(created)
        assert created.version == 1
        assert self.repo.get_organisation(created.organisation_id) == created
        # When another is created with its id, Then it is refused
        with pytest.raises(StaleRecord):
            self.repo.create_organisation(organisation(organisation_id=created.organisation_id, name="Άλλο"))
        # When a stale copy is saved after a fresh one
        stale = self.repo.get_organisation(created.organisation_id)
        created.status = OrganisationStatus.VALIDATED
        self.repo.save_organisation(created)
        assert stale is not None
        stale.reason = "too late"
        with pytest.raises(StaleRecord):
            self.repo.save_organisation(stale)
        # Then the fresh one is stored at version 2
        assert self.repo.get_organisation(created.organisation_id) == created
        assert created.version == 2

    def test_projects_are_created_once_and_saved_by_version(self) -> None:
        # Given a new project
        created = project(image_key="projects/x.png", vocational_subjects=("tourism",))
        self.repo.create_project(created)
        assert self.repo.get_project(created.project_id) == created
        assert created.version == 1
        # When another is created with its id, Then it is refused
        with pytest.raises(StaleRecord):
            self.repo.create_project(project(project_id=created.project_id))
        # When a stale copy is saved after a fresh one
        stale = self.repo.get_project(created.project_id)
        created.status = ProjectStatus.SUBMITTED
        created.members = (created.owner_id,)
        created.pupils = (unique(),)
        self.repo.save_project(created)
        assert stale is not None
        stale.title = "too late"
        with pytest.raises(StaleRecord):
            self.repo.save_project(stale)
        # Then the fresh one is stored at version 2
        assert self.repo.get_project(created.project_id) == created
        assert created.version == 2

    def test_a_project_is_filed_under_its_owner_and_partner_and_members_who_join(self) -> None:
        # Given a new project, and an older one of the same owner
        older = project(created_at=NOW - timedelta(days=1))
        newer = project(owner_id=older.owner_id)
        self.repo.create_project(older)
        self.repo.create_project(newer)

        # Then the owner finds both, newest first, and each partner finds theirs
        assert [p.project_id for p in self.repo.projects_of(older.owner_id)] == [newer.project_id, older.project_id]
        assert [p.project_id for p in self.repo.projects_of(newer.partner_id)] == [newer.project_id]
        assert self.repo.projects_of(unique()) == []

        # When a teacher joins the newer project (the save that adds them files it under them)
        colleague = unique()
        newer.members = (newer.owner_id, colleague)
        self.repo.save_project(newer, joined=(colleague,))
        newer.title = "Renamed"
        self.repo.save_project(newer)

        # Then the colleague finds it, as it is now
        found = self.repo.projects_of(colleague)
        assert [(p.project_id, p.title) for p in found] == [(newer.project_id, "Renamed")]

    def test_a_stale_save_files_nobody(self) -> None:
        # Given a project and a stale copy of it
        created = project()
        self.repo.create_project(created)
        stale = self.repo.get_project(created.project_id)
        self.repo.save_project(created)
        assert stale is not None

        # When the stale copy is saved with a new member
        newcomer = unique()
        with pytest.raises(StaleRecord):
            self.repo.save_project(stale, joined=(newcomer,))

        # Then the newcomer has no project
        assert self.repo.projects_of(newcomer) == []

    def test_unknown_records_read_as_none(self) -> None:
        assert self.repo.get_member(unique()) is None
        assert self.repo.get_organisation(unique()) is None
        assert self.repo.get_project(unique()) is None

    @pytest.mark.slow
    def test_of_10_concurrent_saves_of_one_version_exactly_one_wins(self) -> None:
        member = self.registered()
        copies = [dataclasses.replace(member, bio=f"copy {n}") for n in range(10)]
        outcomes = race(10, lambda index: self.repo.save_member(copies[index]))
        winners = [index for index, outcome in enumerate(outcomes) if outcome is None]
        assert len(winners) == 1
        assert all(isinstance(o, StaleRecord) for o in outcomes if o is not None), outcomes
        assert self.repo.get_member(member.account_id) == copies[winners[0]]

    # --- batched reads ------------------------------------------------------------------

    def test_get_members_reads_many_and_leaves_unknown_ids_out(self) -> None:
        first, second = self.registered(), self.registered()
        missing = unique()
        found = self.repo.get_members([first.account_id, missing, second.account_id, first.account_id])
        assert found == {first.account_id: first, second.account_id: second}
        assert self.repo.get_members([]) == {}

    def test_get_organisations_reads_many_and_leaves_unknown_ids_out(self) -> None:
        first, second = organisation(), organisation(status=OrganisationStatus.REJECTED, reason="closed")
        self.repo.create_organisation(first)
        self.repo.create_organisation(second)
        found = self.repo.get_organisations([unique(), second.organisation_id, first.organisation_id])
        assert found == {first.organisation_id: first, second.organisation_id: second}
        assert self.repo.get_organisations([]) == {}

    # --- searching organisations --------------------------------------------------------

    def test_organisations_are_found_without_accents_or_case(self) -> None:
        # Given «Γυμνάσιο Άνδρου» (tagged so that only this one matches)
        tag = unique_tag()
        school = organisation(name=f"Γυμνάσιο Άνδρου {tag}")
        self.repo.create_organisation(school)
        # Then lower-case, unaccented and upper-case queries find it
        for query in (f"γυμνασιο ανδρου {tag}", f"ΑΝΔΡΟΥ {tag.upper()}", f"Άνδρου {tag}"):
            found = self.repo.search_organisations(country="GR", text=search_key(query), limit=10)
            assert found == [school], query
        # And the city is searched too
        found = self.repo.search_organisations(country=None, text=search_key(f"{tag} ανδρος"), limit=10)
        assert found == [school]

    def test_an_organisation_search_keeps_to_the_country_and_without_one_reads_all(self) -> None:
        # Given schools with one tag in two countries
        tag = unique_tag()
        greek = organisation(name=f"Β Γυμνάσιο {tag}", country="GR")
        cypriot = organisation(name=f"Α Γυμνάσιο {tag}", city="Λευκωσία", country="CY")
        self.repo.create_organisation(greek)
        self.repo.create_organisation(cypriot)
        # Then a search in Greece finds the Greek one, without a country both, by name
        assert self.repo.search_organisations(country="GR", text=tag, limit=10) == [greek]
        assert self.repo.search_organisations(country="CY", text=tag, limit=10) == [cypriot]
        assert self.repo.search_organisations(country=None, text=tag, limit=10) == [cypriot, greek]

    def test_an_organisation_search_gives_at_most_limit_by_name(self) -> None:
        tag = unique_tag()
        country = unique_country()
        names = [f"Γ σχολείο {tag}", f"Α σχολείο {tag}", f"Β σχολείο {tag}", f"Α σχολείο {tag} Άνδρου"]
        schools = [organisation(name=name, country=country) for name in names]
        for school in schools:
            self.repo.create_organisation(school)
        found = self.repo.search_organisations(country=country, text=tag, limit=3)
        assert found == [schools[1], schools[3], schools[2]]
        assert self.repo.search_organisations(country=None, text=tag, limit=2) == [schools[1], schools[3]]

    def test_rejected_organisations_are_not_found(self) -> None:
        # Given a pending school that the search finds
        tag = unique_tag()
        school = organisation(name=f"Λύκειο {tag}", status=OrganisationStatus.PENDING, etwinning=False)
        self.repo.create_organisation(school)
        assert self.repo.search_organisations(country="GR", text=tag, limit=10) == [school]
        # When the NSO rejects it
        school.status, school.reason = OrganisationStatus.REJECTED, "unknown school"
        self.repo.save_organisation(school)
        # Then neither search finds it, and a rejected new one is not found either
        self.repo.create_organisation(organisation(name=f"Άλλο {tag}", status=OrganisationStatus.REJECTED))
        assert self.repo.search_organisations(country="GR", text=tag, limit=10) == []
        assert self.repo.search_organisations(country=None, text=tag, limit=10) == []

    def test_a_renamed_organisation_is_found_by_its_new_name_only(self) -> None:
        old_tag, new_tag = unique_tag(), unique_tag()
        school = organisation(name=f"Σχολείο {old_tag}")
        self.repo.create_organisation(school)
        school.name = f"Σχολείο {new_tag}"
        self.repo.save_organisation(school)
        assert self.repo.search_organisations(country="GR", text=old_tag, limit=10) == []
        assert self.repo.search_organisations(country="GR", text=new_tag, limit=10) == [school]

    # --- searching people ---------------------------------------------------------------

    def test_people_search_shows_only_searchable_members(self) -> None:
        # Given two teachers with one name, one of them hidden from search
        tag = unique_tag()
        shown = self.registered(family_name=f"Παπαδοπούλου {tag}")
        hidden = self.registered(family_name=f"Παπαδοπούλου {tag}", searchable=False)
        # Then only the searchable one is found, with or without a country
        text = search_key(f"ΠΑΠΑΔΟΠΟΥΛΟΥ {tag}")
        assert self.repo.search_members(country="GR", text=text, subject=None, limit=10) == [shown]
        assert self.repo.search_members(country=None, text=text, subject=None, limit=10) == [shown]
        # When the hidden one becomes searchable and the other hides
        hidden.searchable, shown.searchable = True, False
        self.repo.save_member(hidden)
        self.repo.save_member(shown)
        # Then the search follows
        assert self.repo.search_members(country="GR", text=text, subject=None, limit=10) == [hidden]

    def test_people_search_filters_by_subject_and_country(self) -> None:
        # Given teachers of one tag: maths in Greece, physics in Greece, maths in Cyprus
        tag = unique_tag()
        maths_gr = self.registered(given_name="Άννα", family_name=tag, subjects=("mathematics", "physics"))
        physics_gr = self.registered(given_name="Βασίλης", family_name=tag, subjects=("physics",))
        maths_cy = self.registered(given_name="Γιώργος", family_name=tag, country="CY", subjects=("mathematics",))
        # Then each filter narrows the answer, in name order
        search = self.repo.search_members
        assert search(country=None, text=tag, subject=None, limit=10) == [maths_gr, physics_gr, maths_cy]
        assert search(country=None, text=tag, subject="mathematics", limit=10) == [maths_gr, maths_cy]
        assert search(country="GR", text=tag, subject="mathematics", limit=10) == [maths_gr]
        assert search(country="GR", text=tag, subject="physics", limit=10) == [maths_gr, physics_gr]
        assert search(country="CY", text=tag, subject="physics", limit=10) == []
        assert search(country=None, text=search_key(f"αννα {tag}"), subject=None, limit=10) == [maths_gr]
        assert search(country=None, text=tag, subject=None, limit=1) == [maths_gr]

    # --- the NSO's pending list ---------------------------------------------------------

    def test_pending_lists_registered_members_oldest_first(self) -> None:
        # Given two registered members and an active one in a country
        country = unique_country()
        newer = self.registered(country=country, created_at=NOW + timedelta(hours=1))
        older = self.registered(country=country, created_at=NOW)
        self.registered(country=country, status=MemberStatus.ACTIVE)
        self.registered(status=MemberStatus.REGISTERED)  # another country
        # Then the NSO sees the registered ones, oldest first
        members, organisations, projects = self.repo.pending(country)
        assert members == [older, newer]
        assert (organisations, projects) == ([], [])

    def test_pending_lists_organisations_that_await_the_nso(self) -> None:
        # Given a new school, a validated one asking for eTwinning, and ones that wait for nothing
        country = unique_country()
        new = organisation(country=country, status=OrganisationStatus.PENDING, etwinning=False)
        asking = organisation(
            country=country, etwinning=False, etwinning_requested=True, created_at=NOW - timedelta(days=1)
        )
        settled = organisation(country=country)
        refused = organisation(
            country=country, etwinning=False, etwinning_requested=True, status=OrganisationStatus.REJECTED
        )
        for record in (new, asking, settled, refused):
            self.repo.create_organisation(record)
        # Then the new one and the request are pending, oldest first
        assert self.repo.pending(country) == ([], [asking, new], [])

    def test_pending_lists_accepted_projects(self) -> None:
        country = unique_country()
        accepted = project(country=country, status=ProjectStatus.ACCEPTED)
        for record in (accepted, project(country=country), project(country=country, status=ProjectStatus.ACTIVE)):
            self.repo.create_project(record)
        assert self.repo.pending(country) == ([], [], [accepted])

    def test_a_member_leaves_the_pending_list_once_the_nso_decides(self) -> None:
        # Given a registered member in the pending list
        country = unique_country()
        member = self.registered(country=country)
        assert self.repo.pending(country)[0] == [member]
        # When the NSO activates them
        member.status = MemberStatus.ACTIVE
        self.repo.save_member(member)
        # Then the list is empty
        assert self.repo.pending(country)[0] == []

    def test_a_member_who_moves_country_moves_pending_list(self) -> None:
        first, second = unique_country(), unique_country()
        member = self.registered(country=first)
        member.country = second
        self.repo.save_member(member)
        assert self.repo.pending(first)[0] == []
        assert self.repo.pending(second)[0] == [member]

    def test_an_organisation_enters_and_leaves_the_pending_list_with_its_state(self) -> None:
        # Given a new school: pending
        country = unique_country()
        school = organisation(country=country, status=OrganisationStatus.PENDING, etwinning=False)
        self.repo.create_organisation(school)
        assert self.repo.pending(country)[1] == [school]
        # When it is validated, Then it leaves
        school.status = OrganisationStatus.VALIDATED
        self.repo.save_organisation(school)
        assert self.repo.pending(country)[1] == []
        # When it asks for eTwinning validation, Then it is back
        school.etwinning_requested = True
        self.repo.save_organisation(school)
        assert self.repo.pending(country)[1] == [school]
        # When the NSO grants it, Then it leaves again
        school.etwinning, school.etwinning_requested = True, False
        self.repo.save_organisation(school)
        assert self.repo.pending(country)[1] == []

    def test_a_project_waits_for_approval_only_while_accepted(self) -> None:
        country = unique_country()
        created = project(country=country, status=ProjectStatus.SUBMITTED)
        self.repo.create_project(created)
        assert self.repo.pending(country)[2] == []
        created.status = ProjectStatus.ACCEPTED
        self.repo.save_project(created)
        assert self.repo.pending(country)[2] == [created]
        created.status = ProjectStatus.ACTIVE
        self.repo.save_project(created)
        assert self.repo.pending(country)[2] == []

    def test_a_stale_write_leaves_the_pending_list_alone(self) -> None:
        country = unique_country()
        member = self.registered(country=country)
        stale = dataclasses.replace(member, version=0, status=MemberStatus.ACTIVE)
        with pytest.raises(StaleRecord):
            self.repo.save_member(stale)
        assert self.repo.pending(country)[0] == [member]

    def test_a_country_with_nothing_pending_has_empty_lists(self) -> None:
        assert self.repo.pending(unique_country()) == ([], [], [])

    # --- legacy records -----------------------------------------------------------------

    def test_a_legacy_record_reads_back_field_for_field(self) -> None:
        legacy = legacy_member()
        self.repo.put_legacy(legacy)
        assert self.repo.get_legacy(legacy.email) == legacy
        assert self.repo.get_legacy(unique_email()) is None

    def test_declining_a_legacy_record_notes_who_declined(self) -> None:
        legacy = legacy_member()
        self.repo.put_legacy(legacy)
        self.repo.decline_legacy(legacy.email, "eu-sub-1")
        assert self.repo.get_legacy(legacy.email) == dataclasses.replace(legacy, declined_by="eu-sub-1")

    def test_declining_a_vanished_legacy_record_creates_nothing(self) -> None:
        email = unique_email()
        self.repo.decline_legacy(email, "eu-sub-1")
        assert self.repo.get_legacy(email) is None


class TestFakeEsepRepository(EsepRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repositories(self) -> None:
        store = InMemoryStore()
        accounts, flows = InMemoryAccountRepository(store), InMemoryFlowRepository(store)
        self.accounts, self.flows = accounts, flows
        self.repo = FakeEsepRepository(accounts, flows)

    def test_the_account_and_flow_fakes_must_share_a_store(self) -> None:
        with pytest.raises(ValueError):
            FakeEsepRepository(InMemoryAccountRepository(), InMemoryFlowRepository())


class TestDynamoEsepRepository(EsepRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repositories(self, dynamo_models: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        from pynamodb.connection import Connection, TableConnection

        from chalicelib.adapters.dynamodb.repositories import (
            DynamoAccountRepository,
            DynamoEsepRepository,
            DynamoFlowRepository,
        )

        def no_scan(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the ESEP repository must never scan the table")

        # Every case above doubles as proof that searches and the pending list only query
        monkeypatch.setattr(Connection, "scan", no_scan)
        monkeypatch.setattr(TableConnection, "scan", no_scan)
        self.models = dynamo_models
        self.accounts = DynamoAccountRepository(dynamo_models)
        self.flows = DynamoFlowRepository(dynamo_models)
        self.repo = DynamoEsepRepository(dynamo_models)

    def pending_markers(self, pk: str) -> list[Any]:
        return list(self.models.EsepPendingItem.query(pk, self.models.Item.sk == "PENDING", consistent_read=True))

    def test_the_pending_marker_is_deleted_with_the_change_not_only_hidden(self) -> None:
        # Given a registered member and a pending school, each with its marker
        member = self.registered(country=unique_country())
        school = organisation(status=OrganisationStatus.PENDING, etwinning=False)
        self.repo.create_organisation(school)
        member_pk, school_pk = f"ACCOUNT#esep#{member.account_id}", f"ORG#{school.organisation_id}"
        assert len(self.pending_markers(member_pk)) == len(self.pending_markers(school_pk)) == 1
        # When the NSO decides on both
        member.status, school.status = MemberStatus.ACTIVE, OrganisationStatus.VALIDATED
        self.repo.save_member(member)
        self.repo.save_organisation(school)
        # Then the markers are gone from the table, not merely filtered out on reading
        assert self.pending_markers(member_pk) == self.pending_markers(school_pk) == []
