"""The browser-binding cookie: ties OAuth states and the identity flows they produce to
the browser that started the sign-in (SPEC §3).

One random value per browser, stored by us only as a hash beside the state and the flow.
It is sent wherever a flow is read, used or consumed — the pages under ``/realms/`` and
the API under ``/api/v1/`` — so its path is ``/``; API clients that are not browsers
keep it like any cookie and send it back with the flow id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.web.cookies import build_cookie

if TYPE_CHECKING:
    from chalicelib.web.endpoints import Ctx

COOKIE = "mitroo_browser"
LIFETIME_SECONDS = 60 * 60
"""Long enough for a state (10 min) and the flow it becomes (15 min), with room."""


def browser_binding(ctx: Ctx) -> str | None:
    return ctx.cookie(COOKIE)


def binding_cookie(value: str) -> str:
    return build_cookie(COOKIE, value, path="/", max_age=LIFETIME_SECONDS)
