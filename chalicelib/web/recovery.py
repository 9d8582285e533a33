"""Forgotten passwords (per the realm's recovery), set-password links, the strength meter."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.errors import InvalidInput, NotFound
from chalicelib.flows.passwords import user_inputs
from chalicelib.web.binding import browser_binding
from chalicelib.web.endpoints import Ctx, Reply, api, count
from chalicelib.web.schemas import (
    PasswordCheckInput,
    PasswordCheckOutput,
    PasswordResetCompletion,
    PasswordResetInput,
    PasswordResetStarted,
    PasswordSetupInput,
    StatusOutput,
)

bp = Blueprint(__name__)


@api(
    bp,
    "/api/v1/realms/{realm}/password-resets",
    method="POST",
    summary="Forgot password: GSIS realms answer 201 with the GSIS link; mail realms 202 (always)",
    body=PasswordResetInput,
    responses={201: PasswordResetStarted, 202: StatusOutput},
    problems=["invalid_email", "too_many_attempts", "service_unavailable", "not_found"],
    tags=["recovery"],
)
def request_reset(ctx: Ctx) -> Reply:
    body: PasswordResetInput = ctx.body
    realm = ctx.realm
    ctx.flows.throttle.limit(realm, "password_reset", body.email, ctx.client_ip)
    if realm.recovery == "gsis":
        started = ctx.flows.recovery.request(realm, body.email)
        return Reply(
            status=201,
            body=PasswordResetStarted(reset=started.reset, gsis_url=started.gsis_url),
            next_page=started.gsis_url,
        )
    if realm.recovery == "mail":
        if not body.username:
            raise InvalidInput(errors={"username": ["Field required"]})
        username, email = body.username, body.email

        def request_once() -> dict[str, str]:
            ctx.flows.passwords.request_reset(realm, username, email)
            return {"status": "accepted"}

        payload = {"realm": realm.id, "username": username.strip().casefold(), "email": email.strip().casefold()}
        ctx.services.idempotency.once("password-reset", payload, request_once, bp.lambda_context, ctx.idempotency_key)
        return Reply(
            status=202,
            body=StatusOutput(status="accepted"),
            next_page=ctx.flows.links.page(realm.id, "reset-requested"),
        )
    raise NotFound("Passwords are not reset here in this realm.")


@api(
    bp,
    "/api/v1/realms/{realm}/password-resets/complete",
    method="POST",
    summary="Set the new password: with the GSIS flow (GSIS realms) or the mailed token or code (mail realms)",
    body=PasswordResetCompletion,
    responses={200: StatusOutput},
    problems=[
        "flow_not_found",
        "flow_expired",
        "flow_used",
        "identity_mismatch",
        "token_invalid",
        "token_expired",
        "password_policy",
        "passwords_mismatch",
        "not_found",
    ],
    tags=["recovery"],
)
def complete_reset(ctx: Ctx) -> Reply:
    body: PasswordResetCompletion = ctx.body
    realm = ctx.realm
    if realm.recovery == "gsis" and body.token and not body.flow:
        # A reset link in a GSIS realm exists only when an administrator mailed one
        # (SPEC §2.11 «password-reset»): the person proves nothing to GSIS then, the
        # single-use token mailed to the account's address is the proof.
        ctx.flows.passwords.complete_reset(realm, body.token, body.password, body.password_confirmation)
    elif realm.recovery == "gsis":
        if not body.flow:
            raise InvalidInput(errors={"flow": ["Field required"]})
        ctx.flows.recovery.complete(realm, body.flow, body.password, body.password_confirmation, browser_binding(ctx))
    elif realm.recovery == "mail":
        if body.token:
            ctx.flows.passwords.complete_reset(realm, body.token, body.password, body.password_confirmation)
        elif body.username and body.code:
            ctx.flows.passwords.complete_reset_by_code(
                realm, body.username, body.code, body.password, body.password_confirmation
            )
        else:
            raise InvalidInput(errors={"token": ["give the token, or username and code"]})
    else:
        raise NotFound("Passwords are not reset here in this realm.")
    count("PasswordReset")
    return Reply(
        body=StatusOutput(status="password_changed"), next_page=ctx.flows.links.page(realm.id, "password-changed")
    )


@api(
    bp,
    "/api/v1/realms/{realm}/password-setups",
    method="POST",
    summary="Set the first password of an account created by someone else (the mailed link's token)",
    body=PasswordSetupInput,
    responses={200: StatusOutput},
    problems=["token_invalid", "token_expired", "password_policy", "passwords_mismatch", "not_found"],
    tags=["recovery"],
)
def complete_setup(ctx: Ctx) -> Reply:
    body: PasswordSetupInput = ctx.body
    ctx.flows.passwords.complete_setup(ctx.realm, body.token, body.password, body.password_confirmation)
    return Reply(
        body=StatusOutput(status="password_set"), next_page=ctx.flows.links.page(ctx.realm.id, "password-changed")
    )


@api(
    bp,
    "/api/v1/realms/{realm}/password-checks",
    method="POST",
    summary="Score a password under the realm's policy (the live strength meter)",
    body=PasswordCheckInput,
    responses={200: PasswordCheckOutput},
    problems=["too_many_attempts", "invalid_input", "not_found"],
    tags=["recovery"],
)
def check_password(ctx: Ctx) -> Reply:
    body: PasswordCheckInput = ctx.body
    ctx.flows.throttle.limit(ctx.realm, "password_check", ctx.client_ip, ctx.client_ip)
    inputs = user_inputs(None, body.username or "", body.email or "", (body.email or "").split("@")[0])
    result = ctx.flows.passwords.check(ctx.realm, body.password, inputs)
    return Reply(
        body=PasswordCheckOutput(
            acceptable=result.acceptable,
            score=result.score,
            violations=list(result.violations),
            messages=list(result.messages),
            feedback=result.feedback,
        )
    )
