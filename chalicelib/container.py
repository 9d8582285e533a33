"""Composition root: real adapters into the flows, once per warm container.

Adapters are created on first use, never at import (cold start, and Chalice imports
``app.py`` while packaging without the runtime environment). The services are built on a
container's first request with what every request needs (the table's client, the hash,
the signing key); the AWS clients and the adapters that only some flows call (SES, SQS,
S3, GSIS, EU Login with their secrets, the idempotency layer) are built when a flow
first calls them (``chalicelib.on_first_use``), and each flow is assembled when a request
first uses it, so a cold sign-in waits for none of the others. The wiring itself is
``chalicelib.flows.wiring.assemble``, shared with the unit tests; integration tests use
this module as is, against emulators.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.on_first_use import ClientsOnFirstUse, built_on_first_use
from chalicelib.settings import Settings, get_settings

if TYPE_CHECKING:  # the flows are imported when the services are first built
    from chalicelib.flows.wiring import Flows, Ports


@dataclass(frozen=True)
class Services:
    settings: Settings
    ports: Ports
    flows: Flows
    idempotency: Any
    """Runs POSTs that create or send at most once per key (Powertools)."""
    mailbox: Any | None
    """Dev-only reader of the emulator's sent mail (None when deployed)."""
    aws_clients: Mapping[str, Any] = field(default_factory=dict)
    """The botocore clients, by role (``dynamodb``: pynamodb's for the main table,
    ``idempotency``, ``ses``, ``sqs``, ``s3``), each created on its first lookup: what
    diagnostics and the fault injection tests hook into (``client.meta.events``)."""


IDEMPOTENCY_WINDOWS = {
    "registration": 15 * 60,  # as long as a flow lives: a retried submit gets the same answer
    "activation-resend": 60,  # a second click within a minute sends no second mail
    "password-reset": 60,  # likewise for the reset mail
    "email-change": 60,  # a double-clicked e-mail change mails once
    "support-ticket": 10 * 60,  # a retried submit opens one ticket
    "task": 60 * 60,  # an SQS message delivered twice runs once
    "esep-organisation": 15 * 60,  # as long as a flow lives: a retried sign-up submit finds its school
    "esep-project": 10 * 60,  # a retried or double-clicked create makes one draft
}

_override: Services | None = None


def services() -> Services:
    """The services of this process (or the test override)."""
    return _override if _override is not None else _build()


@contextlib.contextmanager
def override_services(replacement: Services) -> Iterator[Services]:
    global _override
    previous, _override = _override, replacement
    try:
        yield replacement
    finally:
        _override = previous


def reset_services() -> None:
    """Forget built services and settings (tests that change the environment)."""
    _build.cache_clear()
    get_settings.cache_clear()
    _signing_key.cache_clear()


@functools.cache
def _signing_key(configured: str | None) -> str:
    if configured:
        return configured
    from chalicelib.adapters.jwt_signer import generate_private_key_pem

    return generate_private_key_pem()


def aws_config(settings: Settings, **options: Any) -> Any:
    """botocore client settings: the standard retry mode (throttling and transient errors
    retried with capped exponential backoff and a client-side retry quota) with
    ``MITROO_AWS_MAX_ATTEMPTS`` attempts, instead of the legacy mode's up to ten DynamoDB
    attempts that can hold a request for half a minute."""
    from botocore.config import Config

    return Config(retries={"mode": "standard", "total_max_attempts": settings.aws_max_attempts}, **options)


def _aws_clients(settings: Settings, models: Any) -> ClientsOnFirstUse:
    """Each client created on its first use: a password sign-in creates only the table's
    (and SQS's when it queues a new-device notice)."""
    import boto3

    aws = {"region_name": settings.aws_region, "endpoint_url": settings.aws_endpoint_url}
    return ClientsOnFirstUse(
        {
            "dynamodb": lambda: models.Item._get_connection().connection.client,
            "ses": lambda: boto3.client("ses", config=aws_config(settings), **aws),
            "sqs": lambda: boto3.client("sqs", config=aws_config(settings), **aws),
            "s3": lambda: _s3_client(settings),
            "idempotency": lambda: boto3.client("dynamodb", config=aws_config(settings), **aws),
        }
    )


