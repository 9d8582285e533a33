"""The realm's OpenID Provider over HTTP (SPEC §2.8): discovery, the authorization
endpoint and its consent page, token, userinfo, revocation, introspection, logout.

The OAuth endpoints answer RFC 6749 errors (``{"error", "error_description"}``), not
problem details; the authorization and logout endpoints are pages. A request whose
client is unknown or whose redirect URI is not one the client registered gets an error
page, never a redirect (RFC 6749 §4.1.2.1): only once both are known good are errors
sent back to the application. authlib is imported on the first request, not at
``import app`` (cold start).
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.adapters.aws_errors import is_transient
from chalicelib.domain.oidc import SCOPE_CLAIMS, EndReason
from chalicelib.realms import UnknownRealm, get_realm
from chalicelib.web import csrf, html
from chalicelib.web.cookies import read_cookie
from chalicelib.web.endpoints import Ctx, count
from chalicelib.web.inputs import FORM, JSON
from chalicelib.web.oidc.browser import browser_session, origin
from chalicelib.web.openapi import EXTRA_PATHS
from chalicelib.web.problems import InputProblem, problem_body
from chalicelib.web.sessions import signed_out_cookies

log = logging.getLogger(__name__)

bp = Blueprint(__name__)


def _provider_paths(components: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The provider's endpoints in the OpenAPI document, loaded when it is asked for."""
    from chalicelib.web.oidc.openapi import provider_paths

    return provider_paths(components)


EXTRA_PATHS.append(_provider_paths)

ISSUER = "/realms/{realm}"
BODY_TYPES = [FORM, JSON]
MAX_QUERY = 8 * 1024
RETRY_AFTER = 5
CONTINUATION_DROPS = ("max_age", "id_token_hint")
"""Parameters satisfied by the sign-in the request is sent to: the continuation after it
leaves them out, so a fresh sign-in is not asked for again in a loop."""


# --- plumbing ---------------------------------------------------------------------------------


def _oauth_json(handler: Callable[..., Response]) -> Callable[..., Response]:
    """An OAuth JSON endpoint: unknown realm 404, AWS throttling 503, never a bare 500."""

    @functools.wraps(handler)
    def view(realm: str) -> Response:
        from chalicelib.web.oidc.server import oauth_error

        try:
            return handler(Ctx(request=bp.current_request, realm_config=get_realm(realm)))
        except UnknownRealm:
            return oauth_error(404, "invalid_request", "There is no such realm.")
        except Exception as error:
            if is_transient(error):
                count("ServiceUnavailable")
                return oauth_error(503, "temporarily_unavailable", "Please retry.", **{"Retry-After": str(RETRY_AFTER)})
            log.exception("unhandled error in %s", handler.__name__)
            return oauth_error(500, "server_error", "Something went wrong on our side.")

    return view


def _oauth_page(handler: Callable[..., Response]) -> Callable[..., Response]:
    """A browser endpoint of the provider: errors are pages (never a stack trace)."""

    @functools.wraps(handler)
    def view(realm: str) -> Response:
        request = bp.current_request
        try:
            return handler(Ctx(request=request, realm_config=get_realm(realm)))
        except UnknownRealm:
            return html.error_page(problem_body("not_found", detail="There is no such realm."), request=request)
        except InputProblem as problem:
            return html.error_page(problem_body(problem.code, detail=problem.detail), request=request)
        except Exception as error:
            if is_transient(error):
                count("ServiceUnavailable")
                shown = html.error_page(problem_body("service_unavailable"), request=request)
                shown.headers["Retry-After"] = str(RETRY_AFTER)
                return shown
            log.exception("unhandled error in %s", handler.__name__)
            return html.error_page(problem_body("internal_error"), request=request)

    return view


def _server(ctx: Ctx) -> Any:
    from chalicelib.web.oidc.server import build_server

    return build_server(ctx.realm, ctx.flows)


def _form(ctx: Ctx, *, strict: bool) -> list[tuple[str, str]] | Response:
    from chalicelib.web.oidc.server import MalformedBody, TooLarge, form_pairs, oauth_error

    try:
        return form_pairs(ctx.request, strict=strict)
    except TooLarge:
        return oauth_error(413, "invalid_request", "The request body is too large.")
    except MalformedBody as problem:
        return oauth_error(400, "invalid_request", str(problem))


