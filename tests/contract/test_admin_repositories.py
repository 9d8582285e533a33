"""The administration ports' contract: the in-memory fakes and DynamoDB behave the same.

Proves: an account is found by a prefix of its username, e-mail, registry number and
surname, without accents or case, and never by an AFM used as registry number; pages
cut at their limit, continue from ``after`` without repeating, and end; role listings
follow role changes, name listings follow a certification's new surname; the audit log
is read by account, actor or action, newest first, within a period, the other criteria
narrowing; tickets are queued by status, keep their replies in order, refuse a reply
once closed, and each change writes its audit entry.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.audit import AuditEntry, AuditQuery
from chalicelib.domain.helpdesk import SupportTicket, TicketReply, TicketStatus
from chalicelib.domain.identity import GsisIdentity
from chalicelib.ports import (
    AccountDirectory,
    AccountRepository,
    AuditLog,
    AuditSearch,
    FlowRepository,
    HelpdeskRepository,
)
from tests.contract.builders import NOW, account, identity_flow, unique, unique_afm, unique_hash
from tests.fakes import InMemoryAccountRepository, InMemoryAuditLog, InMemoryFlowRepository, InMemoryStore, arranged
from tests.fakes_admin import InMemoryAccountDirectory, InMemoryAuditSearch, InMemoryHelpdeskRepository


def _all(read: Any) -> list[Any]:
    """Every hit of a paged read (``read(after)`` → page), and the pages' sizes."""
    hits, after = [], None
    for _ in range(50):
        page = read(after)
        hits += page.hits
        after = page.after
        if after is None:
            return hits
    raise AssertionError("the pages never ended")


