"""Issue 12 over real HTTP, against the site as ``make run`` serves it: a retry after a
refused POST is judged again, never answered 429 "already being processed" — even while
the container's task thread (the SQS trigger's stand-in) is busy with another client's
mail, which is what made it fail one journey in four. A duplicate that genuinely arrives
while the first is running may get 429 with ``Retry-After``; its retry then succeeds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.races.cluster import Call, Cluster, Visitor, race, unique

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1/realms/esep"
JOURNEYS = 20


class Member:
    def __init__(self, visitor: Visitor, sub: str, account_id: str, token: str) -> None:
        self.visitor, self.sub, self.account_id, self.token = visitor, sub, account_id, token

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _register(cluster: Cluster, organisation_ids: list[str], role: str = "teacher") -> Member:
    visitor, sub = cluster.visitor(), unique("sub")
    flow = visitor.eulogin_flow(sub, f"{sub}@school.example")
    body = {
        "flow": flow,
        "role": role,
        "country": "GR",
        "join_etwinning": role == "teacher",
        "organisation_ids": organisation_ids,
        "subjects": ["Πληροφορική"] if role == "teacher" else [],
        "available_for_projects": True,
    }
    answer = visitor.post(f"{API}/registrations", json=body)
    assert answer.status_code == 201, answer.text
    return Member(visitor, sub, answer.json()["account_id"], answer.json()["access_token"])


def _school(cluster: Cluster) -> str:
    visitor, sub = cluster.visitor(), unique("founder")
    flow = visitor.eulogin_flow(sub, f"{sub}@school.example")
    body = {"name": unique("Γυμνάσιο Σκιάθου "), "city": "Σκιάθος", "country": "GR", "kind": "school", "flow": flow}
    answer = visitor.post(f"{API}/organisations", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["organisation_id"])


def _nso(cluster: Cluster) -> Member:
    """An NSO of GR: registered, granted the role by the operator CLI (run against the
    cluster's table, as an operator would), signed in again."""
    admin = _register(cluster, [], role="other")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MITROO_", "PYTEST_"))},
        "AWS_ENDPOINT_URL": cluster.endpoint,
        "MITROO_TABLE_NAME": cluster.table_name,
    }
    argv = [sys.executable, "-m", "chalicelib.cli", "grant-role", "--realm", "esep", "--subject", admin.sub]
    done = subprocess.run(
        [*argv, "--role", "nso", "--country", "GR"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    flow = admin.visitor.eulogin_flow(admin.sub, f"{admin.sub}@school.example")
    session = admin.visitor.post(f"{API}/sessions", json={"flow": flow})
    assert session.status_code == 201, session.text
    cluster.site.second_factor_passed(session.json()["access_token"])  # an NSO needs a second factor (SPEC §2.9)
    return Member(admin.visitor, admin.sub, admin.account_id, session.json()["access_token"])


def _validate(nso: Member, path: str) -> None:
    answer = nso.visitor.post(f"{API}/admin/{path}/validation", json={"decision": "validate"}, headers=nso.auth)
    assert answer.status_code == 200, answer.text


def _teacher(cluster: Cluster, nso: Member, school: str) -> Member:
    teacher = _register(cluster, [school])
    _validate(nso, f"users/{teacher.account_id}")
    return teacher


def _project(school: str, partner: str, title: str) -> dict[str, Any]:
    return {
        "organisation_id": school,
        "partner_id": partner,
        "title": title,
        "description": "Μαθητές δύο χωρών μετρούν την ποιότητα του νερού στις πόλεις τους.",
        "language": "en",
        "pupils": {"count": 24, "age_min": 12, "age_max": 14},
        "subjects": ["Φυσική"],
        "goals": "Να μάθουν οι μαθητές να μετρούν και να συγκρίνουν.",
        "process": "Μετρήσεις κάθε μήνα, κοινός πίνακας, βιντεοκλήσεις.",
        "outcomes": "Κοινή αναφορά και χάρτης ποιότητας νερού.",
    }


@pytest.fixture(scope="module")
def school(cluster: Cluster) -> tuple[Member, str]:
    nso = _nso(cluster)
    school = _school(cluster)
    _validate(nso, f"organisations/{school}")
    return nso, school


def test_a_project_refused_then_sent_again_after_adding_the_contact_is_created_while_the_task_thread_is_busy(
    cluster: Cluster, school: tuple[Member, str]
) -> None:
    nso, school_id = school
    owner = _teacher(cluster, nso, school_id)
    partners = [_teacher(cluster, nso, school_id) for _ in range(JOURNEYS)]
    # Given a second client keeping the container's task thread busy (each ticket queues mail)
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            other = cluster.visitor()  # an address of its own each time: no per-address limit stops it
            email = f"{unique('help')}@example.gr"
            body = {"topic": "technical", "email": email, "description": "Δεν λαμβάνω το email ενεργοποίησης."}
            other.post("/api/v1/realms/eiep/support-tickets", json=body)

    thread = threading.Thread(target=busy, daemon=True)
    thread.start()
    seen: list[tuple[int, int, int]] = []
    try:
        for n, partner in enumerate(partners):
            body = _project(school_id, partner.account_id, f"Τα νερά της Ευρώπης {n}")
            # When the teacher names a partner who is not yet a contact (refused), adds
            # them, and sends the identical request again
            refused = owner.visitor.post(f"{API}/projects", json=body, headers=owner.auth)
            contact = {"account_id": partner.account_id}
            added = owner.visitor.post(f"{API}/me/contacts", json=contact, headers=owner.auth)
            again = owner.visitor.post(f"{API}/projects", json=body, headers=owner.auth)
            seen.append((refused.status_code, added.status_code, again.status_code))
    finally:
        stop.set()
        thread.join(30)

    # Then every journey ends with the project created
    assert seen == [(422, 201, 201)] * JOURNEYS


def test_a_duplicate_sent_while_the_first_runs_is_told_to_retry_and_its_retry_gets_the_project(
    cluster: Cluster, school: tuple[Member, str]
) -> None:
    nso, school_id = school
    owner, partner = _teacher(cluster, nso, school_id), _teacher(cluster, nso, school_id)
    added = owner.visitor.post(f"{API}/me/contacts", json={"account_id": partner.account_id}, headers=owner.auth)
    assert added.status_code == 201, added.text
    body = _project(school_id, partner.account_id, unique("Ο καιρός "))
    headers = {**owner.auth, "Accept": "application/json"}

    # When the same project is sent to every container at the same moment (a double click
    # that two Lambda containers serve)
    containers = range(len(cluster.containers))
    calls = [Call(cluster.base(i), "POST", f"{API}/projects", headers, json=body) for i in containers]
    answers = race(calls)

    # Then one draft is made; any duplicate is either that draft or 429 with Retry-After
    created = {a.json()["project_id"] for a in answers if a.status_code == 201}
    assert len(created) == 1, [a.text for a in answers]
    busy = [a for a in answers if a.status_code != 201]
    assert all(a.status_code == 429 and int(a.headers["Retry-After"]) > 0 for a in busy), [a.text for a in busy]

    # And the duplicate's retry gets the same draft
    retry = owner.visitor.post(f"{API}/projects", json=body, headers=owner.auth)
    assert retry.status_code == 201 and retry.json()["project_id"] in created, retry.text
