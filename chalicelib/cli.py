"""Operator command line (SPEC §2.6): ``python -m chalicelib.cli COMMAND …``.

    create-admin --realm ntua --username sec1 --email sec1@example.gr --role secretariat --password-stdin
    load-legacy --realm eiep|esep FILE.jsonl|FILE.csv
    expire-accounts [--as-of YYYY-MM-DD]
    delete-accounts [--as-of YYYY-MM-DD] [--realm R]
    provision --realm ntua FILE.xlsx [--dry-run] [--kind doctoral] [--report REPORT.xlsx]
    renew --realm ntua FILE.xlsx [--dry-run] [--report REPORT.xlsx]
    grant-role --realm esep --subject SUB --role nso --country GR
    oidc-client add|list|show|rotate-secret|remove --realm R …   (chalicelib/cli_oidc.py)
    mfa-reset --realm R --username U
    backfill-admin-indexes [--realm R] [--dry-run]

It reads the same settings as the app (``chalicelib.container.services()``), so
``AWS_ENDPOINT_URL`` aims it at a local emulator and a deployed environment's variables at
the real tables. Commands go through the same flows and repositories as the API, so the
uniqueness guards and the password policy hold here too.

Exit status: 0 when everything was applied; 1 when the command ran but refused something
(a weak password, a taken username, rejected rows); 2 for usage errors (unknown realm,
unreadable file, a realm the command does not apply to). Standard output carries only
results (an account id, a summary) so scripts can read it; messages and the progress bar
go to standard error. Passwords and hashes are never printed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from chalicelib.domain.accounts import AFFILIATIONS, Account, AccountStatus
from chalicelib.domain.audit import OPERATOR, audit, origin
from chalicelib.domain.emails import valid_email
from chalicelib.errors import DuplicateValue, FlowError, InvalidEmail, InvalidInput
from chalicelib.flows.esep.rules import clean_country
from chalicelib.flows.legacy import (
    LegacyFileInvalid,
    LegacyFormat,
    LegacyImport,
    LegacyReport,
    detect_format,
    read_legacy_rows,
    require_legacy_realm,
)
from chalicelib.flows.password_policy import check_password
from chalicelib.realms import REALM_IDS, RealmConfig, UnknownRealm, get_realm
from chalicelib.settings import SettingsError

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2

ROLES = ("admin", "secretariat", "nso")
_ASSIGNED_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


class UsageError(Exception):
    """The command cannot run as asked; exit status 2 with this message."""


@dataclass
class Console:
    """The process's standard streams, replaceable for in-process tests."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)

    def out(self, text: str) -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(text, file=self.stderr)


