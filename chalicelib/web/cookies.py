"""Cookies: HttpOnly and SameSite=Lax always, Secure whenever served over HTTPS."""

from __future__ import annotations

from typing import Any

from chalicelib.settings import get_settings


def read_cookie(request: Any, name: str) -> str | None:
    header = request.headers.get("cookie") or ""
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def build_cookie(name: str, value: str, *, path: str = "/", max_age: int | None = None, http_only: bool = True) -> str:
    parts = [f"{name}={value}", f"Path={path}", "SameSite=Lax"]
    if http_only:
        parts.append("HttpOnly")
    if get_settings().secure_cookies:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def expire_cookie(name: str, *, path: str = "/") -> str:
    return build_cookie(name, "", path=path, max_age=0)