# --- discovery --------------------------------------------------------------------------------


@bp.route(f"{ISSUER}/.well-known/openid-configuration", methods=["GET"])
@_oauth_json
def discovery(ctx: Ctx) -> Response:
    from chalicelib.flows.oidc.discovery import provider_metadata

    document = provider_metadata(ctx.flows.links, ctx.realm)
    document["authorization_response_iss_parameter_supported"] = True
    return Response(
        body=json.dumps(document),
        status_code=200,
        headers={"Content-Type": "application/json", "Cache-Control": "public, max-age=300"},
    )


# --- token, userinfo, revocation, introspection -----------------------------------------------


@bp.route(f"{ISSUER}/oidc/token", methods=["POST"], content_types=BODY_TYPES)
@_oauth_json
def token(ctx: Ctx) -> Response:
    pairs = _form(ctx, strict=True)
    if isinstance(pairs, Response):
        return pairs
    server = _server(ctx)
    return server.create_token_response(server.build_request(ctx.request, "token", form=pairs))


@bp.route(f"{ISSUER}/oidc/userinfo", methods=["GET", "POST"], content_types=BODY_TYPES)
@_oauth_json
def userinfo(ctx: Ctx) -> Response:
    pairs: list[tuple[str, str]] | Response = []
    if ctx.request.method == "POST":
        pairs = _form(ctx, strict=True)
        if isinstance(pairs, Response):
            return pairs
    server = _server(ctx)
    return server.create_endpoint_response("userinfo", server.build_request(ctx.request, "userinfo", form=pairs))


@bp.route(f"{ISSUER}/oidc/revoke", methods=["POST"], content_types=BODY_TYPES)
@_oauth_json
def revoke(ctx: Ctx) -> Response:
    pairs = _form(ctx, strict=True)
    if isinstance(pairs, Response):
        return pairs
    server = _server(ctx)
    return server.create_endpoint_response("revocation", server.build_request(ctx.request, "revoke", form=pairs))


@bp.route(f"{ISSUER}/oidc/introspect", methods=["POST"], content_types=BODY_TYPES)
@_oauth_json
def introspect(ctx: Ctx) -> Response:
    pairs = _form(ctx, strict=True)
    if isinstance(pairs, Response):
        return pairs
    server = _server(ctx)
    request = server.build_request(ctx.request, "introspect", form=pairs)
    return server.create_endpoint_response("introspection", request)


# --- the authorization endpoint -----------------------------------------------------------------


@bp.route(f"{ISSUER}/oidc/authorize", methods=["GET", "POST"], content_types=BODY_TYPES)
@_oauth_page
def authorize(ctx: Ctx) -> Response:
    """GET (or an application's POST) starts; the consent page's POST (``decision``)
    answers. A POST carries the parameters in its form body."""
    from chalicelib.web.oidc.server import MalformedBody, TooLarge, form_pairs, query_pairs

    if ctx.request.method == "POST":
        try:
            pairs = form_pairs(ctx.request)
        except TooLarge:
            raise InputProblem("payload_too_large", "The request is too large.") from None
        except MalformedBody as problem:
            raise InputProblem("malformed_body", str(problem)) from None
        if any(key == "decision" for key, _ in pairs):
            return _decide(ctx, pairs)
    else:
        pairs = query_pairs(ctx.request)
    if len(urlencode(pairs)) > MAX_QUERY:
        raise InputProblem("payload_too_large", "The authorization request is too large.")
    return _authorize(ctx, pairs)


def _authorize(ctx: Ctx, pairs: list[tuple[str, str]], *, consented: bool | None = None) -> Response:
    from authlib.oauth2.rfc6749.errors import OAuth2Error

    oidc, realm = ctx.flows.oidc, ctx.realm
    server = _server(ctx)
    request = server.build_request(ctx.request, "authorize", form=pairs)
    params = request.payload.data
    cookie = browser_session(ctx.request, realm)
    sign_in: Any = None
    if consented is None and _quick(ctx, params):
        sign_in = oidc.authorization.cookie_sign_in(cookie)
    if sign_in is None:
        sign_in = oidc.authorization.signed_in(realm, cookie, params.get("client_id") or "")
    try:
        grant = server.get_consent_grant(request, end_user=sign_in)
    except OAuth2Error as error:
        return _authorization_error(ctx, error)
    return _decide_authorization(ctx, server, grant, pairs, sign_in, consented)


