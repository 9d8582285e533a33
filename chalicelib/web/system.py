"""Health, the OpenAPI document, the realms' JWKS, the stylesheet and the script."""

from __future__ import annotations

from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.errors import NotFound
from chalicelib.web.endpoints import Ctx, Reply, api, page
from chalicelib.web.openapi import openapi_document
from chalicelib.web.schemas import HealthOutput

bp = Blueprint(__name__)

_STATIC = Path(__file__).parent / "static"
_STATIC_TYPES = {
    "site.css": "text/css; charset=utf-8",
    "site.js": "text/javascript; charset=utf-8",
    "webauthn.js": "text/javascript; charset=utf-8",
}


@api(bp, "/api/v1/health", summary="Liveness check", responses={200: HealthOutput}, tags=["system"])
def health(ctx: Ctx) -> Reply:
    return Reply(body=HealthOutput(status="ok"))


@api(bp, "/api/v1/openapi.json", summary="This document (OpenAPI 3.1)", responses={200: None}, tags=["system"])
def openapi(ctx: Ctx) -> Reply:
    return Reply(body=openapi_document(), headers={"Cache-Control": "public, max-age=300"})


@api(
    bp,
    "/realms/{realm}/.well-known/jwks.json",
    summary="Public keys that verify the realm's access tokens",
    responses={200: None},
    problems=["not_found"],
    tags=["sessions"],
)
def jwks(ctx: Ctx) -> Reply:
    _ = ctx.realm
    return Reply(body=ctx.services.ports.signer.jwks(), headers={"Cache-Control": "public, max-age=300"})


@page(bp, "/static/{name}")
def static_file(ctx: Ctx, name: str) -> Response:
    """The stylesheet and the script: a fixed list, nothing else from the disk."""
    media = _STATIC_TYPES.get(name)
    if media is None:
        raise NotFound()
    return Response(
        body=(_STATIC / name).read_text(encoding="utf-8"),
        headers={"Content-Type": media, "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
