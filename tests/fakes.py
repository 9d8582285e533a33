"""In-memory implementations of the ports, for fast unit tests of the flows.

The repositories follow the port docstrings *and* what the DynamoDB adapters observably
do (the contract tests in ``tests/contract`` run the same cases against both): guards
are checked in the same order, single use is decided under one lock, and values go in
and come out as copies so a test cannot change stored state by mutating a result.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import itertools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

from chalicelib.adapters.fernet_sealer import FernetSealer, derive_key
from chalicelib.domain.accounts import REGISTRY_LINK, Account, AccountStatus, LoginRecord, UniqueKind, normalise_email
from chalicelib.domain.attempts import Backoff, Claim, RateWindow, Reservation, seconds_until
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.esep import EuLoginIdentity
from chalicelib.domain.flows import IdentityFlow, Intent, OAuthState
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.jobs import Job, JobStatus, Progress, RowOutcome
from chalicelib.domain.mail import MailMessage
from chalicelib.domain.mfa import Factor, RecoveryCodes, RecoveryCodeUse, TotpStep, factor_copy
from chalicelib.domain.registry import RegistryEntry, RegistryStatus
from chalicelib.domain.tasks import Task
from chalicelib.domain.tickets import Ticket
from chalicelib.domain.tokens import Challenge, Purpose, RefreshToken, RotationOutcome, SessionFamily, SessionStart
from chalicelib.errors import (
    DuplicateValue,
    FileTooLarge,
    FlowAlreadyUsed,
    IdentityProviderError,
    MailDeliveryError,
    TaskQueueError,
)
from chalicelib.flows.activation import Activation
from chalicelib.flows.challenges import Challenges
from chalicelib.flows.gsis_signin import GsisSignIn
from chalicelib.flows.links import Links
from chalicelib.flows.registration import GsisRegistration, Registered, RegistrationRequest
from chalicelib.flows.sessions import Sessions
from chalicelib.flows.tasks import TaskRunner
from chalicelib.flows.wiring import Flows, Ports, assemble
from chalicelib.ports import TokenSigner
from chalicelib.realms import RealmConfig, get_realm

PUBLIC_URL = "http://127.0.0.1:8000"
T = TypeVar("T")


# --- clock, secrets, hasher -------------------------------------------------------------


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)``; returns the new time."""
        self._now += timedelta(**delta)
        return self._now


class SequenceSecrets:
    """Deterministic, distinct and URL-safe values (tokens are 43 characters, like 32 random bytes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens = itertools.count(1)
        self._codes = itertools.count(100001)
        self._ids = itertools.count(1)

    def token(self) -> str:
        with self._lock:
            return f"token-{next(self._tokens):04d}-".ljust(43, "x")

    def code(self) -> str:
        with self._lock:
            return str(next(self._codes))

    def identifier(self) -> str:
        with self._lock:
            return f"id{next(self._ids):04d}"


class FastHasher:
    """A cheap but honest hasher: only the right password verifies."""

    PREFIX = "fake$"

    def __init__(self, *, rehash: bool = False) -> None:
        self.rehash = rehash
        self.wasted = 0
        self.verifications = 0

    def hash(self, password: str) -> str:
        return self.PREFIX + hashlib.sha256(password.encode("utf-8")).hexdigest()

    def verify(self, stored_hash: str, password: str) -> bool:
        self.verifications += 1
        return hmac.compare_digest(stored_hash.encode("utf-8"), self.hash(password).encode("utf-8"))

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.rehash

    def waste_time(self, password: str) -> None:
        self.wasted += 1


@functools.cache
def real_signer() -> TokenSigner:
    """The real RS256 signer with one key per test process (RSA generation is slow)."""
    from chalicelib.adapters.jwt_signer import JwtSigner, generate_private_key_pem

    return JwtSigner(generate_private_key_pem())


# --- repositories -----------------------------------------------------------------------


class InMemoryStore:
    """One "table" shared by the repositories, as the DynamoDB ones share the main table."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[tuple[str, str], Account] = {}
        self.guards: dict[tuple[str, str, str], str] = {}
        self.states: dict[str, OAuthState] = {}
        self.flows: dict[str, IdentityFlow] = {}
        self.challenges: dict[tuple[str, str, Purpose], Challenge] = {}
        self.challenge_lookups: dict[str, tuple[str, str, Purpose]] = {}
        self.families: dict[tuple[str, str, str], SessionFamily] = {}
        self.tokens: dict[str, RefreshToken] = {}
        self.tickets: dict[str, Ticket] = {}
        self.warnings: dict[tuple[str, str], set[str]] = {}
        self.audit: list[AuditEntry] = []
        self.cursors: dict[str, date] = {}
        self.registry: dict[tuple[str, str], RegistryEntry] = {}
        self.attempts: dict[str, dict[str, float]] = {}
        self.factors: dict[tuple[str, str, str], Factor] = {}
        self.recovery: dict[tuple[str, str], RecoveryCodes] = {}
        self.factor_copies: set[tuple[str, str]] = set()
        """Accounts whose login record has its copy of the factors: as in DynamoDB, a
        factor change writes it (a record from before the copy, or of an account that never
        had a factor, has none)."""

    def spend_totp_step(self, step: TotpStep) -> bool:
        """Spend ``step`` on its factor (caller holds the lock): only a later step than
        the last, on a factor still there and confirmed — as DynamoDB's condition."""
        key = (step.realm, step.account_id, step.factor_id)
        stored = self.factors.get(key)
        if stored is None or not stored.confirmed or stored.last_step >= step.step:
            return False
        self.factors[key] = dataclasses.replace(stored, last_step=step.step, last_used_at=step.at)
        return True

    def spend_recovery_code(self, use: RecoveryCodeUse) -> bool:
        """Take ``use``'s code out of its account's set and audit it (caller holds the
        lock): only if it is in the set — as DynamoDB's condition."""
        key = (use.realm, use.account_id)
        codes = self.recovery.get(key)
        if codes is None or use.code_hash not in codes.hashes:
            return False
        self.recovery[key] = dataclasses.replace(codes, hashes=codes.hashes - {use.code_hash})
        self.audit.append(dataclasses.replace(use.audit, details=dict(use.audit.details)))
        return True