Command = Callable[[argparse.Namespace, Console], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.cli",
        description="Mitroo operator commands; they use the same settings (environment) as the app.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    admin = commands.add_parser(
        "create-admin",
        help="create an administrator account in a realm",
        description="Create an active administrator account. With --password-stdin the password is read "
        "from standard input; without it the administrator gets a set-password e-mail.",
    )
    admin.add_argument("--realm", required=True, help=f"realm id ({', '.join(REALM_IDS)})")
    admin.add_argument(
        "--username", help="the login name; in realms whose username is the e-mail it defaults to (and must be) it"
    )
    admin.add_argument("--email", required=True, help="the administrator's e-mail address")
    admin.add_argument(
        "--role", action="append", required=True, choices=ROLES, help="a role to grant (repeat for several)"
    )
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (one line) instead of mailing a set-password link",
    )
    admin.set_defaults(handler=create_admin)

    grant = commands.add_parser(
        "grant-role",
        help="grant a role to an account that signs in through EU Login (esep: an NSO of a country)",
        description="Give the account of an EU Login subject a role. Its sessions end, so the role takes "
        "effect at its next sign-in. An nso acts only on the users, organisations and projects of its --country.",
    )
    grant.add_argument("--realm", required=True, help="realm id (an EU Login realm: esep)")
    grant.add_argument("--subject", required=True, help="the EU Login `sub` of the (registered) account")
    grant.add_argument("--role", action="append", required=True, choices=ROLES, help="a role (repeat for several)")
    grant.add_argument("--country", help="for nso: the ISO code of the country it validates (e.g. GR)")
    grant.set_defaults(handler=grant_role)

    reset = commands.add_parser(
        "mfa-reset",
        help="remove every second factor and recovery code of an account (it lost them all)",
        description="Remove the account's authenticator apps, passkeys and recovery codes, audited as the "
        "operator's, and tell the person by mail. Its next sign-in asks for the password only (an "
        "administrator's role then asks it to enrol a new factor). Check who is asking first.",
    )
    reset.add_argument("--realm", required=True, help="realm id")
    reset.add_argument(
        "--username",
        required=True,
        help="the account's username (the e-mail in e-mail realms, the EU Login sub in esep)",
    )
    reset.set_defaults(handler=mfa_reset)

    backfill = commands.add_parser(
        "backfill-admin-indexes",
        help="once, after upgrading: file existing accounts, audit records and tickets in the consoles' indexes",
        description="Accounts, audit records and support tickets stored before the administration consoles "
        "existed are filed in their indexes (account search, audit log by actor and action, the helpdesk's "
        "queue). Reads the whole table once; every write is idempotent, so it can be run again.",
    )
    backfill.add_argument("--realm", help="only this realm (default: all)")
    backfill.add_argument("--dry-run", action="store_true", help="count what would be written; write nothing")
    backfill.set_defaults(handler=backfill_admin_indexes)

    legacy = commands.add_parser(
        "load-legacy",
        help="load accounts from the old registry (JSON lines or CSV)",
        description="Load legacy accounts; rows already loaded are reported as duplicates, so a re-run "
        "is safe. Exit status 0 only when no row was rejected.",
    )
    legacy.add_argument(
        "--realm",
        required=True,
        help="realm id: eiep (e-IEP registry accounts, certified through GSIS at first login) or esep "
        "(eTwinning accounts, offered to the EU Login user with the same e-mail)",
    )
    legacy.add_argument(
        "--format", choices=("jsonl", "csv"), help="override the format the file name or content suggests"
    )
    legacy.add_argument("file", type=Path, help="FILE.jsonl (.json, .ndjson) or FILE.csv")
    legacy.set_defaults(handler=load_legacy)

    expire = commands.add_parser(
        "expire-accounts",
        help="run the daily expiry sweep now (expire, warn 30 and 7 days before, audit)",
        description="The scheduled expiry job, from the command line. Days already swept change nothing.",
    )
    expire.add_argument(
        "--as-of", type=_iso_day, help="sweep as if today were YYYY-MM-DD (default: today, UTC)", metavar="DATE"
    )
    expire.add_argument("--realm", help="only this realm (default: every registrar realm)")
    expire.set_defaults(handler=expire_accounts)

    delete = commands.add_parser(
        "delete-accounts",
        help="run the daily erasure of accounts whose self-deletion fell due (SPEC §2.10)",
        description="The scheduled deletion sweep, from the command line. Erased accounts are not read again; "
        "an account that fails is reported and retried by the next run.",
    )
    delete.add_argument(
        "--as-of", type=_iso_day, help="erase what is due on YYYY-MM-DD or before (default: today, UTC)", metavar="DATE"
    )
    delete.add_argument("--realm", help="only this realm (default: every realm)")
    delete.set_defaults(handler=delete_accounts)

    for name, help_text in (
        ("provision", "create accounts from a secretariat's provisioning sheet (.xlsx)"),
        ("renew", "move the expiry of existing accounts from a renewal sheet (.xlsx)"),
    ):
        job = commands.add_parser(
            name,
            help=help_text,
            description=f"{help_text[0].upper()}{help_text[1:]}, as the API's job would (same rules, same "
            "report). Rows already applied are reported as such, so a re-run is safe. Exit status 0 only "
            "when no row was rejected.",
        )
        job.add_argument("--realm", required=True, help="realm id (a registrar realm: ntua)")
        job.add_argument("--dry-run", action="store_true", help="check every row and report; write nothing")
        if name == "provision":
            job.add_argument(
                "--kind",
                default="postgraduate",
                choices=AFFILIATIONS,
                help="the kind of account every row creates (default: postgraduate)",
            )
        job.add_argument(
            "--report", type=Path, help="where to write the report (default: FILE.report.xlsx beside FILE)"
        )
        job.add_argument("file", type=Path, help="the .xlsx sheet")
        job.set_defaults(handler=run_job, job_kind=name)

    from chalicelib.cli_oidc import add_commands as add_oidc_client_commands

    add_oidc_client_commands(commands, realm_help=f"realm id ({', '.join(REALM_IDS)})", resolve_realm=_realm)
    return parser


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run one command; returns the exit status (argparse itself exits 2 on bad syntax)."""
    console = console or Console()
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    emulator_credentials(os.environ)
    try:
        with origin("cli"):  # changes an operator makes are audited as made from the command line
            return handler(args, console)
    except UsageError as exc:
        console.err(f"error: {exc}")
        return EXIT_USAGE
    except SettingsError as exc:
        console.err(f"error: {exc}")
        return EXIT_USAGE


def emulator_credentials(environ: MutableMapping[str, str]) -> None:
    """Give the AWS SDK placeholder credentials when it has none and aims at a local emulator.

    ``make run``'s emulator (and LocalStack) accept any credentials, but botocore refuses
    to sign without some, so an operator following the README from a fresh shell would
    get "Unable to locate credentials". Only a loopback ``AWS_ENDPOINT_URL`` gets them:
    anything else keeps the SDK's own credential chain untouched.
    """
    endpoint = environ.get("AWS_ENDPOINT_URL") or ""
    if urlsplit(endpoint).hostname not in {"127.0.0.1", "localhost", "::1"}:
        return
    import boto3

    if boto3.session.Session().get_credentials() is None:
        environ["AWS_ACCESS_KEY_ID"] = "local-emulator"
        environ["AWS_SECRET_ACCESS_KEY"] = "local-emulator"


# --- expire-accounts -----------------------------------------------------------------------


def _iso_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def expire_accounts(args: argparse.Namespace, console: Console) -> int:
    from chalicelib.container import services

    flows = services().flows
    as_of: date = args.as_of or flows.sessions.clock.now().date()
    if args.realm:
        realm = _realm(args.realm)
        if realm.identity_source != "registrar":
            raise UsageError(f"accounts of realm {realm.id} do not expire")
        reports = [flows.expiry.sweep(realm, as_of)]
    else:
        reports = flows.expiry.sweep_all(as_of)
    for report in reports:
        warned = ", ".join(f"{days} days: {count}" for days, count in report.warned.items())
        console.out(
            f"{report.realm}: as of {as_of.isoformat()}, expired {report.expired}, warned ({warned}), "
            f"examined {report.examined}"
        )
    return EXIT_OK


# --- delete-accounts -----------------------------------------------------------------------


def delete_accounts(args: argparse.Namespace, console: Console) -> int:
    from chalicelib.container import services

    flows = services().flows
    as_of: date = args.as_of or flows.sessions.clock.now().date()
    sweep = flows.deletion_sweep
    reports = [sweep.sweep(_realm(args.realm), as_of)] if args.realm else sweep.sweep_all(as_of)
    for report in reports:
        console.out(
            f"{report.realm}: as of {as_of.isoformat()}, due {report.due}, erased {report.erased}, "
            f"failed {len(report.failed)}"
        )
    return EXIT_REFUSED if any(report.failed for report in reports) else EXIT_OK


# --- provision / renew -----------------------------------------------------------------------


def run_job(args: argparse.Namespace, console: Console) -> int:
    """Run a spreadsheet job in this process; print the summary and the rejected rows."""
    from chalicelib.cli_progress import ProgressLine
    from chalicelib.container import services
    from chalicelib.domain.jobs import OPERATOR_READER, Job, JobKind, JobStatus

    realm = _realm(args.realm)
    if realm.registrar is None:
        raise UsageError(f"accounts of realm {realm.id} are not created from spreadsheets")
    path: Path = args.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    kind = JobKind.PROVISIONING if args.job_kind == "provision" else JobKind.RENEWAL
    jobs = services().flows.jobs
    try:
        job = jobs.submit(
            realm,
            kind,
            data,
            actor="operator:cli",
            dry_run=args.dry_run,
            affiliation=getattr(args, "kind", None),
            file_name=path.name,
            queue=False,
        )
    except FlowError as exc:
        raise UsageError(f"{path}: {exc.detail or exc.title}") from None
    progress: ProgressLine | None = None

    def show(current: Job) -> None:
        nonlocal progress
        if progress is None:
            progress = ProgressLine(console.stderr, current.progress.total, args.job_kind)
        progress.update(current.progress.processed)

    try:
        finished = jobs.run(realm, job.job_id, progress=show, slice_seconds=float("inf"))
    finally:
        if progress is not None:
            progress.close()
    assert finished is not None
    if finished.status is JobStatus.FAILED:
        raise UsageError(f"{path}: {finished.reason}")
    report_path: Path = args.report or path.with_name(path.stem + ".report.xlsx")
    report_path.write_bytes(jobs.report(realm, job.job_id, reader=OPERATOR_READER))
    counts = finished.progress
    console.out(
        f"job {finished.job_id}: rows {counts.total}, accepted {counts.accepted} "
        f"(already applied {counts.already_applied}), rejected {counts.rejected}"
        + (" (dry run: nothing written)" if finished.dry_run else "")
    )
    rows = jobs.report_rows(realm, job.job_id)
    for number, outcome in rows:
        if not outcome.status.accepted:
            console.out(f"row {number}: {outcome.status}: {outcome.reason}")
    console.err(f"report: {report_path}")
    return EXIT_OK if counts.rejected == 0 else EXIT_REFUSED


# --- create-admin ----------------------------------------------------------------------------


def create_admin(args: argparse.Namespace, console: Console) -> int:
    """Create an ACTIVE account with roles; the password is typed in or set through a mailed link."""
    realm = _realm(args.realm)
    if realm.password_policy is None:
        raise UsageError(
            f"realm {realm.id} has no local passwords (its accounts sign in through {realm.identity_source})"
        )
    try:
        email = valid_email(args.email)
    except InvalidEmail as exc:
        raise UsageError(f"--email: {_first_message(exc, 'email')}") from None
    username = _admin_username(realm, args.username, email)
    roles = tuple(dict.fromkeys(args.role))  # repeated --role flags, once each, in order

    password: str | None = None
    if args.password_stdin:
        password = _read_password(console)
        if not password:
            console.err("error: no password on standard input")
            return EXIT_REFUSED
        verdict = check_password(realm.password_policy, password, [username, email])
        if not verdict.acceptable:
            console.err("error: the password does not meet the realm's policy:")
            for message in verdict.messages:
                console.err(f"  {message}")
            warning = verdict.feedback.get("warning")
            if warning:
                console.err(f"  {warning}")
            return EXIT_REFUSED

    from chalicelib.container import services  # boto3 and the adapters: only once the input is good

    built = services()
    ports = built.ports
    now = ports.clock.now()
    account = Account(
        account_id=ports.secrets.identifier(),
        realm=realm.id,
        username=username,
        email=email,
        status=AccountStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        password_hash=ports.hasher.hash(password) if password else None,
        identity=None,
        gsis_verified=False,
        language=realm.default_language,
        roles=roles,
        activated_at=now,
        extra={"source": "cli"},
    )
    entry = audit(realm.id, account.account_id, "account_created", actor=OPERATOR, at=now, roles=",".join(roles))
    try:
        ports.accounts.create(account, audit=entry)
    except DuplicateValue:
        console.err("error: username/e-mail already registered")
        return EXIT_REFUSED
    if password is None:
        # Queued, not sent: the account is stored first and a mail failure is retried
        # (SPEC §3), so the command succeeds even while SES is unreachable.
        built.flows.passwords.invite_setup(realm, account.account_id)
        console.err("a set-password e-mail is queued for the administrator")
    console.out(account.account_id)
    return EXIT_OK


def grant_role(args: argparse.Namespace, console: Console) -> int:
    """Set the roles of an EU Login account (replacing its roles), with the NSO's country."""
    realm = _realm(args.realm)
    if realm.identity_source != "eulogin":
        raise UsageError(f"realm {realm.id} does not sign in through EU Login; use create-admin there")
    roles = tuple(dict.fromkeys(args.role))
    extra: dict[str, str] = {}
    if "nso" in roles:
        errors: dict[str, list[str]] = {}
        extra["nso_country"] = clean_country(args.country or "", errors)
        if errors:
            raise UsageError("--country: the two-letter code of an eTwinning country is required for nso")

    from chalicelib.container import services

    built = services()
    from chalicelib.flows.eulogin_signin import find_by_subject

    account = find_by_subject(built.ports.accounts, realm.id, args.subject.strip())
    if account is None:
        console.err(f"error: no account of EU Login subject {args.subject} in {realm.id} (register first)")
        return EXIT_REFUSED
    # Sessions signed in with the old roles end: the new ones apply from the next sign-in.
    built.flows.roles.grant(realm.id, account.account_id, roles, extra, actor=OPERATOR)
    console.out(f"{account.account_id}: roles {', '.join(roles)}{' for ' + extra['nso_country'] if extra else ''}")
    return 0


