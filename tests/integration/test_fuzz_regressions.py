"""What the schemathesis run (``tests/fuzz``) found, each kept as the exact input that
showed it, without schemathesis: a 500 for a client's input, a status code the OpenAPI
document does not list, a server error from the local gateway."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import Browser


def test_an_empty_password_on_the_strength_meter_scores_zero_instead_of_a_500(browser: Browser) -> None:
    # Given the NTUA meter (zxcvbn), which fails inside on "" (IndexError)
    # When a page asks it about an empty field, as it does before anything is typed
    answer = browser.post("/api/v1/realms/ntua/password-checks", json={"password": ""})

    # Then the answer is the lowest score and the reasons, not an internal error
    assert answer.status == 200, answer.text
    assert answer.json["acceptable"] is False
    assert answer.json["score"] == 0
    assert {"too_short", "too_guessable"} <= set(answer.json["violations"])


def test_a_body_over_1_mib_is_a_documented_413_on_every_operation_that_takes_one(browser: Browser) -> None:
    # Given the body schemathesis sent to the legacy-account import: a 5.4 MB form
    start = "format=%C3%A2%F2%B5%8A%B8%1F&content=%C3%99%C2%A4%26%C2%B7%C2%B1%C2%BBvt%F3%B4%8E%B3%C2%88"
    body = (start + "%C2%A7" * ((5_400_036 - len(start)) // 6)).encode()

    # When it is posted (the body is read before anything else, so no token is needed)
    answer = browser.post(
        "/api/v1/realms/ntua/admin/legacy-accounts",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    # Then it is 413 payload_too_large ...
    assert answer.status == 413, answer.text
    assert answer.json["code"] == "payload_too_large"
    # ... and the OpenAPI document says so there and on every other operation with a body
    document = browser.get("/api/v1/openapi.json").json
    with_body = {
        f"{method.upper()} {path}": operation["responses"]
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if "requestBody" in operation
    }
    assert "POST /api/v1/realms/{realm}/admin/legacy-accounts" in with_body
    assert [name for name, responses in with_body.items() if "413" not in responses] == []


def test_the_realm_in_every_path_is_documented_as_one_of_the_shipped_realms(browser: Browser) -> None:
    # Given the document (schemathesis drew realms such as "0" or "AAA", all 404)
    document = browser.get("/api/v1/openapi.json").json

    # Then every {realm} names the shipped realms, and every such operation documents 404
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            realm = [p for p in operation.get("parameters", []) if p["name"] == "realm"]
            if "{realm}" in path:
                assert realm and realm[0]["schema"]["enum"] == ["eiep", "esep", "ntua"], (method, path)
                assert "404" in operation["responses"], (method, path)


@pytest.fixture
def dev_server(chalice_app: Any) -> Iterator[int]:
    """The app behind Chalice's local HTTP server, as ``make run`` serves it; its port."""
    from chalice.cli.factory import CLIFactory
    from chalice.local import LocalDevServer

    from devtools.local_gateway import install
    from tests.conftest import ROOT

    install()
    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name="test")
    server = LocalDevServer(chalice_app, config, "127.0.0.1", 0)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server.server_address[1])
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.mark.parametrize("method", ["TRACE", "QUERY"])
def test_a_method_no_route_has_is_a_405_problem_not_the_dev_servers_501(dev_server: int, method: str) -> None:
    # Given the local server (it knew only Chalice's methods and answered others with an HTML 501)
    connection = http.client.HTTPConnection("127.0.0.1", dev_server, timeout=30)
    try:
        # When schemathesis's probe of an undeclared method arrives
        connection.request(method, "/api/v1/health", headers={"Accept": "application/json"})
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()

    # Then the app answers it like any method the route lacks: 405 with Allow, as a problem
    assert answer.status == 405, body
    assert answer.getheader("Content-Type", "").startswith("application/problem+json")
    assert json.loads(body)["code"] == "method_not_allowed"
    assert "GET" in answer.getheader("Allow", "")