def _copy_account(account: Account) -> Account:
    return dataclasses.replace(account, roles=tuple(account.roles), extra=dict(account.extra))


class InMemoryAccountRepository:
    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()

    def _audited(self, audit: AuditEntry) -> None:
        """Record ``audit`` in the store the audit log reads, under the caller's lock: one "transaction"."""
        self.store.audit.append(dataclasses.replace(audit, details=dict(audit.details)))

    def create(
        self, account: Account, *, audit: AuditEntry, consume_flow: str | None = None, now: datetime | None = None
    ) -> None:
        s = self.store
        # Same precedence as DynamoAccountRepository: a used flow explains everything,
        # then the guards sorted by kind (afm, email, username).
        guards = sorted(account.unique_values().items())
        with s.lock:
            flow = s.flows.get(consume_flow) if consume_flow is not None else None
            if consume_flow is not None and (flow is None or flow.used_at is not None):
                raise FlowAlreadyUsed()
            for kind, value in guards:
                if (account.realm, str(kind), value) in s.guards:
                    raise DuplicateValue(str(kind))
            number = account.undergraduate_registry_number()
            entry = s.registry.get((account.realm, number)) if number is not None else None
            if entry is not None and (
                entry.account_id not in (None, account.account_id) or entry.status is RegistryStatus.GRADUATED
            ):
                raise DuplicateValue(REGISTRY_LINK)
            if (account.realm, account.account_id) in s.accounts:
                raise RuntimeError(f"account {account.account_id} already exists")
            if consume_flow is not None and flow is not None:
                s.flows[consume_flow] = dataclasses.replace(flow, used_at=now or account.created_at)
            for kind, value in guards:
                s.guards[(account.realm, str(kind), value)] = account.account_id
            s.accounts[(account.realm, account.account_id)] = _copy_account(account)
            self._audited(audit)
            if number is not None:
                entry = entry or RegistryEntry(
                    account.realm, number, "undergraduate", RegistryStatus.ENROLLED, account.created_at
                )
                s.registry[(account.realm, number)] = dataclasses.replace(
                    entry, account_id=account.account_id, updated_at=account.created_at
                )

    def get(self, realm: str, account_id: str) -> Account | None:
        with self.store.lock:
            account = self.store.accounts.get((realm, account_id))
            return _copy_account(account) if account else None

    def find_by_unique(self, realm: str, kind: UniqueKind, value: str) -> Account | None:
        with self.store.lock:
            owner = self.store.guards.get((realm, str(kind), value))
            return self.get(realm, owner) if owner else None

    def find_login(self, realm: str, username: str) -> LoginRecord | None:
        with self.store.lock:
            owner = self.store.guards.get((realm, str(UniqueKind.USERNAME), username))
            account = self.store.accounts.get((realm, owner)) if owner else None
            if account is None:
                return None
            factors = [f for (r, a, _), f in self.store.factors.items() if r == realm and a == account.account_id]
            factors.sort(key=lambda factor: (factor.created_at, factor.factor_id))
            return LoginRecord(
                realm,
                account.account_id,
                account.password_hash,
                account.status,
                account.roles,
                account.gsis_verified,
                account.expires_on,
                account.second_factors,
                # the copy the DynamoDB login record keeps once a factor change wrote it
                factor_copy(factors, self.store.recovery.get((realm, account.account_id)))
                if (realm, account.account_id) in self.store.factor_copies
                else None,
            )

    def find_logins(self, realm: str, usernames: Sequence[str]) -> dict[str, LoginRecord]:
        found = {}
        for username in usernames:
            record = self.find_login(realm, username)
            if record is not None:
                found[username] = record
        return found

    def holders(self, realm: str, values: Sequence[tuple[UniqueKind, str]]) -> dict[tuple[UniqueKind, str], str]:
        with self.store.lock:
            return {
                (kind, value): owner
                for kind, value in values
                if (owner := self.store.guards.get((realm, str(kind), value))) is not None
            }

    def create_many(self, accounts: Sequence[Account], audits: Sequence[AuditEntry]) -> dict[str, str]:
        refused = {}
        for account, audit in zip(accounts, audits, strict=True):
            try:
                self.create(account, audit=audit)
            except DuplicateValue as exc:
                refused[account.account_id] = exc.kind
            except RuntimeError:
                refused[account.account_id] = "account"
        return refused

    def set_status(
        self,
        realm: str,
        account_id: str,
        status: AccountStatus,
        *,
        expected: AccountStatus,
        now: datetime,
        audit: AuditEntry,
        username: str | None = None,
    ) -> bool:
        with self.store.lock:
            account = self.store.accounts.get((realm, account_id))
            if account is None or account.status != expected:
                return False
            if username is not None and self.store.guards.get((realm, "username", username.casefold())) != account_id:
                return False  # as DynamoDB: the login record's condition names the account
            changes: dict[str, Any] = {"status": status, "updated_at": now}
            if status is AccountStatus.ACTIVE:
                changes["activated_at"] = now
            self.store.accounts[(realm, account_id)] = dataclasses.replace(account, **changes)
            self._audited(audit)
            return True

    def set_password_hash(
        self, realm: str, account_id: str, password_hash: str, now: datetime, *, audit: AuditEntry
    ) -> None:
        with self.store.lock:
            account = self.store.accounts.get((realm, account_id))
            if account is None:
                raise LookupError(f"no account {account_id} in {realm}")
            self.store.accounts[(realm, account_id)] = dataclasses.replace(
                account, password_hash=password_hash, updated_at=now
            )
            self._audited(audit)

    def change_email(
        self, account: Account, email: str, *, move_username: bool, now: datetime, audit: AuditEntry
    ) -> Account:
        """As DynamoAccountRepository: the guards move (the new ones only if free), the
        account changes and the audit entry is written, all under one lock."""
        s, realm = self.store, account.realm
        with s.lock:
            stored = s.accounts.get((realm, account.account_id))
            if stored is None or stored.email != account.email:
                raise LookupError("no such account, or its e-mail changed meanwhile")
            username = email.casefold() if move_username else stored.username
            moves = [(UniqueKind.EMAIL, normalise_email(stored.email), normalise_email(email))]
            if move_username:
                moves.append((UniqueKind.USERNAME, stored.username.casefold(), username))
            for kind, _, new in moves:
                if s.guards.get((realm, str(kind), new), stored.account_id) != stored.account_id:
                    raise DuplicateValue(str(UniqueKind.EMAIL))
            for kind, old, new in moves:
                s.guards.pop((realm, str(kind), old), None)
                s.guards[(realm, str(kind), new)] = stored.account_id
            changed = dataclasses.replace(stored, email=email, username=username, updated_at=now)
            s.accounts[(realm, stored.account_id)] = changed
            self._audited(audit)
            return _copy_account(changed)

    def grant_roles(
        self,
        realm: str,
        account_id: str,
        roles: Sequence[str],
        extra: dict[str, str],
        now: datetime,
        *,
        audit: AuditEntry,
    ) -> None:
        with self.store.lock:
            account = self.store.accounts.get((realm, account_id))
            if account is None:
                raise LookupError(f"no account {account_id} in {realm}")
            self.store.accounts[(realm, account_id)] = dataclasses.replace(
                account, roles=tuple(roles), extra={**account.extra, **extra}, updated_at=now
            )
            self._audited(audit)

    def accounts_expiring_between(self, realm: str, first: date, last: date) -> list[Account]:
        with self.store.lock:
            return [
                _copy_account(a)
                for (r, _), a in self.store.accounts.items()
                if r == realm and a.expires_on is not None and first <= a.expires_on <= last
            ]

    def set_expiry(
        self,
        realm: str,
        account_id: str,
        expires_on: date,
        now: datetime,
        *,
        affiliation: str | None = None,
        reactivate: bool = False,
        audit: AuditEntry | None = None,
    ) -> bool:
        with self.store.lock:
            account = self.store.accounts.get((realm, account_id))
            if account is None:
                return False
            if audit is not None:
                self._audited(audit)
            changes: dict[str, Any] = {"expires_on": expires_on, "updated_at": now}
            if affiliation is not None:
                changes["affiliation"] = affiliation
            if reactivate:
                changes["status"] = AccountStatus.ACTIVE
            self.store.accounts[(realm, account_id)] = dataclasses.replace(account, **changes)
            return True

    def expiry_cursor(self, realm: str) -> date | None:
        with self.store.lock:
            return self.store.cursors.get(realm)

    def set_expiry_cursor(self, realm: str, day: date) -> None:
        with self.store.lock:
            self.store.cursors[realm] = day

    def mark_expiry_warning(self, realm: str, account_id: str, marker: str) -> bool:
        with self.store.lock:
            sent = self.store.warnings.setdefault((realm, account_id), set())
            if marker in sent:
                return False
            sent.add(marker)
            return True

    def certify(
        self,
        realm: str,
        account_id: str,
        identity: GsisIdentity,
        *,
        consume_flow: str,
        now: datetime,
        audit: AuditEntry,
    ) -> None:
        s = self.store
        with s.lock:
            account = s.accounts[(realm, account_id)]
            flow = s.flows.get(consume_flow)
            had_afm = bool(account.identity and account.identity.afm)
            afm_key = (realm, str(UniqueKind.AFM), identity.afm)
            if not had_afm and afm_key in s.guards:
                raise DuplicateValue(str(UniqueKind.AFM))
            if account.gsis_verified or flow is None or flow.used_at is not None:
                raise FlowAlreadyUsed()
            if not had_afm:
                s.guards[afm_key] = account_id
            s.flows[consume_flow] = dataclasses.replace(flow, used_at=now)
            self._audited(audit)
            s.accounts[(realm, account_id)] = dataclasses.replace(
                account, identity=identity, gsis_verified=True, updated_at=now
            )


