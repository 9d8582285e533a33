"""``cli load-legacy --realm esep`` (SPEC §2.7): eTwinning accounts loaded by an operator, in
a separate process against this session's AWS emulator, then offered over HTTP to the EU
Login user with the same e-mail — so what the CLI writes is what the app reads."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain.accounts import normalise_email
from tests.integration.test_cli import run_cli, write_jsonl
from tests.support.browser import Browser
from tests.support.esep import API, nso, organisation, register, validate

_seeds = itertools.count(random.randrange(10**6, 10**7))


def legacy_email() -> str:
    return f"Etwinning.Teacher{next(_seeds)}@Old-Portal.example"


def etwinning_row(email: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "email": email,
        "given_name": "Ελένη",
        "family_name": "Αντωνίου",
        "country": "GR",
        "role": "teacher",
        "subjects": ["Ιστορία", "Γεωγραφία"],
        "languages": ["el", "fr"],
        "bio": "Καθηγήτρια από το 2005.",
        "available_for_projects": True,
    }
    row.update(fields)
    return {key: value for key, value in row.items() if value is not None}


def offer(browser: Browser, email: str) -> tuple[str, Any]:
    """The EU Login round trip of a new person with ``email``: (flow, the legacy offer)."""
    person = browser.new_eulogin_person("GR", email=email)
    flow, page = browser.eulogin_flow(person)
    assert page == "/realms/esep/register"
    shown = browser.get(f"{API}/flows/{flow}")
    assert shown.status == 200, shown.text
    return flow, shown.json["legacy_account"]


def test_loaded_accounts_are_offered_to_the_eulogin_user_with_that_email(tmp_path: Path, browser: Browser) -> None:
    # Given a validated school, and a file of two good rows (one naming the school)
    admin = nso(browser, "GR")
    school = organisation(browser, "Γυμνάσιο Μήλου", city="Μήλος")
    validate(browser, admin, organisations=[school])
    eleni, nikos = legacy_email(), legacy_email()
    path = write_jsonl(
        tmp_path / "etwinning.jsonl",
        [
            etwinning_row(eleni, organisation_ids=[school]),
            etwinning_row(nikos, given_name="Νίκος", family_name="Ρήγας", role="other", subjects=None),
        ],
    )

    # When the operator loads it
    loaded = run_cli("load-legacy", "--realm", "esep", str(path))

    # Then both rows are stored and the run succeeds
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.splitlines() == ["created 2, duplicates 0, rejected 0"]

    # When Eleni comes from EU Login, her address written in another case
    flow, offered = offer(browser, eleni.lower())

    # Then her old account is offered, with what the file said
    assert offered == {
        "given_name": "Ελένη",
        "family_name": "Αντωνίου",
        "country": "GR",
        "role": "teacher",
        "organisations": 1,
        "subjects": ["Ιστορία", "Γεωγραφία"],
    }

    # When she takes it over
    registered = browser.post(
        f"{API}/registrations", json={"flow": flow, "role": "teacher", "country": "GR", "migrate_legacy": True}
    )

    # Then her profile and school came over from the file
    assert registered.status == 201, registered.text
    assert registered.json["migrated"] is True
    me = browser.get(f"{API}/me/etwinning", headers={"Authorization": f"Bearer {registered.json['access_token']}"})
    assert [o["organisation_id"] for o in me.json["organisations"]] == [school]
    assert me.json["subjects"] == ["Ιστορία", "Γεωγραφία"]
    assert me.json["bio"] == "Καθηγήτρια από το 2005." and me.json["available_for_projects"] is True

    # And Nikos, who has not come yet, still has his offer
    assert offer(browser, nikos)[1]["role"] == "other"


def test_bad_rows_are_rejected_with_reasons_and_a_rerun_finds_the_rest_already_there(
    tmp_path: Path, browser: Browser
) -> None:
    # Given someone who already has an esep account, and a file with good, bad and taken rows
    school = organisation(browser, "Δημοτικό Κιμώλου", city="Κίμωλος")
    member = register(browser, [school])
    good, unknown_school, bad_country, bad_role = (legacy_email() for _ in range(4))
    rows = [
        etwinning_row(good),
        etwinning_row(unknown_school, organisation_ids=["no-such-organisation"]),
        etwinning_row("not an address"),
        etwinning_row(bad_country, country="US", role="principal"),
        etwinning_row(member.person.email.upper()),
        etwinning_row(good.upper()),
        etwinning_row(bad_role, role="Head Teacher", available_for_projects="maybe"),
    ]
    path = write_jsonl(tmp_path / "mixed.jsonl", rows)
    path.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")

    # When the operator loads it
    first = run_cli("load-legacy", "--realm", "esep", str(path))

    # Then the good row is stored, the taken ones are duplicates, the bad ones say why,
    # and the exit status says something was rejected
    assert first.returncode == 1, first.stderr
    assert first.stdout.splitlines() == [
        "created 1, duplicates 2, rejected 5",
        "line 2: rejected: organisation_ids: unknown organisation no-such-organisation",
        "line 3: rejected: email: is not a valid address",
        "line 4: rejected: country: must be the two-letter code of an eTwinning country (e.g. GR); "
        "role: must be one of teacher, head_teacher, school_staff, company_staff, other",
        "line 5: duplicate: email already registered",
        "line 6: duplicate: legacy account already loaded",
        "line 7: rejected: available_for_projects: must be true or false",
        "line 8: rejected: not a valid JSON object",
    ]
    assert offer(browser, good)[1] is not None
    for email in (unknown_school, bad_country, bad_role):
        assert offer(browser, email)[1] is None

    # When the same file is loaded again
    second = run_cli("load-legacy", "--realm", "esep", str(path))

    # Then nothing is written twice, and the still-bad rows still fail the run
    assert second.returncode == 1, second.stderr
    assert second.stdout.splitlines()[0] == "created 0, duplicates 3, rejected 5"
    assert "line 1: duplicate: legacy account already loaded" in second.stdout.splitlines()

    # And no output names a row's e-mail
    output = first.stdout + first.stderr + second.stdout + second.stderr
    assert not [row["email"] for row in rows if normalise_email(row["email"]) in output.casefold()]


def test_a_csv_loads_and_its_rerun_succeeds(tmp_path: Path, browser: Browser) -> None:
    # Given a CSV as Excel writes it in Greece (BOM, semicolons) with list cells and an extra column
    school = organisation(browser, "Λύκειο Φολεγάνδρου", city="Φολέγανδρος")
    first_email, second_email = legacy_email(), legacy_email()
    path = tmp_path / "etwinning.csv"
    path.write_text(
        "\ufeffEmail;Given Name;Family Name;Country;Role;Organisation IDs;Subjects;Available for projects;Comment\n"
        f'{first_email};Μαρία;Παππά;el;head_teacher;{school};"Χημεία|Βιολογία";ναι;from 2012\n'
        f"{second_email};Κώστας;Ρήγας;CY;other;;;;\n",
        encoding="utf-8",
    )

    # When it is loaded twice
    first = run_cli("load-legacy", "--realm", "esep", str(path))
    second = run_cli("load-legacy", "--realm", "esep", str(path))

    # Then both rows are stored once, the unknown column is noted, and both runs succeed
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["created 2, duplicates 0, rejected 0"]
    assert "note: ignoring unknown columns: comment" in first.stderr
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[0] == "created 0, duplicates 2, rejected 0"
    maria = offer(browser, first_email)[1]
    assert maria is not None
    assert (maria["role"], maria["country"], maria["organisations"], maria["subjects"]) == (
        "head_teacher",
        "GR",
        1,
        ["Χημεία", "Βιολογία"],
    )


@pytest.mark.usefixtures("aws_endpoint")
def test_an_eiep_registry_file_given_to_esep_is_a_usage_error_and_writes_nothing(tmp_path: Path) -> None:
    # Given an e-IEP export (tax numbers, password hashes) with an eTwinning-looking row
    email = legacy_email()
    path = write_jsonl(
        tmp_path / "eiep.jsonl",
        [etwinning_row(email, registry_number="IEP-1", afm="090000045", password_hash="$2b$04$x")],
    )

    # When the operator aims it at esep
    result = run_cli("load-legacy", "--realm", "esep", str(path))

    # Then the run stops before any write
    assert result.returncode == 2
    assert "realm esep does not take legacy accounts with e-IEP columns (registry_number, afm, password_hash)" in (
        result.stderr
    )
    assert result.stdout == ""
    from chalicelib.container import services

    assert services().ports.esep.get_legacy(normalise_email(email)) is None
