"""Read the mail an AWS emulator's SES received (local mode's ``/_dev/mail``).

Reading it back from the emulator, not from a copy kept by the app, proves the mail
really went through the SES API. LocalStack exposes it in ``/_aws/ses`` (and so does the
embedded emulator, ``devtools/emulator.py``); a plain moto server in
``/moto-api/data.json`` (HTML body only). Given the app's sender, only the mail it sent
is read: one LocalStack may serve several apps or test processes at once.
"""

from __future__ import annotations

from typing import Any

import requests


class EmulatorMailbox:
    def __init__(self, endpoint_url: str, timeout: float = 5.0, *, sender: str | None = None) -> None:
        self._endpoint = endpoint_url.rstrip("/")
        self._timeout = timeout
        self._sender = sender

    def messages(self) -> list[dict[str, Any]]:
        """Every message the emulator's SES accepted (from the sender, if given), newest first."""
        localstack = self._get("/_aws/ses", {"email": self._sender} if self._sender else None)
        if isinstance(localstack, dict) and "messages" in localstack:
            return [self._from_localstack(m) for m in reversed(localstack["messages"])]
        moto = self._get("/moto-api/data.json") or {}
        stored = (moto.get("ses") or {}).get("Message", [])
        return [self._from_moto(m) for m in reversed(stored) if self._sender is None or m.get("source") == self._sender]

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = requests.get(self._endpoint + path, params=params, timeout=self._timeout)
        except requests.RequestException:
            return None
        if response.status_code != 200:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    @staticmethod
    def _from_moto(message: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": message.get("id"),
            "from": message.get("source"),
            "to": list((message.get("destinations") or {}).get("ToAddresses", [])),
            "subject": message.get("subject"),
            "text": None,
            "html": message.get("body"),
        }

    @staticmethod
    def _from_localstack(message: dict[str, Any]) -> dict[str, Any]:
        body = message.get("Body") or {}
        return {
            "id": message.get("Id"),
            "from": message.get("Source"),
            "to": list((message.get("Destination") or {}).get("ToAddresses", [])),
            "subject": message.get("Subject"),
            "text": body.get("text_part"),
            "html": body.get("html_part"),
            "sent_at": message.get("Timestamp"),
        }