def mfa_reset(args: argparse.Namespace, console: Console) -> int:
    """Remove an account's second factors (SPEC §2.9: "an admin reset"), audited and mailed."""
    realm = _realm(args.realm)
    from chalicelib.container import services
    from chalicelib.domain.accounts import UniqueKind
    from chalicelib.flows.eulogin_signin import find_by_subject

    flows = services().flows
    accounts = flows.sessions.accounts
    if realm.identity_source == "eulogin":  # the username is the EU Login subject, compared exactly
        username = args.username.strip()
        account = find_by_subject(accounts, realm.id, username)
    else:
        username = args.username.strip().casefold()
        account = accounts.find_by_unique(realm.id, UniqueKind.USERNAME, username)
    if account is None:
        console.err(f"error: no account {username} in {realm.id}")
        return EXIT_REFUSED
    removed = flows.mfa_enrolment.reset(realm, account, actor=OPERATOR)
    console.out(f"{account.account_id}: {removed} second factor(s) and the recovery codes removed; the person is told")
    return EXIT_OK


def backfill_admin_indexes(args: argparse.Namespace, console: Console) -> int:
    """Put the consoles' index entries of items older than the consoles (idempotent)."""
    realm = _realm(args.realm).id if args.realm else None
    from chalicelib.adapters.dynamodb.backfill import DynamoIndexBackfill
    from chalicelib.adapters.dynamodb.models import TableBinding, bind_models
    from chalicelib.container import services

    settings = services().settings
    models = bind_models(
        TableBinding(settings.table_name, settings.aws_region, settings.aws_endpoint_url, settings.aws_max_attempts)
    )
    drawing = _is_terminal(console.stderr)

    def progress(scanned: int) -> None:
        if drawing:
            console.stderr.write(f"\rscanned {scanned} items")
            console.stderr.flush()

    report = DynamoIndexBackfill(models).run(realm=realm, dry_run=args.dry_run, progress=progress)
    if drawing:
        console.stderr.write("\n")
    verb = "would file" if args.dry_run else "filed"
    console.out(
        f"scanned {report.scanned} items; {verb} {report.accounts} accounts ({report.entries} directory entries), "
        f"{report.audit_records} audit records, {report.tickets} support tickets, "
        f"{report.senders} tickets under their sender"
    )
    return EXIT_OK


