"""Loading eTwinning legacy accounts into realm esep (SPEC §2.7): reading JSON lines and CSV,
the row rules, duplicates, and that what is stored is what registration offers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.esep import EsepRole, EuLoginIdentity, LegacyMember, Organisation, OrganisationStatus
from chalicelib.errors import InvalidInput
from chalicelib.flows.esep.legacy import EsepLegacyRow, read_esep_legacy_rows
from chalicelib.flows.esep.registration import EsepRegistrationRequest
from chalicelib.flows.legacy import LegacyFileInvalid, LegacyReport
from chalicelib.ports import EsepRepository
from chalicelib.realms import get_realm
from tests.fakes import BROWSER, START, FakeEuLogin, Kit, arranged, build_flows

ESEP = get_realm("esep")


def eleni(**overrides: Any) -> dict[str, Any]:
    """Eleni's row; an override of None leaves the field out."""
    row: dict[str, Any] = {
        "email": "Eleni.Antoniou@School.example",
        "given_name": "Ελένη",
        "family_name": "Αντωνίου",
        "country": "GR",
        "role": "teacher",
        "organisation_ids": ["org-andros"],
        "subjects": ["Μαθηματικά", " μαθηματικά ", "Φυσική"],
        "languages": ["el", "en"],
        "bio": "Καθηγήτρια από το 2005.",
        "available_for_projects": True,
    }
    row.update(overrides)
    return {key: value for key, value in row.items() if value is not None}


def jsonl(*rows: object) -> str:
    return "\n".join(row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows) + "\n"


class Loader:
    """The import over the kit's fakes, with an organisation of each status."""

    def __init__(self) -> None:
        self.kit: Kit = build_flows("esep")
        self.importer = self.kit.flows.esep_legacy
        self.esep: EsepRepository = self.importer.esep
        for oid, status in (
            ("org-andros", OrganisationStatus.VALIDATED),
            ("org-syros", OrganisationStatus.PENDING),
            ("org-gone", OrganisationStatus.REJECTED),
        ):
            self.esep.create_organisation(
                Organisation(oid, f"Σχολείο {oid}", "Πόλη", "GR", "school", True, status, None, START, START)
            )

    def load(self, *rows: dict[str, Any] | str, realm: str = "esep") -> LegacyReport:
        return self.importer.load(get_realm(realm), list(read_esep_legacy_rows(jsonl(*rows), "jsonl")))

    def legacy(self, email: str) -> LegacyMember | None:
        return self.esep.get_legacy(email)


@pytest.fixture
def loader() -> Loader:
    return Loader()


def reasons(report: LegacyReport) -> list[tuple[int, str, str | None]]:
    return [(result.line, result.status, result.reason) for result in report.problems]


# --- loading -----------------------------------------------------------------------------------


def test_a_good_row_is_stored_under_its_normalised_email_with_cleaned_fields(loader: Loader) -> None:
    # When Eleni's row is loaded
    report = loader.load(eleni(country=" el ", role="Teacher"))

    # Then it is created, keyed on the lower-cased e-mail, with lists trimmed and de-duplicated
    assert (report.created, report.duplicates, report.rejected, report.ok) == (1, 0, 0, True)
    stored = loader.legacy("eleni.antoniou@school.example")
    assert stored == LegacyMember(
        email="eleni.antoniou@school.example",
        given_name="Ελένη",
        family_name="Αντωνίου",
        country="GR",
        role=EsepRole.TEACHER,
        created_at=START,
        organisation_ids=("org-andros",),
        subjects=("Μαθηματικά", "Φυσική"),
        languages=("el", "en"),
        bio="Καθηγήτρια από το 2005.",
        available_for_projects=True,
    )


def test_the_optional_fields_may_be_left_out(loader: Loader) -> None:
    row = eleni(organisation_ids=None, subjects=None, languages=None, bio=None, available_for_projects=None)
    assert loader.load(row).created == 1
    stored = loader.legacy("eleni.antoniou@school.example")
    assert stored is not None
    assert (stored.organisation_ids, stored.subjects, stored.bio, stored.available_for_projects) == ((), (), "", False)


