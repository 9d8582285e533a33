"""A login's first round trip: the login record and the attempt reservations, at once.

The reservations are conditional updates of their own items and the login record is a
read of the username guard; they are independent, so they go out together
(:func:`~chalicelib.adapters.dynamodb.common.together`) and a login keeps its two round
trips (this one, then the session write) while every attempt is counted before the
password is compared.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamodb.accounts import guard_key, login_record
from chalicelib.adapters.dynamodb.attempts import DynamoAttemptLedger
from chalicelib.adapters.dynamodb.common import together
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.accounts import LoginRecord, UniqueKind
from chalicelib.domain.attempts import Claim, Reservation


class DynamoLoginGate:
    def __init__(self, models: BoundModels, attempts: DynamoAttemptLedger) -> None:
        self._m = models
        self._attempts = attempts

    def open(
        self, realm: str, username: str, claims: Sequence[Claim], now: datetime
    ) -> tuple[LoginRecord | None, list[Reservation]]:
        calls: list[Callable[[], Any]] = [functools.partial(self._login, realm, username)]
        calls += [functools.partial(_settled, self._attempts.reserve, claim, now) for claim in claims]
        answers = together(functools.partial(_settled, calls[0]), *calls[1:])
        failures = [answer for answer in answers if isinstance(answer, Exception)]
        if failures:
            # A throttled or failed call decided nothing: reservations made beside it
            # compared nothing either, so they are given back before the error surfaces.
            for answer in answers[1:]:
                if isinstance(answer, Reservation):
                    self._attempts.give_back(answer, now)
            raise failures[0]
        login, *reservations = answers
        return login, reservations

    def _login(self, realm: str, username: str) -> LoginRecord | None:
        try:
            guard = self._m.Guard.get(*guard_key(realm, UniqueKind.USERNAME, username), consistent_read=True)
        except DoesNotExist:
            return None
        return login_record(realm, guard)


def _settled(call: Callable[..., Any], *args: Any) -> Any:
    """The call's answer, or the exception it raised (so that one failure does not hide
    what the calls beside it did)."""
    try:
        return call(*args)
    except Exception as exc:  # noqa: BLE001 - handed back to open(), which re-raises it
        return exc
