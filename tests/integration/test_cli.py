"""The operator CLI (SPEC §2.6), run as operators run it: a separate process that reads
the same settings as the app, against this session's AWS emulator.

Accounts it creates are then used through the API (the Chalice test client), so the
tests prove that what the CLI writes is what the app reads.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from argon2 import PasswordHasher as Argon2PasswordHasher

from chalicelib.domain.accounts import Account, UniqueKind
from standins.gsis import make_afm
from tests.support.browser import Browser, unique_email

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple ntua"
_seeds = itertools.count(random.randrange(10**6, 10**7))


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m chalicelib.cli ARGS`` with this process's environment (emulator endpoint,
    table names, fake credentials), as an operator's shell would have it."""
    env = {**os.environ, "MITROO_ENV": "test"}
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", *args],
        cwd=ROOT,
        env=env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def account_by_email(email: str) -> Account | None:
    from chalicelib.container import services

    return services().ports.accounts.find_by_unique("eiep", UniqueKind.EMAIL, email.casefold())


def ntua_account(username: str) -> Account | None:
    from chalicelib.container import services

    return services().ports.accounts.find_by_unique("ntua", UniqueKind.USERNAME, username)


def legacy_row(email: str, **fields: Any) -> dict[str, Any]:
    seed = next(_seeds)
    row: dict[str, Any] = {
        "registry_number": f"IEP-{seed}",
        "afm": make_afm(seed),
        "last_name": "ΠΑΠΑΔΟΠΟΥΛΟΥ",
        "first_name": "ΜΑΡΙΑ",
        "father_name": "ΓΕΩΡΓΙΟΣ",
        "mother_name": "ΕΛΕΝΗ",
        "email": email,
    }
    row.update(fields)
    return {key: value for key, value in row.items() if value is not None}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def bcrypt_hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, read without verifying it (the app verifies; we only look)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


# --- load-legacy -----------------------------------------------------------------------------


@pytest.mark.usefixtures("aws_endpoint")
def test_load_legacy_creates_the_good_rows_and_a_rerun_finds_them_all_already_there(tmp_path: Path) -> None:
    # Given a JSONL file: a bcrypt hash, an argon2 hash, no hash, and a row with a bad AFM
    emails = [unique_email("legacy") for _ in range(4)]
    rows = [
        legacy_row(emails[0], password_hash=bcrypt_hash("Palios!Kodikos1")),
        legacy_row(emails[1], password_hash=Argon2PasswordHasher(memory_cost=8192, time_cost=1).hash("Allos1!")),
        legacy_row(emails[2], afm=None),
        legacy_row(emails[3], afm="123456789"),
    ]
    path = write_jsonl(tmp_path / "legacy.jsonl", rows)

    # When it is loaded
    first = run_cli("load-legacy", "--realm", "eiep", str(path))

    # Then the three good rows are accounts, the bad one is reported, and the exit status says so
    assert first.returncode == 1, first.stderr
    assert first.stdout.splitlines() == [
        "created 3, duplicates 0, rejected 1",
        "line 4: rejected: afm is not a valid Greek tax number",
    ]
    for email, row in zip(emails[:3], rows, strict=False):
        account = account_by_email(email)
        assert account is not None, email
        assert account.gsis_verified is False and account.extra == {"source": "legacy"}
        assert account.password_hash == row.get("password_hash")
    assert account_by_email(emails[3]) is None

    # When the same file is loaded again
    second = run_cli("load-legacy", "--realm", "eiep", str(path))

    # Then nothing is created twice; the still-bad row still fails the run
    assert second.returncode == 1, second.stderr
    assert second.stdout.splitlines()[0] == "created 0, duplicates 3, rejected 1"
    assert "line 1: duplicate: AFM already registered" in second.stdout.splitlines()
    assert "line 3: duplicate: email already registered" in second.stdout.splitlines()
    # And no output names a row's e-mail, AFM or hash
    output = first.stdout + first.stderr + second.stdout + second.stderr
    leaked = [value for row in rows for value in row.values() if value in output and value not in ("ΜΑΡΙΑ",)]
    assert [value for value in leaked if "@" in value or value.startswith("$") or value.isdigit()] == []


