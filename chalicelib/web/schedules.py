"""Scheduled functions (EventBridge rules): the daily expiry sweep."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Cron

from chalicelib.container import services
from chalicelib.domain.audit import origin

bp = Blueprint(__name__)


@bp.schedule(Cron(15, 2, "*", "*", "?", "*"), name="expire_accounts")
def expire_accounts(event: Any) -> dict[str, Any]:
    """Every day at 02:15 UTC: expire, warn and audit (SPEC §2.6); returns the counts."""
    flows = services().flows
    with origin("schedule"):
        reports = flows.expiry.sweep_all(flows.sessions.clock.now().date())
    return {
        report.realm: {"expired": report.expired, "warned": report.warned, "examined": report.examined}
        for report in reports
    }
