"""Rules of realm esep that several flows share: countries, free-text lists, and who may
be added to a project (seed 003, «ΣΥΧΝΑ ΠΡΟΒΛΗΜΑΤΑ» 3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from chalicelib.domain.esep import EligibilityRule, EsepRole, Member, MemberStatus, Organisation, OrganisationStatus

ETWINNING_COUNTRIES = frozenset(
    # The EU member states, then the other countries of eTwinning and eTwinning Plus.
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
    "AL BA IS LI MK ME NO RS TR UA MD AM AZ GE TN JO LB".split()
)
"""ISO 3166-1 alpha-2 codes of the countries with a national support organisation."""

LIST_LIMIT = 20
ITEM_LENGTH = 80


def clean_country(value: str, errors: dict[str, list[str]], name: str = "country") -> str:
    country = (value or "").strip().upper()
    if country == "EL":  # the EU's own code for Greece
        country = "GR"
    if country not in ETWINNING_COUNTRIES:
        errors[name] = ["must be the two-letter code of an eTwinning country (e.g. GR)"]
    return country


def clean_list(values: Iterable[str], name: str, errors: dict[str, list[str]]) -> tuple[str, ...]:
    """Trimmed, de-duplicated (case-insensitively), bounded in number and length."""
    seen: dict[str, str] = {}
    for value in values:
        text = " ".join(str(value).split())
        if not text:
            continue
        if len(text) > ITEM_LENGTH:
            errors[name] = [f"each entry has at most {ITEM_LENGTH} characters"]
            continue
        seen.setdefault(text.casefold(), text)
    if len(seen) > LIST_LIMIT:
        errors[name] = [f"at most {LIST_LIMIT} entries"]
    return tuple(seen.values())


def failed_rules(member: Member | None, organisations: Mapping[str, Organisation]) -> list[EligibilityRule]:
    """Every rule ``member`` fails for joining a project, in the seed's order (empty when
    eligible). ``organisations`` holds the member's organisations by id."""
    if member is None:
        return [
            EligibilityRule.NOT_ACTIVE,
            EligibilityRule.NOT_TEACHER,
            EligibilityRule.NOT_AVAILABLE_FOR_PROJECTS,
            EligibilityRule.ORGANISATION_NOT_VALIDATED,
        ]
    rules = []
    if member.status is not MemberStatus.ACTIVE:
        rules.append(EligibilityRule.NOT_ACTIVE)
    if member.role is not EsepRole.TEACHER:
        rules.append(EligibilityRule.NOT_TEACHER)
    if not member.available_for_projects:
        rules.append(EligibilityRule.NOT_AVAILABLE_FOR_PROJECTS)
    schools = [organisations.get(oid) for oid in member.organisation_ids]
    if not schools or any(school is None or school.status is not OrganisationStatus.VALIDATED for school in schools):
        rules.append(EligibilityRule.ORGANISATION_NOT_VALIDATED)
    return rules
