"""Action challenges: a mailed link token plus a typed code, single use, expiring.

Keycloak's action tokens and allauth's code verification in one object. Only
fingerprints are stored. The token is consumed only by a POST (a page with a button sits
in front of the link, so mail scanners that follow GETs burn nothing: Kratos #1142).
A typed code *reserves* its attempt before it is compared (``domain/attempts.py``): a
burst of parallel guesses gets no more comparisons than the realm's limit, after which
the challenge is discarded and the person must ask for a new mail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from chalicelib.domain.accounts import Account
from chalicelib.domain.attempts import Backoff, Claim
from chalicelib.domain.secrets import code_fingerprint, fingerprint, same
from chalicelib.domain.tokens import Challenge, Purpose
from chalicelib.errors import FlowError, TokenExpired, TokenInvalid
from chalicelib.ports import AttemptLedger, ChallengeRepository, Clock, SecretSource

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class IssuedChallenge:
    token: str
    code: str
    challenge: Challenge
    previous: Challenge | None
    """The challenge this one replaced, to put back if the new mail cannot be sent."""


@dataclass(frozen=True)
class Challenges:
    repository: ChallengeRepository
    attempts: AttemptLedger
    clock: Clock
    secrets: SecretSource

    def issue(
        self, account: Account, purpose: Purpose, lifetime: timedelta, *, subject: str | None = None
    ) -> IssuedChallenge:
        """A fresh token and code for ``account`` (about ``subject``, e.g. the address an
        e-mail change asks for); any older challenge of ``purpose`` stops working."""
        previous = self.repository.find_for_account(account.realm, account.account_id, purpose)
        token, code = self.secrets.token(), self.secrets.code()
        token_hash = fingerprint(token)
        now = self.clock.now()
        challenge = Challenge(
            realm=account.realm,
            account_id=account.account_id,
            purpose=purpose,
            token_hash=token_hash,
            code_hash=code_fingerprint(code, salt=token_hash),
            created_at=now,
            expires_at=now + lifetime,
            subject=subject,
        )
        self.repository.replace(challenge)
        self.attempts.clear([_code_key(challenge)])  # a new mail, a new allowance of typed codes
        return IssuedChallenge(token, code, challenge, previous)

    def withdraw(self, issued: IssuedChallenge) -> None:
        """Undo :meth:`issue` when its mail never left: the person's last mail works again."""
        if issued.previous is not None:
            self.repository.replace(issued.previous)
        else:
            self.repository.discard(issued.challenge)

    def drop(self, realm: str, account_id: str, purpose: Purpose) -> Challenge | None:
        """Discard the account's live challenge of ``purpose`` (its link stops working);
        the one discarded, or None."""
        challenge = self.repository.find_for_account(realm, account_id, purpose)
        if challenge is not None:
            self.repository.discard(challenge)
        return challenge

    def peek_token(self, realm: str, purpose: Purpose, token: str) -> Challenge:
        """The live challenge behind ``token``, not consumed (checks before a consuming step).

        Raises
        ------
        TokenInvalid
            unknown, already used, replaced by a newer mail, or for another realm/purpose.
        TokenExpired
            known but past its expiry (checked here: TTL deletes late, emulators never).
        """
        challenge = self.repository.find_by_token(fingerprint(token)) if token else None
        if challenge is None or challenge.realm != realm or challenge.purpose != purpose:
            raise TokenInvalid()
        if challenge.is_expired(self.clock.now()):
            raise TokenExpired()
        return challenge

    def redeem_token(self, realm: str, purpose: Purpose, token: str) -> Challenge:
        """Consume the challenge behind ``token`` (raises as :meth:`peek_token`)."""
        return self._consume(self.peek_token(realm, purpose, token))

    def check_code(self, account: Account | None, purpose: Purpose, code: str, max_attempts: int) -> Challenge:
        """The account's live challenge if ``code`` matches, not consumed.

        Wrong codes are counted; at ``max_attempts`` the challenge is discarded. An
        unknown account answers exactly like a wrong code, so the endpoint does not
        reveal which addresses or usernames have accounts.
        """
        challenge = self.repository.find_for_account(account.realm, account.account_id, purpose) if account else None
        if challenge is None:
            raise TokenInvalid()
        now = self.clock.now()
        if challenge.is_expired(now):
            raise TokenExpired()
        remaining = challenge.expires_at - now
        allowance = Backoff(free=max_attempts, base=remaining, ceiling=remaining, memory=remaining)
        reservation = self.attempts.reserve(Claim(_code_key(challenge), allowance), now)
        if not reservation.granted:
            self.repository.discard(challenge)
            raise TokenInvalid()
        if not same(challenge.code_hash, code_fingerprint(code, salt=challenge.token_hash)):
            if reservation.count >= max_attempts:
                self.repository.discard(challenge)
            raise TokenInvalid()
        return challenge

    def redeem_code(self, account: Account | None, purpose: Purpose, code: str, max_attempts: int) -> Challenge:
        """Consume the account's challenge if ``code`` matches (raises as :meth:`check_code`)."""
        return self._consume(self.check_code(account, purpose, code, max_attempts))

    def consume(self, challenge: Challenge) -> Challenge:
        """Consume a challenge found by :meth:`peek_token` or :meth:`check_code`; exactly
        one caller succeeds (TokenInvalid for the others)."""
        return self._consume(challenge)

    def spend(self, challenge: Challenge, step: Callable[[], T]) -> T:
        """Consume ``challenge`` (as :meth:`consume`), then do the ``step`` it unlocks.

        When the step fails without an answer (the store throttled or could not be
        reached: the request ends 503), the challenge is put back, so the same link or
        code works when the person tries again; consuming first keeps it single use under
        concurrent requests. A :class:`FlowError` is an answer (the account was disabled
        meanwhile…): the challenge stays spent.
        """
        self._consume(challenge)
        try:
            return step()
        except FlowError:
            raise
        except Exception:
            log.warning("challenge put back: the step it unlocks failed", extra={"purpose": str(challenge.purpose)})
            self.repository.replace(challenge)
            raise

    def _consume(self, challenge: Challenge) -> Challenge:
        if challenge.is_expired(self.clock.now()):
            raise TokenExpired()
        if not self.repository.consume(challenge):
            raise TokenInvalid()
        return challenge


def _code_key(challenge: Challenge) -> str:
    """The attempt key of an account's typed codes for one purpose (one live challenge each)."""
    return f"{challenge.realm}#code#{challenge.purpose}#{challenge.account_id}"
