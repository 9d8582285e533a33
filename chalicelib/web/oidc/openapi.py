"""The OpenID Provider's JSON endpoints in the OpenAPI document (and so in the fuzz run).

They take ``application/x-www-form-urlencoded`` protocol parameters (RFC 6749 §3.2) and
answer RFC 6749 errors, so they are described here by hand rather than through the
``@api`` models. The authorization and logout endpoints are pages and are left out, as
every page is.
"""

from __future__ import annotations

from typing import Any

from chalicelib.realms import all_realms

FORM = "application/x-www-form-urlencoded"
ISSUER = "/realms/{realm}"

OAUTH_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "error_description": {"type": "string"},
        "error_uri": {"type": "string"},
    },
}
TOKEN_RESPONSE = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer"},
        "refresh_token": {"type": "string"},
        "id_token": {"type": "string"},
        "scope": {"type": "string"},
    },
}
INTROSPECTION = {
    "type": "object",
    "required": ["active"],
    "properties": {
        "active": {"type": "boolean"},
        "client_id": {"type": "string"},
        "token_type": {"type": "string"},
        "scope": {"type": "string"},
        "sub": {"type": "string"},
        "aud": {"type": "string"},
        "iss": {"type": "string"},
        "exp": {"type": "integer"},
        "iat": {"type": "integer"},
        "sid": {"type": "string"},
    },
}
USERINFO = {"type": "object", "required": ["sub"], "properties": {"sub": {"type": "string"}}}


def _form(*names: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: {"type": "string", "maxLength": 4096} for name in names},
    }
    if required:
        schema["required"] = list(required)
    return {"required": bool(required), "content": {FORM: {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    reference = {"$ref": "#/components/schemas/OAuthError"}
    described = {
        400: "invalid_request, invalid_grant, unsupported_grant_type, invalid_scope…",
        401: "invalid_client (or invalid_token at userinfo)",
        403: "insufficient_scope",
        404: "no such realm",
        413: "the body is too large",
        503: "service_unavailable: temporarily_unavailable (AWS throttled us beyond retries; Retry-After)",
    }
    answers = {
        str(status): {"description": described[status], "content": {"application/json": {"schema": reference}}}
        for status in statuses
    }
    answers["415"] = {
        "description": "Problem: unsupported_media_type",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    return answers


_REALM: dict[str, Any] = {"type": "string", "enum": sorted(all_realms())}


def _operation(
    summary: str, ok: dict[str, Any], errors: tuple[int, ...], body: dict[str, Any] | None, name: str
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": name,
        "tags": ["oidc"],
        "parameters": [
            {
                "name": "realm",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": sorted(all_realms())},
            }
        ],
        "responses": {
            "200": {"description": "Success", "content": {"application/json": {"schema": ok}}},
            **_errors(*errors),
        },
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def provider_paths(components: dict[str, Any]) -> dict[str, dict[str, Any]]:
    components.setdefault("OAuthError", OAUTH_ERROR)
    client_auth = ("client_id", "client_secret", "client_assertion_type", "client_assertion")
    token_form = _form(
        "grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope", *client_auth,
        required=("grant_type",),
    )  # fmt: skip
    token_form_revocation = _form("token", "token_type_hint", *client_auth, required=("token",))
    return {
        f"{ISSUER}/.well-known/openid-configuration": {
            "get": _operation(
                "OpenID Provider metadata (Discovery 1.0)", {"type": "object"}, (404, 503), None, "oidc_discovery"
            )
        },
        f"{ISSUER}/oidc/token": {
            "post": _operation(
                "Token endpoint: authorization_code and refresh_token grants (RFC 6749 §3.2)",
                TOKEN_RESPONSE,
                (400, 401, 404, 413, 503),
                token_form,
                "oidc_token",
            )
        },
        f"{ISSUER}/oidc/userinfo": {
            "get": _operation(
                "UserInfo (Bearer access token in the header)",
                USERINFO,
                (400, 401, 403, 404, 503),
                None,
                "oidc_userinfo",
            ),
            "post": _operation(
                "UserInfo (Bearer header, or access_token in the form body)",
                USERINFO,
                (400, 401, 403, 404, 413, 503),
                _form("access_token"),
                "oidc_userinfo_post",
            ),
        },
        f"{ISSUER}/oidc/introspect": {
            "post": _operation(
                "Token introspection (RFC 7662), a client's own tokens",
                INTROSPECTION,
                (400, 401, 404, 413, 503),
                token_form_revocation,
                "oidc_introspect",
            )
        },
        f"{ISSUER}/oidc/revoke": {
            "post": _operation(
                "Token revocation (RFC 7009): either token ends the whole grant",
                {"type": "object"},
                (400, 401, 404, 413, 503),
                token_form_revocation,
                "oidc_revoke",
            )
        },
    }