def _quick(ctx: Ctx, params: dict[str, str]) -> bool:
    """Whether the request is the common case a code can be issued for straight from the
    SSO cookie (one conditional write, no read): no forced sign-in or consent, no hint
    to compare, ``max_age`` (if any) met by the cookie's ``auth_time``."""
    prompts = set((params.get("prompt") or "").split())
    if prompts & {"login", "consent"} or params.get("id_token_hint"):
        return False
    try:
        max_age = int(params["max_age"]) if params.get("max_age") not in (None, "") else None
    except ValueError:
        return False
    quick = ctx.flows.oidc.authorization.cookie_sign_in(browser_session(ctx.request, ctx.realm))
    return quick is not None and not ctx.flows.oidc.authorization.needs_reauthentication(quick, max_age)


def _decide_authorization(
    ctx: Ctx, server: Any, grant: Any, pairs: list[tuple[str, str]], sign_in: Any, consented: bool | None
) -> Response:
    from authlib.oauth2.rfc6749.errors import OAuth2Error

    from chalicelib.flows.oidc.authorization import CookieSignIn
    from chalicelib.web.oidc.grants import SessionGone

    oidc, realm = ctx.flows.oidc, ctx.realm
    request = grant.request
    params = request.payload.data
    client = request.client.domain

    def back(error: str, description: str = "") -> Response:
        return _redirect_error(ctx, grant.redirect_uri, error, description, params.get("state"))

    if params.get("request"):
        return back("request_not_supported", "Request objects are not supported.")
    if params.get("request_uri"):
        return back("request_uri_not_supported", "Request objects are not supported.")
    if len(params.get("nonce") or "") > 512 or len(params.get("state") or "") > 2048:
        return back("invalid_request", "The nonce or state is too long.")
    prompts = set((params.get("prompt") or "").split())
    try:
        max_age = int(params["max_age"]) if params.get("max_age") not in (None, "") else None
        if max_age is not None and max_age < 0:
            raise ValueError
    except ValueError:
        return back("invalid_request", "max_age must be a number of seconds.")
    hinted = None
    if params.get("id_token_hint"):
        hinted = _hinted_subject(ctx, params["id_token_hint"])
        if hinted is None:
            return back("invalid_request", "The id_token_hint is not an ID token of this provider.")
    needs_sign_in = (
        sign_in is None
        or "login" in prompts
        or oidc.authorization.needs_reauthentication(sign_in, max_age)
        or oidc.authorization.needs_second_factor(sign_in)
        or (hinted is not None and hinted != sign_in.account_id)
    )
    if needs_sign_in:
        if "none" in prompts:
            return back("login_required", "The person is not signed in.")
        return _to_sign_in(ctx, pairs)
    refusal = oidc.authorization.refusal(realm, sign_in)
    if refusal is not None:
        if "none" in prompts and refusal.code == "mfa_enrolment_required":
            return back("interaction_required", "The account must enrol a second factor first.")
        if "none" in prompts:
            return back("login_required", "The account may not sign in now.")
        count(f"OidcRefused.{refusal.code}")
        return _page(ctx, "oidc_error.html", 403, title_key="oidc.account_refused_title", code=refusal.code, detail="")
    scopes = tuple(request.scope.split())
    if consented is None:
        if oidc.authorization.needs_consent(client, sign_in, scopes, asked="consent" in prompts):
            if "none" in prompts:
                return back("consent_required", "The person has not allowed this application yet.")
            return _consent_page(ctx, client, sign_in, scopes, pairs, grant.redirect_uri)
    elif not consented:
        return back("access_denied", "The person did not allow it.")
    else:
        oidc.authorization.remember_consent(realm, sign_in, client, scopes)
    try:
        status, _, headers = grant.create_authorization_response(grant.redirect_uri, sign_in)
    except SessionGone:
        if isinstance(sign_in, CookieSignIn):  # something the cookie said did not hold: read, decide
            full = oidc.authorization.signed_in(realm, browser_session(ctx.request, realm), client.client_id)
            grant.request.user = full
            return _decide_authorization(ctx, server, grant, pairs, full, consented)
        if "none" in prompts:
            return back("login_required", "The session has ended.")
        return _to_sign_in(ctx, pairs)
    except OAuth2Error as error:
        error.state = params.get("state")
        return _authorization_error(ctx, error)
    count("OidcCodeIssued")
    return html.redirect(dict(headers)["Location"], status=status)


def _hinted_subject(ctx: Ctx, id_token_hint: str) -> str | None:
    from chalicelib.errors import Unauthorized

    try:
        claims = ctx.flows.oidc.signer.verify(
            id_token_hint[:8192],
            issuer=ctx.flows.links.issuer(ctx.realm.id),
            now=ctx.flows.oidc.clock.now(),
            audience=None,
            typ="JWT",
            check_expiry=False,
        )
    except Unauthorized:
        return None
    return str(claims.get("sub"))


def _redirect_error(ctx: Ctx, redirect_uri: str, error: str, description: str, state: str | None) -> Response:
    from authlib.common.urls import add_params_to_uri

    params = [("error", error)]
    if description:
        params.append(("error_description", description))
    if state:
        params.append(("state", state))
    params.append(("iss", ctx.flows.links.issuer(ctx.realm.id)))
    count(f"OidcError.{error}")
    return html.redirect(add_params_to_uri(redirect_uri, params), status=302)


def _authorization_error(ctx: Ctx, error: Any) -> Response:
    """Back to the application only when its redirect URI was validated; else a page."""
    if getattr(error, "redirect_uri", None):
        return _redirect_error(ctx, error.redirect_uri, error.error, error.description or "", error.state)
    count(f"OidcError.{error.error}")
    return _page(
        ctx, "oidc_error.html", 400, title_key="oidc.request_error_title", code=error.error, detail=error.description
    )


def _continuation(ctx: Ctx, pairs: list[tuple[str, str]]) -> str:
    kept: list[tuple[str, str]] = []
    for key, value in pairs:
        if key in CONTINUATION_DROPS:
            continue
        if key == "prompt":
            value = " ".join(item for item in value.split() if item != "login")
            if not value:
                continue
        kept.append((key, value))
    return f"/realms/{ctx.realm.id}/oidc/authorize?{urlencode(kept)}"


def _ui_language(ctx: Ctx, pairs: list[tuple[str, str]]) -> str | None:
    for key, value in pairs:
        if key == "ui_locales":
            for tag in value.split():
                language = tag.split("-")[0].lower()
                if language in ctx.realm.languages:
                    return language
    return None


def _to_sign_in(ctx: Ctx, pairs: list[tuple[str, str]]) -> Response:
    """To the realm's own sign-in, which returns to the request (``next``)."""
    query: dict[str, str] = {"next": _continuation(ctx, pairs)}
    language = _ui_language(ctx, pairs)
    if language:
        query["lang"] = language
    hint = dict(pairs).get("login_hint")
    if hint and ctx.realm.identity_source != "eulogin":
        query["login_hint"] = hint[:254]
    page = "eulogin/start" if ctx.realm.identity_source == "eulogin" else "login"
    return html.redirect(f"/realms/{ctx.realm.id}/{page}?{urlencode(query)}", status=302)


class _LanguageRequest:
    """The request with ``lang`` set from ``ui_locales`` (OIDC Core §3.1.2.1)."""

    def __init__(self, request: Any, language: str | None) -> None:
        self._request = request
        params = dict(request.query_params or {})
        if language and "lang" not in params:
            params["lang"] = language
        self.query_params = params

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


def _page(
    ctx: Ctx,
    template: str,
    status: int,
    *,
    pairs: list[tuple[str, str]] | None = None,
    cookies: list[str] | None = None,
    **context: Any,
) -> Response:
    token, cookie = csrf.token_for(ctx.request)
    request = _LanguageRequest(ctx.request, _ui_language(ctx, pairs or []))
    return html.render_page(
        template,
        request=request,
        realm=ctx.realm,
        status=status,
        cookies=[*(cookies or []), *([cookie] if cookie else [])],
        csrf_token=token,
        home_url=f"/realms/{ctx.realm.id}",
        **context,
    )


