"""Reading request bodies: JSON or form-encoded, same field names, one validation path.

Chalice passes the raw body through untouched for both content types (the routes
declare them, otherwise API Gateway answers 415). Bodies are capped at 1 MiB (413), must
decode as UTF-8 and, for JSON, be one object (400 ``malformed_body``); field problems are
422 with messages per field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError

from chalicelib.web.problems import InputProblem

MAX_BODY_BYTES = 1024 * 1024
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
BODY_TYPES = [JSON, FORM]
FORM_ONLY_FIELDS = ("csrf_token", "form_page")
"""Fields browsers send with forms that are not part of the API's models."""

M = TypeVar("M", bound=BaseModel)


def media_type(headers: Any) -> str:
    raw = headers.get("content-type") or ""
    return raw.split(";", 1)[0].strip().lower()


def is_form(headers: Any) -> bool:
    return media_type(headers) == FORM


def raw_fields(request: Any) -> dict[str, Any]:
    """The body as a dict, from JSON or a form, without validating fields."""
    body: bytes = request.raw_body or b""
    if len(body) > MAX_BODY_BYTES:
        raise InputProblem("payload_too_large", f"The limit is {MAX_BODY_BYTES} bytes.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputProblem("malformed_body", "The body is not valid UTF-8.") from None
    kind = media_type(request.headers)
    if kind == FORM:
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
        except (ValueError, UnicodeDecodeError):
            raise InputProblem("malformed_body", "The form body could not be decoded.") from None
        fields: dict[str, Any] = {}
        for key, value in pairs:
            fields.setdefault(key, value)
        return fields
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise InputProblem("malformed_body", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InputProblem("malformed_body", "The body must be a JSON object.")
    return data


def parse_body(request: Any, model: type[M]) -> M:
    """Validate the body against ``model``; 422 ``invalid_input`` lists every bad field."""
    fields = raw_fields(request)
    if is_form(request.headers):
        for name in FORM_ONLY_FIELDS:
            fields.pop(name, None)
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise InputProblem("invalid_input", "Some fields are invalid.", errors=_field_errors(exc)) from None


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        errors.setdefault(location, []).append(str(error["msg"]))
    return errors


MULTIPART = "multipart/form-data"


@dataclass(frozen=True)
class UploadedFile:
    name: str
    content_type: str
    data: bytes


def read_multipart(request: Any, *, max_bytes: int) -> dict[str, str | UploadedFile]:
    """The fields of a ``multipart/form-data`` body (a browser's file upload form).

    Parsed with the standard library's MIME parser; text fields become strings, file
    fields :class:`UploadedFile`. Raises 413 ``payload_too_large`` beyond ``max_bytes``
    and 400 ``malformed_body`` for anything that is not a multipart body.
    """
    import email.parser
    import email.policy

    body: bytes = request.raw_body or b""
    if len(body) > max_bytes:
        raise InputProblem("payload_too_large", f"The limit is {max_bytes // (1024 * 1024)} MiB.")
    content_type = request.headers.get("content-type") or ""
    if media_type(request.headers) != MULTIPART or "boundary=" not in content_type:
        raise InputProblem("malformed_body", "Send the form as multipart/form-data.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise InputProblem("malformed_body", "The form body could not be read.")
    fields: dict[str, str | UploadedFile] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name or name in fields:
            continue
        decoded = part.get_payload(decode=True)
        payload = decoded if isinstance(decoded, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            fields[str(name)] = UploadedFile(str(filename), part.get_content_type(), payload)
        else:
            try:
                fields[str(name)] = payload.decode(part.get_content_charset() or "utf-8")
            except (UnicodeDecodeError, LookupError):
                raise InputProblem("malformed_body", f"The field {name} is not UTF-8 text.") from None
    return fields
