"""``python -m chalicelib.cli oidc-client add|list|show|rotate-secret|remove`` (SPEC §2.8).

    oidc-client add --realm eiep --name Moodle \\
        --redirect-uri https://moodle.example/admin/oauth2callback.php \\
        [--public] [--trusted] [--require-pkce] [--auth-method client_secret_post] \\
        [--scope gsis] [--post-logout-redirect-uri U] [--backchannel-logout-uri U] [--jwks-uri U]
    oidc-client list --realm eiep
    oidc-client show --realm eiep CLIENT_ID
    oidc-client rotate-secret --realm eiep CLIENT_ID
    oidc-client remove --realm eiep CLIENT_ID

``add`` and ``rotate-secret`` print the client secret once (it is stored only hashed);
standard output carries ``key: value`` lines a script can read.
"""

from __future__ import annotations

import argparse
from typing import Any

from chalicelib.domain.oidc import AUTH_METHODS, OidcClient
from chalicelib.errors import FlowError

OPERATOR = "operator:cli"


EXIT_OK = 0
EXIT_REFUSED = 1


def add_commands(commands: Any, *, realm_help: str, resolve_realm: Any) -> None:
    """Add ``oidc-client`` to ``commands``; ``resolve_realm`` is the CLI's own realm lookup
    (its usage errors are the ones ``main`` reports)."""
    parser = commands.add_parser(
        "oidc-client",
        help="register and manage the applications that sign people in through a realm (OpenID Connect)",
        description="OpenID Connect clients of a realm. Secrets are shown once and stored hashed.",
    )
    actions = parser.add_subparsers(dest="oidc_action", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="register a client; prints its client_id and secret once")
    add.add_argument("--realm", required=True, help=realm_help)
    add.add_argument("--name", required=True, help="the application's name, shown on the consent page")
    add.add_argument(
        "--redirect-uri", action="append", required=True, help="an exact redirect URI (repeat for several)"
    )
    add.add_argument("--public", action="store_true", help="a browser or native app: no secret, PKCE required")
    add.add_argument("--trusted", action="store_true", help="the realm's own application: no consent page")
    add.add_argument("--require-pkce", action="store_true", help="require PKCE (S256) of this confidential client")
    add.add_argument("--auth-method", choices=AUTH_METHODS, help="token endpoint authentication (default basic)")
    add.add_argument("--scope", action="append", default=[], help="a realm scope the client may receive")
    add.add_argument("--post-logout-redirect-uri", action="append", default=[], help="where logout may return")
    add.add_argument("--backchannel-logout-uri", help="where logout tokens are posted (Back-Channel Logout)")
    add.add_argument("--jwks-uri", help="private_key_jwt: the client's published keys")
    add.add_argument("--no-refresh-tokens", action="store_true", help="register the client without refresh tokens")
    add.set_defaults(handler=oidc_client, resolve_realm=resolve_realm)

    for name, text in (
        ("list", "list the realm's clients"),
        ("show", "show one client"),
        ("rotate-secret", "issue a new secret (printed once); the old one stops working"),
        ("remove", "remove a client: it can no longer sign anyone in"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--realm", required=True, help=realm_help)
        if name != "list":
            action.add_argument("client_id", help="the client's id")
        action.set_defaults(handler=oidc_client, resolve_realm=resolve_realm)


def oidc_client(args: argparse.Namespace, console: Any) -> int:
    from chalicelib.container import services
    from chalicelib.flows.oidc.clients import ClientRequest

    realm = args.resolve_realm(args.realm)
    registry = services().flows.oidc.clients
    try:
        if args.oidc_action == "add":
            request = ClientRequest(
                name=args.name,
                redirect_uris=args.redirect_uri,
                public=args.public,
                trusted=args.trusted,
                require_pkce=args.require_pkce,
                auth_method=args.auth_method,
                scopes=args.scope,
                post_logout_redirect_uris=args.post_logout_redirect_uri,
                backchannel_logout_uri=args.backchannel_logout_uri,
                jwks_uri=args.jwks_uri,
                refresh_tokens=not args.no_refresh_tokens,
            )
            registered = registry.register(realm, request, actor=OPERATOR)
            _print(console, registered.client, registered.secret)
        elif args.oidc_action == "list":
            for client in registry.list(realm):
                uris = " ".join(client.redirect_uris)
                console.out(f"{client.client_id}\t{client.auth_method}\t{client.name}\t{uris}")
        elif args.oidc_action == "show":
            _print(console, registry.show(realm, args.client_id), None)
        elif args.oidc_action == "rotate-secret":
            rotated = registry.rotate_secret(realm, args.client_id, actor=OPERATOR)
            console.out(f"client_id: {rotated.client.client_id}")
            console.out(f"client_secret: {rotated.secret}")
            console.err("the new secret is shown once; the old one no longer works")
        else:
            registry.remove(realm, args.client_id, actor=OPERATOR)
            console.out(f"removed: {args.client_id}")
    except FlowError as error:
        console.err(f"error: {error.detail or error.title}")
        for field, messages in error.errors.items():
            for message in messages:
                console.err(f"  {field}: {message}")
        return EXIT_REFUSED
    return EXIT_OK


def _print(console: Any, client: OidcClient, secret: str | None) -> None:
    from chalicelib.container import services
    from chalicelib.flows.oidc.discovery import endpoint

    links = services().flows.links
    console.out(f"client_id: {client.client_id}")
    if secret:
        console.out(f"client_secret: {secret}")
        console.err("the client secret is shown once; it is stored only hashed")
    console.out(f"name: {client.name}")
    console.out(f"issuer: {links.issuer(client.realm)}")
    console.out(f"discovery: {links.issuer(client.realm)}/.well-known/openid-configuration")
    console.out(f"token_endpoint: {endpoint(links, client.realm, 'token')}")
    console.out(f"token_endpoint_auth_method: {client.auth_method}")
    for uri in client.redirect_uris:
        console.out(f"redirect_uri: {uri}")
    for uri in client.post_logout_redirect_uris:
        console.out(f"post_logout_redirect_uri: {uri}")
    if client.backchannel_logout_uri:
        console.out(f"backchannel_logout_uri: {client.backchannel_logout_uri}")
    if client.jwks_uri:
        console.out(f"jwks_uri: {client.jwks_uri}")
    console.out(f"trusted: {'yes' if client.trusted else 'no'}")
    console.out(f"pkce_required: {'yes' if client.needs_pkce else 'no'}")
    console.out(f"scopes: {' '.join(client.allowed_scopes(_source(client.realm)))}")


def _source(realm_id: str) -> str:
    from chalicelib.realms import get_realm

    return get_realm(realm_id).identity_source
