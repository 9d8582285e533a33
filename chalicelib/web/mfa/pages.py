"""The Security page (``/realms/{r}/account/security``) and the sign-in's second step.

Without script: an authenticator app is set up (QR code and the key to type, then the
first code), recovery codes are made and shown once (with a text download), factors are
removed, and the second step takes a code or a recovery code. With script
(``static/webauthn.js``): passkeys are added, and the second step and re-authentication
can use one. Every form carries the CSRF token and posts to the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.errors import Unauthorized
from chalicelib.flows.sessions import Principal
from chalicelib.web.binding import browser_binding
from chalicelib.web.endpoints import Ctx, Reply, page
from chalicelib.web.html import redirect
from chalicelib.web.oidc.browser import continuation_targets, safe_next
from chalicelib.web.pages import form_page
from chalicelib.web.sessions import MFA_COOKIE, authenticate

if TYPE_CHECKING:  # the enrolment flow loads with its first request, not at cold start
    from chalicelib.flows.mfa.enrolment import TotpEnrolment

bp = Blueprint(__name__)

NOTICES = ("added", "removed")


def _security(
    ctx: Ctx,
    principal: Principal,
    *,
    totp: TotpEnrolment | None = None,
    recovery_codes: tuple[str, ...] = (),
    notice: str = "",
) -> Response:
    flows = ctx.flows
    overview = flows.mfa_enrolment.overview(ctx.realm, principal)
    try:
        flows.reauthentication.require_recent(principal)
        recent = True
    except Exception:  # noqa: BLE001 - ReauthenticationRequired: the page asks first
        recent = False
    has_key = any(str(factor.kind) == "webauthn" for factor in overview.factors)
    download = "data:text/plain;charset=utf-8," + quote("\r\n".join(recovery_codes) + "\r\n") if recovery_codes else ""
    return form_page(
        ctx,
        "security.html",
        overview=overview,
        recent=recent,
        totp=totp,
        recovery_codes=recovery_codes,
        download=download,
        notice=notice if notice in ("done_added", "done_removed") else "",
        has_key=has_key,
        webauthn_script=True,
        tab="security",
    )


def security_reply(
    ctx: Ctx, *, totp: TotpEnrolment | None = None, recovery_codes: tuple[str, ...] = (), notice: str = ""
) -> Reply:
    """The Security page as the answer to a form post (what it shows once: a new TOTP
    secret, recovery codes), rather than a redirect that could not carry it."""
    shown = _security(ctx, authenticate(ctx), totp=totp, recovery_codes=recovery_codes, notice=notice)
    headers = {
        key: str(value) for key, value in shown.headers.items() if key.lower() not in ("set-cookie", "content-type")
    }
    cookies = shown.headers.get("Set-Cookie") or []
    return Reply(
        status=200,
        raw=shown.body,
        content_type="text/html; charset=utf-8",
        headers=headers,
        cookies=list(cookies) if isinstance(cookies, list) else [cookies],
    )


@page(bp, "/realms/{realm}/account/security")
def security(ctx: Ctx) -> Response:
    try:
        principal = authenticate(ctx)
    except Unauthorized:
        return redirect(f"/realms/{ctx.realm.id}/login")
    done = ctx.query("done") or ""
    return _security(ctx, principal, notice=f"done_{done}" if done in NOTICES else "")


@page(bp, "/realms/{realm}/login/second-step")
def second_step(ctx: Ctx) -> Response:
    offered = ctx.flows.mfa_sign_in.offered(ctx.realm, ctx.cookie(MFA_COOKIE) or "", browser_binding(ctx))
    if offered is None:
        return redirect(f"/realms/{ctx.realm.id}/login")
    next_url = safe_next(ctx.realm, ctx.query("next"))
    context: dict[str, Any] = {
        "offered": offered,
        "webauthn_script": "webauthn" in offered,
        "next_url": next_url or "",
        # the form's post may end at the application through the authorization endpoint
        "form_targets": continuation_targets(ctx.flows, ctx.realm, next_url),
    }
    return form_page(ctx, "mfa_step.html", **context)
