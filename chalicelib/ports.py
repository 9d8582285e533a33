"""Ports: what the flows need from the outside world, as structural types.

Adapters (DynamoDB, SES, authlib, argon2) and test fakes implement these without
inheriting from them; the contract tests in ``tests/contract`` hold both to the same
behaviour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: a port loads no domain module at cold start
    from chalicelib.domain.accounts import Account, AccountStatus, LoginRecord, UniqueKind
    from chalicelib.domain.attempts import Claim, Reservation
    from chalicelib.domain.audit import AuditEntry, AuditPage, AuditQuery
    from chalicelib.domain.directory import DirectoryPage
    from chalicelib.domain.esep import EuLoginIdentity, LegacyMember, Member, Organisation, Project
    from chalicelib.domain.flows import IdentityFlow, OAuthState
    from chalicelib.domain.helpdesk import SupportTicket, TicketPage, TicketReply, TicketStatus
    from chalicelib.domain.identity import GsisIdentity
    from chalicelib.domain.jobs import Job, JobStatus, RowOutcome
    from chalicelib.domain.mail import MailMessage
    from chalicelib.domain.mfa import Factor, RecoveryCodes, RecoveryCodeUse, TotpStep
    from chalicelib.domain.oidc import Consent, Expectations, OidcClient, OidcGrant
    from chalicelib.domain.registry import RegistryEntry
    from chalicelib.domain.tasks import Task
    from chalicelib.domain.tickets import Ticket
    from chalicelib.domain.tokens import Challenge, Purpose, RefreshToken, RotationOutcome, SessionFamily, SessionStart


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SecretSource(Protocol):
    def token(self) -> str:
        """A URL-safe secret of at least 128 bits (links, flow ids, refresh tokens)."""
        ...

    def code(self) -> str:
        """A short code a person can type (mail codes)."""
        ...

    def identifier(self) -> str:
        """A random, non-secret identifier (account ids, session families)."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, stored_hash: str, password: str) -> bool: ...

    def needs_rehash(self, stored_hash: str) -> bool: ...

    def waste_time(self, password: str) -> None:
        """Spend one verification's worth of work, for unknown users (timing safety)."""
        ...


