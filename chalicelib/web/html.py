"""Server-rendered pages: Jinja2 templates under ``web/templates``, safe headers.

Plain pages that make each journey clickable in a browser; they post to the same API
endpoints as JSON clients (form-encoded, with a CSRF token) and follow its 303s.
"""

from __future__ import annotations

import functools
from typing import Any

from chalice import Response

PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@functools.cache
def _environment() -> Any:
    import jinja2  # loaded on the first page, not at cold start

    return jinja2.Environment(
        loader=jinja2.PackageLoader("chalicelib.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def render_page(template: str, status: int = 200, cookies: list[str] | None = None, **context: Any) -> Response:
    headers: dict[str, Any] = dict(PAGE_HEADERS)
    if cookies:
        headers["Set-Cookie"] = list(cookies)
    body = _environment().get_template(template).render(**context)
    return Response(body=body, status_code=status, headers=headers)


def redirect(location: str, *, status: int = 303, cookies: list[str] | None = None) -> Response:
    headers: dict[str, Any] = {
        "Location": location,
        "Content-Type": "text/plain; charset=utf-8",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }
    if cookies:
        headers["Set-Cookie"] = list(cookies)
    return Response(body="", status_code=status, headers=headers)


def error_page(problem: dict[str, Any], *, back_url: str | None = None) -> Response:
    """A problem shown to a person: same status and code as the API would answer."""
    return render_page("error.html", status=int(problem["status"]), problem=problem, back_url=back_url)
