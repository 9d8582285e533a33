"""What a registered URI may be: absolute, exact, and never a way to leak a code.

Redirect URIs (and post-logout redirect URIs) are compared as exact strings, so they
are checked once here, at registration: ``https``, or ``http`` on a loopback host only
(RFC 8252 §7.3: native and local applications); no fragment (a code must not end up in
one), no user-info part (``https://good@evil``), no white space.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MAX_URI = 2000


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def uri_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be registered, or None when it can."""
    if not uri or len(uri) > MAX_URI:
        return f"must be an absolute URL of at most {MAX_URI} characters"
    if any(character.isspace() or ord(character) < 0x20 for character in uri):
        return "must not contain white space or control characters"
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an https URL (or http on a loopback address)"
    if parts.scheme == "http" and not is_loopback_host(host):
        return "must use https (http only on a loopback address, RFC 8252)"
    if "@" in parts.netloc:
        return "must not contain a user name or password"
    if parts.fragment or uri.endswith("#"):
        return "must not contain a fragment"
    return None
