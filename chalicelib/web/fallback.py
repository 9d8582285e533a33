"""Unknown routes answer 404 problem details (API Gateway would say 403 otherwise)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.web.problems import problem

bp = Blueprint(__name__)


@bp.route("/{proxy+}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found() -> Response:
    return problem("not_found", detail="There is no such resource.")
