"""The provider's metadata (OpenID Connect Discovery 1.0, RFC 8414).

Served at exactly ``{issuer}/.well-known/openid-configuration``: Moodle appends that
path to the base URL it is given, and every RP compares ``issuer`` with the URL it
started from. The JWKS is the realm's existing one, so the keys that verify the API's
access tokens verify ID and logout tokens too.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.oidc import AUTH_METHODS, SCOPE_CLAIMS, supported_scopes
from chalicelib.flows.links import Links
from chalicelib.realms import RealmConfig

CLIENT_ASSERTION_ALGORITHMS = ("RS256", "PS256", "ES256")


def endpoint(links: Links, realm: str, name: str) -> str:
    """``{issuer}/oidc/{name}``: authorize, token, userinfo, logout, revoke, introspect."""
    return f"{links.issuer(realm)}/oidc/{name}"


def provider_metadata(links: Links, realm: RealmConfig) -> dict[str, Any]:
    issuer = links.issuer(realm.id)
    scopes = supported_scopes(realm.identity_source)
    claims = sorted({claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, ())})
    confidential = [method for method in AUTH_METHODS if method != "none"]
    return {
        "issuer": issuer,
        "authorization_endpoint": endpoint(links, realm.id, "authorize"),
        "token_endpoint": endpoint(links, realm.id, "token"),
        "userinfo_endpoint": endpoint(links, realm.id, "userinfo"),
        "end_session_endpoint": endpoint(links, realm.id, "logout"),
        "revocation_endpoint": endpoint(links, realm.id, "revoke"),
        "introspection_endpoint": endpoint(links, realm.id, "introspect"),
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "scopes_supported": list(scopes),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(CLIENT_ASSERTION_ALGORITHMS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": confidential,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [*claims, "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid"],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "prompt_values_supported": ["none", "login", "consent"],
        "acr_values_supported": ["1", "2"],
        "ui_locales_supported": list(realm.languages),
        "claims_locales_supported": list(realm.languages),
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }
