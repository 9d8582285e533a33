"""Loading accounts from the old e-IEP registry (SPEC §2.3): reading JSON lines and CSV,
the row rules, and idempotence through the uniqueness guards."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

import pytest

from chalicelib.domain.accounts import Account, AccountStatus, UniqueKind
from chalicelib.domain.identity import GsisIdentity
from chalicelib.errors import InvalidInput
from chalicelib.flows.legacy import (
    LegacyFileInvalid,
    LegacyImport,
    LegacyReport,
    LegacyRow,
    LegacyRowResult,
    detect_format,
    read_legacy_rows,
)
from chalicelib.realms import get_realm
from tests.fakes import START, FixedClock, InMemoryAccountRepository, SequenceSecrets, afm_with_check_digit, arranged

EIEP = get_realm("eiep")
AFM_MARIA = afm_with_check_digit("12345678")
AFM_NIKOS = afm_with_check_digit("23456789")
BCRYPT_HASH = "$2b$10$" + "N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
ARGON2_HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Ckz2Sg1vKVzvPtG7KYjgyGlDhLm0IRsdvH2YHk0aSJc"


def maria(**overrides: Any) -> dict[str, Any]:
    """Maria's row; an override of None leaves the field out."""
    row: dict[str, Any] = {
        "registry_number": "IEP-0001",
        "afm": AFM_MARIA,
        "last_name": "ΠΑΠΑΔΟΠΟΥΛΟΥ",
        "first_name": "ΜΑΡΙΑ",
        "father_name": "ΓΕΩΡΓΙΟΣ",
        "mother_name": "ΕΛΕΝΗ",
        "email": "maria@example.gr",
        "password_hash": BCRYPT_HASH,
    }
    row.update(overrides)
    return {key: value for key, value in row.items() if value is not None}


def nikos(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "registry_number": "IEP-0002",
        "afm": AFM_NIKOS,
        "last_name": "ΝΙΚΟΛΑΟΥ",
        "first_name": "ΝΙΚΟΣ",
        "email": "nikos@example.gr",
        "password_hash": ARGON2_HASH,
    }
    return maria(**{**fields, **overrides})


def numbered(*rows: dict[str, Any] | str) -> list[LegacyRow]:
    return [(line, row) for line, row in enumerate(rows, start=1)]


def jsonl(*rows: object) -> str:
    return "\n".join(row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows) + "\n"


class Registry:
    """The import over in-memory ports, plus what a test needs to look at."""

    def __init__(self) -> None:
        self.accounts = InMemoryAccountRepository()
        self.importer = LegacyImport(accounts=self.accounts, clock=FixedClock(START), secrets=SequenceSecrets())

    def load(self, rows: Iterable[LegacyRow], realm: str = "eiep") -> LegacyReport:
        return self.importer.load(get_realm(realm), rows)

    def by_email(self, email: str) -> Account | None:
        return self.accounts.find_by_unique("eiep", UniqueKind.EMAIL, email.casefold())

    def count(self) -> int:
        return len(self.accounts.store.accounts)


@pytest.fixture
def registry() -> Registry:
    return Registry()


# --- reading JSON lines --------------------------------------------------------------------


def test_jsonl_rows_carry_their_line_numbers_and_blank_lines_are_skipped() -> None:
    # Given a file with blank lines (one of only spaces) between its objects
    text = jsonl(maria(), "", "   ", nikos())

    # When it is read
    rows = list(read_legacy_rows(text, "jsonl"))

    # Then each row keeps the line it came from
    assert [line for line, _ in rows] == [1, 4]
    assert rows[0][1] == maria()


def test_a_bad_json_line_is_an_error_for_that_line_only() -> None:
    # Given a file whose second line is broken JSON and third is not an object
    text = jsonl(maria(), '{"registry_number": "IEP-9", ', '["a", "list"]', nikos())

    # When it is read
    rows = list(read_legacy_rows(text, "jsonl"))

    # Then those lines are errors and the others are read
    assert rows == [
        (1, maria()),
        (2, "not a valid JSON object"),
        (3, "not a JSON object (the file must hold one object per line)"),
        (4, nikos()),
    ]


