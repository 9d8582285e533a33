"""RFC 9457 problem details: the one table from problem code to HTTP status.

Every error the API returns goes through :func:`problem`, so clients can always branch on
``code`` (SPEC §6) and never see a stack trace or a framework's own error shape.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Response

from chalicelib.errors import FlowError

PROBLEM_TYPE_BASE = "https://mitroo.example/problems/"

STATUS_BY_CODE: dict[str, int] = {
    "invalid_input": 422,
    "malformed_body": 400,
    "password_policy": 422,
    "passwords_mismatch": 422,
    "invalid_email": 422,
    "forbidden_email_domain": 422,
    "email_taken": 409,
    "afm_registered": 409,
    "username_taken": 409,
    "registry_number_taken": 409,
    "flow_not_found": 404,
    "flow_expired": 410,
    "flow_used": 409,
    "state_invalid": 400,
    "idp_error": 400,
    "token_invalid": 400,
    "token_expired": 410,
    "invalid_credentials": 401,
    "not_activated": 403,
    "account_disabled": 403,
    "account_expired": 403,
    "certification_required": 403,
    "identity_mismatch": 409,
    "too_many_attempts": 429,
    "forbidden": 403,
    "unauthorized": 401,
    "not_found": 404,
    "payload_too_large": 413,
    "spreadsheet_invalid": 422,
    "not_eligible": 422,
    "mfa_required": 401,
    "mfa_invalid": 401,
    "mfa_enrolment_required": 403,
    "reauthentication_required": 401,
    "deletion_scheduled": 409,
    "unsupported_media_type": 415,
    "method_not_allowed": 405,
    "internal_error": 500,
    "service_unavailable": 503,
}

TITLES: dict[str, str] = {
    "malformed_body": "The request body could not be read.",
    "not_found": "Not found.",
    "payload_too_large": "The request body is too large.",
    "unsupported_media_type": "Send application/json or application/x-www-form-urlencoded.",
    "method_not_allowed": "This resource does not support that method.",
    "internal_error": "Something went wrong on our side.",
    "service_unavailable": "The service is busy; please try again shortly.",
}


class InputProblem(Exception):
    """A request-level problem found by the web layer (body, content type, CSRF…)."""

    def __init__(self, code: str, detail: str | None = None, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail
        self.errors = errors or {}


def problem_body(
    code: str,
    *,
    title: str | None = None,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    status = STATUS_BY_CODE[code]
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or TITLES.get(code, code.replace("_", " ").capitalize() + "."),
        "status": status,
        "code": code,
    }
    if detail and detail != body["title"]:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    if extra:
        body.update({key: value for key, value in extra.items() if key not in body})
    return body


def problem(
    code: str,
    *,
    title: str | None = None,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, Any] | None = None,
) -> Response:
    body = problem_body(code, title=title, detail=detail, errors=errors, extra=extra)
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=body["status"],
        headers={"Content-Type": "application/problem+json", "Cache-Control": "no-store", **(headers or {})},
    )


def from_flow_error(error: FlowError) -> Response:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return problem(
        error.code, title=error.title, detail=error.detail, errors=error.errors, extra=error.extra, headers=headers
    )
