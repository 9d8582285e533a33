"""The registrar over the API (SPEC §2.6): one account at a time, and the student registry.

Roles are checked by ``web/admin/access.py`` (the one gate of every console route)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.domain.registry import RegistryStatus
from chalicelib.web.admin.access import require_role
from chalicelib.web.endpoints import Ctx, Reply, api
from chalicelib.web.schemas import (
    AdminAccountInput,
    AdminAccountOutput,
    RegistryInput,
    RegistryOutput,
)

bp = Blueprint(__name__)


@api(
    bp,
    "/api/v1/realms/{realm}/admin/accounts",
    method="POST",
    summary="Create one account (registrar realms): welcome mail with username and set-password link",
    body=AdminAccountInput,
    responses={201: AdminAccountOutput},
    problems=[
        "unauthorized",
        "forbidden",
        "forbidden_email_domain",
        "invalid_email",
        "username_taken",
        "email_taken",
        "registry_number_taken",
        "not_found",
    ],
    tags=["admin"],
    auth=True,
)
def create_account(ctx: Ctx) -> Reply:
    from chalicelib.flows.registrar import Actor, NewAccount  # with the flow, not at cold start

    principal = require_role(ctx, "admin", "secretariat")
    body: AdminAccountInput = ctx.body
    details = {
        key: value
        for key in ("address", "area", "postcode", "supervisor", "supervisor_email")
        if (value := getattr(body, key))
    }
    new = NewAccount(
        affiliation=body.kind,
        first_name=body.first_name,
        last_name=body.last_name,
        father_name=body.father_name,
        mother_name=body.mother_name,
        external_email=body.external_email,
        registry_number=body.registry_number,
        username=body.username,
        expires_on=body.expires_on,
        mobile=body.mobile,
        previous_username=body.previous_username,
        details=details,
    )
    outcome = ctx.flows.registrar.create(ctx.realm, new, Actor(principal.account_id, ctx.client_ip))
    account = outcome.account
    return Reply(
        next_page=f"/realms/{ctx.realm.id}/admin/accounts/{account.account_id}?done=created",
        status=201,
        body=AdminAccountOutput(
            account_id=account.account_id,
            username=account.username,
            status=str(account.status),
            created=outcome.created,
        ),
    )


@api(
    bp,
    "/api/v1/realms/{realm}/admin/registry/{registry_number}",
    method="PUT",
    summary="Record a student-registry entry; an undergraduate's graduation retires the account for good",
    body=RegistryInput,
    responses={200: RegistryOutput},
    problems=["unauthorized", "forbidden", "invalid_input", "not_found"],
    tags=["admin"],
    auth=True,
)
def set_registry(ctx: Ctx, registry_number: str) -> Reply:
    from chalicelib.flows.registrar import Actor

    principal = require_role(ctx, "admin", "secretariat")
    body: RegistryInput = ctx.body
    entry = ctx.flows.registrar.set_registry(
        ctx.realm, registry_number, body.level, RegistryStatus(body.status), Actor(principal.account_id, ctx.client_ip)
    )
    return Reply(
        body=RegistryOutput(
            registry_number=entry.registry_number,
            level=entry.level,
            status=str(entry.status),
            account_id=entry.account_id,
        )
    )