class AdminRepositoriesContract:
    accounts: AccountRepository
    directory: AccountDirectory
    flows: FlowRepository
    audit: AuditLog
    search: AuditSearch
    helpdesk: HelpdeskRepository

    # --- the directory ----------------------------------------------------------------------

    def _filed(self, tag: str, **changes: Any) -> Any:
        created = account(
            email=f"{tag}.mail@example.gr", username=f"{tag}user", registry_number=f"9{tag[-6:]}", **changes
        )
        self.accounts.create(created, audit=arranged(created.realm, created.account_id))
        return created

    def test_an_account_is_found_by_a_prefix_of_each_of_its_keys(self) -> None:
        # Given an account with a Greek surname
        tag = "k" + unique()[:10]
        greek = "".join("αβγδεζηθικλμνξοπ"[int(c, 16)] for c in tag[1:7])
        surname = "Χατζηδάκη" + greek.upper()
        person = self._filed(tag, identity=dataclasses.replace(account().identity, last_name=surname))  # type: ignore[arg-type]
        realm = person.realm
        # When each key is searched by a prefix, in other case and without accents
        by_username = self.directory.search(realm, f"{tag}us", limit=10)
        by_email = self.directory.search(realm, f"{tag}.ma", limit=10)
        by_number = self.directory.search(realm, f"9{tag[-6:-2]}", limit=50)
        by_surname = self.directory.search(realm, "χατζηδακη" + greek[:4], limit=10)
        # Then each finds it, naming the field, with the account as stored
        assert [(h.account_id, h.fields) for h in by_username.hits] == [(person.account_id, ("username",))]
        assert [(h.account_id, h.fields) for h in by_email.hits] == [(person.account_id, ("email",))]
        assert person.account_id in [h.account_id for h in by_number.hits]
        assert [h.fields for h in by_surname.hits] == [("last_name",)]
        assert by_surname.hits[0].account == person

    def test_accents_and_final_sigma_do_not_matter(self) -> None:
        tag = unique()[:8]
        person = self._filed(
            "a" + tag,
            identity=dataclasses.replace(account().identity, last_name=f"Παπαδόπουλος Ξ{tag}ς"),  # type: ignore[arg-type]
        )
        found = self.directory.search(person.realm, f"παπαδοπουλοσ ξ{tag}σ", limit=10)
        assert [hit.account_id for hit in found.hits] == [person.account_id]

    def test_an_afm_given_as_registry_number_is_not_searchable(self) -> None:
        afm = unique_afm()
        tag = "f" + unique()[:10]
        person = account(email=f"{tag}@example.gr", username=tag, afm=afm, registry_number=afm)
        self.accounts.create(person, audit=arranged(person.realm, person.account_id))
        assert self.directory.search(person.realm, afm, limit=10).hits == []
        by_start = _all(lambda after: self.directory.search(person.realm, afm[:4], limit=100, after=after))
        assert person.account_id not in {hit.account_id for hit in by_start}

    def test_pages_cut_at_their_limit_and_continue_without_repeating(self) -> None:
        # Given seven accounts whose usernames share a prefix
        tag = "p" + unique()[:9]
        people = [self._filed(f"{tag}{n}") for n in range(7)]
        # When they are read three at a time
        pages, after = [], None
        while True:
            page = self.directory.search(people[0].realm, tag, limit=3, after=after)
            pages.append([hit.key for hit in page.hits])
            after = page.after
            if after is None:
                break
        # Then 14 keys (username and e-mail each) come in order, none twice, pages of 3
        keys = [key for page in pages for key in page]
        assert len(keys) == 14 and keys == sorted(keys) and len(set(zip(keys, range(14), strict=True))) == 14
        assert all(len(page) == 3 for page in pages[:4])

    def test_role_listings_follow_role_changes(self) -> None:
        tag = "r" + unique()[:9]
        person = self._filed(tag, roles=("secretariat",))
        realm = person.realm

        def listed(role: str) -> set[str]:
            return {
                hit.account_id
                for hit in _all(lambda after: self.directory.with_role(realm, role, limit=100, after=after))
            }

        assert person.account_id in listed("secretariat")
        self.accounts.grant_roles(
            realm, person.account_id, ["helpdesk"], {}, NOW, audit=arranged(realm, person.account_id)
        )
        # The fake computes its listings from the accounts; DynamoDB must have moved the entries.
        assert person.account_id in listed("helpdesk")
        stale = [
            hit
            for hit in _all(lambda a: self.directory.with_role(realm, "secretariat", limit=100, after=a))
            if hit.account_id == person.account_id
        ]
        assert stale == []

    def test_a_certification_files_the_account_under_gsis_s_surname(self) -> None:
        tag = unique()[:8]
        person = account(
            email=f"c{tag}@example.gr",
            identity=None,
            gsis_verified=False,
            extra={"source": "legacy"},
        )
        person = dataclasses.replace(
            person,
            identity=GsisIdentity("", f"Παλιό{tag}", "Όνομα", "", "", ""),
        )
        self.accounts.create(person, audit=arranged(person.realm, person.account_id))
        flow = identity_flow()
        self.flows.save_flow(flow)
        self.accounts.certify(
            person.realm,
            person.account_id,
            GsisIdentity(unique_afm(), f"ΝΕΟ{tag}", "ΟΝΟΜΑ", "Π", "Μ", "1980"),
            consume_flow=flow.flow_hash,
            now=NOW,
            audit=arranged(person.realm, person.account_id),
        )
        assert [h.account_id for h in self.directory.search(person.realm, f"νεο{tag}", limit=5).hits] == [
            person.account_id
        ]
        assert self.directory.search(person.realm, f"παλιο{tag}", limit=5).hits == []

    # --- the audit log -------------------------------------------------------------------

    def _entries(self, realm: str, target: str, actor: str, count: int, action: str = "thing_done") -> list[AuditEntry]:
        entries = [
            AuditEntry(realm, target, action, actor, NOW + timedelta(minutes=n), "198.51.100.1", {"n": str(n)})
            for n in range(count)
        ]
        for entry in entries:
            self.audit.record(entry)
        return entries

    def _read_all(self, realm: str, query: AuditQuery, limit: int) -> list[AuditEntry]:
        found, after = [], None
        for _ in range(100):
            page = self.search.search(realm, query, limit=limit, after=after)
            found += page.entries
            after = page.after
            if after is None:
                return found
        raise AssertionError("the pages never ended")

    def test_the_log_is_read_by_account_actor_and_action_newest_first(self) -> None:
        target, actor, action = unique(), unique(), f"act_{unique()[:8]}"
        written = self._entries("ntua", target, actor, 5, action)
        for query in (AuditQuery(account=target), AuditQuery(actor=actor), AuditQuery(action=action)):
            read = self._read_all("ntua", query, limit=2)
            assert [e.details["n"] for e in read] == ["4", "3", "2", "1", "0"]
            assert read[0] == written[-1]

    def test_a_period_is_from_inclusive_to_exclusive(self) -> None:
        actor = unique()
        self._entries("ntua", unique(), actor, 5)
        query = AuditQuery(actor=actor, start=NOW + timedelta(minutes=1), end=NOW + timedelta(minutes=3))
        assert [e.details["n"] for e in self._read_all("ntua", query, limit=10)] == ["2", "1"]

    def test_other_criteria_narrow_what_the_index_reads(self) -> None:
        target, actor = unique(), unique()
        self._entries("ntua", target, actor, 3, "kept")
        self._entries("ntua", target, unique(), 2, "kept")
        self._entries("ntua", target, actor, 2, "other")
        read = self._read_all("ntua", AuditQuery(account=target, actor=actor, action="kept"), limit=2)
        assert len(read) == 3 and {e.action for e in read} == {"kept"} and {e.actor for e in read} == {actor}

    def test_a_query_names_an_index(self) -> None:
        with pytest.raises(ValueError):
            self.search.search("ntua", AuditQuery(start=NOW), limit=10)

    def test_realms_do_not_see_each_other_s_log(self) -> None:
        actor = unique()
        self._entries("ntua", unique(), actor, 2)
        assert self._read_all("eiep", AuditQuery(actor=actor), limit=10) == []

    # --- tickets ----------------------------------------------------------------------------

    def _ticket(self, **changes: Any) -> SupportTicket:
        ticket = SupportTicket(
            ticket_hash=unique_hash(),
            realm="eiep",
            topic="technical",
            email="someone@example.gr",
            description="Δεν μπορώ να συνδεθώ στο Moodle.",
            language="el",
            status=TicketStatus.OPEN,
            created_at=NOW,
            updated_at=NOW,
            sealed_id="sealed",
        )
        ticket = dataclasses.replace(ticket, **changes)
        self.helpdesk.open(ticket)
        return ticket

    def test_a_ticket_reads_back_with_its_replies_in_order(self) -> None:
        ticket = self._ticket(afm="090000045")
        actor = unique()
        for minutes in (2, 1):
            reply = TicketReply(NOW + timedelta(minutes=minutes), actor, f"reply {minutes}")
            entry = AuditEntry("eiep", f"ticket:{ticket.ticket_hash}", "ticket_replied", actor, reply.at)
            assert self.helpdesk.reply("eiep", ticket.ticket_hash, reply, TicketStatus.ANSWERED, audit=entry)
        stored = self.helpdesk.get("eiep", ticket.ticket_hash)
        assert stored is not None
        assert [r.message for r in stored.replies] == ["reply 1", "reply 2"]
        assert stored.status is TicketStatus.ANSWERED and stored.afm == "090000045"
        assert dataclasses.replace(stored, replies=(), status=TicketStatus.OPEN, updated_at=NOW) == ticket
        assert len(self._read_all("eiep", AuditQuery(actor=actor), limit=10)) == 2

    def test_the_queue_lists_by_status_oldest_first_and_follows_changes(self) -> None:
        base = NOW
        tickets = [self._ticket(created_at=base + timedelta(seconds=n), updated_at=base) for n in range(3)]
        actor = unique()

        def queued(status: TicketStatus) -> list[str]:
            found, after = [], None
            while True:
                page = self.helpdesk.queue("eiep", status, limit=2, after=after)
                found += [t.ticket_hash for t in page.tickets]
                after = page.after
                if after is None:
                    return found

        mine = {t.ticket_hash for t in tickets}
        assert [h for h in queued(TicketStatus.OPEN) if h in mine] == [t.ticket_hash for t in tickets]
        entry = AuditEntry("eiep", f"ticket:{tickets[1].ticket_hash}", "ticket_status", actor, NOW)
        assert self.helpdesk.set_status("eiep", tickets[1].ticket_hash, TicketStatus.CLOSED, now=NOW, audit=entry)
        assert [h for h in queued(TicketStatus.OPEN) if h in mine] == [tickets[0].ticket_hash, tickets[2].ticket_hash]
        assert tickets[1].ticket_hash in queued(TicketStatus.CLOSED)

    def test_a_closed_ticket_takes_no_reply_and_an_unknown_one_nothing(self) -> None:
        ticket = self._ticket()
        entry = AuditEntry("eiep", f"ticket:{ticket.ticket_hash}", "ticket_status", "x", NOW)
        self.helpdesk.set_status("eiep", ticket.ticket_hash, TicketStatus.CLOSED, now=NOW, audit=entry)
        reply = TicketReply(NOW, "x", "late")
        assert not self.helpdesk.reply("eiep", ticket.ticket_hash, reply, TicketStatus.ANSWERED, audit=entry)
        assert not self.helpdesk.reply("eiep", unique_hash(), reply, TicketStatus.ANSWERED, audit=entry)
        assert not self.helpdesk.set_status("eiep", unique_hash(), TicketStatus.OPEN, now=NOW, audit=entry)
        assert self.helpdesk.get("eiep", unique_hash()) is None
        assert self.helpdesk.get("ntua", ticket.ticket_hash) is None


