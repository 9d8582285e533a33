"""The pages of each journey, Greek or English: forms that post to the API's endpoints.

Each form carries a CSRF token and the page it came from (``form_page``), so a refused
post comes back as this page with the values kept and the problem next to its fields.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.domain.oidc import EndReason
from chalicelib.domain.tokens import Purpose
from chalicelib.errors import FlowUsed, NotFound, Unauthorized
from chalicelib.realms import all_realms
from chalicelib.web import csrf
from chalicelib.web.account.notice import deletion_notice
from chalicelib.web.binding import browser_binding
from chalicelib.web.endpoints import Ctx, page
from chalicelib.web.esep import pages as esep_pages
from chalicelib.web.html import redirect, render_page
from chalicelib.web.oidc.browser import browser_session, continuation_targets, safe_next
from chalicelib.web.sessions import authenticate, signed_out_cookies

bp = Blueprint(__name__)


def form_page(ctx: Ctx, template: str, **context: Any) -> Response:
    token, cookie = csrf.token_for(ctx.request)
    realm = ctx.realm
    state = ctx.form_state
    request = ctx.request
    query = {key: value for key, value in (request.query_params or {}).items() if key != "lang"}
    path = str((request.context or {}).get("path") or f"/realms/{realm.id}")
    return render_page(
        template,
        request=request,
        realm=realm,
        status=state.status if state else 200,
        cookies=[cookie] if cookie else None,
        csrf_token=token,
        form_page=path + (f"?{urlencode(query)}" if query else ""),
        home_url=f"/realms/{realm.id}",
        api=f"/api/v1/realms/{realm.id}",
        values=state.values if state else {},
        errors=state.errors if state else {},
        problem={"code": state.code, "detail": state.detail, "violations": state.violations} if state else None,
        **context,
    )


@page(bp, "/")
def realms(ctx: Ctx) -> Response:
    """What a newcomer opening the service's address sees first (SPEC §1): every realm,
    named in the page's language, with a link to its page."""
    return render_page("realms.html", request=ctx.request, realms=list(all_realms().values()), home_url="/")


@page(bp, "/realms/{realm}")
def index(ctx: Ctx) -> Response:
    return form_page(ctx, "index.html")


@page(bp, "/realms/{realm}/register")
def register(ctx: Ctx) -> Response:
    if ctx.realm.identity_source == "eulogin":
        return esep_pages.register_page(ctx, form_page)
    flow_id = ctx.query("flow") or ""
    flow = ctx.flows.gsis_signin.load(ctx.realm, flow_id, browser_binding(ctx))
    if flow.used_at is not None:
        raise FlowUsed()
    return form_page(ctx, "register.html", flow_id=flow_id, identity=flow.gsis.public_fields())


@page(bp, "/realms/{realm}/registered")
def registered(ctx: Ctx) -> Response:
    return form_page(ctx, "registered.html", resent=bool(ctx.query("resent")))


@page(bp, "/realms/{realm}/activate")
def activate(ctx: Ctx) -> Response:
    """The link in the mail lands here; only the button's POST consumes the token."""
    return form_page(ctx, "activate.html", token=ctx.query("token") or "")


@page(bp, "/realms/{realm}/activated")
def activated(ctx: Ctx) -> Response:
    return form_page(ctx, "activated.html")


@page(bp, "/realms/{realm}/login")
def login(ctx: Ctx) -> Response:
    """``next``: where to go once signed in (an authorization request of this realm);
    ``login_hint``: the username an application suggests."""
    hint = (ctx.query("login_hint") or "")[:254]
    next_url = safe_next(ctx.realm, ctx.query("next"))
    return form_page(
        ctx,
        "login.html",
        next_url=next_url or "",
        login_hint=hint,
        webauthn_script=ctx.realm.identity_source != "eulogin",
        form_targets=continuation_targets(ctx.flows, ctx.realm, next_url),
    )


