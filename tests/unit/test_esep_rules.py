"""Who may join an eTwinning project, and how countries and lists are cleaned."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.domain.esep import EsepRole, Member, MemberStatus, Organisation, OrganisationStatus
from chalicelib.flows.esep.rules import clean_country, clean_list, failed_rules

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def _school(status: OrganisationStatus) -> Organisation:
    return Organisation("s1", "Σχολείο", "Αθήνα", "GR", "school", True, status, None, NOW, NOW)


def _member(**changes: object) -> Member:
    member = Member(
        "a1", "n001", "a@example.org", "Ελένη", "Αντωνίου", "GR", EsepRole.TEACHER, True,
        MemberStatus.ACTIVE, NOW, NOW, organisation_ids=("s1",), available_for_projects=True,
    )  # fmt: skip
    for name, value in changes.items():
        setattr(member, name, value)
    return member


def test_an_active_available_teacher_of_validated_schools_passes_every_rule() -> None:
    assert failed_rules(_member(), {"s1": _school(OrganisationStatus.VALIDATED)}) == []


def test_every_failed_rule_is_named_in_the_seeds_order() -> None:
    # Given a registered head teacher, not available, of a pending school
    member = _member(status=MemberStatus.REGISTERED, role=EsepRole.HEAD_TEACHER, available_for_projects=False)

    # When the rules are checked
    rules = failed_rules(member, {"s1": _school(OrganisationStatus.PENDING)})

    # Then all four are named
    assert [str(rule) for rule in rules] == [
        "not_active",
        "not_teacher",
        "not_available_for_projects",
        "organisation_not_validated",
    ]


def test_a_teacher_without_any_school_or_with_one_unknown_is_not_validated() -> None:
    assert [str(r) for r in failed_rules(_member(organisation_ids=()), {})] == ["organisation_not_validated"]
    assert [str(r) for r in failed_rules(_member(), {})] == ["organisation_not_validated"]


def test_countries_are_etwinning_codes_and_el_means_greece() -> None:
    errors: dict[str, list[str]] = {}
    assert clean_country(" el ", errors) == "GR" and not errors
    clean_country("US", errors)
    assert "country" in errors


def test_lists_are_trimmed_deduplicated_and_bounded() -> None:
    errors: dict[str, list[str]] = {}
    assert clean_list([" Μαθηματικά ", "μαθηματικά", "", "Φυσική"], "subjects", errors) == ("Μαθηματικά", "Φυσική")
    clean_list([f"s{i}" for i in range(30)], "subjects", errors)
    assert "subjects" in errors