def test_jsonl_tolerates_a_bom_crlf_and_key_case_and_ignores_nulls() -> None:
    # Given a Windows file with a BOM, capitalised keys and an explicit null
    row = {"Registry_Number": "IEP-7", "LAST_NAME": "Α", "First Name": "Β", "Email": "a@example.gr", "afm": None}
    text = "\ufeff" + json.dumps(row) + "\r\n"

    # Then the keys are recognised and the null is as good as absent
    assert list(read_legacy_rows(text, "jsonl")) == [
        (1, {"registry_number": "IEP-7", "last_name": "Α", "first_name": "Β", "email": "a@example.gr"})
    ]


def test_jsonl_numbers_become_strings_and_other_types_are_errors() -> None:
    # Given a registry number written as a number, and a name written as a list
    text = jsonl(maria(registry_number=12345), maria(first_name=["ΜΑΡΙΑ"]), maria(last_name=True))

    # When it is read
    rows = list(read_legacy_rows(text, "jsonl"))

    # Then the number is kept as text; the others are errors naming the field
    assert rows[0] == (1, maria(registry_number="12345"))
    assert rows[1] == (2, "first_name: must be a string")
    assert rows[2] == (3, "last_name: must be a string")


def test_unknown_jsonl_keys_are_ignored_and_reported_once() -> None:
    # Given rows with a key the import does not know, twice
    reported: list[list[str]] = []
    text = jsonl(maria(phone="210"), nikos(phone="211", Gender="f"))

    # When the file is read
    rows = list(read_legacy_rows(text, "jsonl", on_unknown_columns=reported.append))

    # Then the key is dropped from the rows and reported the first time it appears only
    assert rows == [(1, maria()), (2, nikos())]
    assert reported == [["phone"], ["gender"]]


# --- reading CSV -----------------------------------------------------------------------------

CSV_HEADER = "registry_number,afm,last_name,first_name,father_name,mother_name,email,password_hash"


def test_csv_header_is_case_insensitive_and_a_bom_is_tolerated() -> None:
    # Given an Excel-style file: BOM, capitalised header, CRLF line ends
    text = (
        "\ufeffRegistry_Number,AFM,Last_Name,First_Name,Email\r\n"
        f"IEP-0001,{AFM_MARIA},ΠΑΠΑΔΟΠΟΥΛΟΥ,ΜΑΡΙΑ,maria@example.gr\r\n"
    )

    # When it is read
    rows = list(read_legacy_rows(text, "csv"))

    # Then the columns are recognised; the data row is line 2
    assert rows == [
        (
            2,
            {
                "registry_number": "IEP-0001",
                "afm": AFM_MARIA,
                "last_name": "ΠΑΠΑΔΟΠΟΥΛΟΥ",
                "first_name": "ΜΑΡΙΑ",
                "email": "maria@example.gr",
            },
        )
    ]


def test_csv_quoted_fields_keep_commas_and_line_breaks_and_blank_lines_are_skipped() -> None:
    # Given a quoted name with a comma, a blank line, and a quoted field spanning two lines
    text = (
        "registry_number,last_name,first_name,email\n"
        'IEP-1,"ΠΑΠΑΔΟΠΟΥΛΟΥ, ΚΑΡΑΓΙΑΝΝΗ",ΜΑΡΙΑ,maria@example.gr\n'
        "\n"
        'IEP-2,"ΝΙΚΟΛΑΟΥ\nΠΑΠΑ",ΝΙΚΟΣ,nikos@example.gr\n'
        "IEP-3,ΓΕΩΡΓΙΟΥ,ΕΛΕΝΗ,eleni@example.gr\n"
    )

    # When it is read
    rows = list(read_legacy_rows(text, "csv"))

    # Then the values are whole and each row reports the line it starts on
    assert [line for line, _ in rows] == [2, 4, 6]
    assert rows[0][1]["last_name"] == "ΠΑΠΑΔΟΠΟΥΛΟΥ, ΚΑΡΑΓΙΑΝΝΗ"
    assert rows[1][1]["last_name"] == "ΝΙΚΟΛΑΟΥ\nΠΑΠΑ"


