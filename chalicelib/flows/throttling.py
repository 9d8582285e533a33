"""Rate limits and login back-off, keyed so they never reveal whether an account exists.

Keys are what the client sent (the normalised username or e-mail) and the client's
address, never an account id: a blocked username looks the same whether or not someone
holds it. Counters live in DynamoDB with TTL (``Counters`` port).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from chalicelib.domain.secrets import fingerprint
from chalicelib.domain.throttling import FailureRecord, backoff
from chalicelib.errors import TooManyAttempts
from chalicelib.ports import Clock, Counters
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)


def _key(realm: RealmConfig, scope: str, value: str) -> str:
    return f"{realm.id}#{scope}#{fingerprint(value.strip().casefold())}"


@dataclass(frozen=True)
class LoginKeys:
    user: str
    address: str | None

    @property
    def all(self) -> tuple[str, ...]:
        return (self.user, self.address) if self.address else (self.user,)


@dataclass(frozen=True)
class Throttle:
    counters: Counters
    clock: Clock

    def login_keys(self, realm: RealmConfig, username: str, address: str) -> LoginKeys:
        """The failure-record keys of a login attempt: its username and its address."""
        return LoginKeys(
            _key(realm, "login-user", username), _key(realm, "login-address", address) if address else None
        )

    def refuse_while_backing_off(self, realm: RealmConfig, failures: dict[str, FailureRecord]) -> None:
        """Refuse a login attempt while its username or address is backing off.

        Raises
        ------
        TooManyAttempts
            with ``retry_after`` in seconds; called before any password work.
        """
        policy = realm.throttling
        now = self.clock.now()
        waits = []
        for record in failures.values():
            wait = backoff(
                record.count,
                free=policy.login_free_failures,
                base=policy.login_backoff_base,
                ceiling=policy.login_backoff_ceiling,
            )
            remaining = (record.last_at + wait - now).total_seconds()
            if remaining > 0:
                waits.append(remaining)
        if waits:
            log.info("login refused while backing off", extra={"realm": realm.id})
            raise TooManyAttempts(retry_after=math.ceil(max(waits)))

    def login_failed(self, realm: RealmConfig, keys: LoginKeys) -> None:
        now = self.clock.now()
        for key in keys.all:
            self.counters.record_failure(key, now=now, memory=realm.throttling.login_failure_memory)

    def login_succeeded(self, keys: LoginKeys, failures: dict[str, FailureRecord]) -> None:
        """A right password clears the username's failures (not the address's); nothing
        to write in the usual case, where there were none."""
        if keys.user in failures:
            self.counters.clear(keys.user)

    def limit(self, realm: RealmConfig, action: str, key: str, address: str) -> None:
        """Count one ``action`` for ``key`` and ``address``; refuse beyond the realm's limits.

        Raises
        ------
        TooManyAttempts
            with ``retry_after`` until the current window ends.
        """
        limits = realm.throttling.actions.get(action)
        if limits is None:
            return
        now = self.clock.now()
        for scope, value, limit in (
            ("key", key, limits.per_key),
            ("address", address, limits.per_address),
        ):
            count = self.counters.increment(_key(realm, f"{action}-{scope}", value), window=limit.window, now=now)
            if count > limit.count:
                window = limit.window.total_seconds()
                retry_after = math.ceil(window - (now.timestamp() % window))
                log.info("rate limit reached", extra={"realm": realm.id, "action": action, "scope": scope})
                raise TooManyAttempts(retry_after=max(retry_after, 1))
