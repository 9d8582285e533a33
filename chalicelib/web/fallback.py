"""Unknown routes answer 404 (API Gateway would say 403 otherwise): problem details for
API clients, the error page (in the visitor's language) for a browser."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.web import html
from chalicelib.web.problems import problem, problem_body

bp = Blueprint(__name__)


@bp.route("/{proxy+}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found() -> Response:
    request = bp.current_request
    path = str((request.context or {}).get("path") or "")
    if "text/html" in (request.headers.get("accept") or "") and not path.startswith("/api/"):
        return html.error_page(problem_body("not_found"), request=request)
    return problem("not_found", detail="There is no such resource.")
