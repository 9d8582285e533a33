"""Powertools registered once, as Chalice middleware (Chalice docs, "middleware").

Every log line of a request carries its realm, route and request id; the Tracer is a
no-op outside Lambda; metrics are flushed at the end of each invocation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import Chalice, ConvertToMiddleware, Response

from chalicelib.observability import logger, metrics, tracer
from chalicelib.web.problems import problem


def _traced(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Trace each invocation; the tracer itself is built on the first one."""

    @functools.cache
    def traced_handler() -> Callable[[Any, Any], Any]:
        return tracer().capture_lambda_handler(handler, capture_response=False)

    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> Any:
        return traced_handler()(event, context)

    return invoke


HSTS = "max-age=31536000; includeSubDomains"
"""A year, for this host and its subdomains (none of which serves plain http); no
``preload``: that list is a commitment the operator of the domain makes, not the app."""


def _transport_security(response: Response) -> Response:
    """Over https (``MITROO_PUBLIC_URL``), every answer pins https: pages, API answers,
    redirects and problems alike. Over http (a local run) none does: a browser would
    then refuse the dev server on that host for a year."""
    from chalicelib.settings import get_settings

    if get_settings().public_url.startswith("https://"):
        response.headers = {**(response.headers or {}), "Strict-Transport-Security": HSTS}
    return response


_CHALICE_ERRORS = {405: "method_not_allowed", 415: "unsupported_media_type"}


def _as_problem(response: Response) -> Response:
    """Chalice answers a wrong method or content type itself, in its own error shape;
    clients get problem details like everywhere else."""
    code = _CHALICE_ERRORS.get(response.status_code)
    content_type = str((response.headers or {}).get("Content-Type", ""))
    if code is None or content_type.startswith("application/problem+json"):
        return response
    allow = (response.headers or {}).get("Allow")
    return problem(code, headers={"Allow": allow} if allow else None)


def register_middleware(app: Chalice) -> None:
    app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))
    app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
    app.register_middleware(ConvertToMiddleware(_traced))

    @app.middleware("http")
    def request_context(event: Any, get_response: Any) -> Any:
        # event.path is the route template (no ids or tokens in it), safe to log.
        route = event.path or ""
        realm = (event.uri_params or {}).get("realm")
        request_id = (event.context or {}).get("requestId")
        logger.append_keys(route=route, method=event.method, realm=realm, request_id=request_id)
        try:
            response = _transport_security(_as_problem(get_response(event)))
            logger.info("request handled", extra={"status": response.status_code})
            return response
        finally:
            logger.remove_keys(["route", "method", "realm", "request_id"])
