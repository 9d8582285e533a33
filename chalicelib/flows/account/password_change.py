"""Changing one's password from the Profile tab (SPEC §2.10).

It needs a recent authentication (five minutes, ``flows/mfa/reauthentication.py``) and
the current password as well: a borrowed, still-open browser is not enough. The current
password is checked as a login checks it: its attempt is first *reserved* on the
username's back-off (the same atomic reservation, ``AttemptLedger``), so a stolen
session is no faster way to guess a password, and wrong guesses here lock sign-in as
wrong guesses there do. The realm's password policy applies; the new hash and its audit
entry are one write; every *other* session ends (their applications are told,
back-channel logout), the one asking stays; the person gets the confirmation mail.
Realms without local passwords (esep signs in through EU Login) refuse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.domain.audit import audit
from chalicelib.domain.oidc import EndReason
from chalicelib.domain.tasks import Task
from chalicelib.errors import Forbidden, InvalidCredentials, TaskQueueError, Unauthorized
from chalicelib.flows.mfa.reauthentication import Reauthentication
from chalicelib.flows.passwords import CHANGED_MAIL, Passwords, user_inputs
from chalicelib.flows.session_ending import SessionEnding
from chalicelib.flows.sessions import Principal
from chalicelib.flows.throttling import Throttle
from chalicelib.ports import AccountRepository, Clock, PasswordHasher, TaskQueue
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

NO_PASSWORDS = "This realm has no passwords of its own: you sign in through EU Login, where your password is changed."


@dataclass(frozen=True)
class PasswordChange:
    accounts: AccountRepository
    passwords: Passwords
    reauthentication: Reauthentication
    throttle: Throttle
    hasher: PasswordHasher
    ending: SessionEnding
    tasks: TaskQueue
    clock: Clock

    def change(self, realm: RealmConfig, principal: Principal, current: str, password: str, confirmation: str) -> int:
        """Set a new password; how many other sessions ended.

        Raises
        ------
        Forbidden
            the realm has no local passwords.
        ReauthenticationRequired
            no password or factor check in the last five minutes.
        TooManyAttempts
            the username's back-off refuses another guess (before any hash work).
        InvalidCredentials
            the current password is wrong (``errors["current_password"]``); it counts.
        PasswordsMismatch, PasswordPolicyViolation
            the new password (the attempt was right, so it is settled first).
        """
        if realm.password_policy is None or realm.identity_source == "eulogin":
            raise Forbidden(NO_PASSWORDS)
        self.reauthentication.require_recent(principal)
        account = self.accounts.get(realm.id, principal.account_id)
        if account is None:
            raise Unauthorized()
        limits = self.throttle.login_claims(realm, account.username.casefold(), "", None)
        for claim in limits.claims:
            self.throttle.reserve(realm, claim)
        if not account.password_hash or not self.hasher.verify(account.password_hash, current):
            log.info("password change refused", extra={"realm": realm.id, "account_id": account.account_id})
            raise InvalidCredentials(
                "The current password is not right.", errors={"current_password": ["the current password is not right"]}
            )
        self.throttle.settle(limits.settled_by_success)
        self.passwords.require_acceptable(realm, password, confirmation, user_inputs(account))
        now = self.clock.now()
        entry = audit(realm.id, account.account_id, "password_changed", actor=account.account_id, at=now, via="self")
        self.accounts.set_password_hash(realm.id, account.account_id, self.hasher.hash(password), now, audit=entry)
        ended = self.ending.end_all(
            realm.id,
            account.account_id,
            EndReason.PASSWORD_CHANGED,
            actor=account.account_id,
            keep=principal.session_id,
        )
        log.info("password changed by its owner", extra={"realm": realm.id, "account_id": account.account_id})
        try:
            self.tasks.enqueue(Task(CHANGED_MAIL, {"realm": realm.id, "account_id": account.account_id, "via": "self"}))
        except TaskQueueError:  # a lost confirmation must not undo the change
            log.warning("task not queued", extra={"task": CHANGED_MAIL})
        return ended
