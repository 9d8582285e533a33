"""What the eTwinning pages ask of the flows: a member's standing (seed 003 «Συχνά
προβλήματα»), their projects and invitations, and the NSO desk's view — over the fakes."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from chalicelib.domain.esep import (
    EsepRole,
    Member,
    MemberStatus,
    Organisation,
    OrganisationStatus,
    Project,
    ProjectStatus,
)
from chalicelib.flows.esep.validation import NsoDesk
from tests.fakes import Kit, build_flows

NOW = datetime(2026, 12, 4, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _kit() -> Kit:
    return build_flows("esep")


def _school(kit: Kit, oid: str, status: OrganisationStatus, *, etwinning: bool, requested: bool = False) -> None:
    kit.flows.esep_network.esep.create_organisation(
        Organisation(oid, f"Σχολείο {oid}", "Νάξος", "GR", "school", etwinning, status, None, NOW, NOW,
                     etwinning_requested=requested)
    )  # fmt: skip


def _member(kit: Kit, account_id: str, *organisation_ids: str, **changes: object) -> Member:
    member = Member(
        account_id, f"sub-{account_id}", f"{account_id}@example.org", "Ελένη", account_id.upper(), "GR",
        EsepRole.TEACHER, True, MemberStatus.ACTIVE, NOW, NOW, organisation_ids=organisation_ids,
        available_for_projects=True,
    )  # fmt: skip
    for name, value in changes.items():
        setattr(member, name, value)
    repository = kit.flows.esep_network.esep
    repository.members[account_id] = member  # type: ignore[attr-defined]
    return member


def _project(kit: Kit, project_id: str, owner: str, partner: str, status: ProjectStatus) -> None:
    kit.flows.esep_projects.esep.create_project(
        Project(project_id, owner, "s1", partner, f"Έργο {project_id}", "Περιγραφή έργου", "en", 20, 12, 14,
                ("Φυσική",), "Στόχοι έργου", "Διαδικασία έργου", "Αποτελέσματα", status, "GR", NOW, NOW)
    )  # fmt: skip


def test_the_standing_names_the_rules_and_puts_each_school_in_its_tab() -> None:
    # Given a registered teacher of a validated eTwinning school, a validated school outside
    # eTwinning, and a pending school that asked for eTwinning
    kit = _kit()
    _school(kit, "in", OrganisationStatus.VALIDATED, etwinning=True)
    _school(kit, "out", OrganisationStatus.VALIDATED, etwinning=False)
    _school(kit, "new", OrganisationStatus.PENDING, etwinning=False, requested=True)
    member = _member(kit, "a", "in", "out", "new", status=MemberStatus.REGISTERED)

    # When her standing is read
    standing = kit.flows.esep_network.standing(member)

    # Then it names the rules she fails, the school not validated, and where the button applies
    assert standing["rules"] == ["not_active", "organisation_not_validated"]
    assert standing["not_validated"] == ["Σχολείο new"]
    tabs = {o["organisation_id"]: (o["tab"], o["can_request"]) for o in standing["organisations"]}
    assert tabs == {"in": ("etwinning", False), "out": ("non_etwinning", True), "new": ("non_etwinning", False)}


def test_an_eligible_member_has_no_rules_to_fix() -> None:
    kit = _kit()
    _school(kit, "in", OrganisationStatus.VALIDATED, etwinning=True)
    assert kit.flows.esep_network.standing(_member(kit, "a", "in"))["rules"] == []


def test_my_projects_leave_out_invitations_i_declined_and_invitations_are_the_submitted_ones() -> None:
    # Given projects of owner A with partner B in every state that matters
    kit = _kit()
    _project(kit, "p1", "a", "b", ProjectStatus.SUBMITTED)
    _project(kit, "p2", "a", "b", ProjectStatus.DECLINED)
    _project(kit, "p3", "a", "b", ProjectStatus.ACTIVE)
    _project(kit, "p4", "b", "a", ProjectStatus.SUBMITTED)
    projects = kit.flows.esep_projects

    # Then A sees all of hers and the one B invited her to; B not the one B declined
    assert {p["project_id"] for p in projects.mine("a")} == {"p1", "p2", "p3", "p4"}
    assert {p["project_id"] for p in projects.mine("b")} == {"p1", "p3", "p4"}
    # And each waits for the answer of its partner only
    assert [p["project_id"] for p in projects.invitations("b")] == ["p1"]
    assert [p["project_id"] for p in projects.invitations("a")] == ["p4"]


def test_the_desk_marks_members_whose_schools_are_not_all_validated() -> None:
    # Given two registered teachers, one of a validated school and one of a pending school,
    # and a validated school asking for eTwinning
    kit = _kit()
    _school(kit, "ok", OrganisationStatus.VALIDATED, etwinning=True)
    _school(kit, "wait", OrganisationStatus.PENDING, etwinning=False)
    _school(kit, "ask", OrganisationStatus.VALIDATED, etwinning=False, requested=True)
    _member(kit, "a", "ok", status=MemberStatus.REGISTERED)
    _member(kit, "b", "ok", "wait", status=MemberStatus.REGISTERED)

    # When the NSO of Greece reads its desk
    view = kit.flows.esep_validation.desk_view(NsoDesk("nso", "GR"))

    # Then the second teacher is marked, and each organisation says what it asks
    marked = {user["account_id"]: user["schools_validated"] for user in view["users"]}
    assert marked == {"a": True, "b": False}
    assert {o["organisation_id"]: o["request"] for o in view["organisations"]} == {"wait": "new", "ask": "etwinning"}


def test_importing_the_app_does_not_load_babel() -> None:
    # Given a fresh interpreter, When it imports the API handler, Then Babel is not loaded
    code = "import app, sys; print('babel' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