def test_csv_empty_cells_are_absent_and_short_rows_are_padded() -> None:
    text = f"{CSV_HEADER}\nIEP-1,,ΑΑ,ΒΒ,,,a@example.gr,\nIEP-2,,ΓΓ,ΔΔ,,,b@example.gr\n"
    rows = list(read_legacy_rows(text, "csv"))
    assert rows == [
        (2, {"registry_number": "IEP-1", "last_name": "ΑΑ", "first_name": "ΒΒ", "email": "a@example.gr"}),
        (3, {"registry_number": "IEP-2", "last_name": "ΓΓ", "first_name": "ΔΔ", "email": "b@example.gr"}),
    ]


def test_a_csv_row_with_more_values_than_columns_is_an_error() -> None:
    # Given a row with an unquoted comma in a name (one value too many), and one with
    # trailing empty cells (harmless)
    text = "registry_number,last_name,first_name,email\nIEP-1,ΑΑ,ΒΒ,ΓΓ,a@example.gr\nIEP-2,ΑΑ,ΒΒ,b@example.gr,,\n"

    # When it is read
    rows = list(read_legacy_rows(text, "csv"))

    # Then the first is an error, the second is read
    assert rows[0] == (2, "has 5 fields but the header has 4")
    assert rows[1][0] == 3 and isinstance(rows[1][1], dict)


def test_a_semicolon_separated_csv_is_read() -> None:
    # Given a file as Greek-locale Excel saves it
    text = "registry_number;last_name;first_name;email\nIEP-1;ΑΑ, ΒΒ;ΓΓ;a@example.gr\n"
    assert list(read_legacy_rows(text, "csv")) == [
        (2, {"registry_number": "IEP-1", "last_name": "ΑΑ, ΒΒ", "first_name": "ΓΓ", "email": "a@example.gr"})
    ]


def test_unknown_csv_columns_are_ignored_and_reported_once() -> None:
    reported: list[list[str]] = []
    text = (
        "registry_number,last_name,first_name,email,Phone,notes\n"
        "IEP-1,ΑΑ,ΒΒ,a@example.gr,210,x\n"
        "IEP-2,ΓΓ,ΔΔ,b@example.gr,,\n"
    )
    rows = list(read_legacy_rows(text, "csv", on_unknown_columns=reported.append))
    assert reported == [["phone", "notes"]]
    assert all("phone" not in fields and "notes" not in fields for _, fields in rows)


def test_unknown_columns_are_logged_when_no_one_listens(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    list(read_legacy_rows("registry_number,last_name,first_name,email,phone\n", "csv"))
    assert any("unknown columns" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("registry_number,last_name,email", "the header lacks first_name"),
        ("afm,last_name,first_name", "the header lacks registry_number, email"),
        ("registry_number,last_name,first_name,email,EMAIL", "the header repeats email"),
    ],
)
def test_a_csv_header_without_a_required_column_makes_the_file_invalid(header: str, problem: str) -> None:
    # Given a header that lacks (or repeats) a column
    text = header + "\nIEP-1,ΑΑ,ΒΒ,a@example.gr\n"

    # When it is read
    # Then the whole file is refused before any row
    with pytest.raises(LegacyFileInvalid) as raised:
        list(read_legacy_rows(text, "csv"))
    assert problem in str(raised.value)
    assert isinstance(raised.value, InvalidInput)


def test_an_empty_csv_has_no_rows() -> None:
    assert list(read_legacy_rows("", "csv")) == []
    assert list(read_legacy_rows("\ufeff\n\n", "csv")) == []