class AccountRepository(Protocol):
    def create(
        self, account: Account, *, audit: AuditEntry, consume_flow: str | None = None, now: datetime | None = None
    ) -> None:
        """Store a new account, its uniqueness guards and its audit entry atomically.

        With ``consume_flow`` (a flow hash) the same transaction marks that flow used. An
        undergraduate account is linked to its registry number's entry in the same
        transaction (``Account.undergraduate_registry_number``).

        Raises
        ------
        DuplicateValue
            when another account holds one of ``account.unique_values()``; with kind
            ``"registry_number"`` when the registry entry links another account or has
            graduated.
        FlowAlreadyUsed
            when the flow was used (or vanished) in the meantime.
        """
        ...

    def get(self, realm: str, account_id: str) -> Account | None: ...

    def find_by_unique(self, realm: str, kind: UniqueKind, value: str) -> Account | None:
        """The account holding a normalised unique value (e-mail, AFM, username…)."""
        ...

    def find_login(self, realm: str, username: str) -> LoginRecord | None:
        """Password hash, status and roles for a casefolded username, in one lookup."""
        ...

    def find_logins(self, realm: str, usernames: Sequence[str]) -> dict[str, LoginRecord]:
        """The login records of many casefolded usernames (batched reads; absent ones
        are missing from the answer)."""
        ...

    def holders(self, realm: str, values: Sequence[tuple[UniqueKind, str]]) -> dict[tuple[UniqueKind, str], str]:
        """Which account holds each normalised unique value (batched reads; free values
        are missing from the answer)."""
        ...

    def create_many(self, accounts: Sequence[Account], audits: Sequence[AuditEntry]) -> dict[str, str]:
        """Create many accounts as :meth:`create` would (``audits[i]`` audits
        ``accounts[i]``, in the same transaction), in as few writes as possible.

        Each account is created or not on its own: the answer maps the id of every
        account that was *not* created to the unique kind another account holds
        (``"username"``, ``"email"``…). Guards are checked atomically, so a race with
        another writer loses no data and creates no duplicate.
        """
        ...

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
        """Move the account from ``expected`` to ``status``, audited in the same write;
        False (nothing written) if it was not in ``expected`` or does not exist. The login
        record follows. A caller that has the account's ``username`` passes it, saving the
        read that finds the login record."""
        ...

    def set_password_hash(
        self, realm: str, account_id: str, password_hash: str, now: datetime, *, audit: AuditEntry
    ) -> None:
        """Replace the hash (account and login record together, audited in the same
        write); raises for an unknown account."""
        ...

    def change_email(
        self, account: Account, email: str, *, move_username: bool, now: datetime, audit: AuditEntry
    ) -> Account:
        """Give ``account`` (as read) the address ``email`` in one all-or-nothing write: the
        e-mail guard moves (the old one released, the new one taken on condition nobody
        holds it), with ``move_username`` the username and its login record too (realms
        whose username is the e-mail), the directory entries follow, and ``audit`` is
        written. Returns the account as stored after.

        Raises ``DuplicateValue`` when another account holds the address (nothing
        changes), ``LookupError`` when the account is gone or its e-mail is no longer the
        one read (changed meanwhile)."""
        ...

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
        """Set the account's roles (account and login record together) and merge ``extra``
        into its extra fields, audited in the same write; raises LookupError for an
        unknown account."""
        ...

    def accounts_expiring_between(self, realm: str, first: date, last: date) -> list[Account]:
        """Accounts whose last valid day is within ``first``…``last`` (index queries, one
        per calendar month, never a scan: only those accounts are read)."""
        ...

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
        """Move the expiry (and the affiliation); with ``reactivate`` an expired account
        becomes active again. With ``audit`` the audit record is written in the same
        transaction: the change is never made unaudited, even by a worker killed right
        after it. False for an unknown account (and nothing recorded)."""
        ...

    def mark_expiry_warning(self, realm: str, account_id: str, marker: str) -> bool:
        """Note that warning ``marker`` was sent; False when it had been (send each once)."""
        ...

    def expiry_cursor(self, realm: str) -> date | None:
        """The last day the expiry sweep covered in ``realm``."""
        ...

    def set_expiry_cursor(self, realm: str, day: date) -> None: ...

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
        """Overwrite the identity from GSIS and mark the account verified, once, with the
        flow, audited in the same transaction.

        Raises
        ------
        DuplicateValue
            ("afm") another account holds GSIS's tax number.
        FlowAlreadyUsed
            the flow was used, or the account was certified, in the meantime.
        """
        ...


class RegistryRepository(Protocol):
    def get(self, realm: str, registry_number: str) -> RegistryEntry | None: ...

    def put(self, entry: RegistryEntry) -> None:
        """Create or replace the entry (keeping the linked account when ``entry`` has none)."""
        ...

    def get_many(self, realm: str, registry_numbers: Sequence[str]) -> dict[str, RegistryEntry]:
        """The entries of those numbers that exist, by number (one batched read).

        No method links an account: ``AccountRepository.create``/``create_many`` link an
        undergraduate account to its number's entry in the create transaction, and refuse
        it (``DuplicateValue("registry_number")``) when the entry links another account or
        has graduated.
        """
        ...


class AuditLog(Protocol):
    def record(self, entry: AuditEntry) -> None: ...

    def record_many(self, entries: Sequence[AuditEntry]) -> None:
        """Record many entries (batched writes; a bulk job's changes)."""
        ...

    def entries(self, realm: str, account_id: str) -> list[AuditEntry]:
        """The account's audit trail, oldest first."""
        ...


class AttemptLedger(Protocol):
    """Attempt reservations (``domain/attempts.py``): counted atomically *before* a secret
    is compared, so parallel guesses earn no more comparisons than sequential ones."""

    def reserve(self, claim: Claim, now: datetime) -> Reservation:
        """Count one attempt on ``claim.key`` unless its rule refuses it now (one atomic
        write in the usual case; refused reservations change nothing)."""
        ...

    def give_back(self, reservation: Reservation, now: datetime) -> None:
        """Un-count a granted reservation whose attempt compared nothing (another limit
        refused the same attempt)."""
        ...

    def clear(self, keys: Sequence[str]) -> None:
        """Forget the attempts of ``keys`` (a success)."""
        ...


