"""Browsers that have signed in to an account before: device cookies.

Openwall's "slow down online guessing attacks with device cookies": a successful
sign-in leaves a sealed cookie naming the account and a device id. A later attempt from
that browser is limited by a back-off of its own device, not by the username's or the
address's, so a stranger who guesses (or a school NAT full of typos) cannot lock the
owner out of their own browser. A guesser never has the cookie: it is HttpOnly, sealed
with the service's key (unforgeable, unreadable), bound to one realm and username, and
expires. A browser shared by several people (a school's computer) holds one entry per
account, the most recent first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.domain.secrets import fingerprint
from chalicelib.ports import Clock, Sealer, SecretSource
from chalicelib.realms import RealmConfig

COOKIE = "mitroo_device"
MAX_ENTRIES = 5
"""Accounts one browser is remembered for (a shared computer); the oldest drop out."""
_SEPARATOR = "~"


def _account_tag(realm: str, username: str) -> str:
    return fingerprint(f"{realm}\n{username}")[:32]


@dataclass(frozen=True)
class DeviceTrust:
    sealer: Sealer
    clock: Clock
    secrets: SecretSource

    def recognise(self, realm: RealmConfig, username: str, cookie: str | None) -> str | None:
        """The device id this browser holds for ``username``, or None (a new browser)."""
        tag = _account_tag(realm.id, username)
        for entry in self._entries(cookie):
            found = self._open(entry, realm)
            if found is not None and found[0] == tag:
                return found[1]
        return None

    def remember(self, realm: RealmConfig, username: str, cookie: str | None, device_id: str | None) -> str:
        """The cookie after a successful sign-in: a fresh entry for this account first
        (its device id kept when it had one), the browser's other accounts after it."""
        tag = _account_tag(realm.id, username)
        payload = {"r": realm.id, "a": tag, "d": device_id or self.secrets.identifier()}
        entry = self.sealer.seal(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
        others = [item for item in self._entries(cookie) if (self._open(item, realm) or ("",))[0] != tag]
        return _SEPARATOR.join([entry, *others][:MAX_ENTRIES])

    @staticmethod
    def _entries(cookie: str | None) -> list[str]:
        return [entry for entry in (cookie or "").split(_SEPARATOR) if entry][: MAX_ENTRIES * 2]

    def _open(self, entry: str, realm: RealmConfig) -> tuple[str, str] | None:
        data = self.sealer.open(entry, max_age=realm.throttling.device_trust)
        if data is None:
            return None
        try:
            payload = json.loads(data)
        except ValueError:
            return None
        if not isinstance(payload, dict) or payload.get("r") != realm.id:
            return None
        tag, device = payload.get("a"), payload.get("d")
        return (tag, device) if isinstance(tag, str) and isinstance(device, str) else None
