"""Declaring API operations once: the route, its models, its problems, its OpenAPI entry.

``@api(...)`` registers a Chalice route whose handler receives a :class:`Ctx` and
returns a :class:`Reply`. Around it sit the things every endpoint must get right:
realm lookup (404), body parsing (400/413/422), CSRF for browser form posts, mapping flow
errors to problem details, never a 500 for bad input, and content negotiation (a browser
form post gets ``303 See Other`` to the next page, a JSON client gets JSON). The same
declarations feed ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Blueprint, Response
from pydantic import BaseModel

from chalicelib.adapters.aws_errors import is_transient
from chalicelib.container import Services, services
from chalicelib.domain.audit import origin
from chalicelib.errors import FlowError, TaskQueueError
from chalicelib.observability import metrics
from chalicelib.realms import RealmConfig, UnknownRealm, get_realm
from chalicelib.web import csrf, html
from chalicelib.web.cookies import read_cookie
from chalicelib.web.inputs import BODY_TYPES, is_form, media_type, parse_body, raw_fields
from chalicelib.web.problems import STATUS_BY_CODE, InputProblem, from_flow_error, problem, problem_body

if TYPE_CHECKING:
    from chalicelib.flows.wiring import Flows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Operation:
    """One documented operation (method + path) of the API."""

    path: str
    method: str
    summary: str
    body: type[BaseModel] | None
    responses: dict[int, type[BaseModel] | None]
    problems: tuple[str, ...]
    tags: tuple[str, ...]
    auth: bool
    query: dict[str, str]
    raw_types: tuple[str, ...] = ()
    """Request media types passed to the handler as bytes (uploads), beside JSON."""
    produces: tuple[str, ...] = ()
    """Media types of a successful answer other than JSON (files)."""
    body_by_source: dict[str, type[BaseModel]] = field(default_factory=dict)
    """Realms that sign in through another identity source send another body here
    (``eulogin`` realms register and sign in from a flow)."""


REGISTRY: list[Operation] = []

UNAVAILABLE_RETRY_AFTER = 5
"""Seconds a client waits after AWS throttled a request (botocore already retried it
with backoff; the throttling of a table or SES usually eases within seconds)."""


@dataclass
class Reply:
    """What a handler answers; the decorator turns it into JSON or a browser redirect."""

    status: int = 200
    body: BaseModel | dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)
    next_page: str | None = None
    """Where a browser that posted a form goes next (303)."""
    raw: bytes | str | None = None
    """A file answered as is (with ``content_type``) instead of JSON."""
    content_type: str | None = None


@dataclass(frozen=True)
class FormState:
    """What a refused form post brings back to its page."""

    values: dict[str, str]
    """Fields as sent, without passwords, tokens and the CSRF token."""
    code: str
    status: int
    errors: dict[str, list[str]]
    detail: str | None = None
    violations: tuple[str, ...] = ()
    """Password-policy violation codes, so the page can say them in its language."""


@dataclass
class Ctx:
    """The request as handlers see it."""

    request: Any
    realm_config: RealmConfig | None
    body: Any = None
    form_state: FormState | None = None
    """A refused form being shown again: the values sent and the problem."""

    @property
    def realm(self) -> RealmConfig:
        """The realm named in the path (only for routes under ``/realms/{realm}``)."""
        if self.realm_config is None:
            raise LookupError("this route has no realm")
        return self.realm_config

    @property
    def services(self) -> Services:
        return services()

    @property
    def flows(self) -> Flows:
        return services().flows

    def cookie(self, name: str) -> str | None:
        return read_cookie(self.request, name)

    def query(self, name: str) -> str | None:
        params = self.request.query_params or {}
        value = params.get(name)
        return value if isinstance(value, str) else None

    @property
    def idempotency_key(self) -> str | None:
        """The client's ``Idempotency-Key`` header (retries send the same one)."""
        value = (self.request.headers.get("idempotency-key") or "").strip()
        return value[:256] or None

    @property
    def client_ip(self) -> str:
        identity = (self.request.context or {}).get("identity") or {}
        return str(identity.get("sourceIp") or "")

    @property
    def user_agent(self) -> str:
        return str(self.request.headers.get("user-agent") or "")


def wants_html(request: Any) -> bool:
    """A browser form post: form-encoded body and HTML accepted."""
    return is_form(request.headers) and "text/html" in (request.headers.get("accept") or "")