@pytest.mark.parametrize(
    ("filename", "text", "expected"),
    [
        ("accounts.jsonl", "", "jsonl"),
        ("ACCOUNTS.JSON", "", "jsonl"),
        ("accounts.ndjson", "registry_number,email", "jsonl"),
        ("accounts.csv", '{"a": 1}', "csv"),
        ("accounts.txt", '\ufeff\n  {"registry_number": "1"}\n', "jsonl"),
        ("accounts", "registry_number,last_name\n", "csv"),
        ("accounts.dat", "", "csv"),
    ],
)
def test_the_format_comes_from_the_file_name_or_else_the_content(filename: str, text: str, expected: str) -> None:
    assert detect_format(filename, text) == expected


# --- loading rows --------------------------------------------------------------------------


def test_a_good_row_becomes_an_active_legacy_account_awaiting_gsis_certification(registry: Registry) -> None:
    # Given a row with every field, including a bcrypt hash
    # When it is loaded
    report = registry.load(numbered(maria()))

    # Then one active, not GSIS-verified account holds the registry's data and the hash as is
    assert report.results == (LegacyRowResult(1, "created", account_id="id0001"),)
    account = registry.by_email("maria@example.gr")
    assert account is not None
    assert account.account_id == "id0001"
    assert account.realm == "eiep"
    assert account.username == "maria@example.gr"
    assert account.email == "maria@example.gr"
    assert account.status is AccountStatus.ACTIVE
    assert account.created_at == account.updated_at == START
    assert account.password_hash == BCRYPT_HASH
    assert account.identity == GsisIdentity(
        afm=AFM_MARIA,
        last_name="ΠΑΠΑΔΟΠΟΥΛΟΥ",
        first_name="ΜΑΡΙΑ",
        father_name="ΓΕΩΡΓΙΟΣ",
        mother_name="ΕΛΕΝΗ",
        birth_year="",
    )
    assert account.gsis_verified is False
    assert account.registry_number == "IEP-0001"
    assert account.language == EIEP.default_language
    assert account.roles == ()
    assert account.extra == {"source": "legacy"}
    # The login record finds it by its (casefolded) e-mail.
    login = registry.accounts.find_login("eiep", "maria@example.gr")
    assert login is not None and login.password_hash == BCRYPT_HASH


def test_only_the_required_fields_make_an_account_without_password(registry: Registry) -> None:
    # Given a row with just the required fields
    row = {"registry_number": "7", "last_name": "ΑΑ", "first_name": "ΒΒ", "email": "a@example.gr"}

    # When it is loaded
    report = registry.load(numbered(row))

    # Then the account has no password (its owner must reset) and empty optional fields
    assert report.created == 1
    account = registry.by_email("a@example.gr")
    assert account is not None
    assert account.password_hash is None
    assert account.identity == GsisIdentity("", "ΑΑ", "ΒΒ", "", "", "")


def test_names_are_trimmed_and_their_whitespace_collapsed(registry: Registry) -> None:
    registry.load(numbered(maria(last_name="  ΠΑΠΑΔΟΠΟΥΛΟΥ \t ΚΑΡΑΓΙΑΝΝΗ ", first_name="\tΜΑΡΙΑ  ", father_name=" ")))
    account = registry.by_email("maria@example.gr")
    assert account is not None and account.identity is not None
    assert account.identity.last_name == "ΠΑΠΑΔΟΠΟΥΛΟΥ ΚΑΡΑΓΙΑΝΝΗ"
    assert account.identity.first_name == "ΜΑΡΙΑ"
    assert account.identity.father_name == ""


def test_the_email_keeps_its_case_and_the_username_is_casefolded(registry: Registry) -> None:
    # Given an address with capitals (and spaces around it)
    registry.load(numbered(maria(email="  Maria.Papa@Example.GR ")))

    # Then the address is kept as given (the domain normalised), the username casefolded
    account = registry.by_email("maria.papa@example.gr")
    assert account is not None
    assert account.email == "Maria.Papa@example.gr"
    assert account.username == "maria.papa@example.gr"


