"""The consoles' pages (SPEC §2.11): the start page (what this role may do), account
search and the account page with its actions, the audit log, the helpdesk's tickets,
and the registrar's one-account forms. el/en, no script needed.

Every page asks ``web/admin/access`` who may open it (``staff_page``). Forms post to the
API (CSRF token, ``form_page``) and come back to the page they came from; the account
page's forms each name themselves in their ``form_page`` (``?form=disable``…), so a
refused one shows its problem next to its own fields only. Searches and filters are GET
forms: a result page is a link that can be kept or shared among staff.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.domain.accounts import AFFILIATIONS, AccountStatus
from chalicelib.domain.registry import RegistryStatus
from chalicelib.errors import FlowError, Forbidden
from chalicelib.flows.admin.capabilities import STAFF_ROLES, Capability, assignable_roles, capabilities_of
from chalicelib.web.admin.access import admin_principal, staff_page
from chalicelib.web.admin.accounts import details_output
from chalicelib.web.endpoints import Ctx, FormState, page
from chalicelib.web.html import redirect
from chalicelib.web.pages import form_page
from chalicelib.web.problems import STATUS_BY_CODE, InputProblem

bp = Blueprint(__name__)


def console_page(ctx: Ctx, template: str, roles: tuple[str, ...], current: str, **context: Any) -> Response:
    """A console page with the navigation this person's roles open."""
    return form_page(
        ctx,
        template,
        capabilities=[str(c) for c in capabilities_of(ctx.realm, roles)],
        current=current,
        wide=True,
        **context,
    )


def _refused(ctx: Ctx, error: FlowError | InputProblem, values: dict[str, str]) -> None:
    """Show the page again with the problem of a GET form (a search, a filter)."""
    code = error.code
    ctx.form_state = FormState(
        values=values,
        code=code,
        status=STATUS_BY_CODE.get(code, 400),
        errors=dict(error.errors or {}),
        detail=error.detail,
    )


@page(bp, "/realms/{realm}/admin")
def start(ctx: Ctx) -> Response:
    principal = admin_principal(ctx, STAFF_ROLES)
    if isinstance(principal, Response):
        return principal
    capabilities = capabilities_of(ctx.realm, principal.roles)
    if not capabilities:
        raise Forbidden("Your roles open no console in this realm.")
    held = [role for role in principal.roles if role in STAFF_ROLES]
    return console_page(ctx, "admin_start.html", principal.roles, "start", held_roles=held)


@page(bp, "/realms/{realm}/admin/")
def start_slash(ctx: Ctx) -> Response:
    return start(ctx)


# --- accounts -------------------------------------------------------------------------------


@page(bp, "/realms/{realm}/admin/accounts")
def accounts(ctx: Ctx) -> Response:
    caller = staff_page(ctx, Capability.ACCOUNTS)
    if isinstance(caller, Response):
        return caller
    asked = {name: (ctx.query(name) or "") for name in ("q", "status", "role")}
    result = None
    if any(asked.values()) or ctx.query("cursor"):
        try:
            result = ctx.flows.admin_directory.search(
                ctx.realm,
                text=asked["q"],
                status=asked["status"] or None,
                role=asked["role"] or None,
                cursor=ctx.query("cursor"),
                viewer_roles=caller.roles,
            )
        except FlowError as error:
            _refused(ctx, error, asked)
    next_url = None
    if result is not None and result.cursor:
        query = {key: value for key, value in asked.items() if value}
        next_url = f"/realms/{ctx.realm.id}/admin/accounts?{urlencode({**query, 'cursor': result.cursor})}"
    return console_page(
        ctx,
        "admin_accounts.html",
        caller.roles,
        "accounts",
        asked=asked,
        result=result,
        next_url=next_url,
        statuses=[s.value for s in AccountStatus],
        role_choices=list(STAFF_ROLES),
    )


@page(bp, "/realms/{realm}/admin/accounts/{account_id}")
def account(ctx: Ctx, account_id: str) -> Response:
    caller = staff_page(ctx, Capability.ACCOUNTS)
    if isinstance(caller, Response):
        return caller
    details = details_output(ctx.flows.admin_accounts.details(ctx.realm, account_id))
    realm = ctx.realm
    return console_page(
        ctx,
        "admin_account.html",
        caller.roles,
        "accounts",
        details=details,
        person=details.account,
        may_set_roles="admin" in caller.roles,
        offered_roles=assignable_roles(realm),
        renews=realm.registrar is not None,
        has_passwords=realm.password_policy is not None,
        refused_form=(ctx.query("form") or "") if ctx.form_state is not None else "",
        done=ctx.query("done") or "",
        own=caller.account_id == account_id,
    )


# --- the audit log -----------------------------------------------------------------------------


@page(bp, "/realms/{realm}/admin/audit")
def audit(ctx: Ctx) -> Response:
    caller = staff_page(ctx, Capability.AUDIT)
    if isinstance(caller, Response):
        return caller
    asked = {name: (ctx.query(name) or "") for name in ("account", "actor", "action", "from", "to")}
    entries, next_url, csv_url = None, None, None
    if any(asked.values()):
        reader = ctx.flows.admin_audit
        try:
            wanted = reader.parse(
                ctx.realm,
                account=asked["account"],
                actor=asked["actor"],
                action=asked["action"],
                start=asked["from"],
                end=asked["to"],
            )
            found = reader.page(ctx.realm, wanted, ctx.query("cursor"))
            entries = found.entries
            query = {key: value for key, value in asked.items() if value}
            if found.cursor:
                next_url = f"/realms/{ctx.realm.id}/admin/audit?{urlencode({**query, 'cursor': found.cursor})}"
            csv_url = f"/api/v1/realms/{ctx.realm.id}/admin/audit?{urlencode({**query, 'format': 'csv'})}"
        except FlowError as error:
            _refused(ctx, error, asked)
    return console_page(
        ctx,
        "admin_audit.html",
        caller.roles,
        "audit",
        asked=asked,
        entries=entries,
        next_url=next_url,
        csv_url=csv_url,
        actions=KNOWN_ACTIONS,
    )


