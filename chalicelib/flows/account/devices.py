"""Naming a device from its User-Agent ("Firefox 120 on Ubuntu") for the Sessions page
and the new-device notice.

``ua-parser`` and its compiled rules load only here, on first use: a sign-in stores the
raw User-Agent and never parses it (cold start, SPEC §5); the page and the mail worker
pay for the parse.
"""

from __future__ import annotations

import functools

UNKNOWN = "Other"
"""What ua-parser calls a browser or system it does not know."""


def describe_device(user_agent: str) -> str:
    """``<browser> <major> on <system>`` (the API's wording); what is unknown is left
    out, and an empty string when neither is known."""
    browser, system = device_parts(user_agent)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system


@functools.lru_cache(maxsize=256)
def device_parts(user_agent: str) -> tuple[str, str]:
    """(browser and major version, operating system), each empty when unknown: pages
    and mail join them in their own language."""
    if not user_agent:
        return "", ""
    from ua_parser import parse  # lazily: see the module docstring

    result = parse(user_agent)
    browser = _named(result.user_agent.family, result.user_agent.major) if result.user_agent else ""
    system = _named(result.os.family, result.os.major) if result.os else ""
    return browser, system


def _named(family: str | None, major: str | None) -> str:
    if not family or family == UNKNOWN:
        return ""
    return f"{family} {major}" if major else family
