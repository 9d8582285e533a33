"""Login, refresh, logout and ``/me``: bearer tokens for API clients, cookies for browsers."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.domain.mfa import MFA_TOKEN_LIFETIME
from chalicelib.domain.tokens import parse_browser_session
from chalicelib.errors import MfaRequired
from chalicelib.flows.devices import COOKIE as DEVICE_COOKIE
from chalicelib.flows.sessions import Principal, TokenPair
from chalicelib.realms import RealmConfig
from chalicelib.web.binding import browser_binding
from chalicelib.web.cookies import build_cookie, expire_cookie
from chalicelib.web.endpoints import Ctx, Reply, api, count, wants_html
from chalicelib.web.esep.schemas import FlowSessionInput
from chalicelib.web.oidc.browser import browser_session, clear_sso_cookie, safe_next, sso_cookies
from chalicelib.web.schemas import LoginInput, ProfileOutput, RefreshInput, TokenOutput

bp = Blueprint(__name__)

SESSION_COOKIE = "mitroo_session"
REFRESH_COOKIE = "mitroo_refresh"


def _refresh_path(realm: RealmConfig) -> str:
    return f"/api/v1/realms/{realm.id}/sessions"


def session_cookies(realm: RealmConfig, pair: TokenPair) -> list[str]:
    """The browser's session: the access token, the refresh token only for its path, the
    realm's single sign-on cookie (``web/oidc/browser.py``); after a password sign-in,
    the device cookie that makes this browser a known one."""
    cookies = [
        build_cookie(SESSION_COOKIE, pair.access_token, max_age=pair.expires_in),
        build_cookie(REFRESH_COOKIE, pair.refresh_token, path=_refresh_path(realm), max_age=pair.refresh_expires_in),
        *sso_cookies(realm, pair),
    ]
    if pair.device_cookie:
        max_age = int(realm.throttling.device_trust.total_seconds())
        cookies.append(build_cookie(DEVICE_COOKIE, pair.device_cookie, max_age=max_age))
    return cookies


def signed_out_cookies(realm: RealmConfig) -> list[str]:
    return [
        expire_cookie(SESSION_COOKIE),
        expire_cookie(REFRESH_COOKIE, path=_refresh_path(realm)),
        clear_sso_cookie(realm),
    ]


def new_browser_session(ctx: Ctx, pair: TokenPair) -> None:
    """A sign-in makes the new session the browser's SSO session of the realm; the same
    person's earlier one is linked to it (``SessionEnding.supersede``)."""
    parsed = parse_browser_session(pair.browser_session)
    if parsed is not None:
        earlier = browser_session(ctx.request, ctx.realm)
        ctx.flows.session_ending.supersede(ctx.realm.id, earlier, parsed[0], parsed[1])


def token_reply(ctx: Ctx, pair: TokenPair, status: int, *, next_page: str | None = None) -> Reply:
    new_browser_session(ctx, pair)
    cookies = session_cookies(ctx.realm, pair)
    body = TokenOutput(
        access_token=pair.access_token,
        token_type="Bearer",
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_expires_in,
        mfa_enrolment_required=True if pair.mfa_enrolment_required else None,
    )
    # An account that must enrol a second factor is taken to the Security page first.
    if pair.mfa_enrolment_required:
        next_page = ctx.flows.links.page(ctx.realm.id, "account/security")
    return Reply(
        status=status, body=body, cookies=cookies, next_page=next_page or ctx.flows.links.page(ctx.realm.id, "home")
    )


MFA_COOKIE = "mitroo_mfa"
"""A browser's ``mfa_token`` between the password page and the second step's page."""