class LoginGate(Protocol):
    def open(
        self, realm: str, username: str, claims: Sequence[Claim], now: datetime
    ) -> tuple[LoginRecord | None, list[Reservation]]:
        """The login record of ``username`` and a reservation for each claim, all in one
        round trip (a login's first step: SPEC §5 allows two round trips in all)."""
        ...


class FlowRepository(Protocol):
    def save_state(self, state: OAuthState) -> None: ...

    def take_state(self, state_hash: str) -> OAuthState | None:
        """Remove and return the state: a second call for the same hash returns None."""
        ...

    def save_flow(self, flow: IdentityFlow) -> None: ...

    def get_flow(self, flow_hash: str) -> IdentityFlow | None: ...

    def mark_flow_used(self, flow_hash: str, now: datetime) -> bool:
        """Mark an unused flow used; False if it was used already or does not exist."""
        ...


class TicketRepository(Protocol):
    def save(self, ticket: Ticket, *, clear_attempts: Sequence[str] = ()) -> None:
        """Store a new ticket; in the same write, forget the attempts of ``clear_attempts``
        (a right password whose sign-in goes on to a second step)."""
        ...

    def get(self, ticket_hash: str) -> Ticket | None: ...

    def take(self, ticket_hash: str) -> Ticket | None:
        """Remove and return the ticket: a second call for the same hash returns None."""
        ...

    def spend(self, ticket_hash: str) -> bool:
        """Remove a ticket the caller has read: True for exactly one caller."""
        ...


class ChallengeRepository(Protocol):
    def replace(self, challenge: Challenge) -> None:
        """Store ``challenge`` as the only live one for its account and purpose."""
        ...

    def find_by_token(self, token_hash: str) -> Challenge | None: ...

    def find_for_account(self, realm: str, account_id: str, purpose: Purpose) -> Challenge | None: ...

    def consume(self, challenge: Challenge) -> bool:
        """Delete the challenge if it is still the live one; True for exactly one caller."""
        ...

    def discard(self, challenge: Challenge) -> None:
        """Delete the challenge unconditionally (too many wrong codes)."""
        ...


class SessionRepository(Protocol):
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
        """Store the new session; in the same write, forget the attempts of
        ``clear_attempts`` (the keys a successful login settles) and, when given, spend
        the ticket ``spend_ticket`` (a second step's ``mfa_token``) and its proof: the
        TOTP step ``spend_step`` or the recovery code ``spend_code`` with its audit entry
        (with a ticket only). Nothing is stored when the ticket is gone (another second
        step spent it: ``TICKET_GONE``), or the step is not later than its factor's last,
        the factor is gone or the code is not in the account's set (``PROOF_REFUSED``)."""
        ...

    def find_token(self, token_hash: str) -> RefreshToken | None: ...

    def get_family(self, realm: str, account_id: str, family_id: str) -> SessionFamily | None: ...

    def rotate(self, old: RefreshToken, new: RefreshToken, now: datetime) -> RotationOutcome:
        """Mark ``old`` rotated and store ``new``; REUSED if ``old`` was already rotated."""
        ...

    def revoke_family(self, realm: str, account_id: str, family_id: str, now: datetime) -> SessionFamily | None:
        """Revoke the family; the family as revoked by this call, or None when it was
        revoked already (or never existed): exactly one caller ends a session."""
        ...

    def revoke_all(self, realm: str, account_id: str, now: datetime) -> int:
        """Revoke every session of the account; returns how many were live (unexpired)."""
        ...

    def live_families(self, realm: str, account_id: str, now: datetime) -> list[SessionFamily]:
        """The account's sessions that are neither revoked nor expired."""
        ...

    def add_authentication(
        self, realm: str, account_id: str, family_id: str, method: str, at: datetime
    ) -> SessionFamily | None:
        """Note one more way the person proved who they are in this session (an RFC 8176
        ``amr`` value, e.g. ``otp`` after a second factor) and move ``auth_time``; None
        for a revoked or unknown session."""
        ...

    def link(self, realm: str, account_id: str, family_id: str, earlier: Sequence[str]) -> None:
        """Note sessions of the same person that end when this one ends."""
        ...

    def ended_sessions(self, hour: datetime, now: datetime) -> list[SessionFamily]:
        """Sessions (of any realm) that signed a client in, whose end falls within
        ``hour`` and is past at ``now``, and that nothing revoked: an index read of only
        those, never a scan."""
        ...

    def end_sweep_cursor(self) -> datetime | None:
        """The last hour the sweep of ended sessions covered completely."""
        ...

    def set_end_sweep_cursor(self, hour: datetime) -> None: ...