def test_every_problem_of_a_bad_row_is_named_without_its_email(loader: Loader) -> None:
    # Given rows with a bad address, missing names, a foreign country, an unknown role,
    # an unknown and a rejected organisation, a flag that is no boolean
    report = loader.load(
        eleni(email="not-an-address@"),
        eleni(email="b@example.org", given_name="  ", family_name=None, country="US", role="principal"),
        eleni(email="c@example.org", organisation_ids=["org-nowhere", "org-gone", "org-syros"]),
        eleni(email="d@example.org", available_for_projects="perhaps", subjects=[f"s{i}" for i in range(21)]),
        eleni(email=None),
    )

    # Then each row is rejected with all its reasons, and nothing is stored
    assert (report.created, report.rejected, report.ok) == (0, 5, False)
    assert reasons(report) == [
        (1, "rejected", "email: is not a valid address"),
        (
            2,
            "rejected",
            "given_name: is required; family_name: is required; "
            "country: must be the two-letter code of an eTwinning country (e.g. GR); "
            "role: must be one of teacher, head_teacher, school_staff, company_staff, other",
        ),
        (
            3,
            "rejected",
            "organisation_ids: unknown organisation org-nowhere; "
            "organisation_ids: organisation org-gone was rejected by its NSO",
        ),
        (4, "rejected", "subjects: at most 20 entries; available_for_projects: must be true or false"),
        (5, "rejected", "email: is required"),
    ]
    assert all("@" not in (reason or "") for _, _, reason in reasons(report))
    assert loader.kit.flows.esep_legacy.esep.get_legacy("c@example.org") is None


def test_a_rerun_and_a_repeated_email_are_duplicates(loader: Loader) -> None:
    # Given a file whose third line repeats the first e-mail in another case
    rows = (eleni(), eleni(email="nikos@example.org", role="other"), eleni(email="ELENI.ANTONIOU@school.example"))

    # When it is loaded twice
    first = loader.load(*rows)
    second = loader.load(*rows)

    # Then the repeated line is a duplicate the first time, and everything the second
    assert (first.created, first.duplicates, first.ok) == (2, 1, True)
    assert reasons(first) == [(3, "duplicate", "legacy account already loaded")]
    assert (second.created, second.duplicates, second.rejected, second.ok) == (0, 3, 0, True)


def test_an_email_that_has_an_esep_account_already_is_a_duplicate(loader: Loader) -> None:
    # Given an esep account whose EU Login e-mail is Eleni's
    loader.kit.accounts.create(
        Account(
            account_id="acc-eleni",
            realm="esep",
            username="n0001",
            email="eleni.antoniou@school.example",
            status=AccountStatus.ACTIVE,
            created_at=START,
            updated_at=START,
        ),
        audit=arranged("x", "x"),
    )

    # When her legacy row is loaded
    report = loader.load(eleni())

    # Then nothing is stored: there is nobody left to offer it to
    assert reasons(report) == [(1, "duplicate", "email already registered")]
    assert loader.legacy("eleni.antoniou@school.example") is None


def test_an_account_of_another_realm_with_that_email_is_no_duplicate(loader: Loader) -> None:
    loader.kit.accounts.create(
        Account(
            account_id="acc-eiep",
            realm="eiep",
            username="eleni.antoniou@school.example",
            email="eleni.antoniou@school.example",
            status=AccountStatus.ACTIVE,
            created_at=START,
            updated_at=START,
        ),
        audit=arranged("x", "x"),
    )
    assert loader.load(eleni()).created == 1


@pytest.mark.parametrize("realm", ["eiep", "ntua"])
def test_a_realm_without_eu_login_is_refused_before_any_row_is_read(loader: Loader, realm: str) -> None:
    consumed: list[int] = []

    def rows() -> Iterable[EsepLegacyRow]:
        consumed.append(1)
        yield 1, {"email": "x@example.org"}

    with pytest.raises(InvalidInput):
        loader.importer.load(get_realm(realm), rows())
    assert consumed == []


def test_progress_is_reported_after_every_row(loader: Loader) -> None:
    seen: list[int] = []
    rows = list(read_esep_legacy_rows(jsonl(eleni(), "not json", eleni(email="x@example.org")), "jsonl"))
    report = loader.importer.load(ESEP, rows, on_progress=seen.append)
    assert seen == [1, 2, 3]
    assert reasons(report) == [(2, "rejected", "not a valid JSON object")]