@pytest.mark.usefixtures("aws_endpoint")
def test_load_legacy_of_a_clean_csv_succeeds_and_so_does_its_rerun(tmp_path: Path) -> None:
    # Given a CSV (BOM, capitalised header, a quoted name with a comma) without bad rows
    first_email, second_email = unique_email("csv"), unique_email("csv")
    seed = next(_seeds)
    path = tmp_path / "legacy.csv"
    path.write_text(
        "\ufeffRegistry_Number,AFM,Last_Name,First_Name,Email,Password_Hash\r\n"
        f'IEP-{seed},{make_afm(seed)},"ΝΙΚΟΛΑΟΥ, ΠΑΠΑ",ΝΙΚΟΣ,{first_email},{bcrypt_hash("Nikos!2024")}\r\n'
        f"IEP-{seed + 1},,ΓΕΩΡΓΙΟΥ,ΕΛΕΝΗ,{second_email},\r\n",
        encoding="utf-8",
    )

    # When it is loaded, and loaded again
    first = run_cli("load-legacy", "--realm", "eiep", str(path))
    second = run_cli("load-legacy", "--realm", "eiep", str(path))

    # Then both runs succeed: the first creates, the second finds both already there
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.splitlines() == ["created 2, duplicates 0, rejected 0"]
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.splitlines()[0] == "created 0, duplicates 2, rejected 0"
    account = account_by_email(first_email)
    assert account is not None and account.identity is not None
    assert account.identity.last_name == "ΝΙΚΟΛΑΟΥ, ΠΑΠΑ"
    # Not a terminal: no progress bar in the captured error stream
    assert "\r" not in first.stderr


def test_a_legacy_bcrypt_account_logs_in_with_its_old_password(tmp_path: Path, browser: Browser) -> None:
    # Given a legacy account loaded with a bcrypt hash of its old password
    email, password = unique_email("bcrypt"), "Palios!Kodikos1"
    path = write_jsonl(tmp_path / "one.jsonl", [legacy_row(email, password_hash=bcrypt_hash(password))])
    assert run_cli("load-legacy", "--realm", "eiep", str(path)).returncode == 0

    # When its owner logs in with a wrong password, then with the right one
    wrong = browser.login(email, "Lathos!Kodikos1")
    right = browser.login(email, password)

    # Then the wrong one is refused; the right one is accepted: with a session, or with
    # the one-time GSIS certification legacy accounts owe (SPEC §2.3)
    assert wrong.status == 401 and wrong.json["code"] == "invalid_credentials"
    assert right.status in (201, 403), right.text
    if right.status == 403:
        assert right.json["code"] == "certification_required"
    else:
        # and the bcrypt hash was replaced with argon2id at this first login
        account = account_by_email(email)
        assert account is not None and account.password_hash is not None
        assert account.password_hash.startswith("$argon2id$")


@pytest.mark.usefixtures("aws_endpoint")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--realm", "nowhere"], "unknown realm 'nowhere'"),
        (["--realm", "ntua"], "realm ntua does not take legacy accounts"),
        # esep takes its own legacy rows (test_cli_esep_legacy.py), never e-IEP ones with
        # tax numbers and password hashes
        (["--realm", "esep"], "realm esep does not take legacy accounts with e-IEP columns"),
    ],
)
def test_load_legacy_of_eiep_rows_into_another_realm_is_a_usage_error(
    tmp_path: Path, args: list[str], message: str
) -> None:
    email = unique_email("wrong-realm")
    path = write_jsonl(tmp_path / "rows.jsonl", [legacy_row(email)])
    result = run_cli("load-legacy", *args, str(path))
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert account_by_email(email) is None


@pytest.mark.usefixtures("aws_endpoint")
def test_load_legacy_of_a_missing_or_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    # Given a path that does not exist, a file that is not UTF-8, and a CSV lacking a column
    latin = tmp_path / "latin.csv"
    latin.write_bytes("registry_number,last_name,first_name,email\n1,ΑΒΓ,ΔΕ,c@example.gr\n".encode("cp1253"))
    headless = tmp_path / "headless.csv"
    email = unique_email("headless")
    headless.write_text(f"registry_number,last_name,email\n1,ΑΑ,{email}\n", encoding="utf-8")

    # When each is loaded
    missing = run_cli("load-legacy", "--realm", "eiep", str(tmp_path / "missing.jsonl"))
    not_utf8 = run_cli("load-legacy", "--realm", "eiep", str(latin))
    no_column = run_cli("load-legacy", "--realm", "eiep", str(headless))

    # Then each stops with status 2 and a message, before writing anything
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert not_utf8.returncode == 2 and "not UTF-8" in not_utf8.stderr
    assert no_column.returncode == 2 and "the header lacks first_name" in no_column.stderr
    assert account_by_email(email) is None


# --- create-admin ----------------------------------------------------------------------------


