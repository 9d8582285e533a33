"""POSTs that create or send run once per payload: retries get the first answer (SPEC §3)."""

from __future__ import annotations

from tests.support.browser import Browser, unique_email

API = "/api/v1/realms/eiep"


def test_a_retried_registration_gets_the_same_answer_and_one_mail(browser: Browser) -> None:
    # Given a registration whose response the client never saw
    flow, email = browser.gsis_flow(), unique_email()
    first = browser.register(flow, email)

    # When the client sends exactly the same request again
    retry = browser.register(flow, email)

    # Then it gets the same 201 and account, and no second account or mail exists
    assert first.status == retry.status == 201
    assert retry.json == first.json
    assert len(browser.mail_to(email)) == 1


def test_a_refused_registration_is_not_remembered(browser: Browser) -> None:
    # Given a registration refused because the e-mail belonged to someone else
    flow, email = browser.gsis_flow(), unique_email()
    holder_flow = browser.gsis_flow()
    assert browser.register(holder_flow, email).status == 201
    assert browser.register(flow, email).json["code"] == "email_taken"

    # When the same request is sent again, it is evaluated again (and refused again)
    assert browser.register(flow, email).json["code"] == "email_taken"


def test_a_double_clicked_resend_sends_one_mail(browser: Browser) -> None:
    email = unique_email()
    browser.register(browser.gsis_flow(), email)
    for _ in range(3):
        assert browser.post(f"{API}/activations/resend", json={"email": email}).status == 202
    assert len(browser.mail_to(email)) == 2  # the registration mail and one resend


def test_a_retried_request_with_the_same_idempotency_key_sends_one_mail(browser: Browser) -> None:
    # Given a ticket request sent twice with one Idempotency-Key (a client retrying a timeout)
    email = unique_email()
    body = {"topic": "technical", "email": email, "description": "Δεν λαμβάνω το email ενεργοποίησης."}
    headers = {"Idempotency-Key": "retry-4f6c1a2b"}
    first = browser.post("/api/v1/realms/eiep/support-tickets", json=body, headers=headers)
    second = browser.post("/api/v1/realms/eiep/support-tickets", json=body, headers=headers)

    # Then both get the same ticket, and only one acknowledgement is sent
    assert first.status == second.status == 201
    assert first.json == second.json
    assert len(browser.mail_to(email)) == 1


def test_reusing_an_idempotency_key_for_another_request_is_refused(browser: Browser) -> None:
    headers = {"Idempotency-Key": f"key-{unique_email()}"}
    first = browser.post(f"{API}/activations/resend", json={"email": unique_email()}, headers=headers)
    other = browser.post(f"{API}/activations/resend", json={"email": unique_email()}, headers=headers)
    assert first.status == 202
    assert other.status == 422 and "Idempotency-Key" in other.json["errors"]


def test_a_retried_ntua_reset_with_the_same_key_sends_one_mail(browser: Browser) -> None:
    from tests.support.arrange import account_in

    email = unique_email()
    account_in(
        "ntua", username="idem" + email.split(".")[1].split("@")[0], email=email, password="a long enough passphrase"
    )
    username = "idem" + email.split(".")[1].split("@")[0]
    headers = {"Idempotency-Key": f"reset-{email}"}
    for _ in range(2):
        response = browser.post(
            "/api/v1/realms/ntua/password-resets", json={"username": username, "email": email}, headers=headers
        )
        assert response.status == 202
    assert len(browser.mail_to(email)) == 1
