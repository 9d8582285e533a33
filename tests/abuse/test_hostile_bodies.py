"""Hostile request bodies on every operation that takes one (SPEC §1): over 1 MiB → 413
``payload_too_large``; JSON nested 100 000 deep, bytes that are not UTF-8, and JSON that
is not an object → 400 ``malformed_body``; never a 500, and nothing written.

The operations come from the API's own registry (the one ``/api/v1/openapi.json`` is made
from), so an endpoint added later is covered without touching this file. The body is
read before anything else the handler does (authentication included), which is why
the answers are the same for every operation.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from urllib3 import encode_multipart_formdata

from chalicelib.web.endpoints import REGISTRY, Operation
from tests.abuse.conftest import Ledger
from tests.support.browser import Browser, Response

ONE_MIB = 1024 * 1024
DEEP = 100_000

HOSTILE_JSON: dict[str, tuple[bytes, int, str]] = {
    "over one mebibyte": (b'{"email": "' + b"a" * ONE_MIB + b'"}', 413, "payload_too_large"),
    "100 000 open brackets": (b"[" * DEEP, 400, "malformed_body"),
    "100 000 nested arrays, closed": (b"[" * DEEP + b"]" * DEEP, 400, "malformed_body"),
    "100 000 nested objects in a field": (
        b'{"email": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}",
        400,
        "malformed_body",
    ),
    "Latin-1, not UTF-8": ('{"email": "μαρία@example.gr"}'.encode("iso-8859-7"), 400, "malformed_body"),
    "a lone continuation byte": (b'{"email": "\x80"}', 400, "malformed_body"),
    "an overlong encoding of /": (b'{"email": "\xc0\xaf"}', 400, "malformed_body"),
    "UTF-16 with a byte-order mark": ('{"email": "a@example.gr"}'.encode("utf-16"), 400, "malformed_body"),
    "an array": (b'[{"email": "a@example.gr"}]', 400, "malformed_body"),
    "a string": (b'"a@example.gr"', 400, "malformed_body"),
    "a number": (b"42", 400, "malformed_body"),
    "null": (b"null", 400, "malformed_body"),
    "true": (b"true", 400, "malformed_body"),
    "a 5 000-digit number": (b'{"email": ' + b"9" * 5000 + b"}", 400, "malformed_body"),
}

HOSTILE_FORMS: dict[str, tuple[bytes, int, str]] = {
    "over one mebibyte": (b"email=" + b"a" * ONE_MIB, 413, "payload_too_large"),
    "raw bytes that are not UTF-8": (b"email=\xff\xfe@example.gr", 400, "malformed_body"),
    "percent-escapes that are not UTF-8": (b"email=%ff%fe%40example.gr", 400, "malformed_body"),
    "a percent-escaped UTF-16 surrogate": (b"email=%ED%A0%80%40example.gr", 400, "malformed_body"),
}


def _operations() -> list[Operation]:
    operations = [operation for operation in REGISTRY if operation.body is not None]
    assert len(operations) > 20, "the registry is filled when the app is imported"
    return operations


def _url(operation: Operation) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: "eiep" if match[1] == "realm" else "x0", operation.path)


def _send(browser: Browser, operation: Operation, body: bytes, content_type: str, html: bool = False) -> Response:
    return browser.request(
        operation.method, _url(operation), body=body, headers={"Content-Type": content_type}, html=html
    )


def _refused(answer: Response, status: int, code: str, where: str) -> None:
    assert answer.status == status, f"{where}: {answer.status} {answer.text[:300]}"
    assert answer.headers["content-type"] == "application/problem+json", where
    assert answer.json["code"] == code, where


@pytest.mark.usefixtures("chalice_app")
@pytest.mark.parametrize("case", list(HOSTILE_JSON))
def test_every_json_operation_refuses_the_body_with_its_problem_code(
    browser: Browser, written: Callable[[], Ledger], case: str
) -> None:
    # Given a hostile JSON body
    body, status, code = HOSTILE_JSON[case]
    ledger = written()

    # When it is posted to every operation that reads a body
    started = time.perf_counter()
    for operation in _operations():
        answer = _send(browser, operation, body, "application/json")

        # Then each answers the problem, never a 500
        _refused(answer, status, code, f"{case}: {operation.method} {operation.path}")

    # quickly (a parser that recursed or backtracked would not), and wrote nothing
    assert time.perf_counter() - started < 10
    assert ledger.changes() == []


@pytest.mark.parametrize("case", list(HOSTILE_FORMS))
def test_every_operation_refuses_a_hostile_form_body(
    browser: Browser, written: Callable[[], Ledger], case: str
) -> None:
    body, status, code = HOSTILE_FORMS[case]
    ledger = written()
    for operation in _operations():
        answer = _send(browser, operation, body, "application/x-www-form-urlencoded")
        _refused(answer, status, code, f"{case}: {operation.method} {operation.path}")
    assert ledger.changes() == []


def test_a_browser_posting_a_hostile_form_gets_an_error_page_with_the_same_status(browser: Browser) -> None:
    # Given a browser that has a CSRF cookie and posts a form that is not UTF-8
    browser.get("/realms/eiep/login", html=True)
    body = b"csrf_token=" + browser.jar["mitroo_csrf"].encode() + b"&form_page=%2Frealms%2Feiep%2Flogin&username=\xff"

    # When / Then it gets an HTML error page, 400, naming the problem
    answer = browser.post(
        "/api/v1/realms/eiep/sessions",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        html=True,
    )
    assert answer.status == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert 'data-code="malformed_body"' in answer.text


def test_json_strings_holding_lone_surrogates_are_field_errors_not_500(
    browser: Browser, written: Callable[[], Ledger]
) -> None:
    # Given JSON that escapes an unpaired UTF-16 surrogate (valid JSON, not valid Unicode:
    # it could never be stored, mailed or logged as UTF-8)
    ledger = written()
    bodies = {
        "/api/v1/realms/eiep/support-tickets": b'{"topic": "technical", "email": "a@example.gr", '
        b'"description": "ten characters \\ud800 at least"}',
        "/api/v1/realms/eiep/sessions": b'{"username": "\\udfff@example.gr", "password": "x"}',
        "/api/v1/realms/eiep/activations/resend": b'{"email": "\\ud800@example.gr"}',
    }
    for path, body in bodies.items():
        # When it is posted / Then the field is refused as invalid input
        answer = browser.post(path, body=body, headers={"Content-Type": "application/json"})
        _refused(answer, 422, "invalid_input", path)
        assert "unicode" in str(answer.json["errors"]).lower(), answer.text
    assert ledger.changes() == []


def test_a_multipart_upload_over_the_limit_or_without_a_boundary_is_refused(browser: Browser) -> None:
    # Given the secretariat's upload page (its limit: 4 MiB and a little for the form)
    from tests.integration.test_admin_pages import _form_token, _sign_in

    _sign_in(browser)
    token = _form_token(browser)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    huge, huge_type = encode_multipart_formdata({"csrf_token": token, "file": ("s.xlsx", b"PK" * (3 * ONE_MIB), xlsx)})

    # When a 6 MiB file, and a body that claims to be multipart without a boundary, arrive
    too_big = browser.post("/realms/ntua/admin/jobs", body=huge, headers={"Content-Type": huge_type}, html=True)
    no_boundary = browser.post(
        "/realms/ntua/admin/jobs", body=b"--x\r\n\r\n", headers={"Content-Type": "multipart/form-data"}, html=True
    )

    # Then the form comes back with the problem, 413 and 400
    assert too_big.status == 413 and "problem-summary" in too_big.text
    assert no_boundary.status == 400 and "problem-summary" in no_boundary.text
