"""The account centre's API for sessions, applications and the password (SPEC §2.10).

Everything acts on the signed-in person (bearer token, or the pages' session cookie).
Browser forms post here too: ``DELETE`` has a ``POST …/delete`` twin for them, and the
answer sends the browser back to the tab it came from.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.web.account.schemas import (
    ApplicationOutput,
    ApplicationsOutput,
    EndedOutput,
    NoInput,
    PasswordChangedOutput,
    PasswordChangeInput,
    SessionOutput,
    SessionsOutput,
)
from chalicelib.web.endpoints import Ctx, Reply, api
from chalicelib.web.sessions import authenticate

bp = Blueprint(__name__)

ME = "/api/v1/realms/{realm}/me"
TAGS = ["account"]


def _tab(ctx: Ctx, tab: str, done: str = "") -> str:
    return ctx.flows.links.page(ctx.realm.id, f"account/{tab}") + (f"?done={done}" if done else "")


# --- sessions -----------------------------------------------------------------------------------------


@api(
    bp,
    f"{ME}/sessions",
    summary="The signed-in person's live sessions: device, address, started, last used, applications",
    responses={200: SessionsOutput},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def list_sessions(ctx: Ctx) -> Reply:
    views = ctx.flows.account_sessions.list(ctx.realm, authenticate(ctx))
    return Reply(
        body=SessionsOutput(
            sessions=[
                SessionOutput(
                    id=view.session_id,
                    device=view.device,
                    address=view.address,
                    started=view.started.isoformat(),
                    last_used=view.last_used.isoformat(),
                    current=view.current,
                    applications=list(view.applications),
                )
                for view in views
            ]
        )
    )


@api(
    bp,
    f"{ME}/sessions/{{session_id}}",
    method="DELETE",
    summary="Sign one of your sessions out (its applications are told: back-channel logout)",
    responses={204: None},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    form_post="delete",
    form_body=NoInput,
    auth=True,
)
def end_session(ctx: Ctx, session_id: str) -> Reply:
    ctx.flows.account_sessions.end(ctx.realm, authenticate(ctx), session_id)
    return Reply(status=204, next_page=_tab(ctx, "sessions", "ended"))


@api(
    bp,
    f"{ME}/sessions",
    method="DELETE",
    summary="Sign out everywhere else: every session but the one asking",
    responses={200: EndedOutput},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    form_post="delete",
    form_body=NoInput,
    auth=True,
)
def end_other_sessions(ctx: Ctx) -> Reply:
    ended = ctx.flows.account_sessions.end_others(ctx.realm, authenticate(ctx))
    return Reply(body=EndedOutput(ended=ended), next_page=_tab(ctx, "sessions", "others_ended"))


# --- applications -------------------------------------------------------------------------------------


@api(
    bp,
    f"{ME}/applications",
    summary="The applications you allowed (OIDC consents) and the claims each receives",
    responses={200: ApplicationsOutput},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def list_applications(ctx: Ctx) -> Reply:
    views = ctx.flows.account_applications.list(ctx.realm, authenticate(ctx))
    return Reply(
        body=ApplicationsOutput(
            applications=[
                ApplicationOutput(
                    client_id=view.client_id,
                    name=view.name,
                    scopes=list(view.scopes),
                    claims=list(view.claims),
                    granted_at=view.granted_at.isoformat(),
                )
                for view in views
            ]
        )
    )


@api(
    bp,
    f"{ME}/applications/{{client_id}}",
    method="DELETE",
    summary="Take back an application's access: consent removed, its tokens revoked, back-channel logout",
    responses={204: None},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    form_post="delete",
    form_body=NoInput,
    auth=True,
)
def revoke_application(ctx: Ctx, client_id: str) -> Reply:
    ctx.flows.account_applications.revoke(ctx.realm, authenticate(ctx), client_id)
    return Reply(status=204, next_page=_tab(ctx, "applications", "revoked"))


# --- password -----------------------------------------------------------------------------------------


@api(
    bp,
    f"{ME}/password",
    method="POST",
    summary="Change your password (recent authentication and the current password); other sessions end",
    body=PasswordChangeInput,
    responses={200: PasswordChangedOutput},
    problems=[
        "unauthorized",
        "reauthentication_required",
        "invalid_credentials",
        "too_many_attempts",
        "passwords_mismatch",
        "password_policy",
        "forbidden",
        "invalid_input",
        "not_found",
    ],
    tags=TAGS,
    auth=True,
)
def change_password(ctx: Ctx) -> Reply:
    body: PasswordChangeInput = ctx.body
    ended = ctx.flows.password_change.change(
        ctx.realm, authenticate(ctx), body.current_password, body.password, body.password_confirmation
    )
    return Reply(
        body=PasswordChangedOutput(status="password_changed", sessions_ended=ended),
        next_page=ctx.flows.links.page(ctx.realm.id, "account", done="password"),
    )
