"""The account centre's Profile, Sessions and Applications tabs (SPEC §2.10).

Full pages, one per tab (``_account_tabs.html`` links them), that work without script:
each button is a form with the CSRF token posting to the API (``web/account/api.py``),
which sends the browser back here. The password change asks for a recent
authentication inline, as the Security tab does, and comes back to the Profile.
A visitor without a session goes to the sign-in page.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.errors import ReauthenticationRequired, Unauthorized
from chalicelib.flows.sessions import Principal
from chalicelib.web.endpoints import Ctx, page
from chalicelib.web.html import redirect
from chalicelib.web.pages import form_page
from chalicelib.web.sessions import authenticate

bp = Blueprint(__name__)

NOTICES = {
    "account": ("password",),
    "sessions": ("ended", "others_ended"),
    "applications": ("revoked",),
}


def _principal(ctx: Ctx) -> Principal | None:
    try:
        return authenticate(ctx)
    except Unauthorized:
        return None


def _tab(ctx: Ctx, tab: str, template: str, **context: Any) -> Response:
    done = ctx.query("done") or ""
    notice = done if done in NOTICES.get(tab, ()) else ""
    return form_page(ctx, template, tab=tab, notice=notice, **context)


@page(bp, "/realms/{realm}/account")
def profile(ctx: Ctx) -> Response:
    principal = _principal(ctx)
    if principal is None:
        return redirect(f"/realms/{ctx.realm.id}/login")
    shown = ctx.flows.sessions.profile(ctx.realm, principal)
    try:
        ctx.flows.reauthentication.require_recent(principal)
        recent = True
    except ReauthenticationRequired:
        recent = False
    has_password = ctx.realm.password_policy is not None and ctx.realm.identity_source != "eulogin"
    return _tab(ctx, "account", "account_profile.html", profile=shown, recent=recent, has_password=has_password)


@page(bp, "/realms/{realm}/account/sessions")
def sessions(ctx: Ctx) -> Response:
    principal = _principal(ctx)
    if principal is None:
        return redirect(f"/realms/{ctx.realm.id}/login")
    listed = ctx.flows.account_sessions.list(ctx.realm, principal)
    return _tab(ctx, "sessions", "account_sessions.html", sessions=listed)


@page(bp, "/realms/{realm}/account/applications")
def applications(ctx: Ctx) -> Response:
    principal = _principal(ctx)
    if principal is None:
        return redirect(f"/realms/{ctx.realm.id}/login")
    listed = ctx.flows.account_applications.list(ctx.realm, principal)
    return _tab(ctx, "applications", "account_applications.html", applications=listed)