class TaskQueue(Protocol):
    def enqueue(self, task: Task) -> None:
        """Hand ``task`` to a worker; raises TaskQueueError if it cannot be queued."""
        ...

    def enqueue_many(self, tasks: Sequence[Task]) -> None:
        """Queue many tasks (batched); raises TaskQueueError if any could not be queued
        (those that were stay queued: tasks are safe to run twice)."""
        ...


class Counters(Protocol):
    """Fixed-window counters with expiry, for rate limits (keys are opaque strings)."""

    def increment(self, key: str, *, window: timedelta, now: datetime) -> int:
        """Add one to ``key`` in the current fixed window of length ``window``; the new count."""
        ...


class Mailer(Protocol):
    def send(self, message: MailMessage) -> str:
        """Render and send; returns the provider's message id. Raises MailDeliveryError."""
        ...


class GsisProvider(Protocol):
    def authorization_url(self, state: str) -> str: ...

    def fetch_identity(self, code: str) -> GsisIdentity:
        """Exchange the code and read userinfo. Raises IdentityProviderError."""
        ...

    def logout_url(self, return_url: str) -> str: ...


class Sealer(Protocol):
    """Authenticated encryption of small values with a key only the service holds
    (device cookies, second-factor secrets): nobody else can make, read or alter one."""

    def seal(self, data: bytes) -> str:
        """A URL- and cookie-safe sealed form of ``data`` (it records when it was sealed)."""
        ...

    def open(self, sealed: str, *, max_age: timedelta | None = None) -> bytes | None:
        """``data`` again; None when ``sealed`` is not ours, was altered, or is older than ``max_age``."""
        ...


class TokenSigner(Protocol):
    def sign(self, claims: dict[str, Any], *, typ: str = "at+jwt") -> str:
        """An RS256 JWT with the realm key; ``typ`` tells access tokens (``at+jwt``), ID
        tokens (``JWT``) and logout tokens (``logout+jwt``) apart, so none passes for
        another."""
        ...

    def verify(
        self,
        token: str,
        *,
        issuer: str,
        now: datetime,
        audience: str | None = "mitroo",
        typ: str = "at+jwt",
        check_expiry: bool = True,
    ) -> dict[str, Any]:
        """Verified claims; raises Unauthorized on any defect. ``audience`` None accepts
        any audience (the provider's tokens name their client); the API's own access
        tokens are checked against ``mitroo``, so a client's token never opens the API."""
        ...

    def jwks(self) -> dict[str, Any]: ...


