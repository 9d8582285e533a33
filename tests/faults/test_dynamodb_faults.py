"""DynamoDB throttling and transaction conflicts under API requests: a request that could
not be served answers 503 with ``Retry-After`` and leaves nothing half-written; the same
request succeeds once DynamoDB recovers."""

from __future__ import annotations

from chalicelib.container import services
from chalicelib.domain.accounts import AccountStatus, UniqueKind
from chalicelib.domain.secrets import fingerprint
from chalicelib.realms import get_realm
from tests.faults.state import API, account_with_email, flow_used, guards, link_token, live_challenge, mails
from tests.support.arrange import account_in
from tests.support.browser import STRONG_PASSWORD, Browser, Response, unique_email
from tests.support.faults import (
    DYNAMODB_THROTTLING,
    PROVISIONED_THROUGHPUT_EXCEEDED,
    TRANSACTION_CONFLICT,
    Faults,
    FaultyPump,
)


def _unavailable(response: Response) -> None:
    assert response.status == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json["code"] == "service_unavailable"


def _nothing_written(flow: str, email: str, afm: str) -> None:
    """No account, no uniqueness guard, and the identity flow still unused."""
    assert guards("eiep", [(UniqueKind.EMAIL, email), (UniqueKind.AFM, afm), (UniqueKind.USERNAME, email)]) == {}
    assert account_with_email("eiep", email) is None
    assert not flow_used(flow)