def _consent_page(
    ctx: Ctx, client: Any, sign_in: Any, scopes: tuple[str, ...], pairs: list[tuple[str, str]], redirect_uri: str
) -> Response:
    listed = [(scope, SCOPE_CLAIMS.get(scope, ())) for scope in scopes if scope in SCOPE_CLAIMS]
    return _page(
        ctx,
        "oidc_consent.html",
        200,
        pairs=pairs,
        client_name=client.name,
        username=sign_in.account.username,
        scopes=listed,
        params=[(key, value) for key, value in pairs if key not in ("decision", "csrf_token")],
        action=f"/realms/{ctx.realm.id}/oidc/authorize",
        form_targets=(origin(redirect_uri),),
    )


def _require_form_token(ctx: Ctx, pairs: list[tuple[str, str]]) -> None:
    """The consent and logout forms are ours: same site, and the CSRF cookie and token
    both present and equal (a decision can only come from this browser's click)."""
    csrf.check(ctx.request)
    cookie = read_cookie(ctx.request, csrf.COOKIE) or ""
    token = dict(pairs).get(csrf.FIELD) or ""
    if not cookie or not token or not hmac.compare_digest(cookie, token):
        raise InputProblem("forbidden", "The form has expired; reload the page and try again.")


def _decide(ctx: Ctx, pairs: list[tuple[str, str]]) -> Response:
    _require_form_token(ctx, pairs)
    decision = dict(pairs).get("decision")
    params = [(key, value) for key, value in pairs if key not in ("decision", csrf.FIELD)]
    return _authorize(ctx, params, consented=decision == "allow")


# --- RP-initiated logout -------------------------------------------------------------------------


@bp.route(f"{ISSUER}/oidc/logout", methods=["GET", "POST"], content_types=BODY_TYPES)
@_oauth_page
def logout(ctx: Ctx) -> Response:
    """RP-Initiated Logout 1.0. With a valid ``id_token_hint`` the session ends at once
    and the browser goes to the registered ``post_logout_redirect_uri`` (with
    ``state``); without one, the person confirms first (a page whose form is ours)."""
    from authlib.oauth2.rfc6749.errors import OAuth2Error

    from chalicelib.web.oidc.server import MalformedBody, TooLarge, form_pairs, query_pairs

    confirmed = False
    if ctx.request.method == "POST":
        try:
            pairs = form_pairs(ctx.request)
        except (TooLarge, MalformedBody) as problem:
            raise InputProblem("malformed_body", str(problem) or "The request is too large.") from None
        if dict(pairs).get("confirm") == "yes":
            _require_form_token(ctx, pairs)
            confirmed = True
        pairs = [(key, value) for key, value in pairs if key not in ("confirm", csrf.FIELD)]
    else:
        pairs = query_pairs(ctx.request)
    server = _server(ctx)
    request = server.build_request(ctx.request, "logout", form=pairs)
    try:
        validated = server.validate_endpoint_request("end_session", request)
    except OAuth2Error as error:
        return _page(
            ctx,
            "oidc_error.html",
            400,
            title_key="oidc.request_error_title",
            code=error.error,
            detail=error.description,
        )
    if validated.needs_confirmation and not confirmed:
        return _page(
            ctx,
            "oidc_logout.html",
            200,
            pairs=pairs,
            done=False,
            params=pairs,
            action=f"/realms/{ctx.realm.id}/oidc/logout",
            form_targets=(origin(validated.redirect_uri),) if validated.redirect_uri else (),
        )
    ending = ctx.flows.session_ending
    address = ctx.client_ip

    def end_session(end_request: Any) -> None:
        ending.end_browser_session(
            ctx.realm.id, browser_session(ctx.request, ctx.realm), EndReason.LOGOUT, address=address
        )
        claims = end_request.id_token_claims or {}
        if claims.get("sid") and claims.get("sub"):
            ending.end(ctx.realm.id, str(claims["sub"]), str(claims["sid"]), EndReason.LOGOUT, address=address)

    server.on_end_session = end_session
    response = server.create_endpoint_response("end_session", validated)
    cookies = signed_out_cookies(ctx.realm)
    if response is None:
        return _page(ctx, "oidc_logout.html", 200, done=True, params=[], action="", cookies=cookies)
    response.headers["Set-Cookie"] = cookies
    return response