def _admin_username(realm: RealmConfig, requested: str | None, email: str) -> str:
    """The casefolded username: the e-mail in e-mail realms, else the one given."""
    if realm.username == "email":
        if requested is not None and requested.strip().casefold() != email.casefold():
            raise UsageError(f"in realm {realm.id} the username is the e-mail address; leave out --username")
        return email.casefold()
    if not requested:
        raise UsageError(f"realm {realm.id} needs --username")
    username = requested.strip().casefold()
    if not _ASSIGNED_USERNAME.fullmatch(username):
        raise UsageError(
            "--username must be 2 to 64 Latin letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit"
        )
    return username


def _read_password(console: Console) -> str:
    """One line from standard input (without its line end); asked twice, unechoed, on a terminal."""
    if _is_terminal(console.stdin):
        first = getpass.getpass("Password: ", stream=console.stderr)
        if first and getpass.getpass("Repeat the password: ", stream=console.stderr) != first:
            raise UsageError("the two passwords differ")
        return first
    return console.stdin.readline().rstrip("\r\n")


# --- load-legacy -----------------------------------------------------------------------------


def load_legacy(args: argparse.Namespace, console: Console) -> int:
    """Load a legacy file; print a summary and one line per row that created nothing."""
    realm = _realm(args.realm)
    if realm.identity_source == "eulogin":
        return load_esep_legacy(realm, args, console)
    try:
        require_legacy_realm(realm)
    except InvalidInput as exc:
        raise UsageError(str(exc)) from None
    rows = _legacy_rows(args, console, read_legacy_rows)

    from chalicelib.container import services

    ports = services().ports
    importer = LegacyImport(accounts=ports.accounts, clock=ports.clock, secrets=ports.secrets)
    return _load_with_progress(console, rows, lambda progress: importer.load(realm, rows, on_progress=progress))


