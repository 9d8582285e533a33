"""SessionRepository contract: refresh-token rotation and revocation.

Proves: a started session's family and token read back; rotation succeeds once per
token (a second rotation of the same token, or any rotation in a revoked family, is
REUSED and stores nothing; under 20 concurrent rotations exactly one wins); revoking
keeps the first revocation time; revoke_all counts and revokes only live families of
that account; where a session was opened (User-Agent, address) reads back, and a
rotation moves the family's ``last_used_at`` in its own write; a session that spends a
ticket (a second step's ``mfa_token``) is stored with the ticket spent and its attempts
settled, is not stored when the ticket is gone, and of 10 concurrent ones exactly one is;
one that also spends a TOTP step spends it in the same write, stores nothing (the ticket
left live) when the step was spent already, and of 10 second steps with their own tickets
and one code exactly one is stored; the same for a recovery code (of 20), whose use is
audited in that write; a code is spent once, the last one too, and a new set voids the old.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.attempts import Claim
from chalicelib.domain.mfa import Factor, RecoveryCodes, RecoveryCodeUse, TotpStep
from chalicelib.domain.tokens import RefreshToken, RotationOutcome, SessionFamily, SessionStart
from chalicelib.ports import (
    AccountRepository,
    AttemptLedger,
    AuditLog,
    FactorRepository,
    SessionRepository,
    TicketRepository,
)
from tests.contract.builders import NOW, REALM, account, refresh_token, session_family, unique, unique_hash
from tests.contract.test_factor_repository import entry, totp
from tests.contract.test_ticket_repository import RULE, ticket
from tests.fakes import (
    InMemoryAccountRepository,
    InMemoryAttemptLedger,
    InMemoryAuditLog,
    InMemorySessionRepository,
    InMemoryStore,
    InMemoryTicketRepository,
    arranged,
    race,
)
from tests.fakes_mfa import InMemoryFactorRepository

LATER = NOW + timedelta(minutes=20)


class SessionRepositoryContract:
    repo: SessionRepository
    tickets: TicketRepository
    attempts: AttemptLedger
    accounts: AccountRepository
    factors: FactorRepository
    audit: AuditLog

    def _started(self, account_id: str | None = None) -> tuple[Any, Any]:
        family = session_family(account_id)
        token = refresh_token(family)
        self.repo.start(family, token)
        return family, token

    def test_a_started_session_reads_back(self) -> None:
        family, token = self._started()
        assert self.repo.find_token(token.token_hash) == token
        assert self.repo.get_family(REALM, family.account_id, family.family_id) == family

    def test_where_a_session_was_opened_reads_back(self) -> None:
        # Given a session started from a browser at an address
        family = session_family(user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", address="203.0.113.9")
        family = dataclasses.replace(family, last_used_at=NOW)
        self.repo.start(family, refresh_token(family))
        # When it is read
        found = self.repo.get_family(REALM, family.account_id, family.family_id)
        # Then the device, address and last use are those written
        assert found == family
        assert self.repo.live_families(REALM, family.account_id, NOW) == [family]

    def test_a_rotation_moves_the_last_use_of_its_session(self) -> None:
        # Given a session last used when it started
        family, old = self._started()
        # When its refresh token is rotated later
        assert self.repo.rotate(old, refresh_token(family, created_at=LATER), LATER) is RotationOutcome.ROTATED
        # Then the session was last used at the rotation
        found = self.repo.get_family(REALM, family.account_id, family.family_id)
        assert found is not None and found.last_used_at == LATER

    def test_a_token_of_a_family_that_is_gone_does_not_rotate(self) -> None:
        # Given a token whose family was never stored
        orphan = refresh_token(session_family())
        # When it is rotated, Then it is refused and no family appears
        assert self.repo.rotate(orphan, refresh_token(session_family()), LATER) is RotationOutcome.REUSED
        assert self.repo.get_family(REALM, orphan.account_id, orphan.family_id) is None

    def test_unknown_tokens_and_families_are_none(self) -> None:
        assert self.repo.find_token(unique_hash()) is None
        assert self.repo.get_family(REALM, unique(), unique()) is None

    def test_rotate_marks_the_old_token_and_stores_the_new(self) -> None:
        family, old = self._started()
        new = refresh_token(family, created_at=LATER)
        assert self.repo.rotate(old, new, LATER) is RotationOutcome.ROTATED
        assert self.repo.find_token(old.token_hash) == dataclasses.replace(old, rotated_at=LATER)
        assert self.repo.find_token(new.token_hash) == new

    def test_rotating_the_same_token_again_is_reused(self) -> None:
        family, old = self._started()
        assert self.repo.rotate(old, refresh_token(family), LATER) is RotationOutcome.ROTATED
        replay = refresh_token(family)
        assert self.repo.rotate(old, replay, LATER + timedelta(seconds=1)) is RotationOutcome.REUSED
        assert self.repo.find_token(replay.token_hash) is None
        assert self.repo.find_token(old.token_hash) == dataclasses.replace(old, rotated_at=LATER)

    def test_rotating_in_a_revoked_family_is_reused(self) -> None:
        family, old = self._started()
        self.repo.revoke_family(REALM, family.account_id, family.family_id, LATER)
        successor = refresh_token(family)
        assert self.repo.rotate(old, successor, LATER) is RotationOutcome.REUSED
        assert self.repo.find_token(successor.token_hash) is None
        assert self.repo.find_token(old.token_hash) == old

    def test_rotating_an_unknown_token_is_reused(self) -> None:
        family, _ = self._started()
        ghost = refresh_token(family)
        successor = refresh_token(family)
        assert self.repo.rotate(ghost, successor, LATER) is RotationOutcome.REUSED
        assert self.repo.find_token(successor.token_hash) is None

    def test_revoke_family_keeps_the_first_revocation_time(self) -> None:
        family, _ = self._started()
        self.repo.revoke_family(REALM, family.account_id, family.family_id, LATER)
        self.repo.revoke_family(REALM, family.account_id, family.family_id, LATER + timedelta(hours=1))
        assert self.repo.get_family(REALM, family.account_id, family.family_id) == dataclasses.replace(
            family, revoked_at=LATER
        )

    def test_revoking_an_unknown_family_is_harmless_and_creates_nothing(self) -> None:
        account_id, family_id = unique(), unique()
        self.repo.revoke_family(REALM, account_id, family_id, LATER)
        assert self.repo.get_family(REALM, account_id, family_id) is None

    def test_revoke_all_counts_and_revokes_the_live_families_of_the_account(self) -> None:
        # Given two live families and one revoked family of one account, and another account's
        first, _ = self._started()
        second, _ = self._started(first.account_id)
        revoked, _ = self._started(first.account_id)
        self.repo.revoke_family(REALM, first.account_id, revoked.family_id, NOW)
        bystander, _ = self._started()
        # When all sessions of the account are revoked
        assert self.repo.revoke_all(REALM, first.account_id, LATER) == 2
        # Then the live ones carry the new time, the old revocation is kept, others untouched
        for family in (first, second):
            stored = self.repo.get_family(REALM, family.account_id, family.family_id)
            assert stored is not None and stored.revoked_at == LATER
        stored_revoked = self.repo.get_family(REALM, revoked.account_id, revoked.family_id)
        assert stored_revoked is not None and stored_revoked.revoked_at == NOW
        assert self.repo.get_family(REALM, bystander.account_id, bystander.family_id) == bystander
        assert self.repo.revoke_all(REALM, first.account_id, LATER) == 0

    def test_revoke_all_does_not_count_families_that_expired(self) -> None:
        live, _ = self._started()
        expired, _ = self._started(live.account_id)
        far_future = max(live.expires_at, expired.expires_at) + timedelta(days=1)
        assert self.repo.revoke_all(REALM, live.account_id, far_future) == 0

    def test_revoke_all_of_an_account_without_sessions_is_zero(self) -> None:
        assert self.repo.revoke_all(REALM, unique(), LATER) == 0

    @pytest.mark.slow
    def test_of_20_concurrent_rotations_of_one_token_exactly_one_wins(self) -> None:
        family, old = self._started()
        successors = [refresh_token(family) for _ in range(20)]
        outcomes = race(20, lambda i: self.repo.rotate(old, successors[i], LATER))
        assert outcomes.count(RotationOutcome.ROTATED) == 1
        assert outcomes.count(RotationOutcome.REUSED) == 19
        assert sum(self.repo.find_token(s.token_hash) is not None for s in successors) == 1

    def test_a_session_spending_a_ticket_spends_it_and_settles_its_attempts(self) -> None:
        # Given a second step's ticket, and a key that has used its one free attempt
        spent = ticket()
        self.tickets.save(spent)
        key = f"{REALM}#test#{unique()}"
        assert self.attempts.reserve(Claim(key, RULE), NOW).granted
        # When a session is started spending the ticket and settling the key
        family = session_family()
        token = refresh_token(family)
        started = self.repo.start(family, token, clear_attempts=[key], spend_ticket=spent.ticket_hash)
        assert started is SessionStart.STARTED
        # Then the session is there, the ticket gone, and the key starts afresh
        assert self.repo.find_token(token.token_hash) == token
        assert self.tickets.get(spent.ticket_hash) is None
        assert self.attempts.reserve(Claim(key, RULE), NOW).granted

    def test_a_session_whose_ticket_is_gone_is_not_stored(self) -> None:
        # Given a ticket already spent, and a key that has used its one free attempt
        spent = ticket()
        self.tickets.save(spent)
        assert self.tickets.spend(spent.ticket_hash)
        key = f"{REALM}#test#{unique()}"
        assert self.attempts.reserve(Claim(key, RULE), NOW).granted
        # When a session is started spending it
        family = session_family()
        token = refresh_token(family)
        # Then nothing is stored: no session, and the key still refuses its next attempt
        gone = self.repo.start(family, token, clear_attempts=[key], spend_ticket=spent.ticket_hash)
        assert gone is SessionStart.TICKET_GONE
        assert self.repo.find_token(token.token_hash) is None
        assert self.repo.get_family(REALM, family.account_id, family.family_id) is None
        assert not self.attempts.reserve(Claim(key, RULE), NOW).granted

    @pytest.mark.slow
    def test_of_10_concurrent_sessions_spending_one_ticket_exactly_one_is_stored(self) -> None:
        # Given one ticket, and ten second steps of one account each opening its own session
        spent = ticket()
        self.tickets.save(spent)
        account_id = unique()
        families = [session_family(account_id) for _ in range(10)]
        # When they start at once, each spending the ticket
        outcomes = race(
            10, lambda i: self.repo.start(families[i], refresh_token(families[i]), spend_ticket=spent.ticket_hash)
        )
        # Then exactly one session is stored
        assert outcomes.count(SessionStart.STARTED) == 1
        assert len(self.repo.live_families(REALM, account_id, NOW)) == 1

    def _totp_owner(self) -> tuple[Account, Factor]:
        """An account with a confirmed TOTP factor whose last accepted step is 100."""
        owner = account(status=AccountStatus.ACTIVE)
        self.accounts.create(owner, audit=arranged(owner.realm, owner.account_id))
        pending = totp(owner)
        self.factors.add_pending(pending)
        assert self.factors.confirm(pending, step=100, login_key=owner.login_key, now=NOW, audit=entry(owner, "x"))
        return owner, pending

    def _second_step(self, owner: Account) -> tuple[SessionFamily, RefreshToken, str]:
        """A session of ``owner`` to start, and a live ticket (its mfa_token's) to spend."""
        spent = ticket()
        self.tickets.save(spent)
        family = session_family(owner.account_id)
        return family, refresh_token(family), spent.ticket_hash

    def test_a_session_spending_a_totp_step_spends_it_in_the_same_write(self) -> None:
        # Given an account whose app's last accepted step is 100, past its password step
        owner, factor = self._totp_owner()
        family, token, mfa_ticket = self._second_step(owner)
        # When its session starts spending step 101 and the ticket
        step = TotpStep(owner.realm, owner.account_id, factor.factor_id, 101, LATER)
        # Then the session is stored, the ticket spent, and the factor's last step is 101
        assert self.repo.start(family, token, spend_ticket=mfa_ticket, spend_step=step) is SessionStart.STARTED
        assert self.repo.find_token(token.token_hash) == token
        assert self.tickets.get(mfa_ticket) is None
        stored = self.factors.get(owner.realm, owner.account_id, factor.factor_id)
        assert stored is not None and stored.last_step == 101

    def test_a_replayed_step_stores_nothing_and_leaves_the_ticket_live(self) -> None:
        # Given an account whose app's last accepted step is 100, past its password step
        owner, factor = self._totp_owner()
        family, token, mfa_ticket = self._second_step(owner)
        # When its session starts spending step 100 again
        step = TotpStep(owner.realm, owner.account_id, factor.factor_id, 100, LATER)
        started = self.repo.start(family, token, spend_ticket=mfa_ticket, spend_step=step)
        # Then nothing is stored and the token is still live for the next code
        assert started is SessionStart.PROOF_REFUSED
        assert self.repo.find_token(token.token_hash) is None
        assert self.repo.get_family(REALM, owner.account_id, family.family_id) is None
        assert self.tickets.get(mfa_ticket) is not None

    @pytest.mark.slow
    def test_of_10_second_steps_with_one_code_exactly_one_is_stored(self) -> None:
        # Given ten password steps of one account (ten tickets) and one code seen by all
        owner, factor = self._totp_owner()
        steps = [self._second_step(owner) for _ in range(10)]
        step = TotpStep(owner.realm, owner.account_id, factor.factor_id, 101, LATER)
        # When their sessions start at once, each spending its ticket and the code's step
        outcomes = race(
            10, lambda i: self.repo.start(steps[i][0], steps[i][1], spend_ticket=steps[i][2], spend_step=step)
        )
        # Then exactly one session is stored, and the others' tickets stay live
        assert outcomes.count(SessionStart.STARTED) == 1
        assert outcomes.count(SessionStart.PROOF_REFUSED) == 9
        assert len(self.repo.live_families(REALM, owner.account_id, NOW)) == 1
        assert sum(self.tickets.get(mfa_ticket) is not None for _, _, mfa_ticket in steps) == 9

    def _codes_owner(self) -> tuple[Account, str]:
        """An account with a set of recovery codes; one of their fingerprints."""
        owner = account(status=AccountStatus.ACTIVE)
        self.accounts.create(owner, audit=arranged(owner.realm, owner.account_id))
        code, other = unique_hash(), unique_hash()
        codes = RecoveryCodes(owner.realm, owner.account_id, frozenset({code, other}), NOW)
        self.factors.replace_recovery_codes(codes, login_key=owner.login_key, audit=entry(owner, "codes"))
        return owner, code

    def _code_use(self, owner: Account, code_hash: str) -> RecoveryCodeUse:
        return RecoveryCodeUse(owner.realm, owner.account_id, code_hash, entry(owner, "recovery_code_used"))

    def _codes_left(self, owner: Account) -> frozenset[str]:
        codes = self.factors.overview(owner.realm, owner.account_id)[1]
        return codes.hashes if codes is not None else frozenset()

    def test_a_session_spending_a_recovery_code_takes_it_out_and_audits_it_in_the_same_write(self) -> None:
        # Given an account with two recovery codes, past its password step
        owner, code = self._codes_owner()
        family, token, mfa_ticket = self._second_step(owner)
        # When its session starts spending one of them and the ticket
        started = self.repo.start(family, token, spend_ticket=mfa_ticket, spend_code=self._code_use(owner, code))
        # Then the session is stored, the ticket spent, the code gone and its use audited
        assert started is SessionStart.STARTED
        assert self.repo.find_token(token.token_hash) == token
        assert self.tickets.get(mfa_ticket) is None
        assert code not in self._codes_left(owner) and len(self._codes_left(owner)) == 1
        actions = [e.action for e in self.audit.entries(owner.realm, owner.account_id)]
        assert actions.count("recovery_code_used") == 1

    def test_a_password_steps_recovery_code_lowers_the_login_records_count_in_the_same_write(self) -> None:
        # Given an account with two recovery codes, past its password step
        owner, code = self._codes_owner()
        family, token, mfa_ticket = self._second_step(owner)
        use = dataclasses.replace(self._code_use(owner, code), login_key=owner.login_key)
        # When its session starts spending one of them, and then that code again
        assert self.repo.start(family, token, spend_ticket=mfa_ticket, spend_code=use) is SessionStart.STARTED
        again = self._second_step(owner)
        assert self.repo.start(again[0], again[1], spend_ticket=again[2], spend_code=use) is SessionStart.PROOF_REFUSED
        # Then the login record's copy counts one code left: the refused use lowered nothing
        login = self.accounts.find_login(owner.realm, owner.username.casefold())
        assert login is not None and login.factors is not None
        assert login.factors.recovery_codes == 1 == len(self._codes_left(owner))

    def test_a_spent_recovery_code_stores_nothing_and_leaves_the_ticket_live(self) -> None:
        # Given an account one of whose recovery codes opened a session already
        owner, code = self._codes_owner()
        first, first_token, first_ticket = self._second_step(owner)
        assert self.repo.start(first, first_token, spend_ticket=first_ticket, spend_code=self._code_use(owner, code))
        family, token, mfa_ticket = self._second_step(owner)
        # When another session starts spending the same code
        started = self.repo.start(family, token, spend_ticket=mfa_ticket, spend_code=self._code_use(owner, code))
        # Then nothing is stored or audited, and the token is still live for a good code
        assert started is SessionStart.PROOF_REFUSED
        assert self.repo.get_family(REALM, owner.account_id, family.family_id) is None
        assert self.tickets.get(mfa_ticket) is not None
        actions = [e.action for e in self.audit.entries(owner.realm, owner.account_id)]
        assert actions.count("recovery_code_used") == 1

    def test_a_recovery_code_is_kept_when_the_ticket_was_spent_first(self) -> None:
        # Given an account with recovery codes, and a ticket another second step spent
        owner, code = self._codes_owner()
        family, token, mfa_ticket = self._second_step(owner)
        self.tickets.take(mfa_ticket)
        # When a session starts spending that ticket and a good code
        started = self.repo.start(family, token, spend_ticket=mfa_ticket, spend_code=self._code_use(owner, code))
        # Then nothing is stored, and the code is still the account's
        assert started is SessionStart.TICKET_GONE
        assert code in self._codes_left(owner)

    def _spend(self, owner: Account, code_hash: str, action: str) -> SessionStart:
        """A second step of ``owner`` spending ``code_hash``, audited as ``action``."""
        family, token, mfa_ticket = self._second_step(owner)
        use = RecoveryCodeUse(owner.realm, owner.account_id, code_hash, entry(owner, action))
        return self.repo.start(family, token, spend_ticket=mfa_ticket, spend_code=use)

    def test_a_recovery_code_is_spent_once_and_replacing_voids_the_old_set(self) -> None:
        # Given an account with two recovery codes
        owner = account(status=AccountStatus.ACTIVE)
        self.accounts.create(owner, audit=arranged(owner.realm, owner.account_id))
        old, spent = unique_hash(), unique_hash()
        self.factors.replace_recovery_codes(
            RecoveryCodes(owner.realm, owner.account_id, frozenset({old, spent}), NOW),
            login_key=owner.login_key,
            audit=entry(owner, "codes"),
        )
        # When one is spent twice, then a new set replaces them and the other is tried
        assert self._spend(owner, spent, "used") is SessionStart.STARTED
        assert self._spend(owner, spent, "again") is SessionStart.PROOF_REFUSED
        assert self.factors.overview(owner.realm, owner.account_id)[1] == RecoveryCodes(
            owner.realm, owner.account_id, frozenset({old}), NOW
        )
        fresh = RecoveryCodes(owner.realm, owner.account_id, frozenset({unique_hash()}), LATER)
        self.factors.replace_recovery_codes(fresh, login_key=owner.login_key, audit=entry(owner, "codes"))
        # Then it was spent once, and the old set no longer counts
        assert self._spend(owner, old, "old") is SessionStart.PROOF_REFUSED
        actions = [e.action for e in self.audit.entries(owner.realm, owner.account_id)]
        assert actions.count("used") == 1 and "again" not in actions and "old" not in actions

    def test_the_last_recovery_code_can_be_spent(self) -> None:
        # Given an account with one recovery code left
        owner = account(status=AccountStatus.ACTIVE)
        self.accounts.create(owner, audit=arranged(owner.realm, owner.account_id))
        only = unique_hash()
        self.factors.replace_recovery_codes(
            RecoveryCodes(owner.realm, owner.account_id, frozenset({only}), NOW),
            login_key=owner.login_key,
            audit=entry(owner, "codes"),
        )
        # When it is spent (DynamoDB drops a set left empty), and spent again
        assert self._spend(owner, only, "used") is SessionStart.STARTED
        codes = self.factors.overview(owner.realm, owner.account_id)[1]
        assert codes is None or codes.hashes == frozenset()
        # Then the second is refused
        assert self._spend(owner, only, "again") is SessionStart.PROOF_REFUSED

    @pytest.mark.slow
    def test_of_20_second_steps_with_one_recovery_code_exactly_one_is_stored(self) -> None:
        # Given twenty password steps of one account (twenty tickets) and one recovery code
        owner, code = self._codes_owner()
        steps = [self._second_step(owner) for _ in range(20)]
        use = self._code_use(owner, code)
        # When their sessions start at once, each spending its ticket and the code
        outcomes = race(
            20, lambda i: self.repo.start(steps[i][0], steps[i][1], spend_ticket=steps[i][2], spend_code=use)
        )
        # Then exactly one session is stored, and the others' tickets stay live
        assert outcomes.count(SessionStart.STARTED) == 1
        assert outcomes.count(SessionStart.PROOF_REFUSED) == 19
        assert sum(self.tickets.get(mfa_ticket) is not None for _, _, mfa_ticket in steps) == 19

    @pytest.mark.slow
    def test_of_30_second_steps_with_one_code_the_login_records_count_is_lowered_once(self) -> None:
        # Given thirty second steps of one account, each giving the same recovery code,
        # whose use names the account's login record (its count of codes left: two)
        owner, code = self._codes_owner()
        steps = [self._second_step(owner) for _ in range(30)]
        use = dataclasses.replace(self._code_use(owner, code), login_key=owner.login_key)
        # When their sessions start at once
        outcomes = race(
            30, lambda i: self.repo.start(steps[i][0], steps[i][1], spend_ticket=steps[i][2], spend_code=use)
        )
        # Then one session opened, and the record counts one code fewer: the refused
        # twenty-nine lowered nothing
        assert outcomes.count(SessionStart.STARTED) == 1
        login = self.accounts.find_login(owner.realm, owner.username.casefold())
        assert login is not None and login.factors is not None
        assert login.factors.recovery_codes == 1 == len(self._codes_left(owner))


class TestInMemorySessionRepository(SessionRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repository(self) -> None:
        store = InMemoryStore()
        self.repo = InMemorySessionRepository(store)
        self.tickets = InMemoryTicketRepository(store)
        self.attempts = InMemoryAttemptLedger(store)
        self.accounts = InMemoryAccountRepository(store)
        self.factors = InMemoryFactorRepository(store)
        self.audit = InMemoryAuditLog(store)


class TestDynamoSessionRepository(SessionRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repository(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.attempts import DynamoAttemptLedger
        from chalicelib.adapters.dynamodb.audit import DynamoAuditLog
        from chalicelib.adapters.dynamodb.factors import DynamoFactorRepository
        from chalicelib.adapters.dynamodb.repositories import (
            DynamoAccountRepository,
            DynamoSessionRepository,
            DynamoTicketRepository,
        )

        self.repo = DynamoSessionRepository(dynamo_models)
        self.tickets = DynamoTicketRepository(dynamo_models)
        self.attempts = DynamoAttemptLedger(dynamo_models)
        self.accounts = DynamoAccountRepository(dynamo_models)
        self.factors = DynamoFactorRepository(dynamo_models)
        self.audit = DynamoAuditLog(dynamo_models)
