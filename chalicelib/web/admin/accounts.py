"""Accounts over the API (SPEC §2.11): search, one account, and the actions on it.

Browsers cannot send PUT or DELETE from a form: each such operation also takes a POST
(``…/roles``, ``…/expiry``, ``…/mfa/remove``) with the same body. A browser's form post
is answered with 303 to the account's page; a refused one comes back as that page with
the values kept (``form_page``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.flows.admin.capabilities import Capability
from chalicelib.web.admin.access import staff
from chalicelib.web.admin.schemas import (
    AccountActionOutput,
    AccountDetailsOutput,
    AccountListOutput,
    AccountSummary,
    AuditEntryOutput,
    ExpiryInput,
    FactorsRemovedOutput,
    ReasonInput,
    ResendOutput,
    RolesInput,
    SessionOutput,
    StandingOutput,
)
from chalicelib.web.endpoints import Ctx, Reply, api, count

if TYPE_CHECKING:  # the flows load with the first console request, not at cold start
    from chalicelib.domain.accounts import Account
    from chalicelib.domain.audit import AuditEntry
    from chalicelib.flows.admin.accounts import AccountDetails
    from chalicelib.flows.admin.directory import AccountRow

bp = Blueprint(__name__)

BASE = "/api/v1/realms/{realm}/admin/accounts"
TAGS = ["admin"]
_PROBLEMS = ["unauthorized", "forbidden", "not_found", "invalid_input"]


def account_page(ctx: Ctx, account_id: str, done: str) -> str:
    return f"/realms/{ctx.realm.id}/admin/accounts/{account_id}?done={done}"


def summary(row: AccountRow) -> AccountSummary:
    return AccountSummary(
        account_id=row.account_id,
        username=row.username,
        name=row.name,
        email=row.email,
        status=str(row.status),
        roles=list(row.roles),
        matched=list(row.matched),
        registry_number=row.registry_number,
        expires_on=row.expires_on,
    )


def audit_output(entry: AuditEntry) -> AuditEntryOutput:
    return AuditEntryOutput(
        at=entry.at.isoformat(),
        account_id=entry.account_id,
        action=entry.action,
        actor=entry.actor,
        address=entry.address,
        details=dict(entry.details),
    )


def profile(account: Account) -> dict[str, object]:
    """The account as the console shows it (no password hash, no AFM of anyone but an
    e-IEP teacher, whose AFM is what the helpdesk asks for)."""
    from chalicelib.domain.directory import given_name, surname

    identity = account.identity
    return {
        "account_id": account.account_id,
        "username": account.username,
        "email": account.email,
        "status": str(account.status),
        "first_name": given_name(account),
        "last_name": surname(account),
        "father_name": identity.father_name if identity else "",
        "afm": identity.afm if identity and identity.afm else None,
        "registry_number": account.registry_number,
        "affiliation": account.affiliation,
        "expires_on": account.expires_on.isoformat() if account.expires_on else None,
        "roles": list(account.roles),
        "nso_country": account.extra.get("nso_country") if "nso" in account.roles else None,
        "gsis_verified": account.gsis_verified,
        "has_password": bool(account.password_hash),
        "language": account.language,
        "mobile": account.mobile,
        "created_at": account.created_at.isoformat(),
        "activated_at": account.activated_at.isoformat() if account.activated_at else None,
    }


def details_output(details: AccountDetails) -> AccountDetailsOutput:
    return AccountDetailsOutput(
        account=profile(details.account),
        standing=[StandingOutput(code=item.code, params=item.params) for item in details.standing],
        factors=details.factors,
        sessions=[
            SessionOutput(
                session_id=family.family_id,
                started_at=family.created_at.isoformat(),
                expires_at=family.expires_at.isoformat(),
                methods=list(family.amr),
                applications=list(family.clients),
            )
            for family in details.sessions
        ],
        audit=[audit_output(entry) for entry in details.audit],
    )


def _action(ctx: Ctx, account: Account, done: str, *, ended: bool | None = None) -> Reply:
    return Reply(
        body=AccountActionOutput(
            account_id=account.account_id,
            status=str(account.status),
            roles=list(account.roles),
            expires_on=account.expires_on,
            sessions_ended=ended,
        ),
        next_page=account_page(ctx, account.account_id, done),
    )


@api(
    bp,
    BASE,
    summary="Find accounts: prefix of username, e-mail, registry number or surname (no accents or case); "
    "exact AFM for e-IEP admins; 50 a page",
    responses={200: AccountListOutput},
    problems=_PROBLEMS,
    tags=TAGS,
    auth=True,
    query={
        "q": "search text (at most 64 characters)",
        "status": "pending_activation, active, disabled or expired",
        "role": "admin, secretariat, helpdesk or nso (alone: every holder of the role)",
        "cursor": "the previous page's cursor",
    },
)
def search(ctx: Ctx) -> Reply:
    caller = staff(ctx, Capability.ACCOUNTS)
    result = ctx.flows.admin_directory.search(
        ctx.realm,
        text=ctx.query("q"),
        status=ctx.query("status"),
        role=ctx.query("role"),
        cursor=ctx.query("cursor"),
        viewer_roles=caller.roles,
    )
    return Reply(
        body=AccountListOutput(
            accounts=[summary(row) for row in result.rows], cursor=result.cursor, examined=result.examined
        )
    )


@api(
    bp,
    f"{BASE}/{{account_id}}",
    summary="One account: profile, status and why, roles, factors (no secrets), sessions, last 20 audit entries",
    responses={200: AccountDetailsOutput},
    problems=_PROBLEMS,
    tags=TAGS,
    auth=True,
)
def account(ctx: Ctx, account_id: str) -> Reply:
    staff(ctx, Capability.ACCOUNTS)
    return Reply(body=details_output(ctx.flows.admin_accounts.details(ctx.realm, account_id)))


@api(
    bp,
    f"{BASE}/{{account_id}}/disable",
    method="POST",
    summary="Disable the account (a reason is required); every session ends at once",
    body=ReasonInput,
    responses={200: AccountActionOutput},
    problems=_PROBLEMS,
    tags=TAGS,
    auth=True,
)
def disable(ctx: Ctx, account_id: str) -> Reply:
    caller = staff(ctx, Capability.ACCOUNTS)
    body: ReasonInput = ctx.body
    changed = ctx.flows.admin_accounts.disable(ctx.realm, account_id, body.reason, caller)
    count("AccountDisabledByAdmin")
    return _action(ctx, changed, "disabled", ended=True)


@api(
    bp,
    f"{BASE}/{{account_id}}/enable",
    method="POST",
    summary="Enable a disabled account (an undergraduate retired by graduation stays retired)",
    body=ReasonInput,
    responses={200: AccountActionOutput},
    problems=_PROBLEMS,
    tags=TAGS,
    auth=True,
)
def enable(ctx: Ctx, account_id: str) -> Reply:
    caller = staff(ctx, Capability.ACCOUNTS)
    body: ReasonInput = ctx.body
    return _action(ctx, ctx.flows.admin_accounts.enable(ctx.realm, account_id, body.reason, caller), "enabled")


@api(
    bp,
    f"{BASE}/{{account_id}}/password-reset",
    method="POST",
    summary="Mail the owner a one-time link to choose a new password",
    body=ReasonInput,
    responses={202: AccountActionOutput},
    problems=[*_PROBLEMS, "service_unavailable"],
    tags=TAGS,
    auth=True,
)
def password_reset(ctx: Ctx, account_id: str) -> Reply:
    caller = staff(ctx, Capability.ACCOUNTS)
    body: ReasonInput = ctx.body
    sent = ctx.flows.admin_accounts.password_reset(ctx.realm, account_id, body.reason, caller)
    reply = _action(ctx, sent, "reset_sent")
    reply.status = 202
    return reply


@api(
    bp,
    f"{BASE}/{{account_id}}/resend",
    method="POST",
    summary="Send again the activation mail (pending) or the welcome mail (no password yet)",
    body=ReasonInput,
    responses={202: ResendOutput},
    problems=[*_PROBLEMS, "service_unavailable"],
    tags=TAGS,
    auth=True,
)
def resend(ctx: Ctx, account_id: str) -> Reply:
    caller = staff(ctx, Capability.ACCOUNTS)
    mail = ctx.flows.admin_accounts.resend(ctx.realm, account_id, caller)
    return Reply(
        status=202,
        body=ResendOutput(account_id=account_id, mail=mail),
        next_page=account_page(ctx, account_id, f"resent_{mail}"),
    )


@api(
    bp,
    f"{BASE}/{{account_id}}/unlock",
    method="POST",
    summary="Forget the failed sign-in attempts counted against the account",
    body=ReasonInput,
    responses={200: AccountActionOutput},
    problems=_PROBLEMS,
    tags=TAGS,
    auth=True,
)
def unlock(ctx: Ctx, account_id: str) -> Reply:
    caller = staff(ctx, Capability.ACCOUNTS)
    body: ReasonInput = ctx.body
    return _action(ctx, ctx.flows.admin_accounts.unlock(ctx.realm, account_id, body.reason, caller), "unlocked")


def _remove_factors(ctx: Ctx, account_id: str) -> Reply:
    caller = staff(ctx, Capability.ACCOUNTS)
    body: ReasonInput = ctx.body
    removed = ctx.flows.admin_accounts.remove_factors(ctx.realm, account_id, body.reason, caller)
    return Reply(
        body=FactorsRemovedOutput(account_id=account_id, removed=removed),
        next_page=account_page(ctx, account_id, "factors_removed"),
    )


@api(
    bp,
    f"{BASE}/{{account_id}}/mfa",
    method="DELETE",
    summary="Remove every second factor (a reason is required); sessions end, the owner is mailed",
    body=ReasonInput,
    responses={200: FactorsRemovedOutput},
    problems=_PROBLEMS,
    tags=TAGS,
    auth=True,
)
def remove_factors(ctx: Ctx, account_id: str) -> Reply:
    return _remove_factors(ctx, account_id)


@api(
    bp,
    f"{BASE}/{{account_id}}/mfa/remove",
    method="POST",
    summary="DELETE …/mfa for browser forms",
    body=ReasonInput,
    responses={200: FactorsRemovedOutput},
    problems=_PROBLEMS,
    tags=TAGS,
    auth=True,
)
def remove_factors_form(ctx: Ctx, account_id: str) -> Reply:
    return _remove_factors(ctx, account_id)


def _roles(ctx: Ctx, account_id: str) -> Reply:
    caller = staff(ctx, Capability.ROLES)
    body: RolesInput = ctx.body
    changed = ctx.flows.admin_accounts.set_roles(ctx.realm, account_id, body.roles, body.country, caller)
    return _action(ctx, changed, "roles", ended=True)


@api(
    bp,
    f"{BASE}/{{account_id}}/roles",
    method="PUT",
    summary="Set the administrative roles (admin only; nso with its country); the person's sessions end",
    body=RolesInput,
    responses={200: AccountActionOutput},
    problems=_PROBLEMS,
    tags=TAGS,
    auth=True,
)
def set_roles(ctx: Ctx, account_id: str) -> Reply:
    return _roles(ctx, account_id)


@api(
    bp,
    f"{BASE}/{{account_id}}/roles",
    method="POST",
    summary="PUT …/roles for browser forms",
    body=RolesInput,
    responses={200: AccountActionOutput},
    problems=_PROBLEMS,
    tags=TAGS,
    auth=True,
)
def set_roles_form(ctx: Ctx, account_id: str) -> Reply:
    return _roles(ctx, account_id)


def _expiry(ctx: Ctx, account_id: str) -> Reply:
    caller = staff(ctx, Capability.REGISTRAR)
    body: ExpiryInput = ctx.body
    changed = ctx.flows.admin_accounts.set_expiry(ctx.realm, account_id, body.expires_on, body.reason, caller)
    return _action(ctx, changed, "renewed")


@api(
    bp,
    f"{BASE}/{{account_id}}/expiry",
    method="PUT",
    summary="Move the account's last valid day (registrar realms, at most two years ahead); renews an expired one",
    body=ExpiryInput,
    responses={200: AccountActionOutput},
    problems=_PROBLEMS,
    tags=TAGS,
    auth=True,
)
def set_expiry(ctx: Ctx, account_id: str) -> Reply:
    return _expiry(ctx, account_id)


@api(
    bp,
    f"{BASE}/{{account_id}}/expiry",
    method="POST",
    summary="PUT …/expiry for browser forms",
    body=ExpiryInput,
    responses={200: AccountActionOutput},
    problems=_PROBLEMS,
    tags=TAGS,
    auth=True,
)
def set_expiry_form(ctx: Ctx, account_id: str) -> Reply:
    return _expiry(ctx, account_id)