class InMemoryRegistryRepository:
    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()

    def get(self, realm: str, registry_number: str) -> RegistryEntry | None:
        with self.store.lock:
            return self.store.registry.get((realm, registry_number))

    def put(self, entry: RegistryEntry) -> None:
        with self.store.lock:
            previous = self.store.registry.get((entry.realm, entry.registry_number))
            if entry.account_id is None and previous is not None:
                entry = dataclasses.replace(entry, account_id=previous.account_id)
            self.store.registry[(entry.realm, entry.registry_number)] = entry

    def get_many(self, realm: str, registry_numbers: Sequence[str]) -> dict[str, RegistryEntry]:
        with self.store.lock:
            return {n: e for n in registry_numbers if (e := self.store.registry.get((realm, n))) is not None}


class InMemoryAuditLog:
    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()

    def record(self, entry: AuditEntry) -> None:
        with self.store.lock:
            self.store.audit.append(dataclasses.replace(entry, details=dict(entry.details)))

    def record_many(self, entries: Sequence[AuditEntry]) -> None:
        for entry in entries:
            self.record(entry)

    def entries(self, realm: str, account_id: str) -> list[AuditEntry]:
        with self.store.lock:
            return [e for e in self.store.audit if e.realm == realm and e.account_id == account_id]


class InMemoryTicketRepository:
    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()

    def save(self, ticket: Ticket, *, clear_attempts: Sequence[str] = ()) -> None:
        with self.store.lock:
            if ticket.ticket_hash in self.store.tickets:
                raise RuntimeError("ticket already stored")
            self.store.tickets[ticket.ticket_hash] = dataclasses.replace(ticket, data=dict(ticket.data))
            for key in clear_attempts:
                self.store.attempts.pop(key, None)

    def get(self, ticket_hash: str) -> Ticket | None:
        with self.store.lock:
            ticket = self.store.tickets.get(ticket_hash)
            return dataclasses.replace(ticket, data=dict(ticket.data)) if ticket else None

    def take(self, ticket_hash: str) -> Ticket | None:
        with self.store.lock:
            return self.store.tickets.pop(ticket_hash, None)

    def spend(self, ticket_hash: str) -> bool:
        with self.store.lock:
            return self.store.tickets.pop(ticket_hash, None) is not None


