"""The OpenAPI 3.1 document, generated from the same models that validate requests."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from chalicelib.realms import all_realms
from chalicelib.web.endpoints import REGISTRY, Operation
from chalicelib.web.inputs import FORM, JSON
from chalicelib.web.problems import STATUS_BY_CODE
from chalicelib.web.schemas import Problem

_REF = "#/components/schemas/{model}"


def _schema(model: type[BaseModel], components: dict[str, Any], *, for_input: bool = False) -> dict[str, Any]:
    """Put ``model`` (and the models it uses) into ``components``; return a reference."""
    schema = model.model_json_schema(ref_template=_REF, mode="validation" if for_input else "serialization")
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault(model.__name__, schema)
    return {"$ref": _REF.format(model=model.__name__)}


_BODY_PROBLEMS = ("invalid_input", "malformed_body", "payload_too_large")
"""What reading any request body can answer (``chalicelib.web.inputs``): a field that
fails its model, a body that is not JSON, a form or UTF-8, a body over 1 MiB."""

_EVERY_OPERATION_PROBLEMS = ("service_unavailable",)
"""What any operation can answer when AWS throttles beyond the retries (503 with
``Retry-After``, ``chalicelib.adapters.aws_errors``)."""


def _path_schema(name: str) -> dict[str, Any]:
    """``{realm}`` is one of the shipped realms (any other answers 404); ids are strings."""
    if name == "realm":
        return {"type": "string", "enum": sorted(all_realms())}
    return {"type": "string"}


def _operation(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    parameters += [
        {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
        for name, text in op.query.items()
    ]
    document: dict[str, Any] = {
        "summary": op.summary,
        "operationId": re.sub(r"\W+", "_", f"{op.method.lower()}_{op.path}").strip("_"),
        "tags": list(op.tags),
        "responses": {},
    }
    if parameters:
        document["parameters"] = parameters
    if op.body is not None:
        ref = _schema(op.body, components, for_input=True)
        if op.body_by_source:  # realms of another identity source send another body
            others = [_schema(model, components, for_input=True) for model in op.body_by_source.values()]
            ref = {"oneOf": [ref, *others]}
        document["requestBody"] = {
            "required": True,
            "content": {
                JSON: {"schema": ref},
                FORM: {"schema": ref},
                **{media: {"schema": {"type": "string", "format": "binary"}} for media in op.raw_types},
            },
        }
    if op.auth:
        document["security"] = [{"bearer": []}]
    for status, model in op.responses.items():
        response: dict[str, Any] = {"description": "Success"}
        if op.produces and status < 300:
            response["content"] = {media: {"schema": {"type": "string", "format": "binary"}} for media in op.produces}
        elif model is not None:
            response["content"] = {"application/json": {"schema": _schema(model, components)}}
        elif status != 204:
            response["content"] = {"application/json": {"schema": {"type": "object"}}}
        document["responses"][str(status)] = response
    problem_ref = _schema(Problem, components)
    codes = sorted(set(op.problems) | set(_EVERY_OPERATION_PROBLEMS) | (set(_BODY_PROBLEMS) if op.body else set()))
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(STATUS_BY_CODE[code], []).append(code)
    for status, status_codes in sorted(by_status.items()):
        document["responses"][str(status)] = {
            "description": "Problem: " + ", ".join(status_codes),
            "content": {"application/problem+json": {"schema": problem_ref}},
        }
    return document


EXTRA_PATHS: list[Callable[[dict[str, Any]], dict[str, dict[str, Any]]]] = []
"""Operations documented by hand: the OpenID Provider's OAuth endpoints answer RFC 6749
errors and take form bodies of protocol parameters, not the ``@api`` models
(``web/oidc/openapi.py``). Each function adds its schemas to the components it is given."""


@functools.cache
def openapi_document() -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for op in REGISTRY:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, components)
    for extra in EXTRA_PATHS:
        for path, operations in extra(components).items():
            paths.setdefault(path, {}).update(operations)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mitroo",
            "version": "1.0.0",
            "description": "Account registration and recovery for education platforms.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
