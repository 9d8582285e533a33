"""Attempt limits under 30-way bursts over real HTTP against several containers: each
attempt reserves its slot in DynamoDB before a secret is compared, so a burst gets
exactly the answers that the same guesses one by one would get (SPEC §3)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.races.cluster import PASSWORD, Cluster, outcomes, race, unique

pytestmark = pytest.mark.xdist_group("races")

WRONG = "Wr0ng!pass"


def test_thirty_wrong_passwords_at_once_over_three_containers_are_five_401s_and_the_rest_429(
    cluster: Cluster,
) -> None:
    # Given an active account
    person = cluster.visitor()
    email = f"{unique('race.lockout.')}@example.gr"
    cluster.site.account("eiep", username=email, email=email, password=PASSWORD)

    # When thirty wrong passwords arrive at once, each from its own address, spread over
    # the containers
    calls = [
        person.call("POST", "/api/v1/realms/eiep/sessions", container=i, json={"username": email, "password": WRONG})
        for i in range(30)
    ]
    answers = race(calls)

    # Then exactly the five free attempts were compared, and the account backs off: even
    # the right password is refused now, uncompared
    assert outcomes(answers) == Counter({"401 invalid_credentials": 5, "429 too_many_attempts": 25})
    right = person.post("/api/v1/realms/eiep/sessions", json={"username": email, "password": PASSWORD})
    assert right.status_code == 429, right.text


def test_thirty_wrong_activation_codes_at_once_get_no_more_than_the_allowed_comparisons(cluster: Cluster) -> None:
    # Given a registered (pending) account
    person = cluster.visitor()
    email = f"{unique('race.code.')}@example.gr"
    flow = person.gsis_flow(person.new_gsis_identity()["key"])
    registered = person.post(
        "/api/v1/realms/eiep/registrations",
        json={"flow": flow, "email": email, "password": PASSWORD, "password_confirmation": PASSWORD, "gender": "male"},
    )
    assert registered.status_code == 201, registered.text
    cluster.wait_for_mail(email)

    # When thirty wrong codes arrive at once
    answers = race(
        [
            person.call("POST", "/api/v1/realms/eiep/activations", container=i, json={"email": email, "code": "000000"})
            for i in range(30)
        ]
    )

    # Then all are refused, and the account stays pending: its challenge is gone after the
    # allowed number of wrong codes, so even the right code no longer works
    assert outcomes(answers) == Counter({"400 token_invalid": 30})
    [account] = cluster.items("account", realm="eiep", email=email)
    assert account["status"] == "pending_activation"
    assert cluster.items("challenge", account_id=account["account_id"]) == []
