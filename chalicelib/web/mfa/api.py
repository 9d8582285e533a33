"""The second-factor API (SPEC §2.9) and re-authentication (SPEC §2.10).

Enrolment routes act on the signed-in account (bearer token, or the pages' session
cookie) and need a recent authentication. Browser form posts come back to the Security
page; recovery codes, shown once, are rendered into that page's answer rather than
carried through a redirect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.domain.mfa import RECENT_AUTHENTICATION, Factor
from chalicelib.flows.devices import COOKIE as DEVICE_COOKIE
from chalicelib.web.binding import binding_cookie, browser_binding
from chalicelib.web.cookies import expire_cookie
from chalicelib.web.endpoints import FORM_PAGE_FIELD, Ctx, Reply, api, count, wants_html
from chalicelib.web.inputs import raw_fields
from chalicelib.web.mfa import pages
from chalicelib.web.mfa.schemas import (
    EmptyInput,
    EnrolledOutput,
    FactorOutput,
    MfaOverviewOutput,
    MfaTokenInput,
    OptionsOutput,
    PasskeyInput,
    ReauthenticatedOutput,
    ReauthenticateInput,
    RecoveryCodesOutput,
    SecondStepInput,
    TotpConfirmInput,
    TotpStartInput,
    TotpStartOutput,
    WebAuthnRegistrationInput,
)
from chalicelib.web.oidc.browser import renewed_sso_cookies, safe_next
from chalicelib.web.problems import InputProblem
from chalicelib.web.schemas import TokenOutput
from chalicelib.web.sessions import MFA_COOKIE, authenticate, token_reply

if TYPE_CHECKING:  # the enrolment flow (WebAuthn's relying party among it) loads with its first request
    from chalicelib.flows.mfa.enrolment import Enrolled

bp = Blueprint(__name__)

ME = "/api/v1/realms/{realm}/me"
SESSIONS = "/api/v1/realms/{realm}/sessions"
TAGS = ["mfa"]
_ENROL_PROBLEMS = ["unauthorized", "reauthentication_required", "not_found"]


def factor_output(factor: Factor) -> FactorOutput:
    return FactorOutput(
        factor_id=factor.factor_id,
        type=str(factor.kind),
        label=factor.label,
        created_at=factor.created_at.isoformat(),
        last_used_at=factor.last_used_at.isoformat() if factor.last_used_at else None,
    )


def _enrolled(ctx: Ctx, enrolled: Enrolled, status: int) -> Reply:
    count("SecondFactorAdded")
    renewed = renewed_sso_cookies(ctx.request, ctx.realm, enrolled.session)
    if wants_html(ctx.request):
        shown = pages.security_reply(ctx, recovery_codes=enrolled.recovery_codes, notice="done_added")
        shown.cookies.extend(renewed)
        return shown
    body = EnrolledOutput(
        **factor_output(enrolled.factor).model_dump(), recovery_codes=list(enrolled.recovery_codes) or None
    )
    return Reply(status=status, body=body, cookies=renewed)


def _back_to_security(ctx: Ctx, notice: str = "") -> str:
    return ctx.flows.links.page(ctx.realm.id, "account/security") + (f"?done={notice}" if notice else "")


def _back_to_asking_page(ctx: Ctx) -> str:
    """Where a browser goes after re-authenticating: the account-centre page whose inline
    form asked (Your data, Profile…), so the person carries on there; else Security."""
    try:
        target = str(raw_fields(ctx.request).get(FORM_PAGE_FIELD) or "")
    except InputProblem:
        target = ""
    centre = f"/realms/{ctx.realm.id}/account"
    path = target.split("?", 1)[0]
    if (path == centre or path.startswith(centre + "/")) and "//" not in target and "\\" not in target:
        return target
    return _back_to_security(ctx)


# --- enrolment -------------------------------------------------------------------------------------


@api(
    bp,
    f"{ME}/mfa",
    summary="The signed-in account's second factors (no secrets) and unused recovery codes",
    responses={200: MfaOverviewOutput},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def overview(ctx: Ctx) -> Reply:
    seen = ctx.flows.mfa_enrolment.overview(ctx.realm, authenticate(ctx))
    return Reply(
        body=MfaOverviewOutput(
            factors=[factor_output(factor) for factor in seen.factors],
            recovery_codes_left=seen.recovery_codes_left,
            required=seen.required,
        )
    )


@api(
    bp,
    f"{ME}/mfa/totp",
    method="POST",
    summary="Start enrolling an authenticator app: a secret, its otpauth URI and QR code (confirm with a code)",
    body=TotpStartInput,
    responses={201: TotpStartOutput},
    problems=[*_ENROL_PROBLEMS, "invalid_input"],
    tags=TAGS,
    auth=True,
)
def start_totp(ctx: Ctx) -> Reply:
    body: TotpStartInput = ctx.body
    started = ctx.flows.mfa_enrolment.start_totp(ctx.realm, authenticate(ctx), body.label)
    if wants_html(ctx.request):
        return pages.security_reply(ctx, totp=started)
    return Reply(
        status=201,
        body=TotpStartOutput(
            factor_id=started.factor_id, secret=started.secret, otpauth_uri=started.otpauth_uri, qr_svg=started.qr_svg
        ),
    )


@api(
    bp,
    f"{ME}/mfa/totp/{{factor_id}}/confirm",
    method="POST",
    summary="Confirm an authenticator app with its first code; the first factor brings ten recovery codes",
    body=TotpConfirmInput,
    responses={200: EnrolledOutput},
    problems=[*_ENROL_PROBLEMS, "mfa_invalid", "too_many_attempts", "invalid_input"],
    tags=TAGS,
    auth=True,
)
def confirm_totp(ctx: Ctx, factor_id: str) -> Reply:
    body: TotpConfirmInput = ctx.body
    enrolled = ctx.flows.mfa_enrolment.confirm_totp(ctx.realm, authenticate(ctx), factor_id, body.code)
    return _enrolled(ctx, enrolled, 200)


@api(
    bp,
    f"{ME}/mfa/webauthn/registration-options",
    method="POST",
    summary="Options for navigator.credentials.create() (a passkey or security key); the challenge is single use",
    body=EmptyInput,
    responses={200: OptionsOutput},
    problems=[*_ENROL_PROBLEMS, "invalid_input"],
    tags=TAGS,
    auth=True,
)
def registration_options(ctx: Ctx) -> Reply:
    return Reply(body=ctx.flows.mfa_enrolment.registration_options(ctx.realm, authenticate(ctx)))


@api(
    bp,
    f"{ME}/mfa/webauthn",
    method="POST",
    summary="Register a passkey or security key from navigator.credentials.create()",
    body=WebAuthnRegistrationInput,
    responses={201: EnrolledOutput},
    problems=[*_ENROL_PROBLEMS, "mfa_invalid", "invalid_input"],
    tags=TAGS,
    auth=True,
)
def register_credential(ctx: Ctx) -> Reply:
    body: WebAuthnRegistrationInput = ctx.body
    enrolled = ctx.flows.mfa_enrolment.register_credential(ctx.realm, authenticate(ctx), body.credential, body.label)
    return _enrolled(ctx, enrolled, 201)


@api(
    bp,
    f"{ME}/mfa/recovery-codes",
    method="POST",
    summary="A new set of ten recovery codes (shown once); the old set stops working",
    body=EmptyInput,
    responses={200: RecoveryCodesOutput},
    problems=[*_ENROL_PROBLEMS, "forbidden"],
    tags=TAGS,
    auth=True,
)
def new_recovery_codes(ctx: Ctx) -> Reply:
    codes = ctx.flows.mfa_enrolment.new_recovery_codes(ctx.realm, authenticate(ctx))
    if wants_html(ctx.request):
        return pages.security_reply(ctx, recovery_codes=codes)
    return Reply(body=RecoveryCodesOutput(recovery_codes=list(codes)))


def _remove(ctx: Ctx, factor_id: str) -> Reply:
    ctx.flows.mfa_enrolment.remove(ctx.realm, authenticate(ctx), factor_id)
    count("SecondFactorRemoved")
    return Reply(status=204, next_page=_back_to_security(ctx, "removed"))


@api(
    bp,
    f"{ME}/mfa/{{factor_id}}",
    method="DELETE",
    summary="Remove a second factor (the last one takes the recovery codes with it)",
    responses={204: None},
    problems=[*_ENROL_PROBLEMS, "forbidden"],
    tags=TAGS,
    auth=True,
)
def remove(ctx: Ctx, factor_id: str) -> Reply:
    return _remove(ctx, factor_id)


@api(
    bp,
    f"{ME}/mfa/{{factor_id}}/delete",
    method="POST",
    summary="Remove a second factor (the same as DELETE, for HTML forms)",
    body=EmptyInput,
    responses={204: None},
    problems=[*_ENROL_PROBLEMS, "forbidden"],
    tags=TAGS,
    auth=True,
)
def remove_by_form(ctx: Ctx, factor_id: str) -> Reply:
    return _remove(ctx, factor_id)


# --- recent authentication ---------------------------------------------------------------------------


@api(
    bp,
    f"{ME}/reauthenticate",
    method="POST",
    summary="Confirm it is you (password, TOTP code or WebAuthn assertion): sensitive changes for 5 minutes",
    body=ReauthenticateInput,
    responses={200: ReauthenticatedOutput},
    problems=["unauthorized", "invalid_credentials", "mfa_invalid", "too_many_attempts", "invalid_input", "not_found"],
    tags=TAGS,
    auth=True,
)
def reauthenticate(ctx: Ctx) -> Reply:
    body: ReauthenticateInput = ctx.body
    done = ctx.flows.reauthentication.reauthenticate(
        ctx.realm, authenticate(ctx), password=body.password, totp=body.totp, webauthn=body.webauthn
    )
    valid_for = int(RECENT_AUTHENTICATION.total_seconds())
    return Reply(
        body=ReauthenticatedOutput(method=done.method, valid_for=valid_for),
        # a page that asked inline names itself (``next``) or is the form's own page
        next_page=safe_next(ctx.realm, body.next) or _back_to_asking_page(ctx),
        cookies=renewed_sso_cookies(ctx.request, ctx.realm, done.session),
    )


@api(
    bp,
    f"{ME}/reauthenticate/webauthn-options",
    method="POST",
    summary="Options for navigator.credentials.get() to re-authenticate with a passkey or security key",
    body=EmptyInput,
    responses={200: OptionsOutput},
    problems=["unauthorized", "invalid_input", "not_found"],
    tags=TAGS,
    auth=True,
)
def reauthenticate_options(ctx: Ctx) -> Reply:
    return Reply(body=ctx.flows.reauthentication.options(ctx.realm, authenticate(ctx)))


# --- signing in -------------------------------------------------------------------------------------------


def _mfa_token(ctx: Ctx, sent: str | None) -> str:
    return sent or ctx.cookie(MFA_COOKIE) or ""


@api(
    bp,
    f"{SESSIONS}/mfa",
    method="POST",
    summary="The second step of a sign-in: the mfa_token and a TOTP code, a recovery code or a WebAuthn assertion",
    body=SecondStepInput,
    responses={201: TokenOutput},
    problems=["token_invalid", "mfa_invalid", "too_many_attempts", "invalid_input", "not_found"],
    tags=["sessions", *TAGS],
)
def second_step(ctx: Ctx) -> Reply:
    body: SecondStepInput = ctx.body
    pair = ctx.flows.mfa_sign_in.complete(
        ctx.realm,
        _mfa_token(ctx, body.mfa_token),
        totp=body.totp,
        recovery_code=body.recovery_code,
        webauthn=body.webauthn,
        browser=browser_binding(ctx),
        device_cookie=ctx.cookie(DEVICE_COOKIE),
    )
    count("LoginSucceeded")
    reply = token_reply(ctx, pair, 201, next_page=safe_next(ctx.realm, body.next))
    reply.cookies.append(expire_cookie(MFA_COOKIE))
    return reply


@api(
    bp,
    f"{SESSIONS}/mfa/webauthn-options",
    method="POST",
    summary="Options for navigator.credentials.get() at the second step (the account's credentials)",
    body=MfaTokenInput,
    responses={200: OptionsOutput},
    problems=["token_invalid", "invalid_input", "not_found"],
    tags=["sessions", *TAGS],
)
def second_step_options(ctx: Ctx) -> Reply:
    body: MfaTokenInput = ctx.body
    options = ctx.flows.mfa_sign_in.webauthn_options(ctx.realm, _mfa_token(ctx, body.mfa_token), browser_binding(ctx))
    return Reply(body=options)


@api(
    bp,
    f"{SESSIONS}/webauthn/options",
    method="POST",
    summary="Options for a passkey sign-in without a username (any passkey of this site; conditional UI)",
    body=EmptyInput,
    responses={200: OptionsOutput},
    problems=["not_found"],
    tags=["sessions", *TAGS],
)
def passkey_options(ctx: Ctx) -> Reply:
    # The challenge is bound to this browser's binding cookie (made here when it has none).
    browser = browser_binding(ctx)
    cookies: list[str] = []
    if not browser:
        browser = ctx.services.ports.secrets.token()
        cookies.append(binding_cookie(browser))
    options: dict[str, Any] = ctx.flows.mfa_sign_in.passkey_options(ctx.realm, browser)
    return Reply(body=options, cookies=cookies)


@api(
    bp,
    f"{SESSIONS}/webauthn",
    method="POST",
    summary="Sign in with a passkey alone (user verification required); no username or password",
    body=PasskeyInput,
    responses={201: TokenOutput},
    problems=["mfa_invalid", "not_activated", "account_disabled", "account_expired", "not_found"],
    tags=["sessions", *TAGS],
)
def passkey_sign_in(ctx: Ctx) -> Reply:
    body: PasskeyInput = ctx.body
    pair = ctx.flows.mfa_sign_in.passkey(ctx.realm, body.credential, browser_binding(ctx) or "")
    count("LoginSucceeded")
    return token_reply(ctx, pair, 201)
