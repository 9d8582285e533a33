"""Granting roles: authority that takes effect at once, and is never stale.

Access tokens carry the account's roles and live 15 minutes; a change of roles that
left the old tokens working would let a demoted administrator keep administering for
that long. So every change of roles ends the account's sessions (their tokens stop at
the next request, which checks the session) and the person signs in again with the new
roles. The change, and who made it, is audited in the write that makes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain.audit import audit
from chalicelib.domain.oidc import EndReason
from chalicelib.flows.session_ending import SessionEnding
from chalicelib.ports import AccountRepository, AuditLog, Clock


@dataclass(frozen=True)
class RoleGrants:
    accounts: AccountRepository
    audit: AuditLog
    clock: Clock
    ending: SessionEnding

    def grant(
        self,
        realm: str,
        account_id: str,
        roles: Sequence[str],
        extra: dict[str, str],
        *,
        actor: str,
        address: str = "",
    ) -> int:
        """Set the account's roles (replacing them) and merge ``extra`` (e.g. the NSO's
        country); end its sessions. Returns how many sessions ended.

        Raises LookupError for an unknown account.
        """
        now = self.clock.now()
        entry = audit(realm, account_id, "roles_granted", actor=actor, at=now, roles=",".join(roles), **extra)
        self.accounts.grant_roles(realm, account_id, roles, extra, now, audit=entry)
        return self.ending.end_all(realm, account_id, EndReason.ROLES_CHANGED, actor=actor, address=address)
