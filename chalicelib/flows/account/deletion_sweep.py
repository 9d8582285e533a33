"""The daily erasure of accounts whose deletion fell due (SPEC §2.10).

It runs with the expiry sweep (``web/schedules.py``) and from the command line
(``delete-accounts --as-of``). It reads the index of scheduled deletions up to the day
it runs for, never the table, so its cost follows the accounts due, not all accounts;
an account stays in the index until its erasure completes, so a missed run or a failed
account is simply found again by the next run (no cursor is needed).

For each account due (read again, in case a sign-in cancelled it meanwhile), every
session ends first (revoked, and each application it signed in to is told by
back-channel logout, as for an expiry), then the personal data is erased
and an audit tombstone without personal data is kept (``PersonalDataRepository.erase``).
One account failing is logged and counted; the others go on. Running twice, or twice at
once, erases each account once: the erasure is conditional and idempotent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.oidc import EndReason
from chalicelib.flows.session_ending import SessionEnding
from chalicelib.ports import AccountRepository, Clock, PersonalDataRepository
from chalicelib.realms import RealmConfig, all_realms

log = logging.getLogger(__name__)

ACTOR = "system:deletion"
ERASED = "account.erased"


@dataclass
class DeletionReport:
    realm: str
    due: int = 0
    """Accounts the index named (read once each)."""
    erased: int = 0
    failed: list[str] = field(default_factory=list)
    """Account ids whose erasure failed this run (logged; the next run tries again)."""


@dataclass(frozen=True)
class DeletionSweep:
    accounts: AccountRepository
    personal_data: PersonalDataRepository
    ending: SessionEnding
    clock: Clock

    def sweep_all(self, as_of: date) -> list[DeletionReport]:
        """Sweep every realm (a realm without self-deletion has nothing in its index)."""
        return [self.sweep(realm, as_of) for realm in all_realms().values()]

    def sweep(self, realm: RealmConfig, as_of: date) -> DeletionReport:
        """Erase the accounts of ``realm`` due on ``as_of`` or before."""
        report = DeletionReport(realm.id)
        for account_id, _due in self.personal_data.deletions_due(realm.id, as_of):
            report.due += 1
            try:
                if self._erase(realm, account_id, as_of):
                    report.erased += 1
            except Exception:
                log.exception("account erasure failed", extra={"realm": realm.id, "account_id": account_id})
                report.failed.append(account_id)
        log.info(
            "deletion sweep",
            extra={
                "realm": realm.id,
                "as_of": as_of.isoformat(),
                "accounts_due": report.due,
                "accounts_erased": report.erased,
                "accounts_failed": len(report.failed),
            },
        )
        return report

    def _erase(self, realm: RealmConfig, account_id: str, as_of: date) -> bool:
        account = self.accounts.get(realm.id, account_id)
        if account is None or account.deletion_due is None or account.deletion_due > as_of:
            return False  # erased or cancelled since the index was read
        self.ending.end_all(realm.id, account_id, EndReason.ACCOUNT_DELETED, actor=ACTOR)
        now = self.clock.now()
        # No address, no details: the tombstone says only that this id was erased, and when.
        tombstone = AuditEntry(realm.id, account_id, ERASED, ACTOR, now)
        return self.personal_data.erase(realm.id, account_id, as_of=as_of, tombstone=tombstone)