KNOWN_ACTIONS = (
    "account_created",
    "account_activated",
    "account_disabled",
    "account_enabled",
    "account_expired",
    "account_renewed",
    "account_retired",
    "account_reactivated",
    "account_unlocked",
    "account_imported",
    "roles_changed",
    "roles_granted",
    "password_reset",
    "password_reset_sent",
    "password_set",
    "mail_resent",
    "mfa_reset",
    "ticket_replied",
    "ticket_status",
)
"""Offered in the audit page's list (any other action name can be typed)."""


# --- the helpdesk -------------------------------------------------------------------------------


@page(bp, "/realms/{realm}/admin/tickets")
def tickets(ctx: Ctx) -> Response:
    caller = staff_page(ctx, Capability.TICKETS)
    if isinstance(caller, Response):
        return caller
    from chalicelib.domain.helpdesk import TicketStatus

    status = ctx.query("status") or str(TicketStatus.OPEN)
    reference = (ctx.query("ticket") or "").strip()
    if reference:  # «find a ticket by the id the person quotes»
        ticket_hash = ctx.flows.helpdesk.ticket_hash(reference)
        if ticket_hash is not None:
            return redirect(f"/realms/{ctx.realm.id}/admin/tickets/{ticket_hash}")
    found, next_url = None, None
    try:
        found = ctx.flows.helpdesk.queue(ctx.realm, status, ctx.query("cursor"))
        if found.cursor:
            query = urlencode({"status": status, "cursor": found.cursor})
            next_url = f"/realms/{ctx.realm.id}/admin/tickets?{query}"
    except FlowError as error:
        _refused(ctx, error, {"status": status})
    return console_page(
        ctx,
        "admin_tickets.html",
        caller.roles,
        "tickets",
        found=found,
        ticket_status=status,
        statuses=[s.value for s in TicketStatus],
        next_url=next_url,
    )


@page(bp, "/realms/{realm}/admin/tickets/{ticket_id}")
def ticket(ctx: Ctx, ticket_id: str) -> Response:
    caller = staff_page(ctx, Capability.TICKETS)
    if isinstance(caller, Response):
        return caller
    found = ctx.flows.helpdesk.ticket(ctx.realm, ticket_id)
    topic = ctx.realm.support.topics.get(found.topic) if ctx.realm.support else None
    return console_page(
        ctx,
        "admin_ticket.html",
        caller.roles,
        "tickets",
        ticket=found,
        topic=topic,
        done=ctx.query("done") or "",
        refused_form=(ctx.query("form") or "") if ctx.form_state is not None else "",
    )


# --- the registrar ------------------------------------------------------------------------------


@page(bp, "/realms/{realm}/admin/registrar")
def registrar(ctx: Ctx) -> Response:
    caller = staff_page(ctx, Capability.REGISTRAR)
    if isinstance(caller, Response):
        return caller
    return console_page(
        ctx,
        "admin_registrar.html",
        caller.roles,
        "registrar",
        affiliations=AFFILIATIONS,
        refused_form=(ctx.query("form") or "") if ctx.form_state is not None else "",
        done=ctx.query("done") or "",
    )


@page(bp, "/realms/{realm}/admin/registry", methods=["POST"], form=True)
def graduate(ctx: Ctx) -> Response:
    """The registry form: the number is typed, so it cannot be in the API's path; the
    page calls the same flow as ``PUT /admin/registry/{number}``."""
    caller = staff_page(ctx, Capability.REGISTRAR)
    if isinstance(caller, Response):
        return caller
    from chalicelib.flows.registrar import Actor
    from chalicelib.web.inputs import raw_fields

    fields = {key: str(value) for key, value in raw_fields(ctx.request).items()}
    number = fields.get("registry_number", "").strip()
    level = fields.get("level", "undergraduate").strip()
    status = fields.get("status", str(RegistryStatus.GRADUATED)).strip()
    try:
        if status not in {s.value for s in RegistryStatus}:
            raise InputProblem("invalid_input", None, errors={"status": ["enrolled or graduated"]})
        ctx.flows.registrar.set_registry(
            ctx.realm, number, level, RegistryStatus(status), Actor(caller.account_id, ctx.client_ip)
        )
    except (FlowError, InputProblem) as error:
        _refused(ctx, error, {k: v for k, v in fields.items() if k not in ("csrf_token", "form_page")})
        return registrar_again(ctx, caller.roles)
    return redirect(f"/realms/{ctx.realm.id}/admin/registrar?done=registry_{status}")


def registrar_again(ctx: Ctx, roles: tuple[str, ...]) -> Response:
    return console_page(
        ctx,
        "admin_registrar.html",
        roles,
        "registrar",
        affiliations=AFFILIATIONS,
        refused_form="registry",
        done="",
    )
