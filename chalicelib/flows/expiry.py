"""Scheduled expiry (SPEC §2.6): accounts whose last valid day has passed are expired,
their owners are warned 30 and 7 days before (each warning once), every change is
audited, and their sessions end (the applications they signed in to are told).
Keycloak users have asked for this for years (keycloak#10040, #11800).

The sweep reads only the accounts filed under the days it looks at (an index by expiry
day), never the whole table, so its cost follows the number of expiring accounts, not
of all accounts. A cursor remembers the last day swept, so a missed run catches up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.audit import audit
from chalicelib.domain.mail import MailMessage
from chalicelib.domain.oidc import EndReason
from chalicelib.domain.tasks import Task
from chalicelib.flows.links import Links
from chalicelib.flows.session_ending import SessionEnding
from chalicelib.ports import AccountRepository, AuditLog, Clock, Mailer, TaskQueue
from chalicelib.realms import RealmConfig, all_realms, get_realm

log = logging.getLogger(__name__)

WARNING_DAYS = (30, 7)
WARNING_MAIL = "expiry_warning.send"
ACTOR = "system:expiry"


@dataclass
class SweepReport:
    realm: str
    first: date | None = None
    last: date | None = None
    """The days the sweep covered (as-of days; more than one when it caught up)."""
    expired: int = 0
    warned: dict[int, int] = field(default_factory=lambda: dict.fromkeys(WARNING_DAYS, 0))
    examined: int = 0
    """Accounts read: the sweep's cost, bounded by the accounts filed under its days."""


@dataclass(frozen=True)
class Expiry:
    accounts: AccountRepository
    audit: AuditLog
    tasks: TaskQueue
    mailer: Mailer
    clock: Clock
    links: Links
    ending: SessionEnding

    def sweep_all(self, as_of: date) -> list[SweepReport]:
        """Sweep every realm whose accounts can expire (registrar realms)."""
        return [self.sweep(realm, as_of) for realm in all_realms().values() if realm.identity_source == "registrar"]

    def sweep(self, realm: RealmConfig, as_of: date) -> SweepReport:
        """Expire what passed by ``as_of`` and warn what is 30 and 7 days away.

        Every day since the last sweep is covered; sweeping a day again changes nothing
        (expired accounts stay expired, warnings are marked as sent).
        """
        cursor = self.accounts.expiry_cursor(realm.id)
        first = cursor + timedelta(days=1) if cursor is not None and cursor < as_of else as_of
        report = SweepReport(realm.id, first, as_of)
        one_day = timedelta(days=1)
        self._expire(realm, first - one_day, as_of - one_day, report)
        for days_before in WARNING_DAYS:
            shift = timedelta(days=days_before)
            self._warn(realm, first + shift, as_of + shift, days_before, report)
        if cursor is None or cursor < as_of:
            self.accounts.set_expiry_cursor(realm.id, as_of)
        log.info(
            "expiry sweep",
            extra={
                "realm": realm.id,
                "as_of": as_of.isoformat(),
                "accounts_expired": report.expired,
                "accounts_examined": report.examined,
            },
        )
        return report

    def _expire(self, realm: RealmConfig, first: date, last: date, report: SweepReport) -> None:
        """Expire active accounts whose last valid day is within ``first``…``last``."""
        for account in self.accounts.accounts_expiring_between(realm.id, first, last):
            report.examined += 1
            now = self.clock.now()
            expired_on = account.expires_on.isoformat() if account.expires_on else ""
            if self.accounts.set_status(
                realm.id,
                account.account_id,
                AccountStatus.EXPIRED,
                expected=AccountStatus.ACTIVE,
                now=now,
                audit=audit(
                    realm.id, account.account_id, "account_expired", actor=ACTOR, at=now, expires_on=expired_on
                ),
                username=account.username,  # the query read the account: no second read
            ):
                report.expired += 1
                self.ending.end_all(realm.id, account.account_id, EndReason.ACCOUNT_EXPIRED, actor=ACTOR)

    def _warn(self, realm: RealmConfig, first: date, last: date, days_before: int, report: SweepReport) -> None:
        """Warn active accounts whose last valid day is ``days_before`` after the covered days."""
        for account in self.accounts.accounts_expiring_between(realm.id, first, last):
            report.examined += 1
            marker = f"{days_before}d:{account.expires_on.isoformat() if account.expires_on else ''}"
            if account.status is AccountStatus.ACTIVE and self.accounts.mark_expiry_warning(
                realm.id, account.account_id, marker
            ):
                report.warned[days_before] += 1
                payload = {"realm": realm.id, "account_id": account.account_id, "days": str(days_before)}
                self.tasks.enqueue(Task(WARNING_MAIL, payload))

    def deliver_warning(self, payload: dict[str, str]) -> None:
        """Task: tell the owner when the account expires (the external address)."""
        realm = get_realm(payload["realm"])
        account = self.accounts.get(realm.id, payload["account_id"])
        if account is None or account.expires_on is None or account.status is not AccountStatus.ACTIVE:
            return
        self.mailer.send(self._message(realm, account, int(payload["days"])))

    def _message(self, realm: RealmConfig, account: Account, days: int) -> MailMessage:
        language = account.language if account.language in realm.languages else realm.default_language
        assert account.expires_on is not None
        return MailMessage(
            "expiry_warning",
            account.email,
            language,
            {
                "realm_name": getattr(realm.name, language),
                "username": account.username,
                "expires_on": account.expires_on.strftime("%d/%m/%Y"),
                "days": days,
                "first_name": account.identity.first_name if account.identity else "",
            },
        )
