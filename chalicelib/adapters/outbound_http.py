"""Requests to URLs that clients registered: back-channel logout and client JWKS.

A registered URL is chosen by whoever registered the client, so it must not become a
way into the deployment's own network (SSRF): in a deployed stage only ``https`` is
called, and the host's every address must be public: loopback, link-local (the
instance metadata service), private, shared, reserved and multicast ranges are refused,
IPv4-mapped IPv6 included. The connection then goes to the address that was checked,
with the host name kept for ``Host`` and TLS (SNI and certificate), so a DNS answer
that changes between check and connect (rebinding) cannot redirect it. Redirects are
not followed. Local and test runs (``MITROO_ENV`` ``local``/``test``) also call
``http`` and loopback addresses, so ``make run`` and the tests can receive logout tokens.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3

from chalicelib.errors import OutboundFailed, OutboundRefused

log = logging.getLogger(__name__)

MAX_RESPONSE = 256 * 1024


def _address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private or (isinstance(address, ipaddress.IPv4Address) and address in _SHARED):
        return "a private address"
    if address.is_multicast or address.is_reserved or address.is_unspecified:
        return "a reserved address"
    return None


_SHARED = ipaddress.ip_network("100.64.0.0/10")


class GuardedHttp:
    def __init__(self, *, allow_loopback: bool, timeout: float = 5.0) -> None:
        self._allow_loopback = allow_loopback
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)

    def refusal(self, url: str) -> str | None:
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            return "is not a valid URL"
        if not host:
            return "is not a valid URL"
        if parts.scheme != "https" and not (self._allow_loopback and parts.scheme == "http"):
            return "must use https"
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            if host.lower() == "localhost" and not self._allow_loopback:
                return "must not be a loopback address"
            return None
        problem = _address_problem(address, self._allow_loopback)
        return f"must not be {problem}" if problem else None

    def post_form(self, url: str, fields: dict[str, str]) -> int:
        answer = self._request("POST", url, body=urlencode(fields), content_type="application/x-www-form-urlencoded")
        return answer.status

    def get_json(self, url: str) -> Any:
        answer = self._request("GET", url)
        try:
            return json.loads(answer.data[:MAX_RESPONSE])
        except ValueError:
            raise OutboundFailed(f"{urlsplit(url).hostname}: not JSON") from None

    def _request(self, method: str, url: str, *, body: str | None = None, content_type: str | None = None) -> Any:
        problem = self.refusal(url)
        if problem:
            raise OutboundRefused(f"{url[:200]} {problem}")
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = self._checked_address(host, port)
        headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "User-Agent": "Mitroo", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        if parts.scheme == "https":
            pool: Any = urllib3.HTTPSConnectionPool(
                address, port, server_hostname=host, assert_hostname=host, timeout=self._timeout, retries=False
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, port, timeout=self._timeout, retries=False)
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        try:
            answer = pool.urlopen(
                method, path, body=body, headers=headers, redirect=False, preload_content=True, assert_same_host=False
            )
        except urllib3.exceptions.HTTPError as exc:
            raise OutboundFailed(f"{host}: {type(exc).__name__}") from None
        finally:
            pool.close()
        if not 200 <= answer.status < 300:
            raise OutboundFailed(f"{host} answered {answer.status}")
        return answer

    def _checked_address(self, host: str, port: int) -> str:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise OutboundFailed(f"{host}: does not resolve") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        if not addresses:
            raise OutboundFailed(f"{host}: does not resolve")
        for address in addresses:
            problem = _address_problem(address, self._allow_loopback)
            if problem:
                raise OutboundRefused(f"{host} resolves to {problem}")
        chosen = addresses[0]
        return f"[{chosen}]" if isinstance(chosen, ipaddress.IPv6Address) else str(chosen)