def test_the_stored_record_is_what_registration_offers_and_takes_over(loader: Loader) -> None:
    # Given Eleni's legacy row loaded
    loader.load(eleni())

    # When she comes from EU Login with that e-mail (in another case)
    flows = loader.kit.flows
    started = flows.eulogin_signin.start(ESEP, BROWSER)
    provider = flows.eulogin_signin.provider
    assert isinstance(provider, FakeEuLogin)
    identity = EuLoginIdentity("n-eleni", "ELENI.Antoniou@school.example", "Ελένη", "Αντωνίου")
    provider.grant(started.redirect_url, "code-1", identity)
    state = parse_qs(urlsplit(started.redirect_url).query)["state"][0]
    flow = flows.eulogin_signin.complete(ESEP, state=state, code="code-1", error=None, browser_binding=BROWSER).flow_id
    offer = flows.esep_registration.view(ESEP, flow, BROWSER)["legacy_account"]

    # Then the loaded account is offered, and taking it over brings its profile along
    assert offer == {
        "given_name": "Ελένη",
        "family_name": "Αντωνίου",
        "country": "GR",
        "role": "teacher",
        "organisations": 1,
        "subjects": ["Μαθηματικά", "Φυσική"],
    }
    registered = flows.esep_registration.register(
        ESEP,
        EsepRegistrationRequest(flow=flow, role="teacher", country="GR", migrate_legacy=True, browser_binding=BROWSER),
    )
    member = loader.esep.get_member(registered.account_id)
    assert registered.migrated and member is not None
    assert (member.organisation_ids, member.subjects, member.bio) == (
        ("org-andros",),
        ("Μαθηματικά", "Φυσική"),
        "Καθηγήτρια από το 2005.",
    )
    assert loader.legacy("eleni.antoniou@school.example") is None


# --- reading ----------------------------------------------------------------------------------


def test_jsonl_lists_may_be_arrays_or_separated_strings_and_wrong_types_are_named() -> None:
    text = jsonl(
        eleni(subjects="Ιστορία | Γεωγραφία;Τέχνη"),
        eleni(subjects=[1, 2], given_name=7, available_for_projects=1),
        "[1, 2]",
    )
    rows = list(read_esep_legacy_rows(text, "jsonl"))
    assert rows[0][1]["subjects"] == ["Ιστορία", "Γεωγραφία", "Τέχνη"]  # type: ignore[index]
    assert rows[1] == (
        2,
        "given_name: must be a string; subjects: must be a list of strings; "
        "available_for_projects: must be true or false",
    )
    assert rows[2] == (3, "not a JSON object (the file must hold one object per line)")


def test_a_csv_with_semicolons_splits_list_cells_and_reports_unknown_columns(loader: Loader) -> None:
    # Given a Greek-Excel CSV (BOM, ';' separated, capitalised header) with an extra column
    text = (
        "\ufeffEmail;Given Name;Family-Name;Country;Role;Organisation_IDs;Subjects;Available_for_projects;Notes\n"
        'maria@example.org;Μαρία;Παππά;GR;head teacher;org-andros|org-syros;"Χημεία; Βιολογία";ναι;x\n'
        "\n"
        "kostas@example.org;Κώστας;Ρήγας;CY;other;;;;\n"
    )
    unknown: list[list[str]] = []

    # When it is read and loaded
    rows = list(read_esep_legacy_rows(text, "csv", on_unknown_columns=unknown.append))
    report = loader.importer.load(ESEP, rows)

    # Then both rows are stored with their lists, the blank line skipped, the extra column noted
    assert unknown == [["notes"]]
    assert [line for line, _ in rows] == [2, 4]
    assert report.created == 2 and report.ok
    maria = loader.legacy("maria@example.org")
    assert maria is not None
    assert maria.role is EsepRole.HEAD_TEACHER and maria.organisation_ids == ("org-andros", "org-syros")
    assert maria.subjects == ("Χημεία", "Βιολογία") and maria.available_for_projects is True
    kostas = loader.legacy("kostas@example.org")
    assert kostas is not None and kostas.country == "CY" and kostas.organisation_ids == ()


def test_a_csv_header_lacking_a_required_column_stops_the_file() -> None:
    with pytest.raises(LegacyFileInvalid, match="the header lacks country, role"):
        list(read_esep_legacy_rows("email,given_name,family_name\na@example.org,A,B\n", "csv"))


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ('{"email": "a@example.org", "registry_number": "IEP-1", "afm": "090000045"}\n', "jsonl"),
        ("registry_number,last_name,first_name,email,password_hash\nIEP-1,Α,Β,a@example.org,x\n", "csv"),
    ],
)
def test_an_eiep_registry_file_is_refused_as_a_whole(text: str, fmt: str) -> None:
    with pytest.raises(LegacyFileInvalid, match="realm esep does not take legacy accounts with e-IEP columns"):
        list(read_esep_legacy_rows(text, fmt))  # type: ignore[arg-type]
