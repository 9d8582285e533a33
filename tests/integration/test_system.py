"""Health, the OpenAPI document and the dev mailbox."""

from __future__ import annotations

from tests.support.browser import Browser


def test_health_is_ok(browser: Browser) -> None:
    response = browser.get("/api/v1/health")
    assert response.status == 200 and response.json == {"status": "ok"}


def test_openapi_documents_every_contract_path_with_its_models(browser: Browser) -> None:
    # When the OpenAPI document is fetched
    document = browser.get("/api/v1/openapi.json").json

    # Then it is OpenAPI 3.1 and lists the SPEC §2.1–2.2 paths with their methods
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    expected = {
        "/api/v1/realms/{realm}/flows/{flow}": "get",
        "/api/v1/realms/{realm}/registrations": "post",
        "/api/v1/realms/{realm}/activations": "post",
        "/api/v1/realms/{realm}/activations/resend": "post",
        "/api/v1/realms/{realm}/sessions": "post",
        "/api/v1/realms/{realm}/sessions/refresh": "post",
        "/api/v1/realms/{realm}/sessions/current": "delete",
        "/api/v1/realms/{realm}/me": "get",
        "/api/v1/health": "get",
        "/realms/{realm}/.well-known/jwks.json": "get",
    }
    for path, method in expected.items():
        assert method in paths.get(path, {}), path

    # And the registration body is the model that validates it, in JSON and form encodings
    registration = paths["/api/v1/realms/{realm}/registrations"]["post"]
    content = registration["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-www-form-urlencoded"}
    schema = document["components"]["schemas"]["RegistrationInput"]
    assert set(schema["required"]) == {"flow", "email", "password", "password_confirmation", "gender"}
    assert schema["additionalProperties"] is False
    assert {"201", "409", "410", "422"} <= set(registration["responses"])
    assert "email_taken" in registration["responses"]["409"]["description"]


def test_the_dev_mailbox_lists_mail_newest_first_as_json_and_as_a_page(browser: Browser) -> None:
    from tests.support.browser import unique_email

    email = unique_email()
    browser.register(browser.gsis_flow(), email)
    browser.post("/api/v1/realms/eiep/activations/resend", json={"email": email})
    messages = browser.mail_to(email)
    assert len(messages) == 2
    assert all(m["to"] == [email] for m in messages)
    assert any("/realms/eiep/activate?token=" in link for link in messages[0]["links"])
    page = browser.get("/_dev/mailbox", html=True)
    assert page.status == 200 and email in page.text


def test_a_wrong_method_or_content_type_is_a_problem_too(browser: Browser) -> None:
    wrong_method = browser.request("PUT", "/api/v1/health")
    assert wrong_method.status == 405 and wrong_method.json["code"] == "method_not_allowed"
    assert wrong_method.headers["allow"] == "GET"
    wrong_type = browser.post("/api/v1/realms/eiep/sessions", body=b"x", headers={"Content-Type": "text/plain"})
    assert wrong_type.status == 415 and wrong_type.json["code"] == "unsupported_media_type"
    assert wrong_type.headers["content-type"] == "application/problem+json"


def test_business_metrics_are_emitted_as_embedded_metric_format(browser: Browser, capsys: object) -> None:
    import json

    from tests.support.browser import unique_email

    # Given a login that fails and one that succeeds
    email = unique_email()
    browser.register(browser.gsis_flow(), email)
    token, _ = browser.activation_mail(email)
    browser.post("/api/v1/realms/eiep/activations", json={"token": token})
    browser.login(email, "Wr0ng!Password")
    browser.login(email)

    # Then CloudWatch EMF documents for both were written to stdout
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    documents = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    names = {m["Name"] for doc in documents for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"AccountRegistered", "AccountActivated", "LoginSucceeded", "Problem.invalid_credentials"} <= names


def test_every_operation_documents_the_503_that_throttling_beyond_retries_answers(browser: Browser) -> None:
    # When the OpenAPI document is read
    document = browser.get("/api/v1/openapi.json").json

    # Then every operation lists 503 service_unavailable (tests/faults prove it is answered)
    missing = [
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if "service_unavailable" not in operation["responses"].get("503", {}).get("description", "")
    ]
    assert missing == []