class TestInMemoryAdminRepositories(AdminRepositoriesContract):
    @pytest.fixture(autouse=True)
    def _repositories(self) -> None:
        store = InMemoryStore()
        self.accounts = InMemoryAccountRepository(store)
        self.flows = InMemoryFlowRepository(store)
        self.directory = InMemoryAccountDirectory(store)
        self.audit = InMemoryAuditLog(store)
        self.search = InMemoryAuditSearch(store)
        self.helpdesk = InMemoryHelpdeskRepository(store)


class TestDynamoAdminRepositories(AdminRepositoriesContract):
    @pytest.fixture(autouse=True)
    def _repositories(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.audit import DynamoAuditLog
        from chalicelib.adapters.dynamodb.directory import DynamoAccountDirectory
        from chalicelib.adapters.dynamodb.helpdesk import DynamoHelpdeskRepository
        from chalicelib.adapters.dynamodb.repositories import DynamoAccountRepository, DynamoFlowRepository

        self.accounts = DynamoAccountRepository(dynamo_models)
        self.flows = DynamoFlowRepository(dynamo_models)
        self.directory = DynamoAccountDirectory(dynamo_models)
        self.audit = DynamoAuditLog(dynamo_models)
        self.search = self.audit
        self.helpdesk = DynamoHelpdeskRepository(dynamo_models)