def test_an_argon2_hash_is_kept_as_is(registry: Registry) -> None:
    registry.load(numbered(nikos()))
    account = registry.by_email("nikos@example.gr")
    assert account is not None and account.password_hash == ARGON2_HASH


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (maria(registry_number=""), "registry_number is required"),
        (maria(registry_number="IEP 0001"), "registry_number must be 1 to 32 letters, digits or dashes"),
        (maria(registry_number="A" * 33), "registry_number must be 1 to 32 letters, digits or dashes"),
        (maria(registry_number="ΙΕΠ-1"), "registry_number must be 1 to 32 letters, digits or dashes"),
        (maria(last_name="   "), "last_name is required"),
        (maria(first_name=""), "first_name is required"),
        (maria(last_name="Α" * 101), "last_name must be at most 100 characters"),
        (maria(email=""), "email is required"),
        (maria(email="maria.example.gr"), "email is not a valid address"),
        (maria(email="maria@exa mple.gr"), "email is not a valid address"),
        (maria(afm="123456789"), "afm is not a valid Greek tax number"),
        (maria(afm="12345678"), "afm is not a valid Greek tax number"),
        (maria(password_hash="5f4dcc3b5aa765d61d8327deb882cf99"), "password_hash is not an argon2 or bcrypt hash"),
        (maria(password_hash="$2b$31$" + "a" * 53), "password_hash is not an argon2 or bcrypt hash"),
    ],
)
def test_a_row_breaking_a_rule_is_rejected_with_the_reason(
    registry: Registry, row: dict[str, Any], reason: str
) -> None:
    # When a row breaks one rule
    report = registry.load(numbered(row))

    # Then it is rejected, saying which, and nothing is stored
    assert len(report.results) == 1
    result = report.results[0]
    assert result.status == "rejected" and result.account_id is None
    assert result.reason is not None and result.reason.startswith(reason)
    assert registry.count() == 0


def test_every_problem_of_a_row_is_named_and_none_of_its_personal_data(registry: Registry) -> None:
    # Given a row with several problems
    row = {"registry_number": "?", "afm": "999999999", "email": "maria@@example.gr", "password_hash": "secret-hash"}

    # When it is loaded
    (result,) = registry.load(numbered(row)).results

    # Then the reason lists them all, without repeating the values
    assert result.reason == (
        "registry_number must be 1 to 32 letters, digits or dashes; last_name is required; "
        "first_name is required; afm is not a valid Greek tax number; email is not a valid address; "
        "password_hash is not an argon2 or bcrypt hash in standard form"
    )


def test_an_unreadable_line_is_rejected_and_the_rest_of_the_file_loads(registry: Registry) -> None:
    # Given a file with a broken line in the middle
    text = jsonl(maria(), "{not json", nikos())

    # When it is read and loaded
    report = registry.load(read_legacy_rows(text, "jsonl"))

    # Then that line is rejected and both good rows are created
    assert [(result.line, result.status) for result in report.results] == [
        (1, "created"),
        (2, "rejected"),
        (3, "created"),
    ]
    assert report.results[1].reason == "not a valid JSON object"
    assert (report.created, report.duplicates, report.rejected, report.ok) == (2, 0, 1, False)


def test_a_row_repeating_an_email_of_the_same_file_is_a_duplicate(registry: Registry) -> None:
    # Given two rows with the same address in different case, and no AFM
    rows = numbered(maria(afm=None), nikos(afm=None, email="MARIA@example.gr"))

    # When they are loaded
    report = registry.load(rows)

    # Then the second is a duplicate of the first
    assert [result.status for result in report.results] == ["created", "duplicate"]
    assert report.results[1].reason == "email already registered"
    assert report.ok  # duplicates are not failures
    assert registry.count() == 1


