"""OpenID clients over the admin API, for the realm's ``admin`` role (SPEC §2.8): the
same registry as ``python -m chalicelib.cli oidc-client``; secrets answered once."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.web.admin import require_role
from chalicelib.web.endpoints import Ctx, Reply, api
from chalicelib.web.oidc.schemas import OidcClientInput, OidcClientList, OidcClientOutput

bp = Blueprint(__name__)

BASE = "/api/v1/realms/{realm}/admin/oidc-clients"
TAGS = ["oidc"]
PROBLEMS = ["unauthorized", "forbidden", "not_found"]


@api(
    bp,
    BASE,
    summary="The realm's OpenID clients; role admin",
    responses={200: OidcClientList},
    problems=PROBLEMS,
    tags=TAGS,
    auth=True,
)
def list_clients(ctx: Ctx) -> Reply:
    require_role(ctx, "admin")
    clients = ctx.flows.oidc.clients.list(ctx.realm)
    return Reply(body=OidcClientList(clients=[OidcClientOutput.of(client) for client in clients]))


@api(
    bp,
    BASE,
    method="POST",
    summary="Register an OpenID client (its secret is answered once); role admin",
    body=OidcClientInput,
    responses={201: OidcClientOutput},
    problems=[*PROBLEMS, "invalid_input"],
    tags=TAGS,
    auth=True,
)
def add_client(ctx: Ctx) -> Reply:
    from chalicelib.flows.oidc.clients import ClientRequest

    principal = require_role(ctx, "admin")
    body: OidcClientInput = ctx.body
    registered = ctx.flows.oidc.clients.register(
        ctx.realm, ClientRequest(**body.model_dump()), actor=principal.account_id
    )
    return Reply(status=201, body=OidcClientOutput.of(registered.client, registered.secret))


@api(
    bp,
    BASE + "/{client_id}",
    summary="One OpenID client; role admin",
    responses={200: OidcClientOutput},
    problems=PROBLEMS,
    tags=TAGS,
    auth=True,
)
def show_client(ctx: Ctx, client_id: str) -> Reply:
    require_role(ctx, "admin")
    return Reply(body=OidcClientOutput.of(ctx.flows.oidc.clients.show(ctx.realm, client_id)))


@api(
    bp,
    BASE + "/{client_id}/secret",
    method="POST",
    summary="A new client secret (answered once); the old one stops working; role admin",
    responses={200: OidcClientOutput},
    problems=[*PROBLEMS, "invalid_input"],
    tags=TAGS,
    auth=True,
)
def rotate_secret(ctx: Ctx, client_id: str) -> Reply:
    principal = require_role(ctx, "admin")
    rotated = ctx.flows.oidc.clients.rotate_secret(ctx.realm, client_id, actor=principal.account_id)
    return Reply(body=OidcClientOutput.of(rotated.client, rotated.secret))


@api(
    bp,
    BASE + "/{client_id}",
    method="DELETE",
    summary="Remove an OpenID client; role admin",
    responses={204: None},
    problems=PROBLEMS,
    tags=TAGS,
    auth=True,
)
def remove_client(ctx: Ctx, client_id: str) -> Reply:
    principal = require_role(ctx, "admin")
    ctx.flows.oidc.clients.remove(ctx.realm, client_id, actor=principal.account_id)
    return Reply(status=204)
