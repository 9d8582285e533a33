"""EU Login sign-in in the browser (realm esep): start and callback."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.domain.flows import Intent
from chalicelib.web.binding import binding_cookie, browser_binding
from chalicelib.web.endpoints import Ctx, page
from chalicelib.web.html import redirect
from chalicelib.web.oidc.browser import next_cookie, safe_next

bp = Blueprint(__name__)


@page(bp, "/realms/{realm}/eulogin/start")
def start(ctx: Ctx) -> Response:
    """Send the browser to EU Login (PKCE S256 and a nonce kept server-side). With
    ``next`` (an application's authorization request), the browser returns there once
    signed in (``web/oidc/browser.py``)."""
    started = ctx.flows.eulogin_signin.start(ctx.realm, browser_binding(ctx))
    continuation = safe_next(ctx.realm, ctx.query("next"))
    cookies = [binding_cookie(started.browser_binding)]
    if continuation:
        cookies.append(next_cookie(ctx.realm, continuation))
    return redirect(started.redirect_url, status=302, cookies=cookies)


@page(bp, "/realms/{realm}/eulogin/callback")
def callback(ctx: Ctx) -> Response:
    """Where EU Login sends the browser back: a new ``sub`` registers, a known one
    goes home with a flow that opens one session."""
    completed = ctx.flows.eulogin_signin.complete(
        ctx.realm,
        state=ctx.query("state"),
        code=ctx.query("code"),
        error=ctx.query("error"),
        browser_binding=browser_binding(ctx),
    )
    target = "home" if completed.intent is Intent.LOGIN else "register"
    return redirect(ctx.flows.links.page(ctx.realm.id, target, flow=completed.flow_id))
