"""Second factors under 20-way bursts over real HTTP against several containers (SPEC
§2.9, §3): a TOTP code and a recovery code are each accepted once, whatever the number of
sign-ins racing with them; one mfa_token finished at once with several good codes opens
one session and spends only the winner's code; and a burst of wrong codes gets no more
comparisons than the account's limit allows."""

from __future__ import annotations

import time
from collections import Counter

import pyotp
import pytest

from tests.races.cluster import PASSPHRASE, Cluster, Visitor, outcomes, race, unique, winners

pytestmark = pytest.mark.xdist_group("races")

API = "/api/v1/realms/ntua"


def _with_totp(cluster: Cluster) -> tuple[Visitor, str, str, list[str]]:
    """A person with an authenticator app; (their browser, username, secret, recovery codes)."""
    person = cluster.visitor()
    username = unique("race.mfa.").replace(".", "")
    cluster.site.account("ntua", username=username, email=f"{username}@example.gr", password=PASSPHRASE)
    person.login("ntua", username, PASSPHRASE)
    started = person.post(f"{API}/me/mfa/totp", json={})
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    confirmed = person.post(
        f"{API}/me/mfa/totp/{started.json()['factor_id']}/confirm", json={"code": pyotp.TOTP(secret).now()}
    )
    assert confirmed.status_code == 200, confirmed.text
    return person, username, secret, list(confirmed.json()["recovery_codes"])


def _mfa_tokens(person: Visitor, username: str, count: int) -> list[str]:
    tokens = []
    for _ in range(count):
        answer = person.post(f"{API}/sessions", json={"username": username, "password": PASSPHRASE})
        assert answer.status_code == 401 and answer.json()["code"] == "mfa_required", answer.text
        tokens.append(answer.json()["mfa_token"])
    return tokens


def test_one_totp_code_sent_by_twenty_sign_ins_at_once_opens_one_session(cluster: Cluster) -> None:
    # Given twenty sign-ins of one account waiting for their second step
    person, username, secret, _ = _with_totp(cluster)
    tokens = _mfa_tokens(person, username, 20)

    # When all twenty send the same (next) code at the same moment, over the containers
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    answers = race(
        [
            person.call("POST", f"{API}/sessions/mfa", container=i, json={"mfa_token": token, "totp": next_code})
            for i, token in enumerate(tokens)
        ]
    )

    # Then exactly one opened a session; the others were refused (replay, or the back-off)
    assert len(winners(answers)) == 1, outcomes(answers)
    refused = outcomes(answers) - Counter({"201": 1})
    assert set(refused) <= {"401 mfa_invalid", "429 too_many_attempts"}, refused


def test_one_recovery_code_sent_by_twenty_sign_ins_at_once_opens_one_session(cluster: Cluster) -> None:
    person, username, _, codes = _with_totp(cluster)
    tokens = _mfa_tokens(person, username, 20)
    answers = race(
        [
            person.call(
                "POST", f"{API}/sessions/mfa", container=i, json={"mfa_token": token, "recovery_code": codes[0]}
            )
            for i, token in enumerate(tokens)
        ]
    )
    assert len(winners(answers)) == 1, outcomes(answers)
    assert set(outcomes(answers) - Counter({"201": 1})) <= {"401 mfa_invalid", "429 too_many_attempts"}


def test_twenty_wrong_codes_at_once_get_five_comparisons(cluster: Cluster) -> None:
    # Given a sign-in waiting for its second step
    person, username, secret, _ = _with_totp(cluster)
    [token] = _mfa_tokens(person, username, 1)

    # When twenty wrong codes arrive at once
    answers = race(
        [
            person.call("POST", f"{API}/sessions/mfa", container=i, json={"mfa_token": token, "totp": "000000"})
            for i in range(20)
        ]
    )

    # Then the account's five free attempts were compared and the rest refused uncompared;
    # even the right code now waits
    assert outcomes(answers) == Counter({"401 mfa_invalid": 5, "429 too_many_attempts": 15})
    late = person.post(
        f"{API}/sessions/mfa", json={"mfa_token": token, "totp": pyotp.TOTP(secret).at(time.time() + 30)}
    )
    assert late.status_code == 429, late.text


def test_one_sign_in_finished_at_once_with_five_good_codes_opens_one_session(cluster: Cluster) -> None:
    # Given one sign-in waiting for its second step, and five unused recovery codes
    person, username, _, codes = _with_totp(cluster)
    [token] = _mfa_tokens(person, username, 1)

    # When its mfa_token is sent with a different good code from five containers at once
    answers = race(
        [
            person.call("POST", f"{API}/sessions/mfa", container=i, json={"mfa_token": token, "recovery_code": code})
            for i, code in enumerate(codes[:5])
        ]
    )

    # Then the token opened one session: it is spent in the session's own write, and the
    # others are told this sign-in is finished (or were held back by the back-off)
    assert len(winners(answers)) == 1, outcomes(answers)
    refused = outcomes(answers) - Counter({"201": 1})
    assert set(refused) <= {"400 token_invalid", "429 too_many_attempts"}, refused

    # And the losers' codes were not spent with it: each still finishes a sign-in of its own
    lost = [code for code, answer in zip(codes[:5], answers, strict=True) if answer.status_code != 201]
    for code, fresh in zip(lost, _mfa_tokens(person, username, len(lost)), strict=True):
        finished = person.post(f"{API}/sessions/mfa", json={"mfa_token": fresh, "recovery_code": code})
        assert finished.status_code == 201, finished.text