def _ports(settings: Settings, models: Any, clients: Mapping[str, Any]) -> Ports:
    from chalicelib.adapters.argon2_hasher import Argon2Hasher
    from chalicelib.adapters.clock import SystemClock
    from chalicelib.adapters.dynamodb.attempts import DynamoAttemptLedger
    from chalicelib.adapters.dynamodb.audit import DynamoAuditLog
    from chalicelib.adapters.dynamodb.counters import DynamoCounters
    from chalicelib.adapters.dynamodb.directory import DynamoAccountDirectory
    from chalicelib.adapters.dynamodb.erasure import DynamoPersonalDataRepository
    from chalicelib.adapters.dynamodb.esep import DynamoEsepRepository
    from chalicelib.adapters.dynamodb.factors import DynamoFactorRepository
    from chalicelib.adapters.dynamodb.helpdesk import DynamoHelpdeskRepository
    from chalicelib.adapters.dynamodb.jobs import DynamoJobRepository
    from chalicelib.adapters.dynamodb.login_gate import DynamoLoginGate
    from chalicelib.adapters.dynamodb.oidc import (
        DynamoConsentRepository,
        DynamoOidcClientRepository,
        DynamoOidcGrantRepository,
        DynamoOidcLookup,
    )
    from chalicelib.adapters.dynamodb.registry import DynamoRegistryRepository
    from chalicelib.adapters.dynamodb.repositories import (
        DynamoAccountRepository,
        DynamoChallengeRepository,
        DynamoFlowRepository,
        DynamoSessionRepository,
        DynamoTicketRepository,
    )
    from chalicelib.adapters.fernet_sealer import FernetSealer, derive_key
    from chalicelib.adapters.jwt_signer import JwtSigner
    from chalicelib.adapters.outbound_http import GuardedHttp
    from chalicelib.adapters.secrets_source import SystemSecrets
    from chalicelib.flows.wiring import Ports

    jwt_private_key = secret_value(settings.jwt_private_key_secret) or settings.jwt_private_key
    if not settings.is_local and not jwt_private_key:
        raise RuntimeError("MITROO_JWT_PRIVATE_KEY_SECRET (or MITROO_JWT_PRIVATE_KEY) is required when deployed")
    clock, counters, attempts = SystemClock(), DynamoCounters(models), DynamoAttemptLedger(models)
    audit = DynamoAuditLog(models)
    signing_key = _signing_key(jwt_private_key)
    return Ports(
        clock=clock,
        secrets=SystemSecrets(),
        hasher=Argon2Hasher(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        accounts=DynamoAccountRepository(models),
        login_gate=DynamoLoginGate(models, attempts),
        attempts=attempts,
        sealer=FernetSealer(derive_key(signing_key)),
        flows=DynamoFlowRepository(models),
        challenges=DynamoChallengeRepository(models),
        sessions=DynamoSessionRepository(models),
        tickets=DynamoTicketRepository(models),
        audit=audit,
        registry=DynamoRegistryRepository(models),
        counters=counters,
        mailer=built_on_first_use(lambda: _mailer(settings, clients, counters, clock)),
        tasks=built_on_first_use(lambda: _task_queue(settings, clients)),
        gsis=built_on_first_use(lambda: _gsis(settings)),
        signer=JwtSigner(signing_key),
        jobs=DynamoJobRepository(models),
        files=built_on_first_use(lambda: _file_store(settings, clients)),
        eulogin=built_on_first_use(lambda: _eulogin(settings, clock)),
        esep=DynamoEsepRepository(models),
        oidc_clients=DynamoOidcClientRepository(models, cache_seconds=settings.oidc_client_cache_seconds),
        oidc_grants=DynamoOidcGrantRepository(models),
        consents=DynamoConsentRepository(models),
        oidc_lookup=DynamoOidcLookup(models),
        outbound=GuardedHttp(allow_loopback=settings.is_local, timeout=settings.outbound_timeout_seconds),
        factors=DynamoFactorRepository(models),
        directory=DynamoAccountDirectory(models),
        audit_search=audit,
        helpdesk=DynamoHelpdeskRepository(models),
        personal_data=DynamoPersonalDataRepository(models),
    )


def _mailer(settings: Settings, clients: Mapping[str, Any], counters: Any, clock: Any) -> Any:
    """SES behind the account's send rate (the mail module loads the templates' engine)."""
    from chalicelib.adapters.ses_mailer import SesMailer
    from chalicelib.flows.mail_pacing import PacedMailer

    ses = SesMailer(clients["ses"], sender=settings.mail_sender, configuration_set=settings.ses_configuration_set)
    return PacedMailer(ses, counters, clock, per_second=settings.mail_rate_per_second)


def _task_queue(settings: Settings, clients: Mapping[str, Any]) -> Any:
    from chalicelib.adapters.sqs_tasks import SqsTaskQueue

    return SqsTaskQueue(clients["sqs"], queue_name=settings.task_queue_name)


def _file_store(settings: Settings, clients: Mapping[str, Any]) -> Any:
    from chalicelib.adapters.s3_files import S3FileStore

    return S3FileStore(clients["s3"], bucket=settings.upload_bucket)


def _gsis(settings: Settings) -> Any:
    """The GSIS client, with its secret read from Secrets Manager when first needed."""
    from chalicelib.adapters.gsis_client import GsisClient
    from chalicelib.flows.links import Links

    return GsisClient(
        base_url=settings.gsis_base_url,
        client_id=settings.gsis_client_id,
        client_secret=secret_value(settings.gsis_client_secret_name) or settings.gsis_client_secret,
        redirect_uri=Links(settings.public_url).gsis_callback(),
        timeout=settings.gsis_timeout_seconds,
    )


def _eulogin(settings: Settings, clock: Any) -> Any:
    """The EU Login client, with its secret read from Secrets Manager when first needed."""
    from chalicelib.adapters.eulogin_client import EuLoginClient
    from chalicelib.flows.links import Links

    return EuLoginClient(
        issuer=settings.eulogin_issuer or "",
        client_id=settings.eulogin_client_id or "",
        client_secret=secret_value(settings.eulogin_client_secret_name) or settings.eulogin_client_secret or "",
        redirect_uri=Links(settings.public_url).eulogin_callback(),
        timeout=settings.gsis_timeout_seconds,
        clock=clock,
    )


def secret_value(name: str | None) -> str | None:
    """A Secrets Manager secret's string, through Powertools parameters (cached for five
    minutes; the services that use it are built once per warm container)."""
    if not name:
        return None
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(name, max_age=300)
    return value if isinstance(value, str) else None


def _s3_client(settings: Settings) -> Any:
    """Path-style addressing against an emulator (its host name has no bucket subdomains);
    presigned URLs carry SigV4."""
    import boto3

    config = aws_config(
        settings, signature_version="s3v4", s3={"addressing_style": "path"} if settings.aws_endpoint_url else {}
    )
    return boto3.client("s3", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url, config=config)


def _idempotency(settings: Settings, clients: Mapping[str, Any]) -> Any:
    """Powertools' idempotency layer (its import alone is a cold start's tens of ms)."""
    from chalicelib.adapters.idempotency import Idempotency

    return Idempotency(
        table_name=settings.idempotency_table_name, client=clients["idempotency"], windows=IDEMPOTENCY_WINDOWS
    )


@functools.cache
def _build() -> Services:
    from chalicelib.adapters.dynamodb.models import TableBinding, bind_models
    from chalicelib.flows.links import Links
    from chalicelib.flows.wiring import assemble

    settings = get_settings()
    models = bind_models(
        TableBinding(settings.table_name, settings.aws_region, settings.aws_endpoint_url, settings.aws_max_attempts)
    )
    clients = _aws_clients(settings, models)
    # The table's client now, in this thread: every request needs it, and a login's first
    # calls run on threads (``together``) that would each build one (pynamodb keeps a
    # botocore session per thread until a client exists), paying the model load twice.
    clients["dynamodb"]
    ports = _ports(settings, models, clients)
    idempotency = built_on_first_use(lambda: _idempotency(settings, clients))
    mailbox = None
    if settings.is_local and settings.aws_endpoint_url:
        from chalicelib.adapters.dev_mailbox import EmulatorMailbox

        mailbox = EmulatorMailbox(settings.aws_endpoint_url, sender=settings.mail_sender)
    return Services(
        settings=settings,
        ports=ports,
        flows=assemble(ports, Links(settings.public_url)),
        idempotency=idempotency,
        mailbox=mailbox,
        aws_clients=clients,
    )
