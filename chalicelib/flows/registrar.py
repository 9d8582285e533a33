"""Accounts a registrar creates (NTUA, seed 004), and the student registry.

The rules come from the seed: the external e-mail is required and is never an address
of the institution; the username contains the person's full surname in Latin letters;
an undergraduate username is never issued again once its holder graduates; a person who
held a non-undergraduate account before (an earlier postgraduate programme, an external
collaborator) gets that account back with the new role instead of a second one. The
same rules serve the single-account API and each spreadsheet row.

New accounts have no password: the welcome mail carries the username and a set-password
link (7 days) and code.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from chalicelib.domain.accounts import AFFILIATIONS, REGISTRY_LINK, Account, AccountStatus, UniqueKind
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.emails import valid_email
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.oidc import EndReason
from chalicelib.domain.registry import RegistryEntry, RegistryStatus
from chalicelib.domain.transliteration import elot743, username_contains_surname
from chalicelib.errors import (
    DuplicateValue,
    EmailTaken,
    FlowError,
    InvalidInput,
    NotFound,
    RegistryNumberTaken,
    UsernameTaken,
)
from chalicelib.flows.passwords import Passwords
from chalicelib.flows.session_ending import SessionEnding
from chalicelib.ports import AccountRepository, AuditLog, Clock, RegistryRepository, SecretSource
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

LIVE_REASON = "has a live undergraduate account (one per registry number)"
GRADUATED_REASON = "the registry marks it graduated: no undergraduate account is issued for it"

USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,31}")
REGISTRY_NUMBER = re.compile(r"[0-9A-Za-z-]{1,32}")


class ForbiddenEmailDomain(FlowError):
    """The external e-mail belongs to the institution itself."""

    code = "forbidden_email_domain"
    title = "The external e-mail must not be an address of the institution."


@dataclass(frozen=True)
class Actor:
    """Who makes a change, for the audit log: an account id or ``system:…``/``operator:…``."""

    id: str
    address: str = ""


@dataclass(frozen=True)
class NewAccount:
    affiliation: str
    first_name: str
    last_name: str
    father_name: str
    mother_name: str
    external_email: str
    registry_number: str
    username: str | None = None
    expires_on: date | None = None
    mobile: str | None = None
    previous_username: str | None = None
    details: dict[str, str] = field(default_factory=dict)
    """Address, area, postcode, supervisor and the like: kept with the account."""


@dataclass(frozen=True)
class Outcome:
    account: Account
    created: bool
    """False when an earlier non-undergraduate account was reactivated instead."""


@dataclass(frozen=True)
class Registrar:
    accounts: AccountRepository
    registry: RegistryRepository
    passwords: Passwords
    audit: AuditLog
    clock: Clock
    secrets: SecretSource
    ending: SessionEnding

    # -- checking ---------------------------------------------------------------------------

    def check(self, realm: RealmConfig, new: NewAccount) -> NewAccount:
        """Validate and normalise ``new`` without writing anything (dry runs use this).

        Raises
        ------
        NotFound
            the realm has no registrar.
        InvalidInput, InvalidEmail, ForbiddenEmailDomain
            a rule of seed 004 is broken; the message names it.
        """
        if realm.registrar is None:
            raise NotFound("This realm's accounts are not created by a registrar.")
        errors: dict[str, list[str]] = {}
        if new.affiliation not in AFFILIATIONS:
            errors["kind"] = [f"must be one of {', '.join(AFFILIATIONS)}"]
        names = {
            key: " ".join((value or "").split())
            for key, value in (
                ("first_name", new.first_name),
                ("last_name", new.last_name),
                ("father_name", new.father_name),
                ("mother_name", new.mother_name),
            )
        }
        for key, value in names.items():
            if not value:
                errors[key] = ["is required"]
        email = valid_email(new.external_email, field="external_email")
        # Details are kept with the account and shown or mailed later: one line each, and
        # the supervisor's address checked like every other (the sheet path checks it too).
        details = {key: " ".join(value.split()) for key, value in new.details.items() if value and value.strip()}
        if "supervisor_email" in details:
            details["supervisor_email"] = valid_email(details["supervisor_email"], field="supervisor_email")
        domain = email.rsplit("@", 1)[1].casefold()
        if any(domain == d or domain.endswith("." + d) for d in realm.registrar.institutional_domains):
            raise ForbiddenEmailDomain(
                errors={
                    "external_email": ["must be an address outside the institution (not central.ntua.gr, mail.ntua.gr)"]
                }
            )
        registry_number = (new.registry_number or "").strip()
        if not REGISTRY_NUMBER.fullmatch(registry_number):
            errors["registry_number"] = ["must be 1 to 32 letters, digits or dashes"]
        username = (new.username or "").strip().casefold() or None
        if username is not None:
            if not USERNAME.fullmatch(username):
                errors["username"] = ["must be 3 to 32 Latin letters, digits, dots, dashes or underscores"]
            elif names["last_name"] and not username_contains_surname(username, names["last_name"]):
                errors["username"] = ["must contain the full surname in Latin letters (ELOT 743)"]
        today = self.clock.now().date()
        if new.expires_on is not None and new.expires_on <= today:
            errors["expires_on"] = ["must be in the future"]
        if errors:
            raise InvalidInput(errors=errors)
        return NewAccount(
            affiliation=new.affiliation,
            username=username,
            external_email=email,
            registry_number=registry_number,
            expires_on=new.expires_on,
            mobile=(new.mobile or "").strip() or None,
            previous_username=(new.previous_username or "").strip().casefold() or None,
            details=details,
            **names,
        )

    def previous_account(self, realm: RealmConfig, new: NewAccount) -> Account | None:
        """The account to reactivate for a declared previous username, if any.

        Raises
        ------
        InvalidInput
            the previous username is unknown, or is an undergraduate's whom the
            registry has not declared a graduate.
        """
        if new.previous_username is None:
            return None
        previous = self.accounts.find_by_unique(realm.id, UniqueKind.USERNAME, new.previous_username)
        if previous is None:
            raise InvalidInput(errors={"previous_username": ["no account has this username"]})
        if previous.affiliation == "undergraduate":
            entry = self.registry.get(realm.id, previous.registry_number or "")
            if entry is None or entry.status is not RegistryStatus.GRADUATED:
                raise InvalidInput(errors={"previous_username": ["not yet declared a graduate"]})
            return None  # retired for good: a new account is made
        return previous

    # -- applying ---------------------------------------------------------------------------

    def create(self, realm: RealmConfig, new: NewAccount, actor: Actor) -> Outcome:
        """Create the account (or reactivate the earlier one) and send the welcome mail.

        Raises as :meth:`check` and :meth:`previous_account`, and UsernameTaken or
        EmailTaken (usernames are never reissued, retired ones included), and
        RegistryNumberTaken for an undergraduate whose registry number already has its
        undergraduate account or has graduated.
        """
        new = self.check(realm, new)
        previous = self.previous_account(realm, new)
        if previous is not None:
            return Outcome(self.reactivate(realm, previous, new, actor), created=False)
        now = self.clock.now()
        username = new.username or self._assign_username(realm, new)
        account = build_account(realm, new, account_id=self.secrets.identifier(), username=username, now=now)
        created = audit_entry(
            realm, account.account_id, "account_created", actor, now, {"affiliation": new.affiliation}
        )
        try:
            self.accounts.create(account, audit=created)  # an undergraduate's registry link is in it too
        except DuplicateValue as exc:
            if exc.kind == str(UniqueKind.EMAIL):
                raise EmailTaken(errors={"external_email": ["another account has this address"]}) from None
            if exc.kind == REGISTRY_LINK:
                raise RegistryNumberTaken(
                    errors={"registry_number": [self.registry_refusal(realm, account.registry_number or "")]}
                ) from None
            raise UsernameTaken(errors={"username": ["taken (usernames are never issued twice)"]}) from None
        self.passwords.invite_setup(realm, account.account_id)
        return Outcome(account, created=True)

    def reactivate(self, realm: RealmConfig, previous: Account, new: NewAccount, actor: Actor) -> Account:
        """Give an earlier non-undergraduate account the new role and expiry (seed 004)."""
        expires_on = new.expires_on or previous.expires_on or self.clock.now().date()
        now = self.clock.now()
        details = {"affiliation": new.affiliation, "expires_on": expires_on.isoformat()}
        self.accounts.set_expiry(
            realm.id,
            previous.account_id,
            expires_on,
            now,
            affiliation=new.affiliation,
            reactivate=True,
            audit=audit_entry(realm, previous.account_id, "account_reactivated", actor, now, details),
        )
        account = self.accounts.get(realm.id, previous.account_id)
        assert account is not None
        return account

    def _assign_username(self, realm: RealmConfig, new: NewAccount) -> str:
        """First initial and surname (ELOT 743), then a number if that is taken."""
        surname = re.sub(r"[^a-z]", "", elot743(new.last_name.split()[0] if new.last_name else ""))
        initial = re.sub(r"[^a-z]", "", elot743(new.first_name))[:1]
        base = (initial + surname)[:28] or "user"
        for suffix in ["", *(str(n) for n in range(2, 1000))]:
            # Retired usernames keep their guard, so they count as held too.
            if self.accounts.find_by_unique(realm.id, UniqueKind.USERNAME, base + suffix) is None:
                return base + suffix
        raise UsernameTaken(errors={"username": ["no free username could be assigned; choose one"]})

    # -- the registry -----------------------------------------------------------------------

    def set_registry(
        self, realm: RealmConfig, registry_number: str, level: str, status: RegistryStatus, actor: Actor
    ) -> RegistryEntry:
        """Record an entry; an undergraduate's graduation retires their account for good."""
        if realm.registrar is None:
            raise NotFound("This realm has no student registry.")
        if not REGISTRY_NUMBER.fullmatch(registry_number):
            raise InvalidInput(errors={"registry_number": ["must be 1 to 32 letters, digits or dashes"]})
        if level not in AFFILIATIONS:
            raise InvalidInput(errors={"level": [f"must be one of {', '.join(AFFILIATIONS)}"]})
        now = self.clock.now()
        self.registry.put(RegistryEntry(realm.id, registry_number, level, status, now))
        entry = self.registry.get(realm.id, registry_number)
        assert entry is not None
        if level == "undergraduate" and status is RegistryStatus.GRADUATED and entry.account_id:
            self._retire(realm, entry.account_id, actor)
        return entry

    def registry_refusal(self, realm: RealmConfig, registry_number: str) -> str:
        """Why the registry refuses an undergraduate account for ``registry_number``."""
        entry = self.registry.get(realm.id, registry_number)
        if entry is not None and entry.status is RegistryStatus.GRADUATED:
            return GRADUATED_REASON
        return LIVE_REASON

    def _retire(self, realm: RealmConfig, account_id: str, actor: Actor) -> None:
        """Disable for good and end its sessions; the username guard stays, so the name
        is never issued again."""
        now = self.clock.now()
        entry = audit_entry(realm, account_id, "account_retired", actor, now, {"reason": "graduated"})
        for expected in (AccountStatus.ACTIVE, AccountStatus.EXPIRED, AccountStatus.PENDING_ACTIVATION):
            if self.accounts.set_status(
                realm.id, account_id, AccountStatus.DISABLED, expected=expected, now=now, audit=entry
            ):
                self.ending.end_all(
                    realm.id, account_id, EndReason.ACCOUNT_RETIRED, actor=actor.id, address=actor.address
                )
                return


def audit_entry(
    realm: RealmConfig, account_id: str, action: str, actor: Actor, at: datetime, details: dict[str, str]
) -> AuditEntry:
    return AuditEntry(realm.id, account_id, action, actor.id, at, actor.address, details)


def build_account(realm: RealmConfig, new: NewAccount, *, account_id: str, username: str, now: datetime) -> Account:
    """The account a checked :class:`NewAccount` becomes: active, with no password yet."""
    return Account(
        account_id=account_id,
        realm=realm.id,
        username=username,
        email=new.external_email,
        status=AccountStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        identity=GsisIdentity(
            afm="",
            last_name=new.last_name,
            first_name=new.first_name,
            father_name=new.father_name,
            mother_name=new.mother_name,
            birth_year="",
        ),
        registry_number=new.registry_number,
        mobile=new.mobile,
        language=realm.default_language,
        affiliation=new.affiliation,
        expires_on=new.expires_on,
        extra=dict(new.details),
    )
