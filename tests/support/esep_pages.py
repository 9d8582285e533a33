"""Driving the eTwinning pages as a browser does: the member's session cookie, a page's
CSRF token and ``form_page``, form posts that expect ``303``, multipart uploads."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.support.browser import Browser, Response
from tests.support.esep import Member

PAGES = "/realms/esep"


def as_member(browser: Browser, member: Member) -> None:
    """The browser becomes ``member``'s (their session cookie, nothing else)."""
    browser.jar.clear()
    browser.jar["mitroo_session"] = member.token


def open_page(browser: Browser, path: str) -> Response:
    shown = browser.get(path, html=True)
    assert shown.status == 200, (path, shown.status, shown.text[:2000])
    return shown


def csrf_of(page: Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text[:2000]
    return found.group(1)


def submit(
    browser: Browser, page_path: str, action: str, fields: dict[str, str], *, page: Response | None = None
) -> Response:
    """Post a form of ``page_path`` (opened first unless given) as the browser would."""
    shown = page or open_page(browser, page_path)
    form = {"csrf_token": csrf_of(shown), "form_page": page_path, **fields}
    return browser.post(action, form=form, html=True)


def upload(browser: Browser, action: str, name: str, data: bytes, content_type: str, csrf: str) -> Response:
    """A ``multipart/form-data`` post with one file field and the CSRF token."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'.encode(),
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="picture"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + data
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return browser.post(action, body=b"".join(parts), headers=headers, html=True)


def text_of(page: Response) -> str:
    """The page's text without tags, spaces collapsed (for sentences split by markup)."""
    import html

    plain = re.sub(r"<[^>]+>", " ", page.text)
    return " ".join(html.unescape(plain).split())


def field_error(page: Response, name: str) -> str:
    found = re.search(rf'id="{re.escape(name)}-error">([^<]*)<', page.text)
    return found.group(1) if found else ""


def ids(values: Any) -> list[str]:
    return [str(value) for value in values]
