"""Health, the OpenAPI document, the realms' JWKS and the stylesheet."""

from __future__ import annotations

from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.web.endpoints import Ctx, Reply, api, page
from chalicelib.web.openapi import openapi_document
from chalicelib.web.schemas import HealthOutput

bp = Blueprint(__name__)

_STYLESHEET = Path(__file__).parent / "static" / "site.css"


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


@page(bp, "/static/site.css")
def stylesheet(ctx: Ctx) -> Response:
    return Response(
        body=_STYLESHEET.read_text(encoding="utf-8"),
        headers={"Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=3600"},
    )
