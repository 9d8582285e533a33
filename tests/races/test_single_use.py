"""One-time secrets are used once under 50-way concurrent use: the activation link, the
NTUA reset link, the set-password link and an OAuth ``state`` (GSIS and EU Login). Each
burst goes over real HTTP to several containers at once; exactly one request succeeds,
the rest are refused with the documented problem, and what the secret unlocks happened
once (one account state, one password, one flow)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from tests.races.cluster import PASSPHRASE, PASSWORD, WORKERS, Cluster, outcomes, race, unique, winners

pytestmark = pytest.mark.xdist_group("races")


def _link_token(message: dict[str, Any], page: str) -> str:
    found = re.search(rf"/{page}\?token=([A-Za-z0-9_-]+)", message["html"] or "")
    assert found, message["html"]
    return found.group(1)


def _passphrases() -> list[str]:
    """Fifty different acceptable NTUA passwords: the store must end up with the winner's."""
    return [f"{PASSPHRASE} {index:02d}" for index in range(WORKERS)]


def _password_body(token: str, password: str) -> dict[str, str]:
    return {"token": token, "password": password, "password_confirmation": password}


def test_fifty_activations_with_one_token_activate_once(cluster: Cluster) -> None:
    # Given a registered account and the token of its activation mail
    person = cluster.visitor()
    email = f"{unique('race.activation.')}@example.gr"
    flow = person.gsis_flow(person.new_gsis_identity()["key"])
    registered = person.post(
        "/api/v1/realms/eiep/registrations",
        json={"flow": flow, "email": email, "password": PASSWORD, "password_confirmation": PASSWORD, "gender": "male"},
    )
    assert registered.status_code == 201, registered.text
    account_id = registered.json()["account_id"]
    token = _link_token(cluster.wait_for_mail(email)[0], "activate")

    # When fifty requests present the token at once
    answers = race(
        [
            person.call("POST", "/api/v1/realms/eiep/activations", container=i, json={"token": token})
            for i in range(WORKERS)
        ]
    )

    # Then one activates and the others find the token used
    assert outcomes(answers) == Counter({"200": 1, "400 token_invalid": WORKERS - 1})
    [account] = cluster.items("account", realm="eiep", account_id=account_id)
    assert account["status"] == "active"
    assert cluster.items("challenge", account_id=account_id) == []
    assert cluster.items("challenge_lookup", account_id=account_id) == []
    assert person.login("eiep", email, PASSWORD)["access_token"]


def test_fifty_ntua_resets_with_one_link_change_the_password_once(cluster: Cluster) -> None:
    # Given an NTUA account whose owner asked for a reset link
    username = unique("papadopoulos")
    email = f"{username}@example.gr"
    account_id = cluster.site.account("ntua", username=username, email=email, password=PASSPHRASE)
    person = cluster.visitor()
    asked = person.post("/api/v1/realms/ntua/password-resets", json={"username": username, "email": email})
    assert asked.status_code == 202, asked.text
    token = _link_token(cluster.wait_for_mail(email)[0], "reset-password")
    passwords = _passphrases()

    # When fifty requests use the link at once, each with another new password
    answers = race(
        [
            person.call(
                "POST", "/api/v1/realms/ntua/password-resets/complete", container=i, json=_password_body(token, p)
            )
            for i, p in enumerate(passwords)
        ]
    )

    # Then one changes the password and the others find the link used
    assert outcomes(answers) == Counter({"200": 1, "400 token_invalid": WORKERS - 1})
    [winner] = winners(answers)
    assert cluster.items("challenge", account_id=account_id) == []
    assert cluster.items("challenge_lookup", account_id=account_id) == []
    # and the account has the winner's password, not the old one nor a loser's
    assert person.login("ntua", username, passwords[winner])["access_token"]
    for refused in (PASSPHRASE, passwords[(winner + 1) % WORKERS]):
        answer = person.post("/api/v1/realms/ntua/sessions", json={"username": username, "password": refused})
        assert answer.status_code == 401, answer.text
    # and one confirmation followed the reset mail
    assert len(cluster.wait_for_mail(email, count=2)) == 2


def test_fifty_password_setups_with_one_link_set_the_password_once(cluster: Cluster) -> None:
    # Given an account a secretariat created, and the set-password link of its welcome mail
    secretariat, token = cluster.staff()
    tag = unique("pg")
    created = secretariat.post(
        "/api/v1/realms/ntua/admin/accounts",
        json={
            "kind": "postgraduate",
            "first_name": "Γιώργος",
            "last_name": "Παπαδόπουλος",
            "father_name": "Νικόλαος",
            "mother_name": "Μαρία",
            "external_email": f"{tag}@example.gr",
            "registry_number": tag.upper(),
            "expires_on": "2031-06-30",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.text
    username, account_id = created.json()["username"], created.json()["account_id"]
    link = _link_token(cluster.wait_for_mail(f"{tag}@example.gr")[0], "set-password")
    passwords = _passphrases()
    person = cluster.visitor()

    # When fifty requests use the link at once, each with another password
    answers = race(
        [
            person.call("POST", "/api/v1/realms/ntua/password-setups", container=i, json=_password_body(link, p))
            for i, p in enumerate(passwords)
        ]
    )

    # Then one sets the password and the others find the link used
    assert outcomes(answers) == Counter({"200": 1, "400 token_invalid": WORKERS - 1})
    [winner] = winners(answers)
    assert cluster.items("challenge", account_id=account_id) == []
    assert cluster.items("challenge_lookup", account_id=account_id) == []
    assert person.login("ntua", username, passwords[winner])["access_token"]
    refused = person.post(
        "/api/v1/realms/ntua/sessions", json={"username": username, "password": passwords[(winner + 1) % WORKERS]}
    )
    assert refused.status_code == 401, refused.text


def test_fifty_gsis_callbacks_with_one_state_make_one_flow(cluster: Cluster) -> None:
    # Given a browser back from GSIS: its callback URL (state and code) and its binding cookie
    person = cluster.visitor()
    identity = person.new_gsis_identity()
    callback = person.gsis_callback(identity["key"])
    assert "mitroo_browser" in person.jar

    # When that callback arrives fifty times at once (a replay storm, with the cookie)
    answers = race([person.call("GET", callback, container=i) for i in range(WORKERS)])

    # Then one makes a flow and the others find the state used
    assert outcomes(answers) == Counter({"303": 1, "400 state_invalid": WORKERS - 1})
    assert len(cluster.items("flow", realm="eiep", identity__afm=identity["afm"])) == 1


def test_fifty_eulogin_callbacks_with_one_state_make_one_flow(cluster: Cluster) -> None:
    # Given a browser back from EU Login with its state, code and binding cookie
    person = cluster.visitor()
    sub = unique("n")
    callback = person.eulogin_callback(sub, f"{sub}@school.example")
    assert "mitroo_browser" in person.jar

    # When that callback arrives fifty times at once
    answers = race([person.call("GET", callback, container=i) for i in range(WORKERS)])

    # Then one makes a flow and the others find the state used
    assert outcomes(answers) == Counter({"303": 1, "400 state_invalid": WORKERS - 1})
    assert len(cluster.items("flow", realm="esep", eulogin__sub=sub)) == 1