def test_a_row_repeating_an_afm_with_another_email_is_a_duplicate(registry: Registry) -> None:
    report = registry.load(numbered(maria(), nikos(afm=AFM_MARIA)))
    assert [result.status for result in report.results] == ["created", "duplicate"]
    assert report.results[1].reason == "AFM already registered"
    assert registry.by_email("nikos@example.gr") is None


def test_rows_already_held_by_existing_accounts_are_duplicates(registry: Registry) -> None:
    # Given an account registered through GSIS earlier, with Maria's address
    registry.accounts.create(
        Account(
            account_id="existing",
            realm="eiep",
            username="maria@example.gr",
            email="maria@example.gr",
            status=AccountStatus.ACTIVE,
            created_at=START,
            updated_at=START,
            gsis_verified=True,
        ),
        audit=arranged("x", "x"),
    )

    # When the registry file holds her too
    report = registry.load(numbered(maria(afm=None), nikos()))

    # Then her row is a duplicate and the existing account is untouched
    assert [result.status for result in report.results] == ["duplicate", "created"]
    account = registry.by_email("maria@example.gr")
    assert account is not None and account.account_id == "existing" and account.gsis_verified


def test_loading_the_same_file_again_creates_nothing_twice(registry: Registry) -> None:
    # Given a file already loaded once
    text = jsonl(maria(), nikos(), {"registry_number": "9", "last_name": "Α", "first_name": "Β", "email": "c@e.gr"})
    first = registry.load(read_legacy_rows(text, "jsonl"))
    assert (first.created, first.duplicates) == (3, 0)

    # When it is loaded again
    second = registry.load(read_legacy_rows(text, "jsonl"))

    # Then every row is a duplicate and there are still three accounts
    assert (second.created, second.duplicates, second.rejected, second.ok) == (0, 3, 0, True)
    assert registry.count() == 3


def test_rows_without_an_afm_do_not_collide_with_each_other(registry: Registry) -> None:
    report = registry.load(numbered(maria(afm=None), nikos(afm=None), maria(afm="", email="third@example.gr")))
    assert report.created == 3


@pytest.mark.parametrize("realm", ["ntua", "esep"])
def test_a_realm_other_than_a_gsis_email_realm_is_refused_before_anything(registry: Registry, realm: str) -> None:
    # Given rows that would otherwise load, read lazily
    consumed: list[int] = []

    def rows() -> Iterable[LegacyRow]:
        for line, row in numbered(maria()):
            consumed.append(line)
            yield line, row

    # When they are loaded into a realm that has no legacy accounts
    with pytest.raises(InvalidInput):
        registry.load(rows(), realm=realm)

    # Then no row was even read and nothing was stored
    assert consumed == []
    assert registry.count() == 0


def test_progress_is_reported_after_every_row(registry: Registry) -> None:
    seen: list[int] = []
    registry.importer.load(EIEP, numbered(maria(), "bad line", nikos()), on_progress=seen.append)
    assert seen == [1, 2, 3]


def test_the_report_lists_the_rows_that_created_nothing_in_file_order(registry: Registry) -> None:
    report = registry.load(numbered(maria(), "bad line", maria(), nikos()))
    assert [(result.line, result.status) for result in report.problems] == [(2, "rejected"), (3, "duplicate")]
    assert (report.created, report.duplicates, report.rejected) == (2, 1, 1)


def test_no_log_line_names_an_email_an_afm_or_a_hash(registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    # Given a load that creates, finds duplicates and rejects
    caplog.set_level(logging.DEBUG)
    registry.load(numbered(maria(), maria(), nikos(email="bad@@example.gr"), "bad line"))

    # Then the log holds counts, never the personal data or hashes of the rows
    assert caplog.records
    secrets = ["maria@example.gr", "example.gr", AFM_MARIA, AFM_NIKOS, BCRYPT_HASH, ARGON2_HASH]
    for record in caplog.records:
        text = record.getMessage() + " " + " ".join(str(value) for value in vars(record).values())
        assert not [secret for secret in secrets if secret in text], record.getMessage()
