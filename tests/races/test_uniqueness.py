"""Uniqueness holds under 50-way concurrent creation (SPEC §3): e-mail, AFM, username and
EU Login ``sub``. Each burst goes over real HTTP to several containers at once; exactly
one request wins, every other one gets the documented problem, and the table holds one
account and the guards of that account only."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.races.cluster import PASSWORD, WORKERS, Cluster, Visitor, outcomes, race, unique, winners

pytestmark = pytest.mark.xdist_group("races")


def _prepare(count: int, make: Any) -> list[Any]:
    """``make(i)`` for each i, on a thread pool (setting up fifty flows one by one is slow)."""
    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(make, range(count)))


def _registration(flow: str, email: str) -> dict[str, str]:
    return {
        "flow": flow,
        "email": email,
        "password": PASSWORD,
        "password_confirmation": PASSWORD,
        "gender": "female",
    }


def test_fifty_registrations_with_one_email_make_one_account(cluster: Cluster) -> None:
    # Given fifty people, each with their own GSIS flow, about to register the same e-mail
    email = f"{unique('race.email.')}@example.gr"

    def flow(index: int) -> tuple[Visitor, str, str]:
        person = cluster.visitor(index)
        identity = person.new_gsis_identity()
        return person, person.gsis_flow(identity["key"]), identity["afm"]

    people = _prepare(WORKERS, flow)

    # When they all submit at once, spread over the containers
    answers = race(
        [
            person.call("POST", "/api/v1/realms/eiep/registrations", container=i, json=_registration(flow_id, email))
            for i, (person, flow_id, _) in enumerate(people)
        ]
    )

    # Then one registers and everyone else is told the e-mail is taken
    assert outcomes(answers) == Counter({"201": 1, "409 email_taken": WORKERS - 1})
    [winner] = winners(answers)
    account_id = answers[winner].json()["account_id"]
    # and the table holds that one account, its guards, and no guard of a loser's AFM
    accounts = cluster.items("account", realm="eiep", email=email)
    assert [item["account_id"] for item in accounts] == [account_id]
    assert cluster.guard("eiep", "email", email)["account_id"] == account_id  # type: ignore[index]
    assert cluster.guard("eiep", "afm", people[winner][2])["account_id"] == account_id  # type: ignore[index]
    assert [afm for i, (_, _, afm) in enumerate(people) if i != winner and cluster.guard("eiep", "afm", afm)] == []
    # and one activation mail went out
    assert len(cluster.wait_for_mail(email)) == 1


def test_fifty_registrations_of_one_afm_make_one_account(cluster: Cluster) -> None:
    # Given one Taxisnet person who went through GSIS fifty times (fifty flows)
    person = cluster.visitor()
    identity = person.new_gsis_identity()

    def flow(index: int) -> tuple[Visitor, str]:
        visitor = cluster.visitor(index)  # each round trip in a browser of its own
        return visitor, visitor.gsis_flow(identity["key"])

    flows = _prepare(WORKERS, flow)
    emails = [f"{unique('race.afm.')}@example.gr" for _ in flows]

    # When all fifty register at once, each with another e-mail, each from its browser
    answers = race(
        [
            visitor.call("POST", "/api/v1/realms/eiep/registrations", container=i, json=_registration(flow_id, email))
            for i, ((visitor, flow_id), email) in enumerate(zip(flows, emails, strict=True))
        ]
    )

    # Then one registers and the rest are told the AFM has an account
    assert outcomes(answers) == Counter({"201": 1, "409 afm_registered": WORKERS - 1})
    [winner] = winners(answers)
    account_id = answers[winner].json()["account_id"]
    accounts = cluster.items("account", realm="eiep", identity__afm=identity["afm"])
    assert [item["account_id"] for item in accounts] == [account_id]
    assert cluster.guard("eiep", "afm", identity["afm"])["account_id"] == account_id  # type: ignore[index]
    assert [e for i, e in enumerate(emails) if i != winner and cluster.guard("eiep", "email", e)] == []


def test_fifty_ntua_accounts_with_one_username_make_one_account(cluster: Cluster) -> None:
    # Given a secretariat member and fifty new students asking for the same username
    secretariat, token = cluster.staff()
    username = unique("papadopoulos")

    def body(index: int) -> dict[str, str]:
        tag = unique("pg")
        return {
            "kind": "postgraduate",
            "username": username,
            "first_name": "Γιώργος",
            "last_name": "Παπαδόπουλος",
            "father_name": "Νικόλαος",
            "mother_name": "Μαρία",
            "external_email": f"{tag}@example.gr",
            "registry_number": tag.upper(),
            "expires_on": "2031-06-30",
        }

    bodies = [body(i) for i in range(WORKERS)]

    # When the secretariat's fifty requests arrive at once
    answers = race(
        [
            secretariat.call(
                "POST",
                "/api/v1/realms/ntua/admin/accounts",
                container=i,
                json=bodies[i],
                headers={"Authorization": f"Bearer {token}"},
            )
            for i in range(WORKERS)
        ]
    )

    # Then one account is made and the rest are told the username is taken
    assert outcomes(answers) == Counter({"201": 1, "409 username_taken": WORKERS - 1})
    [winner] = winners(answers)
    account_id = answers[winner].json()["account_id"]
    accounts = cluster.items("account", realm="ntua", username=username)
    assert [item["account_id"] for item in accounts] == [account_id]
    assert cluster.guard("ntua", "username", username)["account_id"] == account_id  # type: ignore[index]
    losers = [b["external_email"] for i, b in enumerate(bodies) if i != winner]
    assert [e for e in losers if cluster.guard("ntua", "email", e)] == []
    # and only the winner got a welcome mail
    assert len(cluster.wait_for_mail(bodies[winner]["external_email"])) == 1
    assert [e for e in losers if cluster.mail(e)] == []


def test_fifty_eulogin_registrations_of_one_sub_make_one_account(cluster: Cluster) -> None:
    # Given one EU Login user who signed in fifty times (fifty registration flows; the
    # e-mail EU Login reported changed each time, so only the ``sub`` is shared)
    sub = unique("n")
    emails = [f"{unique('teacher')}@school.example" for _ in range(WORKERS)]

    def flow(index: int) -> tuple[Visitor, str]:
        visitor = cluster.visitor(index)  # each round trip in a browser of its own
        return visitor, visitor.eulogin_flow(sub, emails[index])

    flows = _prepare(WORKERS, flow)
    body = {"role": "other", "country": "GR", "join_etwinning": False}

    # When all fifty registration forms are sent at once, each from its browser
    answers = race(
        [
            visitor.call("POST", "/api/v1/realms/esep/registrations", container=i, json={**body, "flow": flow_id})
            for i, (visitor, flow_id) in enumerate(flows)
        ]
    )

    # Then one account is made and the rest are told this EU Login account is registered
    assert outcomes(answers) == Counter({"201": 1, "409 username_taken": WORKERS - 1})
    [winner] = winners(answers)
    account_id = answers[winner].json()["account_id"]
    accounts = cluster.items("account", realm="esep", username=sub)
    assert [item["account_id"] for item in accounts] == [account_id]
    assert [item["account_id"] for item in cluster.items("esep_member", subject=sub)] == [account_id]
    assert cluster.guard("esep", "subject", sub)["account_id"] == account_id  # type: ignore[index]
    assert [e for i, e in enumerate(emails) if i != winner and cluster.guard("esep", "email", e)] == []


def test_fifty_undergraduate_accounts_with_one_registry_number_make_one_account(cluster: Cluster) -> None:
    # Given a secretariat member and fifty undergraduate accounts asked for one registry number
    secretariat, token = cluster.staff()
    number = unique("U").upper()

    def body(index: int) -> dict[str, str]:
        tag = unique("ug")
        return {
            "kind": "undergraduate",
            "username": f"papadopoulos{tag}",
            "first_name": "Γιώργος",
            "last_name": "Παπαδόπουλος",
            "father_name": "Νικόλαος",
            "mother_name": "Μαρία",
            "external_email": f"{tag}@example.gr",
            "registry_number": number,
        }

    bodies = [body(i) for i in range(WORKERS)]

    # When the fifty requests arrive at once
    answers = race(
        [
            secretariat.call(
                "POST",
                "/api/v1/realms/ntua/admin/accounts",
                container=i,
                json=bodies[i],
                headers={"Authorization": f"Bearer {token}"},
            )
            for i in range(WORKERS)
        ]
    )

    # Then one account is made, linked in the registry, and the rest are refused
    assert outcomes(answers) == Counter({"201": 1, "409 registry_number_taken": WORKERS - 1})
    [winner] = winners(answers)
    account_id = answers[winner].json()["account_id"]
    assert [item["account_id"] for item in cluster.items("account", realm="ntua", registry_number=number)] == [
        account_id
    ]
    assert [item["account_id"] for item in cluster.items("registry", registry_number=number)] == [account_id]
    losers = [b["username"] for i, b in enumerate(bodies) if i != winner]
    assert [u for u in losers if cluster.guard("ntua", "username", u)] == []