class InMemoryFlowRepository:
    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()

    def save_state(self, state: OAuthState) -> None:
        with self.store.lock:
            if state.state_hash in self.store.states:
                raise RuntimeError("state already stored")
            self.store.states[state.state_hash] = dataclasses.replace(state, params=dict(state.params))

    def take_state(self, state_hash: str) -> OAuthState | None:
        with self.store.lock:
            return self.store.states.pop(state_hash, None)

    def save_flow(self, flow: IdentityFlow) -> None:
        with self.store.lock:
            if flow.flow_hash in self.store.flows:
                raise RuntimeError("flow already stored")
            self.store.flows[flow.flow_hash] = dataclasses.replace(flow, params=dict(flow.params))

    def get_flow(self, flow_hash: str) -> IdentityFlow | None:
        with self.store.lock:
            flow = self.store.flows.get(flow_hash)
            return dataclasses.replace(flow, params=dict(flow.params)) if flow else None

    def mark_flow_used(self, flow_hash: str, now: datetime) -> bool:
        with self.store.lock:
            flow = self.store.flows.get(flow_hash)
            if flow is None or flow.used_at is not None:
                return False
            self.store.flows[flow_hash] = dataclasses.replace(flow, used_at=now)
            return True


class InMemoryChallengeRepository:
    """Mirrors DynamoChallengeRepository: one live challenge per account and purpose,
    token lookups that die once the challenge behind them changes."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()

    @staticmethod
    def _key(challenge: Challenge) -> tuple[str, str, Purpose]:
        return (challenge.realm, challenge.account_id, challenge.purpose)

    def _is_live(self, challenge: Challenge) -> bool:
        stored = self.store.challenges.get(self._key(challenge))
        return stored is not None and stored.token_hash == challenge.token_hash

    def replace(self, challenge: Challenge) -> None:
        with self.store.lock:
            self.store.challenge_lookups[challenge.token_hash] = self._key(challenge)
            self.store.challenges[self._key(challenge)] = challenge

    def find_by_token(self, token_hash: str) -> Challenge | None:
        with self.store.lock:
            key = self.store.challenge_lookups.get(token_hash)
            challenge = self.store.challenges.get(key) if key else None
            return challenge if challenge is not None and challenge.token_hash == token_hash else None

    def find_for_account(self, realm: str, account_id: str, purpose: Purpose) -> Challenge | None:
        with self.store.lock:
            return self.store.challenges.get((realm, account_id, purpose))

    def consume(self, challenge: Challenge) -> bool:
        with self.store.lock:
            if not self._is_live(challenge):
                return False
            del self.store.challenges[self._key(challenge)]
            self.store.challenge_lookups.pop(challenge.token_hash, None)
            return True

    def discard(self, challenge: Challenge) -> None:
        with self.store.lock:
            if self._is_live(challenge):
                del self.store.challenges[self._key(challenge)]
            self.store.challenge_lookups.pop(challenge.token_hash, None)


class InMemorySessionRepository:
    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()

    @staticmethod
    def _family_key(realm: str, account_id: str, family_id: str) -> tuple[str, str, str]:
        return (realm, account_id, family_id)

    def start(
        self,
        family: SessionFamily,
        token: RefreshToken,
        *,
        clear_attempts: Sequence[str] = (),
        spend_ticket: str | None = None,
        spend_step: TotpStep | None = None,
        spend_code: RecoveryCodeUse | None = None,
    ) -> SessionStart:
        key = self._family_key(family.realm, family.account_id, family.family_id)
        with self.store.lock:
            if key in self.store.families or token.token_hash in self.store.tokens:
                raise RuntimeError("session family or token already stored")
            if spend_ticket is not None:
                if spend_ticket not in self.store.tickets:
                    return SessionStart.TICKET_GONE
                if spend_step is not None and not self.store.spend_totp_step(spend_step):
                    return SessionStart.PROOF_REFUSED
                if spend_code is not None and not self.store.spend_recovery_code(spend_code):
                    return SessionStart.PROOF_REFUSED
                del self.store.tickets[spend_ticket]
            self.store.families[key] = family
            self.store.tokens[token.token_hash] = token
            for attempt_key in clear_attempts:
                self.store.attempts.pop(attempt_key, None)
            return SessionStart.STARTED

    def find_token(self, token_hash: str) -> RefreshToken | None:
        with self.store.lock:
            return self.store.tokens.get(token_hash)

    def get_family(self, realm: str, account_id: str, family_id: str) -> SessionFamily | None:
        with self.store.lock:
            return self.store.families.get(self._family_key(realm, account_id, family_id))

    def rotate(self, old: RefreshToken, new: RefreshToken, now: datetime) -> RotationOutcome:
        with self.store.lock:
            family = self.store.families.get(self._family_key(old.realm, old.account_id, old.family_id))
            stored_old = self.store.tokens.get(old.token_hash)
            if (
                family is None
                or family.revoked_at is not None
                or stored_old is None
                or stored_old.rotated_at is not None
                or new.token_hash in self.store.tokens
            ):
                return RotationOutcome.REUSED
            self.store.tokens[old.token_hash] = dataclasses.replace(stored_old, rotated_at=now)
            self.store.tokens[new.token_hash] = new
            key = self._family_key(old.realm, old.account_id, old.family_id)
            self.store.families[key] = dataclasses.replace(family, last_used_at=now)
            return RotationOutcome.ROTATED

    def revoke_family(self, realm: str, account_id: str, family_id: str, now: datetime) -> SessionFamily | None:
        key = self._family_key(realm, account_id, family_id)
        with self.store.lock:
            family = self.store.families.get(key)
            if family is None or family.revoked_at is not None:
                return None
            revoked = dataclasses.replace(family, revoked_at=now)
            self.store.families[key] = revoked
            return revoked

    def revoke_all(self, realm: str, account_id: str, now: datetime) -> int:
        with self.store.lock:
            live = self.live_families(realm, account_id, now)
            for family in live:
                self.revoke_family(realm, account_id, family.family_id, now)
            return len(live)

    def live_families(self, realm: str, account_id: str, now: datetime) -> list[SessionFamily]:
        with self.store.lock:
            return [
                family
                for (r, a, _), family in self.store.families.items()
                if r == realm and a == account_id and family.is_live(now)
            ]

    def add_authentication(
        self, realm: str, account_id: str, family_id: str, method: str, at: datetime
    ) -> SessionFamily | None:
        key = self._family_key(realm, account_id, family_id)
        with self.store.lock:
            family = self.store.families.get(key)
            if family is None or family.revoked_at is not None:
                return None
            updated = dataclasses.replace(family, auth_time=at, amr=(*family.amr, method))
            self.store.families[key] = updated
            return updated

    def ended_sessions(self, hour: datetime, now: datetime) -> list[SessionFamily]:
        start = hour.replace(minute=0, second=0, microsecond=0)
        with self.store.lock:
            return [
                family
                for family in self.store.families.values()
                if family.clients
                and family.revoked_at is None
                and start <= family.expires_at < start + timedelta(hours=1)
                and family.expires_at <= now
            ]

    def end_sweep_cursor(self) -> datetime | None:
        return self.store.__dict__.get("end_sweep_cursor")

    def set_end_sweep_cursor(self, hour: datetime) -> None:
        self.store.__dict__["end_sweep_cursor"] = hour

    def link(self, realm: str, account_id: str, family_id: str, earlier: Sequence[str]) -> None:
        key = self._family_key(realm, account_id, family_id)
        with self.store.lock:
            family = self.store.families.get(key)
            if family is not None:
                linked = tuple(sorted(set(family.linked) | set(earlier)))
                self.store.families[key] = dataclasses.replace(family, linked=linked)


# --- mail and GSIS ----------------------------------------------------------------------


class RecordingMailer:
    """Keeps every message it "sends"; renders each one, as SesMailer does, so a message
    whose context does not fit its templates fails here too."""

    def __init__(self, *, render: bool = True) -> None:
        self._lock = threading.Lock()
        self._render = render
        self._failures = 0
        self.sent: list[MailMessage] = []
        self.rendered: list[Any] = []

    def fail_next(self, count: int = 1) -> None:
        """The next ``count`` sends raise :class:`MailDeliveryError` and record nothing."""
        with self._lock:
            self._failures = count

    def send(self, message: MailMessage) -> str:
        with self._lock:
            if self._failures > 0:
                self._failures -= 1
                raise MailDeliveryError(message.template)
        rendered = None
        if self._render:
            from chalicelib.mail.render import render

            rendered = render(message)
        with self._lock:
            self.sent.append(message)
            self.rendered.append(rendered)
            return f"fake-message-{len(self.sent):04d}"

    def to(self, address: str) -> list[MailMessage]:
        """Messages sent to ``address``, oldest first."""
        with self._lock:
            return [message for message in self.sent if message.to == address]


class InlineTaskQueue:
    """Runs each task as soon as it is queued, like a worker that never lags. A task that
    raises is kept in ``failed`` (SQS would retry it later), never propagated."""

    def __init__(self) -> None:
        self.runner: TaskRunner | None = None
        self.done: list[Task] = []
        self.failed: list[tuple[Task, BaseException]] = []
        self.refuse = False

    def enqueue(self, task: Task) -> None:
        if self.refuse:
            raise TaskQueueError(task.kind)
        assert self.runner is not None, "wire the runner first"
        try:
            self.runner.run(task)
        except Exception as exc:  # noqa: BLE001 - kept for the test to inspect, as SQS keeps it
            self.failed.append((task, exc))
        else:
            self.done.append(task)

    def enqueue_many(self, tasks: Sequence[Task]) -> None:
        for task in tasks:
            self.enqueue(task)


class InMemoryLoginGate:
    """The login record and the reservations from the other fakes (DynamoDB: one round trip)."""

    def __init__(self, accounts: InMemoryAccountRepository, attempts: InMemoryAttemptLedger) -> None:
        self.accounts, self.attempts = accounts, attempts

    def open(
        self, realm: str, username: str, claims: Sequence[Claim], now: datetime
    ) -> tuple[LoginRecord | None, list[Reservation]]:
        return self.accounts.find_login(realm, username), [self.attempts.reserve(claim, now) for claim in claims]


class InMemoryAttemptLedger:
    """Attempt reservations under one lock: the rules of ``domain/attempts.py`` applied
    to a dictionary, as DynamoAttemptLedger applies them with conditional updates."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()

    def reserve(self, claim: Claim, now: datetime) -> Reservation:
        with self.store.lock:
            if isinstance(claim.rule, Backoff):
                return self._backoff(claim.key, claim.rule, now)
            return self._window(claim.key, claim.rule, now)

    def _backoff(self, key: str, rule: Backoff, now: datetime) -> Reservation:
        t = now.timestamp()
        item = self.store.attempts.get(key)
        if item is None or item["at"] <= t - rule.memory.total_seconds():
            self.store.attempts[key] = {"n": 1, "at": t}
            return Reservation(key, True, count=1)
        n = int(item["n"])
        if n < rule.free:
            self.store.attempts[key] = {"n": n + 1, "at": t}
            return Reservation(key, True, count=n + 1)
        allowed_at = item.get("retry_at", item["at"] + rule.wait_after(n).total_seconds())
        if allowed_at > t:
            return Reservation(key, False, count=n, retry_after=seconds_until(allowed_at, now))
        self.store.attempts[key] = {"n": n + 1, "at": t, "retry_at": t + rule.wait_after(n + 1).total_seconds()}
        return Reservation(key, True, count=n + 1)

    def _window(self, key: str, rule: RateWindow, now: datetime) -> Reservation:
        start = rule.window_start(now)
        seconds = max(int(rule.window.total_seconds()), 1)
        item = self.store.attempts.get(key)
        if item is None or item["w"] != start:
            previous = int(item["n"]) if item is not None and item["w"] == start - seconds else 0
            item = {"w": start, "n": 0, "p": previous}
        item["n"] += 1
        self.store.attempts[key] = item
        count = int(item["n"])
        if rule.estimate(count, int(item["p"]), now) > rule.limit:
            return Reservation(key, False, count=count, retry_after=seconds_until(start + seconds, now), window=start)
        return Reservation(key, True, count=count, window=start)

    def give_back(self, reservation: Reservation, now: datetime) -> None:
        with self.store.lock:
            item = self.store.attempts.get(reservation.key)
            if not reservation.granted or item is None or item["n"] <= 0:
                return
            if reservation.window is not None and item.get("w") != reservation.window:
                return
            item["n"] -= 1

    def clear(self, keys: Sequence[str]) -> None:
        with self.store.lock:
            for key in keys:
                self.store.attempts.pop(key, None)


