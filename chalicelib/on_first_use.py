"""Adapters and AWS clients built when the app first calls them, not with the services.

A cold Lambda container builds the services on its first request, and that request
waits for it. A password sign-in needs the table's client, the hash and the signing key;
it needs no S3 client, no SES client, no Powertools idempotency layer, and no GSIS or
EU Login client (whose modules pull in authlib's requests integration, and whose client
secrets are fetched from Secrets Manager). Building those when a flow first uses them
takes them off every cold sign-in; the flows, which hold ports, do not notice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar, cast

T = TypeVar("T")


class _OnFirstUse:
    """Stands in for an adapter: the first attribute read builds it (once, under a lock:
    a login runs its DynamoDB calls on threads), and every read is forwarded to it."""

    __slots__ = ("_adapter", "_build", "_lock")

    def __init__(self, build: Callable[[], object]) -> None:
        self._build: Callable[[], object] | None = build
        self._adapter: object | None = None
        self._lock = threading.Lock()

    def _built(self) -> object:
        if self._build is not None:
            with self._lock:
                if self._build is not None:
                    self._adapter, self._build = self._build(), None
        return self._adapter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._built(), name)

    def __repr__(self) -> str:
        return f"<built on first use: {self._adapter!r}>" if self._build is None else "<not built yet>"


def built_on_first_use(build: Callable[[], T]) -> T:
    """An object that behaves as ``build()``'s result, calling ``build`` on first use.

    Only attribute reads are forwarded (what a port's caller does); ``isinstance`` and
    attribute writes see the stand-in, so tests reach the adapter's attributes, not its
    type.
    """
    return cast(T, _OnFirstUse(build))


class ClientsOnFirstUse(Mapping[str, Any]):
    """The botocore clients by role, each created on its first lookup and kept.

    Creating a client loads its service's model (the first one in a session also loads
    the endpoint rules), tens of milliseconds each on a cold start. Iterating the mapping
    (the fault injector, the benchmark's wire timer) creates every client, as they want
    every client's events.
    """

    def __init__(self, factories: Mapping[str, Callable[[], Any]]) -> None:
        self._factories = dict(factories)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __getitem__(self, role: str) -> Any:
        client = self._clients.get(role)
        if client is None:
            factory = self._factories[role]  # KeyError for a role nobody declared
            with self._lock:
                client = self._clients.get(role)
                if client is None:
                    client = self._clients[role] = factory()
        return client

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)

    def created(self) -> list[str]:
        """The roles whose client exists already (what a cold start has paid for)."""
        return sorted(self._clients)
