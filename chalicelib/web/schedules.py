"""Scheduled functions (EventBridge rules): the daily expiry sweep with the erasure of
accounts whose self-deletion fell due, and the sweep of sessions that ran out (their
clients are told)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Cron, Rate

from chalicelib.container import services
from chalicelib.domain.audit import origin

bp = Blueprint(__name__)


@bp.schedule(Cron(15, 2, "*", "*", "?", "*"), name="expire_accounts")
def expire_accounts(event: Any) -> dict[str, Any]:
    """Every day at 02:15 UTC: expire, warn and audit (SPEC §2.6), then erase the accounts
    whose deletion fell due (SPEC §2.10); returns the counts. One rule for both: the
    erasure needs no schedule of its own, and a failure of one account never stops it."""
    flows = services().flows
    today = flows.sessions.clock.now().date()
    with origin("schedule"):
        reports = flows.expiry.sweep_all(today)
        deletions = flows.deletion_sweep.sweep_all(today)
    counts: dict[str, Any] = {
        report.realm: {"expired": report.expired, "warned": report.warned, "examined": report.examined}
        for report in reports
    }
    counts["deletions"] = {
        report.realm: {"due": report.due, "erased": report.erased, "failed": len(report.failed)} for report in deletions
    }
    return counts


@bp.schedule(Rate(15, unit=Rate.MINUTES), name="end_expired_sessions")
def end_expired_sessions(event: Any) -> dict[str, Any]:
    """Every 15 minutes: sessions that ran out end, and their clients are told
    (back-channel logout), as for any other end of a session (SPEC §2.8)."""
    flows = services().flows
    return {"sessions_ended": flows.session_ending.sweep(flows.sessions.clock.now())}
