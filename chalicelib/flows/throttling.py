"""Rate limits and login back-off, keyed so they never reveal whether an account exists.

Keys are what the client sent (the normalised username or e-mail), the client's
address, or a device id, never an account id: a blocked username looks the same whether
or not someone holds it. Login attempts are *reserved* before the password is compared
(``domain/attempts.py``); other actions count in fixed windows (``Counters``).

A login from a browser that does not know the account claims two limits: the username's
back-off and the address's sliding window. A login from a browser with the account's
device cookie claims only that device's back-off (``flows/devices.py``).
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain.attempts import Backoff, Claim, RateWindow, Reservation
from chalicelib.domain.secrets import fingerprint
from chalicelib.errors import TooManyAttempts
from chalicelib.ports import AttemptLedger, Clock, Counters
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)


def address_key(address: str) -> str:
    """The part of a client address that identifies one client: an IPv4 address, or the
    /64 network of an IPv6 one (a single host is handed a whole /64 and can pick any
    address in it, so per-address limits on full IPv6 addresses would be no limit)."""
    text = address.strip()
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return text.casefold()
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def _key(realm: RealmConfig, scope: str, value: str) -> str:
    return f"{realm.id}#{scope}#{fingerprint(value.strip().casefold())}"


@dataclass(frozen=True)
class LoginClaims:
    """The limits one login attempt claims, and what its success settles."""

    claims: tuple[Claim, ...]
    settled_by_success: tuple[str, ...]
    """Keys a right password clears: the username's and, from a known browser, its device's."""


@dataclass(frozen=True)
class Throttle:
    counters: Counters
    attempts: AttemptLedger
    clock: Clock

    def backoff(self, realm: RealmConfig) -> Backoff:
        policy = realm.throttling
        return Backoff(
            free=policy.login_free_failures,
            base=policy.login_backoff_base,
            ceiling=policy.login_backoff_ceiling,
            memory=policy.login_failure_memory,
        )

    def login_claims(self, realm: RealmConfig, username: str, address: str, device: str | None) -> LoginClaims:
        """The limits of a login attempt for ``username`` from ``address``; ``device`` is
        the browser's device id for this account, if it has signed in to it before."""
        user = _key(realm, "login-user", username)
        if device is not None:
            device_key = _key(realm, "login-device", f"{device}\n{username}")
            return LoginClaims((Claim(device_key, self.backoff(realm)),), (user, device_key))
        claims = [Claim(user, self.backoff(realm))]
        if address:
            window = realm.throttling.login_address_limit
            claims.append(
                Claim(_key(realm, "login-address", address_key(address)), RateWindow(window.count, window.window))
            )
        return LoginClaims(tuple(claims), (user,))

    def account_keys(self, realm: RealmConfig, username: str, account_id: str) -> list[str]:
        """The attempt keys that lock an account's own sign-in: its username's back-off
        and its second step's (an administrator's «unlock» forgets them)."""
        return [_key(realm, "login-user", username.strip().casefold()), _key(realm, "second-factor", account_id)]

    def second_factor_claim(self, realm: RealmConfig, account_id: str) -> Claim:
        """The back-off of an account's second step (wrong codes count like wrong passwords)."""
        return Claim(_key(realm, "second-factor", account_id), self.backoff(realm))

    def require_granted(self, realm: RealmConfig, reservations: Sequence[Reservation]) -> None:
        """Refuse the attempt unless every limit granted it; the limits that did grant it
        get their slot back (the attempt compares nothing).

        Raises
        ------
        TooManyAttempts
            with ``retry_after`` in seconds: the longest wait among the refusals.
        """
        refused = [reservation for reservation in reservations if not reservation.granted]
        if not refused:
            return
        now = self.clock.now()
        for reservation in reservations:
            if reservation.granted:
                self.attempts.give_back(reservation, now)
        log.info("attempt refused by its limits", extra={"realm": realm.id})
        raise TooManyAttempts(retry_after=max(reservation.retry_after for reservation in refused))

    def reserve(self, realm: RealmConfig, claim: Claim) -> None:
        """Reserve one attempt on ``claim`` (TooManyAttempts when refused)."""
        self.require_granted(realm, [self.attempts.reserve(claim, self.clock.now())])

    def settle(self, keys: Sequence[str]) -> None:
        """A success: forget the attempts of ``keys``."""
        self.attempts.clear(keys)

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
            ("address", address_key(address) if address else address, limits.per_address),
        ):
            count = self.counters.increment(_key(realm, f"{action}-{scope}", value), window=limit.window, now=now)
            if count > limit.count:
                window = limit.window.total_seconds()
                retry_after = math.ceil(window - (now.timestamp() % window))
                log.info("rate limit reached", extra={"realm": realm.id, "action": action, "scope": scope})
                raise TooManyAttempts(retry_after=max(retry_after, 1))