class FileStore(Protocol):
    """Uploaded spreadsheets and their reports (S3)."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str, *, max_bytes: int) -> bytes | None:
        """The object's content, or None if there is none. Raises FileTooLarge beyond
        ``max_bytes`` without reading it."""
        ...

    def exists(self, key: str) -> bool: ...

    def upload_url(self, key: str, content_type: str, expires_in: timedelta) -> str:
        """A presigned URL a client PUTs the file to (for files beyond the API's limit)."""
        ...


class JobRepository(Protocol):
    def create(self, job: Job) -> None: ...

    def get(self, realm: str, job_id: str) -> Job | None: ...

    def mark_uploaded(self, realm: str, job_id: str, now: datetime) -> bool:
        """The presigned upload arrived; False if it had been marked already."""
        ...

    def mark_running(self, realm: str, job_id: str, total: int, now: datetime) -> None: ...

    def save_chunk(self, realm: str, job_id: str, index: int, outcomes: Sequence[RowOutcome], now: datetime) -> bool:
        """Store a chunk's outcomes and add them to the job's counters, atomically;
        False (and nothing changed) when that chunk was stored already."""
        ...

    def done_chunks(self, realm: str, job_id: str) -> set[int]:
        """Indexes of the chunks whose outcomes are stored."""
        ...

    def outcomes(self, realm: str, job_id: str) -> list[RowOutcome]:
        """Every stored outcome, in row order."""
        ...

    def finish(self, realm: str, job_id: str, status: JobStatus, now: datetime, reason: str = "") -> None: ...


class EuLoginProvider(Protocol):
    """EU Login (OIDC): authorization code with PKCE S256 and ``client_secret_jwt``."""

    def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        """The authorize URL (``scope=openid email profile``, S256 challenge of
        ``code_verifier``, ``nonce``), from the discovery document."""
        ...

    def fetch_identity(self, *, code: str, code_verifier: str, nonce: str) -> EuLoginIdentity:
        """Exchange the code and validate the ID token: signature (PS512 or RS256, keys
        from the JWKS, cached), issuer, audience, expiry, nonce.

        Raises IdentityProviderError for every defect, including an unreachable provider.
        """
        ...


class EsepRepository(Protocol):
    """Members, organisations, projects and legacy records of realm ``esep``.

    Writes of versioned records (:class:`Member`, :class:`Organisation`,
    :class:`Project`) succeed only when the stored ``version`` equals the record's, and
    store ``version + 1`` (the passed object is updated); otherwise StaleRecord. Items
    the NSO must look at (members ``registered``, organisations that
    :attr:`~Organisation.awaits_nso`, projects ``accepted``) are listed by
    :meth:`pending` without a scan; the repository keeps that list in step with every
    write.
    """

    def register(
        self,
        account: Account,
        member: Member,
        *,
        consume_flow: str,
        now: datetime,
        audit: AuditEntry,
        migrate_legacy: str | None = None,
    ) -> None:
        """Create the account (guards, as AccountRepository.create), its member record,
        its audit entry, mark the flow used, and with ``migrate_legacy`` (a normalised
        e-mail) remove that legacy record — all in one transaction.

        Raises DuplicateValue, FlowAlreadyUsed, and StaleRecord when the legacy record
        is gone.
        """
        ...

    def get_member(self, account_id: str) -> Member | None: ...

    def get_members(self, account_ids: Sequence[str]) -> dict[str, Member]:
        """Batched reads; unknown ids are missing from the answer."""
        ...

    def save_member(self, member: Member, *, audit: AuditEntry | None = None) -> None:
        """Save a versioned member record (with ``audit``, in the same transaction)."""
        ...

    def search_members(self, *, country: str | None, text: str, subject: str | None, limit: int) -> list[Member]:
        """Searchable members whose :meth:`~Member.search_text` contains ``text`` (already a
        :func:`~chalicelib.domain.esep.search_key`), of ``country`` if given, teaching
        ``subject`` if given; by name."""
        ...

    def create_organisation(self, organisation: Organisation) -> None: ...

    def get_organisation(self, organisation_id: str) -> Organisation | None: ...

    def get_organisations(self, organisation_ids: Sequence[str]) -> dict[str, Organisation]: ...

    def save_organisation(self, organisation: Organisation) -> None: ...

    def search_organisations(self, *, country: str | None, text: str, limit: int) -> list[Organisation]:
        """Organisations (not rejected) whose search text contains ``text``; by name."""
        ...

    def create_project(self, project: Project) -> None:
        """Store a new project and file it under its owner and its partner."""
        ...

    def get_project(self, project_id: str) -> Project | None: ...

    def save_project(self, project: Project, *, joined: Sequence[str] = ()) -> None:
        """Write a changed project; file it under the accounts in ``joined`` (people who
        just joined it) in the same transaction."""
        ...

    def projects_of(self, account_id: str) -> list[Project]:
        """The projects filed under ``account_id`` (founded, invited to, added to), newest
        first."""
        ...

    def pending(self, country: str) -> tuple[list[Member], list[Organisation], list[Project]]:
        """What waits for the NSO of ``country``, oldest first."""
        ...

    def put_legacy(self, legacy: LegacyMember) -> None: ...

    def get_legacy(self, email: str) -> LegacyMember | None: ...

    def decline_legacy(self, email: str, subject: str) -> None:
        """Note that ``subject`` was offered the legacy record and declined it."""
        ...


# --- the OpenID Provider (SPEC §2.8) ---------------------------------------------------------


class OidcClientRepository(Protocol):
    def create(self, client: OidcClient) -> None:
        """Store a new client (its id is fresh and random: no condition needed)."""
        ...

    def get(self, realm: str, client_id: str) -> OidcClient | None: ...

    def list(self, realm: str) -> list[OidcClient]:
        """Every client of the realm (one query: they share a partition)."""
        ...

    def save(self, client: OidcClient) -> bool:
        """Replace a stored client (a new secret, new URIs); False when it is gone."""
        ...

    def remove(self, realm: str, client_id: str) -> bool: ...


class OidcGrantRepository(Protocol):
    def issue(self, grant: OidcGrant, *, browser_hash: str, now: datetime, expect: Expectations | None = None) -> bool:
        """Store the grant (its code pending) and add its client and id to its session,
        in one transaction that holds only while the session is live and still belongs
        to the browser holding ``browser_hash`` (and, with ``expect``, while everything it
        names holds). False when it does not."""
        ...

    def redeem(
        self,
        grant_id: str,
        *,
        code_hash: str,
        client_id: str,
        now: datetime,
        refresh_hash: str | None,
        refresh_expires_at: datetime | None,
    ) -> OidcGrant | None:
        """Spend the code and set the first refresh token, atomically: the grant as
        redeemed, or None when the code is unknown, spent, expired, another client's or
        its grant revoked (exactly one of concurrent redemptions wins). The caller checks
        the grant's own end (a code lives a minute; a session may end within it)."""
        ...

    def rotate(
        self,
        grant_id: str,
        *,
        client_id: str,
        old_hash: str,
        new_hash: str,
        slot: str,
        expires_at: datetime,
        scopes: Sequence[str],
        now: datetime,
    ) -> OidcGrant | None:
        """Replace the refresh token ``old_hash`` by ``new_hash`` (remembering the old one
        in ``slot`` of the spent ones), while the grant is live, the client's, still holds
        every scope of ``scopes`` and the old token unexpired; None otherwise."""
        ...

    def get(self, grant_id: str) -> OidcGrant | None: ...

    def revoke(self, grant_id: str, now: datetime) -> bool:
        """Revoke the grant; False if it was revoked already or is unknown."""
        ...

    def remember_assertion(self, client_id: str, jti: str, expires_at: datetime) -> bool:
        """Note a client assertion's ``jti``; False when it was seen (a replay)."""
        ...


class ConsentRepository(Protocol):
    def grant(self, consent: Consent) -> None:
        """Remember the scopes (added to what the person allowed the client before)."""
        ...

    def get(self, realm: str, account_id: str, client_id: str) -> Consent | None: ...

    def list(self, realm: str, account_id: str) -> list[Consent]: ...

    def revoke(self, realm: str, account_id: str, client_id: str, *, audit: AuditEntry | None = None) -> bool:
        """Forget the consent (False if there was none); ``audit`` goes in the same write."""
        ...


class OidcLookup(Protocol):
    """The reads of the provider's hot paths, one round trip each (SPEC §5)."""

    def authorization_context(
        self, realm: str, account_id: str, family_id: str, client_id: str
    ) -> tuple[SessionFamily | None, Account | None, Consent | None]:
        """A browser session, its account and the account's consent for the client."""
        ...

    def userinfo_context(
        self, realm: str, account_id: str, grant_id: str, *, with_member: bool
    ) -> tuple[OidcGrant | None, Account | None, Member | None]:
        """A grant, its account and (esep, when asked) the account's member record."""
        ...


class OutboundHttp(Protocol):
    """Requests to addresses a client registered (back-channel logout, its JWKS).

    A deployed stage refuses loopback, link-local and private addresses (SSRF); local
    and test runs allow loopback. Raises OutboundRefused for such an address and
    OutboundFailed when the request fails or answers other than 2xx.
    """

    def post_form(self, url: str, fields: dict[str, str]) -> int: ...

    def get_json(self, url: str) -> Any: ...

    def refusal(self, url: str) -> str | None:
        """Why ``url`` would be refused, judged without a DNS lookup (registration: a
        literal private address, a scheme this stage does not call); None otherwise."""
        ...


# --- second factors (SPEC §2.9) ---------------------------------------------------------------


class FactorRepository(Protocol):
    """An account's second factors and recovery codes, in the account's own partition.

    The account and its login record carry the number of confirmed factors
    (``Account.second_factors``, ``LoginRecord.second_factors``): every write that
    confirms, adds or removes one moves that number in the same transaction, so a
    password login knows whether a second step follows without reading anything more.
    The login record also keeps a copy of what the second step needs
    (``LoginRecord.factors``, :class:`~chalicelib.domain.mfa.FactorCopy`: the confirmed
    TOTP factors' sealed keys, the count of recovery codes left), written in the same
    transaction, so that password step reads no factor list either.
    Every change carries its audit entry into that transaction too. ``login_key`` names
    the login record (``Account.login_key``: the casefolded username, or the EU Login
    subject).
    """

    def overview(self, realm: str, account_id: str) -> tuple[list[Factor], RecoveryCodes | None]:
        """The account's factors (confirmed and pending, oldest first) and its recovery
        codes, in one query."""
        ...

    def get(self, realm: str, account_id: str, factor_id: str) -> Factor | None: ...

    def add_pending(self, factor: Factor) -> None:
        """Store an unconfirmed factor (a TOTP secret shown for enrolment); it expires."""
        ...

    def confirm(
        self,
        factor: Factor,
        *,
        step: int,
        login_key: tuple[UniqueKind, str],
        now: datetime,
        audit: AuditEntry,
        recovery: RecoveryCodes | None = None,
    ) -> bool:
        """Confirm a pending factor whose first code was for ``step``; with ``recovery``,
        store the account's first recovery codes too. False (nothing written) when it is
        no longer pending: confirmed by a racing request, removed, or unknown."""
        ...

    def add(
        self,
        factor: Factor,
        *,
        login_key: tuple[UniqueKind, str],
        audit: AuditEntry,
        recovery: RecoveryCodes | None = None,
    ) -> None:
        """Store a confirmed factor (a WebAuthn credential).

        Raises
        ------
        DuplicateValue
            ("credential") the credential id is registered already, to any account.
        """
        ...

    def remove(
        self, factor: Factor, *, login_key: tuple[UniqueKind, str], audit: AuditEntry, drop_recovery: bool = False
    ) -> bool:
        """Remove the factor (and, with ``drop_recovery``, the recovery codes: the last
        factor is gone); False when it was gone already."""
        ...

    def remove_all(self, realm: str, account_id: str, *, login_key: tuple[UniqueKind, str], audit: AuditEntry) -> int:
        """Remove every factor and the recovery codes (an administrator's reset); how
        many confirmed factors there were."""
        ...

    def use_totp_step(self, realm: str, account_id: str, factor_id: str, step: int, now: datetime) -> bool:
        """Accept a code of ``step`` once: True for exactly one caller, and only while
        ``step`` is later than the last accepted one (replays in the window refused)."""
        ...

    def use_credential(
        self, realm: str, account_id: str, factor_id: str, *, seen_count: int, new_count: int, now: datetime
    ) -> bool:
        """Record a WebAuthn assertion's signature counter, only while the stored one is
        still ``seen_count`` (a racing assertion of a cloned key loses)."""
        ...

    def replace_recovery_codes(
        self, codes: RecoveryCodes, *, login_key: tuple[UniqueKind, str], audit: AuditEntry
    ) -> None:
        """A new set; the old codes stop working."""
        ...


class AccountDirectory(Protocol):
    """Finding accounts for the administration consoles (``domain/directory.py``):
    index queries only, never a scan. Each page reads at most ``limit`` index entries
    and then the accounts they name in one batched read, so a page costs at most
    ``2 × limit`` items whatever the realm holds. Entries are written by the
    AccountRepository with the account; hits are returned as read (the caller checks
    them against the account, which may have changed since)."""

    def search(self, realm: str, prefix: str, *, limit: int, after: str | None = None) -> DirectoryPage:
        """Entries whose folded key starts with ``prefix`` (already folded, non-empty),
        in key order, from ``after`` (a page's ``after``)."""
        ...

    def with_role(self, realm: str, role: str, *, limit: int, after: str | None = None) -> DirectoryPage:
        """The accounts listed under ``role``, in username order."""
        ...


class AuditSearch(Protocol):
    """Reading the audit log by account, actor or action (each an index), newest first."""

    def search(self, realm: str, query: AuditQuery, *, limit: int, after: str | None = None) -> AuditPage:
        """At most ``limit`` entries *examined* from ``after``: entries of the index the
        query names first (account, else actor, else action) within its period, the
        other criteria applied to them, so a page may hold fewer than it examined and
        still have an ``after``. Raises ValueError for a query naming none of the three."""
        ...


class HelpdeskRepository(Protocol):
    """Support tickets as the helpdesk's queue (``domain/helpdesk.py``)."""

    def open(self, ticket: SupportTicket) -> None:
        """Store a new ticket (refused if its hash exists)."""
        ...

    def get(self, realm: str, ticket_hash: str) -> SupportTicket | None:
        """The ticket of ``realm`` with its replies, oldest first (expired or not: the
        caller checks)."""
        ...

    def queue(self, realm: str, status: TicketStatus, *, limit: int, after: str | None = None) -> TicketPage:
        """Tickets in ``status``, oldest first (without their replies)."""
        ...

    def reply(
        self, realm: str, ticket_hash: str, reply: TicketReply, status: TicketStatus, *, audit: AuditEntry
    ) -> bool:
        """Keep ``reply`` on the ticket and move it to ``status``, audited in the same
        write; False (nothing written) for an unknown or closed ticket."""
        ...

    def set_status(
        self, realm: str, ticket_hash: str, status: TicketStatus, *, now: datetime, audit: AuditEntry
    ) -> bool:
        """Move the ticket to ``status``, audited in the same write; False for an unknown ticket."""
        ...

    def sent_from(self, realm: str, email: str) -> list[SupportTicket]:
        """The tickets of ``realm`` sent from ``email`` (compared as ``normalise_email``
        does), each with its replies: the person's own data (export, erasure). Read
        through an index by the address's fingerprint, never a scan."""
        ...


class PersonalDataRepository(Protocol):
    """A person's scheduled deletion and the erasure of their data (SPEC §2.10)."""

    def schedule_deletion(self, realm: str, account_id: str, due: date, *, audit: AuditEntry) -> date | None:
        """Record ``due`` on the account and file it in the index of deletions by day,
        with ``audit``, in one write. None when scheduled now; the day already set (and
        nothing written) when a deletion was scheduled before. LookupError for an unknown
        account."""
        ...

    def cancel_deletion(self, realm: str, account_id: str, *, audit: AuditEntry) -> bool:
        """Take the account out of the index and forget ``deletion_due``, with ``audit``,
        in one write; False (nothing written) when no deletion is scheduled or the erasure
        has begun."""
        ...

    def deletions_due(self, realm: str, as_of: date) -> list[tuple[str, date]]:
        """(account id, due day) of the deletions of ``realm`` due on ``as_of`` or before,
        oldest first: read from the index, never the table."""
        ...

    def erase(self, realm: str, account_id: str, *, as_of: date, tombstone: AuditEntry) -> bool:
        """Erase the person's data if the account's deletion is due by ``as_of``: the
        account, its uniqueness guards (released) and login record, second factors and
        credentials, consents, sessions, challenges, directory entries, the audit entries
        about it, the support tickets sent from its address, its eTwinning member record,
        project links and legacy record; then write ``tombstone`` (no personal data).

        True when this call finished the erasure; False when there was nothing to erase
        (no such account, no deletion due, erased by a concurrent call). Safe to repeat
        after a failure part-way: every step deletes what is still there. Once started,
        the deletion can no longer be cancelled."""
        ...