def test_a_registration_while_writes_are_throttled_answers_503_and_writes_nothing(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given the main table throttles every transaction (ProvisionedThroughputExceeded)
    throttled = faults.inject("dynamodb.TransactWriteItems", PROVISIONED_THROUGHPUT_EXCEEDED)
    identity, email = browser.new_identity(), unique_email()
    flow = browser.gsis_flow(identity)

    # When the person submits the registration form
    refused = browser.register(flow, email)

    # Then botocore tried twice, and the answer is 503 with Retry-After
    assert throttled.injected == 2
    _unavailable(refused)
    # and nothing is half-written: no account or guard, the flow unused, no mail queued
    _nothing_written(flow, email, identity.afm)
    assert browser.run_tasks() == 0 and not pump.deliveries

    # When DynamoDB recovers and the client sends the same request again
    faults.clear()
    retried = browser.register(flow, email)

    # Then it is served (a failed attempt is not the remembered answer) and mailed once
    assert retried.status == 201, retried.text
    browser.run_tasks()
    assert len(mails(browser, email)) == 1
    account = account_with_email("eiep", email)
    assert account is not None and account.status is AccountStatus.PENDING_ACTIVATION
    assert flow_used(flow)


def test_a_transaction_conflict_is_retried_and_the_account_written_once(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given two of DynamoDB's answers to the registration's transaction are conflicts
    # (another transaction held one of its items at that moment)
    conflicts = faults.inject("dynamodb.TransactWriteItems", TRANSACTION_CONFLICT, times=2)
    identity, email = browser.new_identity(), unique_email()
    flow = browser.gsis_flow(identity)
    before = faults.attempts["dynamodb.TransactWriteItems"]

    # When the person registers
    registered = browser.register(flow, email)

    # Then the transaction was sent again until it went through: one account, one mail
    assert registered.status == 201, registered.text
    assert conflicts.injected == 2 and faults.attempts["dynamodb.TransactWriteItems"] - before == 3
    account_id = registered.json["account_id"]
    held = guards("eiep", [(UniqueKind.EMAIL, email), (UniqueKind.AFM, identity.afm), (UniqueKind.USERNAME, email)])
    assert set(held.values()) == {account_id} and len(held) == 3
    assert flow_used(flow)
    browser.run_tasks()
    assert len(mails(browser, email)) == 1


def test_a_conflict_that_outlasts_the_retries_answers_503_and_writes_nothing(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given every transaction on the main table meets a conflict
    conflicts = faults.inject("dynamodb.TransactWriteItems", TRANSACTION_CONFLICT)
    identity, email = browser.new_identity(), unique_email()
    flow = browser.gsis_flow(identity)

    # When the person registers
    refused = browser.register(flow, email)

    # Then the app tried a bounded number of times, answered 503, and wrote nothing
    assert conflicts.injected == 4
    _unavailable(refused)
    _nothing_written(flow, email, identity.afm)


def test_a_login_while_reads_are_throttled_answers_503_and_counts_no_failure(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given an active account, and a table that throttles every read (ThrottlingException)
    # while the attempt reservations beside the read still go through
    email = unique_email()
    username = "fault" + email.split(".")[1].split("@")[0]
    account_in("eiep", username=username, email=email, password=STRONG_PASSWORD)
    faults.inject("dynamodb.BatchGetItem", DYNAMODB_THROTTLING)
    faults.inject("dynamodb.GetItem", DYNAMODB_THROTTLING)

    # When the person signs in, with a wrong password and then the right one
    wrong = browser.login(username, "not the password")
    right = browser.login(username)

    # Then both answer 503, and (once reads work again) neither counted as a failed attempt
    _unavailable(wrong)
    _unavailable(right)
    faults.clear()
    realm = get_realm("eiep")
    claims = services().flows.throttle.login_claims(realm, username, browser.address, None).claims
    assert [_attempts_counted(claim.key) for claim in claims] == [0] * len(claims)

    # and the right password signs in
    assert browser.login(username).status == 201


def test_a_login_whose_reservation_is_throttled_answers_503_and_counts_nothing(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given an active account, and a table that throttles every conditional update
    email = unique_email()
    username = "faultupd" + email.split(".")[1].split("@")[0]
    account_in("eiep", username=username, email=email, password=STRONG_PASSWORD)
    faults.inject("dynamodb.UpdateItem", DYNAMODB_THROTTLING)

    # When the person signs in
    answer = browser.login(username)

    # Then it answers 503, nothing stays counted, and the next try signs in
    _unavailable(answer)
    faults.clear()
    claims = services().flows.throttle.login_claims(get_realm("eiep"), username, browser.address, None).claims
    assert [_attempts_counted(claim.key) for claim in claims] == [0] * len(claims)
    assert browser.login(username).status == 201


def _attempts_counted(key: str) -> int:
    """Attempts the ledger holds for ``key`` (0 when it holds none)."""
    from chalicelib.adapters.dynamodb.attempts import attempt_key
    from chalicelib.adapters.dynamodb.models import TableBinding, bind_models

    settings = services().settings
    models = bind_models(TableBinding(settings.table_name, settings.aws_region, settings.aws_endpoint_url))
    try:
        return int(models.AttemptItem.get(*attempt_key(key), consistent_read=True).n or 0)
    except models.AttemptItem.DoesNotExist:
        return 0


def test_a_throttled_idempotency_store_answers_503_before_any_work(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given the idempotency table throttles its writes
    faults.inject("idempotency.PutItem", PROVISIONED_THROUGHPUT_EXCEEDED)
    identity, email = browser.new_identity(), unique_email()
    flow = browser.gsis_flow(identity)

    # When the person registers
    refused = browser.register(flow, email)

    # Then 503: the request was not run, so nothing of it exists
    _unavailable(refused)
    _nothing_written(flow, email, identity.afm)
    faults.clear()
    assert browser.register(flow, email).status == 201


def test_a_page_that_cannot_read_its_flow_answers_a_503_page(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given a GSIS flow, and a table that throttles every read
    flow = browser.gsis_flow()
    faults.inject("dynamodb.GetItem", DYNAMODB_THROTTLING)

    # When the browser opens the registration page of that flow
    page = browser.get(f"/realms/eiep/register?flow={flow}", html=True)

    # Then it gets an error page saying so, with Retry-After, not a server error
    assert page.status == 503, page.text
    assert page.headers["retry-after"] == "5"
    assert page.headers["content-type"].startswith("text/html")


def test_an_activation_while_writes_are_throttled_answers_503_and_the_link_still_works(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given a person with the activation mail, and a table throttling every transaction
    email = unique_email()
    assert browser.register(browser.gsis_flow(), email).status == 201
    browser.run_tasks()
    [mail] = mails(browser, email)
    account = account_with_email("eiep", email)
    assert account is not None
    challenge = live_challenge(account)
    faults.inject("dynamodb.TransactWriteItems", PROVISIONED_THROUGHPUT_EXCEEDED)

    # When they follow the link
    refused = browser.post(f"{API}/activations", json={"token": link_token(mail)})

    # Then 503; the account is still pending and the link's challenge is still there
    _unavailable(refused)
    faults.clear()
    assert account_with_email("eiep", email).status is AccountStatus.PENDING_ACTIVATION  # type: ignore[union-attr]
    assert live_challenge(account) == challenge

    # When DynamoDB recovers, the same link activates the account, once
    assert browser.post(f"{API}/activations", json={"token": link_token(mail)}).status == 200
    assert account_with_email("eiep", email).status is AccountStatus.ACTIVE  # type: ignore[union-attr]
    assert live_challenge(account) is None


def test_a_refresh_while_writes_are_throttled_answers_503_and_keeps_the_session(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given a signed-in person, and a table throttling every transaction
    email = unique_email()
    username = "refresh" + email.split(".")[1].split("@")[0]
    account_id = account_in("eiep", username=username, email=email, password=STRONG_PASSWORD)
    signed_in = browser.login(username)
    assert signed_in.status == 201, signed_in.text
    refresh_token = signed_in.json["refresh_token"]
    faults.inject("dynamodb.TransactWriteItems", PROVISIONED_THROUGHPUT_EXCEEDED)

    # When the client refreshes its tokens
    refused = browser.post(f"{API}/sessions/refresh", json={"refresh_token": refresh_token})

    # Then 503, and the throttled rotation was not taken for a replayed token: the session
    # family is not revoked and the refresh token is not marked rotated
    _unavailable(refused)
    faults.clear()
    sessions = services().ports.sessions
    token = sessions.find_token(fingerprint(refresh_token))
    assert token is not None and token.rotated_at is None
    family = sessions.get_family("eiep", account_id, token.family_id)
    assert family is not None and family.revoked_at is None

    # When DynamoDB recovers, the same refresh token gets a new pair
    retried = browser.post(f"{API}/sessions/refresh", json={"refresh_token": refresh_token})
    assert retried.status == 200, retried.text


def test_a_registration_whose_idempotency_record_cannot_be_completed_still_answers_201(
    browser: Browser, faults: Faults, pump: FaultyPump
) -> None:
    # Given the idempotency table throttles updates: the record of a finished request
    # cannot be marked complete
    faults.inject("idempotency.UpdateItem", PROVISIONED_THROUGHPUT_EXCEEDED)
    identity, email = browser.new_identity(), unique_email()
    flow = browser.gsis_flow(identity)

    # When the person registers
    registered = browser.register(flow, email)

    # Then the registration, which was done, is answered as done (a 503 would have the
    # client retry into "flow used"), and the account and its mail exist once
    assert registered.status == 201, registered.text
    faults.clear()
    held = guards("eiep", [(UniqueKind.EMAIL, email), (UniqueKind.AFM, identity.afm), (UniqueKind.USERNAME, email)])
    assert set(held.values()) == {registered.json["account_id"]}
    browser.run_tasks()
    assert len(mails(browser, email)) == 1