class InMemoryCounters:
    """Rate-limit counters, as DynamoCounters keeps them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, int], int] = {}

    def increment(self, key: str, *, window: timedelta, now: datetime) -> int:
        seconds = max(int(window.total_seconds()), 1)
        slot = (key, int(now.timestamp()) // seconds)
        with self._lock:
            self._windows[slot] = self._windows.get(slot, 0) + 1
            return self._windows[slot]


class FakeGsis:
    """GSIS with codes granted by the test; each code works once, like real ones."""

    BASE = "https://gsis.test"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._grants: dict[str, GsisIdentity] = {}

    def grant(self, code: str, identity: GsisIdentity) -> None:
        with self._lock:
            self._grants[code] = identity

    def authorization_url(self, state: str) -> str:
        return f"{self.BASE}/oauth/authorize?{urlencode({'state': state})}"

    def fetch_identity(self, code: str) -> GsisIdentity:
        with self._lock:
            identity = self._grants.pop(code, None)
        if identity is None:
            raise IdentityProviderError("GSIS did not accept the authorization code.")
        return identity

    def logout_url(self, return_url: str) -> str:
        return f"{self.BASE}/logout/mitroo-test/?{urlencode({'url': return_url})}"


class FakeEuLogin:
    """EU Login with codes granted by the test; a code works once and only with the PKCE
    verifier and nonce of the sign-in it was granted for, as the real provider checks."""

    BASE = "https://eulogin.test"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: dict[str, tuple[str, str]] = {}  # state → (nonce, verifier)
        self._grants: dict[str, tuple[str, EuLoginIdentity]] = {}  # code → (state, identity)

    def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        with self._lock:
            self._started[state] = (nonce, code_verifier)
        return f"{self.BASE}/authorize?{urlencode({'state': state})}"

    def grant(self, authorization_url: str, code: str, identity: EuLoginIdentity) -> None:
        state = parse_qs(urlsplit(authorization_url).query)["state"][0]
        with self._lock:
            self._grants[code] = (state, identity)

    def fetch_identity(self, *, code: str, code_verifier: str, nonce: str) -> EuLoginIdentity:
        with self._lock:
            granted = self._grants.pop(code, None)
            started = self._started.get(granted[0]) if granted else None
        if granted is None or started != (nonce, code_verifier):
            raise IdentityProviderError("EU Login did not accept the authorization code.")
        return granted[1]


class InMemoryFileStore:
    """Objects by key, as S3 keeps them; ``fail_next_get`` simulates an outage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.objects: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with self._lock:
            self.objects[key] = (bytes(data), content_type)

    def get(self, key: str, *, max_bytes: int) -> bytes | None:
        with self._lock:
            found = self.objects.get(key)
        if found is None:
            return None
        if len(found[0]) > max_bytes:
            raise FileTooLarge(len(found[0]))
        return found[0]

    def exists(self, key: str) -> bool:
        with self._lock:
            return key in self.objects

    def upload_url(self, key: str, content_type: str, expires_in: timedelta) -> str:
        return f"https://uploads.test/{key}?expires={int(expires_in.total_seconds())}"