def api(
    blueprint: Blueprint,
    path: str,
    *,
    method: str = "GET",
    summary: str,
    body: type[BaseModel] | None = None,
    responses: dict[int, type[BaseModel] | None],
    problems: Sequence[str] = (),
    tags: Sequence[str] = (),
    auth: bool = False,
    query: dict[str, str] | None = None,
    raw_types: Sequence[str] = (),
    produces: Sequence[str] = (),
    body_by_source: dict[str, type[BaseModel]] | None = None,
    form_post: str = "",
    form_body: type[BaseModel] | None = None,
) -> Callable[[Callable[..., Reply]], Callable[..., Reply]]:
    """Register ``handler`` as ``method path`` on ``blueprint`` and document it.

    With ``raw_types``, a body of one of those media types is not parsed: the handler
    reads ``ctx.request.raw_body`` (and ``ctx.body`` is None); JSON still goes to ``body``.
    With ``form_post``, the same handler also answers ``POST path/form_post`` with a
    ``form_body``: HTML forms cannot send ``DELETE``, so the pages post there instead.
    """

    def decorate(handler: Callable[..., Reply]) -> Callable[..., Reply]:
        REGISTRY.append(
            Operation(
                path,
                method,
                summary,
                body,
                dict(responses),
                tuple(problems),
                tags=tuple(tags),
                auth=auth,
                query=dict(query or {}),
                raw_types=tuple(raw_types),
                produces=tuple(produces),
                body_by_source=dict(body_by_source or {}),
            )
        )
        alternatives = dict(body_by_source or {})

        @functools.wraps(handler)
        def view(**params: str) -> Response:
            request = blueprint.current_request
            try:
                realm = get_realm(params.pop("realm")) if "realm" in params else None
                csrf.check(request)  # every state-changing method, with a body or without
                raw = bool(raw_types) and media_type(request.headers) in raw_types
                model = alternatives.get(realm.identity_source, body) if realm is not None else body
                parsed = parse_body(request, model) if model is not None and not raw else None
                ctx = Ctx(request=request, realm_config=realm, body=parsed)
                with origin(ctx.client_ip, ctx.user_agent):  # where the changes this request makes are audited from
                    reply = handler(ctx, **params)
            except UnknownRealm:
                return _error(request, "not_found", detail="There is no such realm.")
            except FlowError as error:
                return _flow_error(request, error)
            except InputProblem as error:
                return _error(request, error.code, detail=error.detail, errors=error.errors)
            except TaskQueueError:
                return _error(request, "service_unavailable", retry_after=30)
            except Exception as error:
                if is_transient(error):  # AWS throttled or failed us after botocore's retries
                    log.warning("AWS could not serve %s %s: %s", method, path, type(error).__name__)
                    count("ServiceUnavailable")
                    return _error(request, "service_unavailable", retry_after=UNAVAILABLE_RETRY_AFTER)
                log.exception("unhandled error in %s %s", method, path)
                return _error(request, "internal_error")
            return _render(request, reply)

        route_options: dict[str, Any] = {"methods": [method]}
        if body is not None:
            route_options["content_types"] = [*BODY_TYPES, *raw_types]
        blueprint.route(path, **route_options)(view)
        if form_post:
            _form_twin(blueprint, path, method, summary, handler, form_post, form_body, responses, problems, tags, auth)
        return handler

    return decorate


def _form_twin(
    blueprint: Blueprint,
    path: str,
    method: str,
    summary: str,
    handler: Callable[..., Reply],
    form_post: str,
    form_body: type[BaseModel] | None,
    responses: dict[int, type[BaseModel] | None],
    problems: Sequence[str],
    tags: Sequence[str],
    auth: bool,
) -> None:
    """``POST path/form_post``: ``handler`` again, for the pages' forms."""

    def by_form(ctx: Ctx, **params: str) -> Reply:
        return handler(ctx, **params)

    by_form.__name__ = by_form.__qualname__ = f"{handler.__name__}_by_form"
    api(
        blueprint,
        f"{path}/{form_post}",
        method="POST",
        summary=f"{summary} (the same as {method}, for HTML forms)",
        body=form_body,
        responses=responses,
        problems=[*problems, "invalid_input"]
        if form_body is not None and "invalid_input" not in problems
        else problems,
        tags=tags,
        auth=auth,
    )(by_form)


def _render(request: Any, reply: Reply) -> Response:
    headers: dict[str, Any] = {"Cache-Control": "no-store", **reply.headers}
    if reply.cookies:
        headers["Set-Cookie"] = list(reply.cookies)
    if reply.next_page and wants_html(request):
        headers["Location"] = reply.next_page
        return Response(body="", status_code=303, headers=headers)
    if reply.raw is not None:
        headers["Content-Type"] = reply.content_type or "application/octet-stream"
        return Response(body=reply.raw, status_code=reply.status, headers=headers)
    if reply.body is None:
        return Response(body="", status_code=reply.status, headers=headers)
    payload = reply.body.model_dump(mode="json", exclude_none=True) if isinstance(reply.body, BaseModel) else reply.body
    headers.setdefault("Content-Type", "application/json")
    return Response(body=json.dumps(payload, ensure_ascii=False), status_code=reply.status, headers=headers)


def count(metric: str) -> None:
    """Add one to a business metric (flushed by the Powertools middleware as EMF)."""
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)


def _flow_error(request: Any, error: FlowError) -> Response:
    count(f"Problem.{error.code}")
    if wants_html(request) and isinstance(error.extra.get("certify_url"), str):
        return html.redirect(error.extra["certify_url"])  # a browser goes straight to GSIS
    if wants_html(request):
        violations = tuple(str(code) for code in error.extra.get("violations", ()))
        shown = show_form_again(request, error.code, error.detail, error.errors, violations)
        if shown is not None:
            return shown
        body = problem_body(error.code, title=error.title, detail=error.detail, errors=error.errors, extra=error.extra)
        return html.error_page(body, request=request)
    return from_flow_error(error)