def test_create_admin_with_a_password_from_stdin_makes_an_admin_who_can_log_in(browser: Browser) -> None:
    # Given a new secretariat member of NTUA with an external e-mail
    username, email = f"sec{next(_seeds)}", unique_email("secretariat")

    # When the operator creates the account, piping the password in
    created = run_cli(
        "create-admin", "--realm", "ntua", "--username", username, "--email", email, "--role", "secretariat",
        "--password-stdin", stdin=PASSPHRASE + "\n",
    )  # fmt: skip

    # Then the command prints the new account id, and never the password
    assert created.returncode == 0, created.stderr
    account_id = created.stdout.strip()
    assert account_id and "\n" not in account_id
    assert PASSPHRASE not in created.stdout + created.stderr
    account = ntua_account(username)
    assert account is not None and account.account_id == account_id
    assert account.roles == ("secretariat",) and account.email == email
    assert account.password_hash is not None and account.password_hash.startswith("$argon2id$")

    # And the admin logs in, and the access token carries the role
    login = browser.post("/api/v1/realms/ntua/sessions", json={"username": username, "password": PASSPHRASE})
    assert login.status == 201, login.text
    claims = jwt_claims(login.json["access_token"])
    assert claims["sub"] == account_id
    assert claims["roles"] == ["secretariat"]


@pytest.mark.usefixtures("aws_endpoint")
def test_create_admin_refuses_a_weak_password(tmp_path: Path) -> None:
    username = f"sec{next(_seeds)}"
    weak = "ntuantuantuantua"
    result = run_cli(
        "create-admin", "--realm", "ntua", "--username", username, "--email", unique_email("weak"),
        "--role", "admin", "--password-stdin", stdin=weak + "\n",
    )  # fmt: skip
    assert result.returncode == 1
    assert "does not meet the realm's policy" in result.stderr
    assert weak not in result.stdout + result.stderr
    assert ntua_account(username) is None


@pytest.mark.usefixtures("aws_endpoint")
def test_create_admin_refuses_a_taken_username_or_email() -> None:
    # Given an admin created once
    username, email = f"sec{next(_seeds)}", unique_email("dup")
    args = ["create-admin", "--realm", "ntua", "--email", email, "--role", "nso", "--password-stdin"]
    assert run_cli(*args, "--username", username, stdin=PASSPHRASE).returncode == 0

    # When the same username, or the same e-mail under another username, is created again
    same_username = run_cli(
        "create-admin", "--realm", "ntua", "--username", username, "--email", unique_email("dup"),
        "--role", "nso", "--password-stdin", stdin=PASSPHRASE,
    )  # fmt: skip
    same_email = run_cli(*args, "--username", f"sec{next(_seeds)}", stdin=PASSPHRASE)

    # Then both are refused with status 1
    for result in (same_username, same_email):
        assert result.returncode == 1
        assert "username/e-mail already registered" in result.stderr
        assert result.stdout == ""


@pytest.mark.usefixtures("aws_endpoint")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--realm", "esep", "--username", "x1"], "realm esep has no local passwords"),
        (["--realm", "nowhere", "--username", "x1"], "unknown realm 'nowhere'"),
        (["--realm", "ntua"], "realm ntua needs --username"),
        (["--realm", "ntua", "--username", "sec 1"], "--username must be"),
        (["--realm", "eiep", "--username", "someone-else"], "the username is the e-mail address"),
    ],
)
def test_create_admin_in_the_wrong_realm_or_with_bad_arguments_is_a_usage_error(args: list[str], message: str) -> None:
    result = run_cli(
        "create-admin", *args, "--email", unique_email("usage"), "--role", "admin", "--password-stdin",
        stdin=PASSPHRASE,
    )  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.usefixtures("aws_endpoint")
def test_create_admin_in_an_email_realm_uses_the_email_as_username() -> None:
    # Given no --username in e-IEP, where the username is the e-mail
    email = unique_email("eiep-admin")
    result = run_cli(
        "create-admin", "--realm", "eiep", "--email", email, "--role", "nso", "--role", "admin", "--role", "nso",
        "--password-stdin", stdin="Kal0s!Kodikos\n",
    )  # fmt: skip

    # Then the account's username is the (casefolded) e-mail and each role appears once
    assert result.returncode == 0, result.stderr
    account = account_by_email(email)
    assert account is not None
    assert account.username == email.casefold()
    assert account.roles == ("nso", "admin")


def test_create_admin_without_a_password_mails_a_set_password_link(browser: Browser) -> None:
    # Given an admin created without --password-stdin
    username, email = f"sec{next(_seeds)}", unique_email("invite")
    result = run_cli("create-admin", "--realm", "ntua", "--username", username, "--email", email, "--role", "admin")

    # Then the account exists without a password and a set-password mail reaches the address
    assert result.returncode == 0, result.stderr
    account = ntua_account(username)
    assert account is not None and account.password_hash is None
    assert browser.mail_to(email), "no set-password mail"


# --- progress on a terminal ----------------------------------------------------------------------


