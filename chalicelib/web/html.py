"""Server-rendered pages: Jinja2 templates under ``web/templates``, in the visitor's
language (``web/i18n.py``), with security headers.

Pages post to the same API endpoints as JSON clients (form-encoded, with a CSRF token)
and follow their 303s; a refused form comes back re-rendered with the values kept (never
a password) and messages next to the fields (``web/endpoints.py``).
"""

from __future__ import annotations

import functools
from typing import Any

from chalice import Response

from chalicelib.web.cookies import read_cookie
from chalicelib.web.field_messages import localise
from chalicelib.web.i18n import LANGUAGES, Translator, choose_language, switch_url

PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@functools.cache
def content_security_policy(identity_providers: tuple[str, ...]) -> str:
    """No inline script or style; forms post to us, and may be redirected on (303) only to
    the identity providers (a GSIS recovery form ends at GSIS: browsers apply
    ``form-action`` to the redirect too)."""
    origins = " ".join(sorted({_origin(url) for url in identity_providers if url}))
    return (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
        f"form-action 'self' {origins}".rstrip()
        + "; frame-ancestors 'none'; base-uri 'none'"
    )


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _policy(form_targets: tuple[str, ...] = ()) -> str:
    from chalicelib.settings import get_settings

    settings = get_settings()
    return content_security_policy((settings.gsis_base_url, settings.eulogin_issuer or "", *form_targets))


@functools.cache
def _environment() -> Any:
    import jinja2  # loaded on the first page, not at cold start

    return jinja2.Environment(
        loader=jinja2.PackageLoader("chalicelib.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(
    template: str,
    *,
    request: Any = None,
    realm: Any = None,
    status: int = 200,
    cookies: list[str] | None = None,
    form_targets: tuple[str, ...] = (),
    **context: Any,
) -> Response:
    """Render ``template`` in the language the visitor chose (Greek by default).

    ``form_targets``: other sites a form of this page may end up at through redirects
    (an application's registered redirect URI after sign-in or consent): browsers apply
    ``form-action`` to the whole redirect chain of a form post."""
    headers: dict[str, Any] = {**PAGE_HEADERS, "Content-Security-Policy": _policy(form_targets)}
    cookies = list(cookies or [])
    language = "el"
    switch: dict[str, str] = {}
    if request is not None:
        allowed = tuple(realm.languages) if realm is not None else LANGUAGES
        default = realm.default_language if realm is not None else "el"
        language, remember = choose_language(request, allowed, default)
        if remember:
            cookies.append(remember)
        switch = {other: switch_url(request, other) for other in allowed if other != language}
    if cookies:
        headers["Set-Cookie"] = cookies
    context.setdefault("values", {})
    context.setdefault("problem", None)
    translate = Translator(language)
    problem = context["problem"] or {}
    context["errors"] = localise(
        translate,
        str(problem.get("code", "")),
        context.get("errors") or {},
        violations=tuple(problem.get("violations", ())),
        policy=getattr(realm, "password_policy", None),
    )
    # The header links to the account centre when the browser holds a session cookie
    # (``web/sessions.py``: SESSION_COOKIE); a cookie that no longer works only leads to
    # the sign-in page, so no read is spent on every page to check it.
    context.setdefault(
        "signed_in", realm is not None and request is not None and bool(read_cookie(request, "mitroo_session"))
    )
    body = (
        _environment().get_template(template).render(t=translate, lang=language, switch=switch, realm=realm, **context)
    )
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


def error_page(problem: dict[str, Any], *, request: Any = None, realm: Any = None) -> Response:
    """A problem shown to a person: same status and code as the API would answer."""
    return render_page(
        "error.html", request=request, realm=realm, status=int(problem["status"]), error=problem, home_url="/"
    )