class InMemoryJobRepository:
    """Jobs and chunk outcomes, with the same single-chunk-once rule as DynamoDB's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.jobs: dict[tuple[str, str], Job] = {}
        self.chunks: dict[tuple[str, str], dict[int, list[RowOutcome]]] = {}

    def create(self, job: Job) -> None:
        with self._lock:
            if (job.realm, job.job_id) in self.jobs:
                raise RuntimeError("job exists")
            self.jobs[(job.realm, job.job_id)] = job
            self.chunks[(job.realm, job.job_id)] = {}

    def get(self, realm: str, job_id: str) -> Job | None:
        with self._lock:
            return self.jobs.get((realm, job_id))

    def _change(self, realm: str, job_id: str, **changes: Any) -> None:
        job = self.jobs[(realm, job_id)]
        self.jobs[(realm, job_id)] = dataclasses.replace(job, **changes)

    def mark_uploaded(self, realm: str, job_id: str, now: datetime) -> bool:
        with self._lock:
            job = self.jobs.get((realm, job_id))
            if job is None or not job.awaiting_upload:
                return False
            self._change(realm, job_id, awaiting_upload=False, updated_at=now)
            return True

    def mark_running(self, realm: str, job_id: str, total: int, now: datetime) -> None:
        with self._lock:
            job = self.jobs[(realm, job_id)]
            if job.status.finished:
                raise RuntimeError("job finished")
            progress = dataclasses.replace(job.progress, total=total)
            self._change(realm, job_id, status=JobStatus.RUNNING, progress=progress, updated_at=now)

    def save_chunk(self, realm: str, job_id: str, index: int, outcomes: Sequence[RowOutcome], now: datetime) -> bool:
        with self._lock:
            chunks = self.chunks[(realm, job_id)]
            if index in chunks:
                return False
            chunks[index] = list(outcomes)
            job = self.jobs[(realm, job_id)]
            added = Progress.of(list(outcomes))
            progress = Progress(
                total=job.progress.total,
                processed=job.progress.processed + added.processed,
                accepted=job.progress.accepted + added.accepted,
                rejected=job.progress.rejected + added.rejected,
                already_applied=job.progress.already_applied + added.already_applied,
            )
            self._change(realm, job_id, progress=progress, updated_at=now)
            return True

    def done_chunks(self, realm: str, job_id: str) -> set[int]:
        with self._lock:
            return set(self.chunks.get((realm, job_id), {}))

    def outcomes(self, realm: str, job_id: str) -> list[RowOutcome]:
        with self._lock:
            chunks = self.chunks.get((realm, job_id), {})
            return [outcome for index in sorted(chunks) for outcome in chunks[index]]

    def finish(self, realm: str, job_id: str, status: JobStatus, now: datetime, reason: str = "") -> None:
        with self._lock:
            self._change(realm, job_id, status=status, reason=reason, updated_at=now)


# --- wiring -----------------------------------------------------------------------------

START = datetime.fromisoformat("2025-03-03T09:00:00+00:00")
BROWSER = "browser-binding-cookie-value-000000000000000"


@dataclass
class Kit:
    """Every fake plus the flows wired to them, and shortcuts for common set-ups."""

    realm: RealmConfig
    clock: FixedClock
    secrets: SequenceSecrets
    hasher: FastHasher
    store: InMemoryStore
    accounts: InMemoryAccountRepository
    flow_repository: InMemoryFlowRepository
    challenge_repository: InMemoryChallengeRepository
    session_repository: InMemorySessionRepository
    mailer: RecordingMailer
    gsis: FakeGsis
    signer: TokenSigner
    tasks: InlineTaskQueue
    counters: InMemoryCounters
    flows: Flows
    _codes: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def links(self) -> Links:
        return self.flows.links

    @property
    def signin(self) -> GsisSignIn:
        return self.flows.gsis_signin

    @property
    def challenges(self) -> Challenges:
        return self.flows.challenges

    @property
    def activation(self) -> Activation:
        return self.flows.activation

    @property
    def registration(self) -> GsisRegistration:
        return self.flows.registration

    @property
    def sessions(self) -> Sessions:
        return self.flows.sessions

    def gsis_flow(self, identity: GsisIdentity, intent: Intent | str = Intent.REGISTER) -> str:
        """Go through GSIS start and callback; returns the flow id."""
        started = self.signin.start(self.realm, str(intent), BROWSER)
        code = f"gsis-code-{next(self._codes)}"
        self.gsis.grant(code, identity)
        state = state_from(started.redirect_url)
        return self.signin.complete(self.realm, state=state, code=code, error=None, browser_binding=BROWSER).flow_id

    def register(self, identity: GsisIdentity, email: str, password: str = "Passw0rd!", **fields: Any) -> Registered:
        """A pending account registered through a fresh GSIS flow."""
        request = RegistrationRequest(
            flow=self.gsis_flow(identity),
            browser_binding=BROWSER,
            email=email,
            password=password,
            password_confirmation=fields.pop("password_confirmation", password),
            gender=fields.pop("gender", "female"),
            **fields,
        )
        return self.registration.register(self.realm, request)

    def activated(self, identity: GsisIdentity, email: str, password: str = "Passw0rd!") -> Registered:
        """An active account: registered, then activated with the mailed code."""
        registered = self.register(identity, email, password)
        self.activation.activate_by_code(self.realm, email, self.mailer.to(email)[-1].context["code"])
        return registered


def state_from(authorization_url: str) -> str:
    """The ``state`` a GSIS authorize URL carries."""
    return parse_qs(urlsplit(authorization_url).query)["state"][0]


def build_flows(realm: str = "eiep", *, now: datetime = START) -> Kit:
    """Fakes and flows for one test, wired exactly as production wires adapters."""
    clock, secrets, hasher = FixedClock(now), SequenceSecrets(), FastHasher()
    store = InMemoryStore()
    mailer, gsis, signer, tasks, counters = (
        RecordingMailer(),
        FakeGsis(),
        real_signer(),
        InlineTaskQueue(),
        InMemoryCounters(),
    )
    accounts = InMemoryAccountRepository(store)
    attempts = InMemoryAttemptLedger(store)
    flow_repository = InMemoryFlowRepository(store)
    from tests.fakes_account import InMemoryPersonalData
    from tests.fakes_admin import InMemoryAccountDirectory, InMemoryAuditSearch, InMemoryHelpdeskRepository
    from tests.fakes_esep import FakeEsepRepository  # it builds on the fakes above
    from tests.fakes_mfa import InMemoryFactorRepository
    from tests.fakes_oidc import oidc_fakes

    esep = FakeEsepRepository(accounts, flow_repository)
    oidc = oidc_fakes(store, accounts, esep)
    factors, helpdesk = InMemoryFactorRepository(store), InMemoryHelpdeskRepository(store)

    ports = Ports(
        clock=clock,
        secrets=secrets,
        hasher=hasher,
        accounts=accounts,
        login_gate=InMemoryLoginGate(accounts, attempts),
        attempts=attempts,
        sealer=FernetSealer(derive_key("unit tests' service key")),
        flows=flow_repository,
        challenges=InMemoryChallengeRepository(store),
        sessions=InMemorySessionRepository(store),
        tickets=InMemoryTicketRepository(store),
        audit=InMemoryAuditLog(store),
        registry=InMemoryRegistryRepository(store),
        counters=counters,
        mailer=mailer,
        tasks=tasks,
        gsis=gsis,
        signer=signer,
        jobs=InMemoryJobRepository(),
        files=InMemoryFileStore(),
        eulogin=FakeEuLogin(),
        esep=esep,
        **oidc,
        factors=factors,
        directory=InMemoryAccountDirectory(store),
        audit_search=InMemoryAuditSearch(store),
        helpdesk=helpdesk,
        personal_data=InMemoryPersonalData(
            accounts,
            factors=factors,
            consents=oidc["consents"],
            helpdesk=helpdesk,
            esep=esep,
            grants=oidc["oidc_grants"],
        ),
    )
    flows = assemble(ports, Links(PUBLIC_URL))
    tasks.runner = flows.tasks
    return Kit(
        realm=get_realm(realm),
        clock=clock,
        secrets=secrets,
        hasher=hasher,
        store=store,
        accounts=ports.accounts,  # type: ignore[arg-type]
        flow_repository=ports.flows,  # type: ignore[arg-type]
        challenge_repository=ports.challenges,  # type: ignore[arg-type]
        session_repository=ports.sessions,  # type: ignore[arg-type]
        mailer=mailer,
        gsis=gsis,
        signer=signer,
        tasks=tasks,
        counters=counters,
        flows=flows,
    )


def make_identity(afm: str = "090000045", **fields: str) -> GsisIdentity:
    """A GSIS identity; pass ``afm`` (and names) to make it distinct."""
    values = {
        "last_name": "ΠΑΠΑΔΟΠΟΥΛΟΥ",
        "first_name": "ΜΑΡΙΑ",
        "father_name": "ΓΕΩΡΓΙΟΣ",
        "mother_name": "ΕΛΕΝΗ",
        "birth_year": "1980",
        "userid": "mpapad",
    }
    values.update(fields)
    return GsisIdentity(afm=afm, **values)


def afm_with_check_digit(first_eight: str) -> str:
    """A valid AFM from eight digits (appends the check digit)."""
    total = sum(int(digit) << (8 - position) for position, digit in enumerate(first_eight))
    return first_eight + str((total % 11) % 10)


def race(count: int, attempt: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``attempt(i)`` in ``count`` threads released together; results or exceptions."""
    barrier = threading.Barrier(count)

    def run(index: int) -> T | BaseException:
        barrier.wait()
        try:
            return attempt(index)
        except Exception as exc:  # noqa: BLE001 - the caller inspects what each thread got
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def arranged(realm: str, account_id: str, action: str = "arranged by the test") -> AuditEntry:
    """The audit entry of a change a test (or benchmark) makes to set the scene."""
    return AuditEntry(realm, account_id, action, "test", datetime.now(UTC))
