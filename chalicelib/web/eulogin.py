"""EU Login sign-in in the browser (realm esep): start and callback."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.domain.flows import Intent
from chalicelib.web.cookies import build_cookie
from chalicelib.web.endpoints import Ctx, page
from chalicelib.web.html import redirect

bp = Blueprint(__name__)

BINDING_COOKIE = "mitroo_eulogin"
"""Ties an OAuth state to the browser that started it (only its hash is stored)."""


@page(bp, "/realms/{realm}/eulogin/start")
def start(ctx: Ctx) -> Response:
    """Send the browser to EU Login (PKCE S256 and a nonce kept server-side)."""
    started = ctx.flows.eulogin_signin.start(ctx.realm, ctx.cookie(BINDING_COOKIE))
    cookie = build_cookie(
        BINDING_COOKIE,
        started.browser_binding,
        path=f"/realms/{ctx.realm.id}/eulogin",
        max_age=int(ctx.realm.lifetimes.oauth_state.total_seconds()),
    )
    return redirect(started.redirect_url, status=302, cookies=[cookie])


@page(bp, "/realms/{realm}/eulogin/callback")
def callback(ctx: Ctx) -> Response:
    """Where EU Login sends the browser back: a new ``sub`` registers, a known one
    goes home with a flow that opens one session."""
    completed = ctx.flows.eulogin_signin.complete(
        ctx.realm,
        state=ctx.query("state"),
        code=ctx.query("code"),
        error=ctx.query("error"),
        browser_binding=ctx.cookie(BINDING_COOKIE),
    )
    target = "home" if completed.intent is Intent.LOGIN else "register"
    return redirect(ctx.flows.links.page(ctx.realm.id, target, flow=completed.flow_id))
