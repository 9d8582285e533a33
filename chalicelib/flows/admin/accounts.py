"""Acting on one account from the console (SPEC §2.11 ``/admin/accounts/{id}/…``).

Every action names its actor and, where it takes something away, its reason; each is
audited — a change in the very write that makes it (``audit=`` of the repositories),
an action that changes nothing stored (a mail sent, attempts forgotten) as it is taken.
Authority that is taken away goes at once: disabling an account, changing its roles and
removing its second factors end every session the person has, through the one place
sessions end (``flows/session_ending.py``: revocation, the applications' grants revoked,
back-channel logout to each of them), so no access, refresh or application token issued
before keeps working for a moment longer.

Staff act on the people of their realm: only an admin acts on a member of staff, and
nobody disables or re-roles their own account (``capabilities.require_authority_over``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.audit import AuditEntry, AuditQuery, audit
from chalicelib.domain.mail import MailMessage
from chalicelib.domain.oidc import EndReason
from chalicelib.domain.registry import RegistryStatus
from chalicelib.domain.tasks import Task
from chalicelib.domain.tokens import Purpose, SessionFamily
from chalicelib.errors import Forbidden, InvalidInput, MailDeliveryError, NotFound
from chalicelib.flows.activation import SEND as ACTIVATION_MAIL
from chalicelib.flows.activation import Activation
from chalicelib.flows.admin.capabilities import (
    NSO,
    STAFF_ROLES,
    Staff,
    assignable_roles,
    require_authority_over,
)
from chalicelib.flows.challenges import Challenges
from chalicelib.flows.esep.rules import clean_country
from chalicelib.flows.links import Links
from chalicelib.flows.mfa.enrolment import CHANGED_MAIL as FACTORS_CHANGED_MAIL
from chalicelib.flows.passwords import Passwords
from chalicelib.flows.session_ending import SessionEnding
from chalicelib.flows.throttling import Throttle
from chalicelib.ports import (
    AccountRepository,
    AuditLog,
    AuditSearch,
    Clock,
    FactorRepository,
    Mailer,
    RegistryRepository,
    SessionRepository,
    TaskQueue,
)
from chalicelib.realms import RealmConfig, get_realm

log = logging.getLogger(__name__)

REASON_LENGTH = (3, 500)
RECENT_AUDIT = 20
ADMIN_RESET_MAIL = "admin.password_reset"
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Standing:
    """One reason an account is as it is (``code`` names it; the pages word it)."""

    code: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountDetails:
    account: Account
    standing: list[Standing]
    sessions: list[SessionFamily]
    factors: list[dict[str, str]]
    """Second factors, without secrets: kind, label, when added and last used; and how
    many unused recovery codes are left."""
    audit: list[AuditEntry]
    """The latest entries, newest first."""


def clean_reason(reason: str | None, *, required: bool = True) -> str:
    text = " ".join((reason or "").split())
    low, high = REASON_LENGTH
    if (required or text) and not low <= len(text) <= high:
        raise InvalidInput(errors={"reason": [f"must be {low} to {high} characters long"]})
    return text


@dataclass(frozen=True)
class AccountAdministration:
    accounts: AccountRepository
    registry: RegistryRepository
    sessions: SessionRepository
    ending: SessionEnding
    audit_log: AuditLog
    audit_search: AuditSearch
    passwords: Passwords
    activation: Activation
    challenges: Challenges
    throttle: Throttle
    mailer: Mailer
    tasks: TaskQueue
    clock: Clock
    links: Links
    factors: FactorRepository

    # -- reading ---------------------------------------------------------------------------

    def account(self, realm: RealmConfig, account_id: str) -> Account:
        """The account of ``realm`` with that id. Raises NotFound (also for ids that
        cannot be ids: no lookup is spent on them)."""
        found = self.accounts.get(realm.id, account_id) if _ACCOUNT_ID.fullmatch(account_id or "") else None
        if found is None:
            raise NotFound("There is no such account in this realm.")
        return found

    def details(self, realm: RealmConfig, account_id: str) -> AccountDetails:
        """What the account page shows: profile, standing and why, roles, factors
        without secrets, live sessions, the latest audit entries."""
        account = self.account(realm, account_id)
        recent = self.audit_search.search(realm.id, AuditQuery(account=account_id), limit=RECENT_AUDIT).entries
        return AccountDetails(
            account=account,
            standing=self.standing(realm, account, recent),
            sessions=self.live_sessions(realm, account_id),
            factors=self._factors(realm, account_id),
            audit=recent,
        )

    def standing(self, realm: RealmConfig, account: Account, recent: list[AuditEntry]) -> list[Standing]:
        """Why the account is as it is, and what stops its owner signing in."""
        today = self.clock.now().date()
        found: list[Standing] = []
        if account.status is AccountStatus.DISABLED:
            cause = next((e for e in recent if e.action in ("account_disabled", "account_retired")), None)
            if cause is not None and cause.action == "account_retired":
                found.append(Standing("retired", {"reason": cause.details.get("reason", "")}))
            elif cause is not None:
                found.append(
                    Standing(
                        "disabled",
                        {
                            "reason": cause.details.get("reason", ""),
                            "by": cause.actor,
                            "at": cause.at.isoformat()[:16].replace("T", " "),
                        },
                    )
                )
            else:
                found.append(Standing("disabled_unexplained"))
        elif account.status is AccountStatus.EXPIRED or account.is_past_expiry(today):
            found.append(Standing("expired", {"on": account.expires_on.isoformat() if account.expires_on else ""}))
        elif account.status is AccountStatus.PENDING_ACTIVATION:
            found.append(Standing("pending_activation"))
        else:
            found.append(Standing("active"))
        if realm.password_policy is not None and not account.password_hash and account.status is AccountStatus.ACTIVE:
            found.append(Standing("no_password"))
        if realm.identity_source == "gsis" and not account.gsis_verified and not set(account.roles) & set(STAFF_ROLES):
            found.append(Standing("certification_required"))
        if account.expires_on is not None and not account.is_past_expiry(today):
            found.append(Standing("expires", {"on": account.expires_on.isoformat()}))
        return found

    def live_sessions(self, realm: RealmConfig, account_id: str) -> list[SessionFamily]:
        return self.sessions.live_families(realm.id, account_id, self.clock.now())

    def _factors(self, realm: RealmConfig, account_id: str) -> list[dict[str, str]]:
        factors, codes = self.factors.overview(realm.id, account_id)
        listed = [
            {
                "factor_id": factor.factor_id,
                "kind": str(factor.kind),
                "label": factor.label,
                "added": factor.created_at.isoformat(),
                "last_used": factor.last_used_at.isoformat() if factor.last_used_at else "",
            }
            for factor in factors
            if factor.confirmed
        ]
        if codes is not None and codes.hashes:
            listed.append(
                {"kind": "recovery_codes", "label": str(len(codes.hashes)), "added": codes.created_at.isoformat()}
            )
        return listed

    # -- status ----------------------------------------------------------------------------

    def disable(self, realm: RealmConfig, account_id: str, reason: str | None, staff: Staff) -> Account:
        """Disable the account and end its sessions at once. Disabling a disabled
        account changes nothing (a second click is not an error).

        Raises NotFound, Forbidden (own account, or staff by a non-admin), InvalidInput
        (no reason).
        """
        text = clean_reason(reason)
        account = self.account(realm, account_id)
        require_authority_over(staff.account_id, staff.roles, account.account_id, account.roles, self_allowed=False)
        for _ in range(3):  # the status may change under us (activation, expiry): read again
            if account.status is AccountStatus.DISABLED:
                break
            now = self.clock.now()
            entry = audit(
                realm.id,
                account_id,
                "account_disabled",
                actor=staff.account_id,
                at=now,
                reason=text,
                previous=str(account.status),
            )
            if self.accounts.set_status(
                realm.id, account_id, AccountStatus.DISABLED, expected=account.status, now=now, audit=entry
            ):
                break
            account = self.account(realm, account_id)
        self.end_sessions(realm, account_id, EndReason.ACCOUNT_DISABLED, staff)
        return self.account(realm, account_id)

    def enable(self, realm: RealmConfig, account_id: str, reason: str | None, staff: Staff) -> Account:
        """Give a disabled account back the status it had before it was disabled (as its
        audit entry recorded it). An undergraduate account the registry retired
        (graduated) stays retired: its username is never issued again (seed 004).

        Raises NotFound, Forbidden, InvalidInput (not disabled).
        """
        text = clean_reason(reason, required=False)
        account = self.account(realm, account_id)
        require_authority_over(staff.account_id, staff.roles, account.account_id, account.roles, self_allowed=False)
        if account.status is not AccountStatus.DISABLED:
            raise InvalidInput(errors={"status": ["the account is not disabled"]})
        if self._retired(realm, account):
            raise Forbidden("The registry marks this undergraduate graduated: the account is retired for good.")
        target = self._status_before_disabling(realm, account)
        now = self.clock.now()
        details = {"reason": text} if text else {}
        entry = audit(realm.id, account_id, "account_enabled", actor=staff.account_id, at=now, **details)
        if not self.accounts.set_status(
            realm.id, account_id, target, expected=AccountStatus.DISABLED, now=now, audit=entry
        ):
            raise InvalidInput(errors={"status": ["the account changed meanwhile: look again"]})
        return self.account(realm, account_id)

    def _status_before_disabling(self, realm: RealmConfig, account: Account) -> AccountStatus:
        """What the latest ``account_disabled`` entry says the account was; without one
        (disabled by an older build, or long ago), active unless it never completed the
        activation of a realm that activates by mail."""
        query = AuditQuery(account=account.account_id, action="account_disabled")
        for entry in self.audit_search.search(realm.id, query, limit=RECENT_AUDIT).entries:
            try:
                previous = AccountStatus(entry.details.get("previous", ""))
            except ValueError:
                break
            if previous is not AccountStatus.DISABLED:
                return previous
        never_activated = realm.identity_source == "gsis" and account.activated_at is None
        return AccountStatus.PENDING_ACTIVATION if never_activated else AccountStatus.ACTIVE

    def _retired(self, realm: RealmConfig, account: Account) -> bool:
        number = account.undergraduate_registry_number()
        if number is None:
            return False
        entry = self.registry.get(realm.id, number)
        return entry is not None and entry.status is RegistryStatus.GRADUATED and entry.account_id == account.account_id

    # -- mail -----------------------------------------------------------------------------

    def password_reset(self, realm: RealmConfig, account_id: str, reason: str | None, staff: Staff) -> Account:
        """Mail the owner a one-time link (and code) to choose a new password; nothing
        changes until they use it (then every session ends, as on any reset).

        Raises NotFound (also in a realm without local passwords), Forbidden,
        InvalidInput (an account that is not active).
        """
        if realm.password_policy is None:
            raise NotFound("This realm has no local passwords: they sign in through their identity provider.")
        text = clean_reason(reason, required=False)
        account = self.account(realm, account_id)
        require_authority_over(staff.account_id, staff.roles, account.account_id, account.roles, self_allowed=True)
        if account.status is not AccountStatus.ACTIVE:
            raise InvalidInput(errors={"status": ["only an active account can reset its password"]})
        details = {"reason": text} if text else {}
        self.audit_log.record(
            audit(realm.id, account_id, "password_reset_sent", actor=staff.account_id, at=self.clock.now(), **details)
        )
        self.tasks.enqueue(Task(ADMIN_RESET_MAIL, {"realm": realm.id, "account_id": account_id}))
        return account

    def deliver_password_reset(self, payload: dict[str, str]) -> None:
        """Task: issue the reset challenge and mail its link and code to the owner."""
        realm = get_realm(payload["realm"])
        account = self.accounts.get(realm.id, payload["account_id"])
        if account is None or account.status is not AccountStatus.ACTIVE:
            return
        issued = self.challenges.issue(account, Purpose.PASSWORD_RESET, realm.lifetimes.password_reset)
        language = account.language if account.language in realm.languages else realm.default_language
        message = MailMessage(
            template="password_reset_admin",
            to=account.email,
            language=language,
            context={
                "realm_name": getattr(realm.name, language),
                "first_name": account.identity.first_name if account.identity else "",
                "username": account.username,
                "login_url": self.links.page(realm.id, "login"),
                "link": self.links.page(realm.id, "reset-password", token=issued.token),
                "code": issued.code,
                "expires_at": issued.challenge.expires_at,
            },
        )
        try:
            self.mailer.send(message)
        except MailDeliveryError:
            self.challenges.withdraw(issued)
            raise

    def resend(self, realm: RealmConfig, account_id: str, staff: Staff) -> str:
        """Send again the mail the account waits for: the activation mail (pending) or
        the welcome mail with a set-password link (no password yet). Returns which.

        Raises NotFound, Forbidden, InvalidInput (nothing is awaited).
        """
        account = self.account(realm, account_id)
        require_authority_over(staff.account_id, staff.roles, account.account_id, account.roles, self_allowed=True)
        if account.status is AccountStatus.PENDING_ACTIVATION:
            kind = "activation"
        elif account.status is AccountStatus.ACTIVE and realm.password_policy is not None and not account.password_hash:
            kind = "welcome"
        else:
            raise InvalidInput(
                errors={
                    "status": ["no mail is awaited: the account is activated and has a password (reset it instead)"]
                }
            )
        self.audit_log.record(
            audit(realm.id, account_id, "mail_resent", actor=staff.account_id, at=self.clock.now(), mail=kind)
        )
        if kind == "activation":
            self.tasks.enqueue(Task(ACTIVATION_MAIL, {"realm": realm.id, "account_id": account_id}))
        else:
            self.passwords.invite_setup(realm, account_id)
        return kind

    # -- lockout ----------------------------------------------------------------------------

    def unlock(self, realm: RealmConfig, account_id: str, reason: str | None, staff: Staff) -> Account:
        """Forget the failed attempts counted against the account's sign-in (the
        username's back-off and its second step's): its owner may try again at once.

        Attempts are counted by what the client sent, not by account (so a blocked name
        says nothing about who exists); a browser's own device back-off and a client
        address's window are not the account's, and stay.
        """
        text = clean_reason(reason, required=False)
        account = self.account(realm, account_id)
        require_authority_over(staff.account_id, staff.roles, account.account_id, account.roles, self_allowed=True)
        keys = self.throttle.account_keys(realm, account.username, account.account_id)
        self.throttle.settle(keys)
        details = {"reason": text} if text else {}
        self.audit_log.record(
            audit(realm.id, account_id, "account_unlocked", actor=staff.account_id, at=self.clock.now(), **details)
        )
        return account

    # -- second factors -------------------------------------------------------------------

    def remove_factors(self, realm: RealmConfig, account_id: str, reason: str | None, staff: Staff) -> int:
        """Remove every second factor and recovery code (a person who lost them all,
        SPEC §2.9), end the sessions, tell the owner by mail (the second factors' own
        notice, as for an operator's ``mfa-reset``). Returns how many factors there were.

        Raises NotFound, Forbidden (own account, or staff by a non-admin), InvalidInput
        (no reason).
        """
        text = clean_reason(reason)
        account = self.account(realm, account_id)
        require_authority_over(staff.account_id, staff.roles, account.account_id, account.roles, self_allowed=False)
        now = self.clock.now()
        entry = audit(realm.id, account_id, "mfa_reset", actor=staff.account_id, at=now, reason=text)
        removed = self.factors.remove_all(realm.id, account_id, login_key=account.login_key, audit=entry)
        self.end_sessions(realm, account_id, EndReason.FACTORS_REMOVED, staff)
        self.tasks.enqueue(
            Task(FACTORS_CHANGED_MAIL, {"realm": realm.id, "account_id": account_id, "change": "reset", "kind": ""})
        )
        return removed

    # -- roles and expiry -------------------------------------------------------------------

    def set_roles(
        self, realm: RealmConfig, account_id: str, roles: list[str], country: str | None, staff: Staff
    ) -> Account:
        """Make the account's administrative roles exactly ``roles`` (its other roles, a
        pupil's or a teacher's, stay); an ``nso`` needs its ``country``. The person's
        sessions end: their tokens carried the old roles.

        Raises NotFound, Forbidden (own account), InvalidInput (a role this realm does
        not give, nso without country, a country without nso).
        """
        account = self.account(realm, account_id)
        require_authority_over(staff.account_id, staff.roles, account.account_id, account.roles, self_allowed=False)
        offered = assignable_roles(realm)
        wanted = list(dict.fromkeys(role.strip() for role in roles if role.strip()))
        errors: dict[str, list[str]] = {}
        unknown = [role for role in wanted if role not in offered]
        if unknown:
            errors["roles"] = [f"this realm gives only {', '.join(offered)}"]
        extra: dict[str, str] = {}
        if NSO in wanted:
            extra["nso_country"] = clean_country(country or "", errors)
        elif (country or "").strip():
            errors["country"] = ["only an nso has a country"]
        if errors:
            raise InvalidInput(errors=errors)
        kept = [role for role in account.roles if role not in STAFF_ROLES]
        new_roles = tuple(kept + wanted)
        same_country = NSO not in wanted or extra["nso_country"] == account.extra.get("nso_country")
        if set(new_roles) == set(account.roles) and same_country:
            return account  # nothing changes: no audit entry, no sessions ended
        now = self.clock.now()
        entry = audit(
            realm.id,
            account_id,
            "roles_changed",
            actor=staff.account_id,
            at=now,
            roles=",".join(new_roles),
            previous=",".join(account.roles),
            **extra,
        )
        self.accounts.grant_roles(realm.id, account_id, new_roles, extra, now, audit=entry)
        self.end_sessions(realm, account_id, EndReason.ROLES_CHANGED, staff)
        return self.account(realm, account_id)

    def set_expiry(
        self, realm: RealmConfig, account_id: str, expires_on: date, reason: str | None, staff: Staff
    ) -> Account:
        """Move the last day the account may be used (renewal, NTUA): after today and
        at most the realm's renewal limit (two years) ahead; an expired account is
        active again.

        Raises NotFound (also in a realm whose accounts do not expire), Forbidden,
        InvalidInput (a date out of range).
        """
        if realm.registrar is None:
            raise NotFound("Accounts of this realm do not expire.")
        text = clean_reason(reason, required=False)
        account = self.account(realm, account_id)
        require_authority_over(staff.account_id, staff.roles, account.account_id, account.roles, self_allowed=True)
        today = self.clock.now().date()
        latest = today + realm.registrar.max_renewal
        if not today < expires_on <= latest:
            raise InvalidInput(errors={"expires_on": [f"must be after today and at most {latest.isoformat()}"]})
        now = self.clock.now()
        details = {
            "expires_on": expires_on.isoformat(),
            "previous": account.expires_on.isoformat() if account.expires_on else "",
        }
        if text:
            details["reason"] = text
        entry = audit(realm.id, account_id, "account_renewed", actor=staff.account_id, at=now, **details)
        self.accounts.set_expiry(
            realm.id, account_id, expires_on, now, reactivate=account.status is AccountStatus.EXPIRED, audit=entry
        )
        return self.account(realm, account_id)

    # -- ending sessions ----------------------------------------------------------------------

    def end_sessions(self, realm: RealmConfig, account_id: str, reason: EndReason, staff: Staff) -> int:
        """End every session of the account now, as ``staff`` (audited per session by
        ``SessionEnding``): its refresh tokens stop working, its access tokens fail their
        next request (every request checks its session), its applications' grants are
        revoked and each application gets a back-channel logout. How many ended."""
        ended = self.ending.end_all(realm.id, account_id, reason, actor=staff.account_id)
        log.info(
            "sessions ended by an administrator",
            extra={"realm": realm.id, "account_id": account_id, "reason": str(reason), "sessions": ended},
        )
        return ended