@pytest.mark.usefixtures("aws_endpoint")
def test_load_legacy_draws_a_progress_bar_when_stderr_is_a_terminal(tmp_path: Path) -> None:
    # Given a file of three rows, and standard error attached to a pseudo-terminal
    import pty

    path = write_jsonl(tmp_path / "three.jsonl", [legacy_row(unique_email("tty")) for _ in range(3)])
    controller, terminal = pty.openpty()
    try:
        # When it is loaded
        process = subprocess.run(
            [sys.executable, "-m", "chalicelib.cli", "load-legacy", "--realm", "eiep", str(path)],
            cwd=ROOT,
            env={**os.environ, "MITROO_ENV": "test"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=120,
            check=False,
        )
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal side is closed: everything has been read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)

    # Then the terminal shows the bar reaching 3/3, and standard output only the summary
    assert process.returncode == 0, drawn.decode(errors="replace")
    assert "\r" in drawn.decode() and "3/3" in drawn.decode()
    assert process.stdout.splitlines() == ["created 3, duplicates 0, rejected 0"]


def test_the_progress_line_writes_nothing_unless_its_stream_is_a_terminal() -> None:
    import io

    from chalicelib.cli_progress import ProgressLine

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    # Given the same progress on a pipe and on a terminal
    piped, terminal = io.StringIO(), Terminal()
    for stream in (piped, terminal):
        line = ProgressLine(stream, total=4, label="load-legacy")
        for done in range(1, 5):
            line.update(done)
        line.close()

    # Then the pipe holds nothing, the terminal a bar redrawn in place that ends its line
    assert piped.getvalue() == ""
    assert terminal.getvalue().startswith("\rload-legacy [")
    assert terminal.getvalue().endswith("] 4/4\n")
    assert ProgressLine(terminal, total=4).render(2) == "[" + "#" * 15 + "." * 15 + "] 2/4"


# --- provision / renew -------------------------------------------------------------------------


@pytest.mark.usefixtures("aws_endpoint")
def test_provision_creates_the_accounts_writes_the_report_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    from tests.support.sheets import provisioning_xlsx, read_report, student

    # Given a doctoral sheet with two good rows and one whose username lacks the surname
    tag = f"cli{next(_seeds)}x"
    records = [student(0, tag), student(1, tag), student(2, tag, username=f"nobody{tag}")]
    sheet = tmp_path / "ΔΠΜΣ.xlsx"
    sheet.write_bytes(provisioning_xlsx(records))

    # When the operator provisions it
    first = run_cli("provision", "--realm", "ntua", "--kind", "doctoral", str(sheet))

    # Then the two accounts exist, the rejected row is named, and the exit status says not all applied
    assert first.returncode == 1, first.stderr
    assert "rows 3, accepted 2 (already applied 0), rejected 1" in first.stdout
    assert "row 4: rejected:" in first.stdout and "surname" in first.stdout
    for record in records[:2]:
        account = ntua_account(record["username"])
        assert account is not None and account.affiliation == "doctoral"
    report = read_report((tmp_path / "ΔΠΜΣ.report.xlsx").read_bytes())
    assert [row["status"] for row in report] == ["created", "created", "rejected"]

    # When the good rows are run again, nothing new is created and the run succeeds
    sheet.write_bytes(provisioning_xlsx(records[:2]))
    again = run_cli("provision", "--realm", "ntua", str(sheet), "--report", str(tmp_path / "again.xlsx"))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "accepted 2 (already applied 2), rejected 0" in again.stdout


@pytest.mark.usefixtures("aws_endpoint")
def test_provision_dry_run_and_unreadable_files(tmp_path: Path) -> None:
    from tests.support.sheets import provisioning_xlsx, student

    tag = f"dry{next(_seeds)}x"
    sheet = tmp_path / "sheet.xlsx"
    sheet.write_bytes(provisioning_xlsx([student(0, tag)]))
    dry = run_cli("provision", "--realm", "ntua", "--dry-run", str(sheet))
    assert dry.returncode == 0 and "(dry run: nothing written)" in dry.stdout
    assert ntua_account(student(0, tag)["username"]) is None

    not_a_sheet = tmp_path / "notes.xlsx"
    not_a_sheet.write_text("just text")
    broken = run_cli("provision", "--realm", "ntua", str(not_a_sheet))
    wrong_realm = run_cli("provision", "--realm", "eiep", str(sheet))
    missing = run_cli("renew", "--realm", "ntua", str(tmp_path / "absent.xlsx"))
    assert broken.returncode == 2 and "not an .xlsx workbook" in broken.stderr
    assert wrong_realm.returncode == 2 and "not created from spreadsheets" in wrong_realm.stderr
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_the_cli_signs_with_placeholder_credentials_only_for_a_local_emulator() -> None:
    from chalicelib.cli import emulator_credentials

    bare = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    remote = {"AWS_ENDPOINT_URL": "https://dynamodb.eu-west-1.amazonaws.com"}
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        patch.setenv("AWS_CONFIG_FILE", "/nonexistent")
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        emulator_credentials(bare)
        emulator_credentials(remote)
    assert bare["AWS_ACCESS_KEY_ID"] == "local-emulator"
    assert "AWS_ACCESS_KEY_ID" not in remote