@page(bp, "/realms/{realm}/home")
def home(ctx: Ctx) -> Response:
    flow_id = ctx.query("flow")
    if flow_id and ctx.realm.identity_source == "eulogin":
        return esep_pages.home_from_flow(ctx, flow_id, form_page)
    try:
        profile = ctx.flows.sessions.profile(ctx.realm, authenticate(ctx))
    except Unauthorized:
        return redirect(f"/realms/{ctx.realm.id}/login")
    etwinning = esep_pages.member_summary(ctx, profile["account_id"])
    return form_page(ctx, "home.html", profile=profile, etwinning=etwinning, deletion_due=deletion_notice(profile))


@page(bp, "/realms/{realm}/logout", methods=["POST"], form=True)
def logout(ctx: Ctx) -> Response:
    """End the browser's session, whichever cookie still names it (the access token's
    15 minutes may be over while the single sign-on session lives on)."""
    try:
        ctx.flows.sessions.logout(ctx.realm, authenticate(ctx), ctx.client_ip)
    except Unauthorized:
        pass
    ctx.flows.session_ending.end_browser_session(
        ctx.realm.id, browser_session(ctx.request, ctx.realm), EndReason.LOGOUT, address=ctx.client_ip
    )
    return redirect(f"/realms/{ctx.realm.id}", cookies=signed_out_cookies(ctx.realm))


@page(bp, "/realms/{realm}/forgot-password")
def forgot_password(ctx: Ctx) -> Response:
    return form_page(ctx, "forgot_password.html")


@page(bp, "/realms/{realm}/reset-requested")
def reset_requested(ctx: Ctx) -> Response:
    return form_page(ctx, "reset_requested.html")


@page(bp, "/realms/{realm}/reset-password")
def reset_password(ctx: Ctx) -> Response:
    """After GSIS (``?flow=``, e-IEP) or from the mailed link (``?token=``, NTUA).

    Opening the link consumes nothing: the form's POST does (mail scanners follow GETs).
    """
    flow_id, token = ctx.query("flow") or "", ctx.query("token") or ""
    view = ctx.flows.flow_views.describe(ctx.realm, flow_id, browser_binding(ctx)) if flow_id else None
    if view is None and token:
        username = ctx.flows.passwords.link_username(ctx.realm, Purpose.PASSWORD_RESET, token)
        view = {"username": username} if username else None
    return form_page(ctx, "reset_password.html", flow_id=flow_id, view=view, token=token)


@page(bp, "/realms/{realm}/set-password")
def set_password(ctx: Ctx) -> Response:
    token = ctx.query("token") or ""
    username = ctx.flows.passwords.link_username(ctx.realm, Purpose.PASSWORD_SETUP, token) or ""
    return form_page(ctx, "set_password.html", token=token, username=username)


@page(bp, "/realms/{realm}/password-changed")
def password_changed(ctx: Ctx) -> Response:
    return form_page(ctx, "password_changed.html")


@page(bp, "/realms/{realm}/certify")
def certify(ctx: Ctx) -> Response:
    flow_id = ctx.query("flow") or ""
    view = ctx.flows.flow_views.describe(ctx.realm, flow_id, browser_binding(ctx))
    if view["used"]:
        raise FlowUsed()
    different = {item["field"] for item in view["differences"]}
    return form_page(ctx, "certify.html", flow_id=flow_id, view=view, different=different)


@page(bp, "/realms/{realm}/support")
def support(ctx: Ctx) -> Response:
    if ctx.realm.support is None:
        raise NotFound()
    return form_page(ctx, "support.html", sent=ctx.query("ticket") == "sent", topics=ctx.realm.support.topics)


@page(bp, "/realms/{realm}/recover-email")
def recover_email(ctx: Ctx) -> Response:
    view = ctx.flows.flow_views.describe(ctx.realm, ctx.query("flow") or "", browser_binding(ctx))
    return form_page(ctx, "recover_email.html", view=view)