def load_esep_legacy(realm: RealmConfig, args: argparse.Namespace, console: Console) -> int:
    """``load-legacy`` of an EU Login realm: eTwinning accounts, reported as e-IEP's are."""
    from chalicelib.flows.esep.legacy import read_esep_legacy_rows

    rows = _legacy_rows(args, console, read_esep_legacy_rows)  # an e-IEP export stops here

    from chalicelib.container import services

    loader = services().flows.esep_legacy
    return _load_with_progress(console, rows, lambda progress: loader.load(realm, rows, on_progress=progress))


def _legacy_rows(args: argparse.Namespace, console: Console, reader: Callable[..., Any]) -> list[Any]:
    """Every row of the file first: a file-level problem stops the run before any write,
    and the progress bar needs the total."""
    path: Path = args.file
    text = _read_text(path)
    fmt: LegacyFormat = args.format or detect_format(path.name, text)

    def unknown_columns(names: list[str]) -> None:
        console.err(f"note: ignoring unknown columns: {', '.join(names)}")

    try:
        return list(reader(text, fmt, on_unknown_columns=unknown_columns))
    except LegacyFileInvalid as exc:
        raise UsageError(f"{path}: {exc}") from None


def _load_with_progress(
    console: Console, rows: list[Any], load: Callable[[Callable[[int], None]], LegacyReport]
) -> int:
    from chalicelib.cli_progress import ProgressLine

    progress = ProgressLine(console.stderr, len(rows), "load-legacy")
    try:
        report = load(progress.update)
    finally:
        progress.close()
    for line in summary_lines(report):
        console.out(line)
    return EXIT_OK if report.ok else EXIT_REFUSED


def summary_lines(report: LegacyReport) -> list[str]:
    """``created N, duplicates N, rejected N`` and one line per row that created nothing.

    Reasons name the problem, never the row's e-mail, AFM or hash, so the output can be
    pasted into a ticket.
    """
    lines = [f"created {report.created}, duplicates {report.duplicates}, rejected {report.rejected}"]
    lines.extend(f"line {result.line}: {result.status}: {result.reason}" for result in report.problems)
    return lines


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text (save it as UTF-8 and try again)") from None


# --- shared ------------------------------------------------------------------------------------


def _realm(realm_id: str) -> RealmConfig:
    try:
        return get_realm(realm_id)
    except UnknownRealm:
        raise UsageError(f"unknown realm {realm_id!r} (known: {', '.join(REALM_IDS)})") from None


def _first_message(error: FlowError, key: str) -> str:
    messages = error.errors.get(key) or [str(error)]
    return messages[0]


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(main())
