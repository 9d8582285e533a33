"""Who must have a second factor, and the one check every administration route makes.

SPEC §2.9: accounts with a role of the realm's ``mfa_required_roles`` (or every account,
in a realm that says so) may sign in without a factor only to enrol one; until then
administration answers 403 ``mfa_enrolment_required``. The check is on the *session*:
it must have passed a second factor (its ``amr`` has ``otp``, ``hwk`` or ``swk``) — a
sign-in's second step, a passkey sign-in, or the enrolment of a factor in that session.
A session opened with a password alone, before the account had a factor, stays limited
even after a factor is added elsewhere: the person proves the factor once (enrolling it
here, or ``/me/reauthenticate`` with it).
"""

from __future__ import annotations

from chalicelib.domain.tokens import MULTI_FACTOR_METHODS
from chalicelib.errors import MfaEnrolmentRequired
from chalicelib.flows.sessions import Principal
from chalicelib.realms import RealmConfig


def require_second_factor(realm: RealmConfig, principal: Principal) -> None:
    """Raises MfaEnrolmentRequired when ``principal``'s roles need a second factor in
    ``realm`` and its session has not passed one."""
    if realm.requires_second_factor(principal.roles) and not set(principal.amr) & MULTI_FACTOR_METHODS:
        raise MfaEnrolmentRequired(
            "Your role needs a second factor: add one on the Security page (or confirm one you have) first."
        )