def second_step_reply(ctx: Ctx, required: MfaRequired, next_url: str | None = None) -> Reply:
    """``mfa_required``: a JSON client gets the 401 problem with its ``mfa_token``; a
    browser goes to the second step's page, the token in an HttpOnly cookie (never in a
    URL or the page), which lives as long as the token; ``next_url`` goes along."""
    if not wants_html(ctx.request):
        raise required
    token = str(required.extra.get("mfa_token", ""))
    cookie = build_cookie(MFA_COOKIE, token, max_age=int(MFA_TOKEN_LIFETIME.total_seconds()))
    kept = safe_next(ctx.realm, next_url)
    page = ctx.flows.links.page(ctx.realm.id, "login/second-step", **({"next": kept} if kept else {}))
    return Reply(status=401, cookies=[cookie], next_page=page)


def bearer_token(ctx: Ctx) -> str | None:
    """The access token from ``Authorization: Bearer`` or, for browsers, the session cookie."""
    header = ctx.request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return ctx.cookie(SESSION_COOKIE)


def authenticate(ctx: Ctx) -> Principal:
    return ctx.flows.sessions.authenticate(ctx.realm, bearer_token(ctx))


@api(
    bp,
    "/api/v1/realms/{realm}/sessions",
    method="POST",
    summary="Sign in with username and password (esep: from an EU Login flow of intent login)",
    body=LoginInput,
    body_by_source={"eulogin": FlowSessionInput},
    responses={201: TokenOutput},
    problems=[
        "invalid_credentials",
        "mfa_required",
        "not_activated",
        "account_disabled",
        "account_expired",
        "too_many_attempts",
        "not_found",
        "flow_not_found",
        "flow_expired",
        "flow_used",
    ],
    tags=["sessions"],
)
def login(ctx: Ctx) -> Reply:
    try:
        if isinstance(ctx.body, FlowSessionInput):  # EU Login realms: one session per flow
            pair = ctx.flows.esep_registration.login(ctx.realm, ctx.body.flow, browser_binding(ctx))
            return token_reply(ctx, pair, 201, next_page=safe_next(ctx.realm, ctx.body.next))
        body: LoginInput = ctx.body
        pair = ctx.flows.sessions.login(
            ctx.realm,
            body.username,
            body.password,
            ctx.client_ip,
            device_cookie=ctx.cookie(DEVICE_COOKIE),
            browser=browser_binding(ctx),
        )
    except MfaRequired as required:
        return second_step_reply(ctx, required, getattr(ctx.body, "next", None))
    count("LoginSucceeded")
    return token_reply(ctx, pair, 201, next_page=safe_next(ctx.realm, body.next))


@api(
    bp,
    "/api/v1/realms/{realm}/sessions/refresh",
    method="POST",
    summary="Exchange a refresh token for a new pair (rotation; reuse revokes the session)",
    body=RefreshInput,
    responses={200: TokenOutput},
    problems=["token_invalid", "token_expired", "account_disabled", "account_expired", "not_found"],
    tags=["sessions"],
)
def refresh(ctx: Ctx) -> Reply:
    body: RefreshInput = ctx.body
    token = body.refresh_token or ctx.cookie(REFRESH_COOKIE) or ""
    return token_reply(ctx, ctx.flows.sessions.refresh(ctx.realm, token), 200)


@api(
    bp,
    "/api/v1/realms/{realm}/sessions/current",
    method="DELETE",
    summary="Sign out: the session's refresh tokens stop working",
    responses={204: None},
    problems=["unauthorized", "not_found"],
    tags=["sessions"],
    auth=True,
)
def logout(ctx: Ctx) -> Reply:
    ctx.flows.sessions.logout(ctx.realm, authenticate(ctx), ctx.client_ip)
    return Reply(status=204, cookies=signed_out_cookies(ctx.realm))


@api(
    bp,
    "/api/v1/realms/{realm}/me",
    summary="The signed-in account",
    responses={200: ProfileOutput},
    problems=["unauthorized", "not_found"],
    tags=["sessions"],
    auth=True,
)
def me(ctx: Ctx) -> Reply:
    profile = ctx.flows.sessions.profile(ctx.realm, authenticate(ctx))
    return Reply(body=ProfileOutput.model_validate(profile))