def _error(
    request: Any,
    code: str,
    *,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
    retry_after: int | None = None,
) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    if wants_html(request):
        shown = show_form_again(request, code, detail, errors or {})
        if shown is None:
            shown = html.error_page(problem_body(code, detail=detail, errors=errors), request=request)
        shown.headers.update(headers or {})
        return shown
    return problem(code, detail=detail, errors=errors, headers=headers)


PAGES: list[tuple[str, Callable[..., Response]]] = []
"""Every GET page (path template, handler), to show a refused form again."""

FORM_PAGE_FIELD = "form_page"
"""Hidden field of every form: the page (path and query) that shows it."""

_SECRET_FIELDS = ("password", "token", "csrf", "code", "flow")


def show_form_again(
    request: Any, code: str, detail: str | None, errors: dict[str, list[str]], violations: tuple[str, ...] = ()
) -> Response | None:
    """The page a refused form came from, rendered again with the values sent and the
    problem next to its fields; None when the post names no page of ours."""
    try:
        fields = raw_fields(request)
    except InputProblem:
        return None
    target = str(fields.get(FORM_PAGE_FIELD) or "")
    found = _find_page(target)
    if found is None:
        return None
    handler, params, query = found
    values = {
        key: str(value)
        for key, value in fields.items()
        if key != FORM_PAGE_FIELD and not any(secret in key for secret in _SECRET_FIELDS)
    }
    state = FormState(
        values=values,
        code=code,
        status=STATUS_BY_CODE.get(code, 400),
        errors=errors,
        detail=detail,
        violations=violations,
    )
    view = _PageRequest(request, target.split("?", 1)[0], query)
    try:
        realm = get_realm(params.pop("realm")) if "realm" in params else None
        return handler(Ctx(request=view, realm_config=realm, form_state=state), **params)
    except Exception:  # the page itself cannot be shown: fall back to the error page
        log.warning("could not show %s again", target.split("?", 1)[0], exc_info=True)
        return None


def _find_page(target: str) -> tuple[Callable[..., Response], dict[str, str], dict[str, str]] | None:
    """The page handler for a same-site path such as ``/realms/eiep/register?flow=…``."""
    if not target.startswith("/realms/") or "//" in target or "\\" in target:
        return None
    path, _, query_text = target.partition("?")
    wanted = path.rstrip("/").split("/")
    for template, handler in PAGES:
        parts = template.rstrip("/").split("/")
        if len(parts) != len(wanted):
            continue
        params: dict[str, str] = {}
        for part, value in zip(parts, wanted, strict=True):
            if part.startswith("{") and part.endswith("}"):
                params[part[1:-1]] = value
            elif part != value:
                break
        else:
            return handler, params, dict(parse_qsl(query_text, keep_blank_values=True))
    return None


class _PageRequest:
    """The post's request, seen as the GET of the page that showed the form."""

    def __init__(self, request: Any, path: str, query: dict[str, str]) -> None:
        self._request = request
        self.query_params = query
        self.method = "GET"
        self.context = {**(request.context or {}), "path": path}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


def page(
    blueprint: Blueprint,
    path: str,
    *,
    methods: Sequence[str] = ("GET",),
    form: bool = False,
    content_types: Sequence[str] = (),
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a browser page: errors become HTML pages with the problem's status.

    ``form`` pages take posts (CSRF-checked) of the API's body types and ``content_types``.
    """

    def decorate(handler: Callable[..., Response]) -> Callable[..., Response]:
        if "GET" in methods:
            PAGES.append((path, handler))

        @functools.wraps(handler)
        def view(**params: str) -> Response:
            request = blueprint.current_request
            try:
                realm = get_realm(params.pop("realm")) if "realm" in params else None
                csrf.check(request)  # a no-op for GET
                ctx = Ctx(request=request, realm_config=realm)
                with origin(ctx.client_ip, ctx.user_agent):
                    return handler(ctx, **params)
            except UnknownRealm:
                return html.error_page(problem_body("not_found", detail="There is no such realm."), request=request)
            except FlowError as error:
                return html.error_page(
                    problem_body(error.code, title=error.title, detail=error.detail, errors=error.errors),
                    request=request,
                )
            except InputProblem as error:
                return html.error_page(
                    problem_body(error.code, detail=error.detail, errors=error.errors), request=request
                )
            except Exception as error:
                if is_transient(error):
                    log.warning("AWS could not serve page %s: %s", path, type(error).__name__)
                    count("ServiceUnavailable")
                    shown = html.error_page(problem_body("service_unavailable"), request=request)
                    shown.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
                    return shown
                log.exception("unhandled error in page %s", path)
                return html.error_page(problem_body("internal_error"), request=request)

        options: dict[str, Any] = {"methods": list(methods)}
        if form:
            options["content_types"] = [*BODY_TYPES, *content_types]
        blueprint.route(path, **options)(view)
        return handler

    return decorate
