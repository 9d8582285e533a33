"""Composition root: builds every flow with its adapters, once per warm container.

Adapters are created on first use, never at import (cold start, and Chalice imports
``app.py`` while packaging without the runtime environment). Tests replace the whole set
with :func:`override_services`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.settings import Settings, get_settings

if TYPE_CHECKING:  # the flows are imported when the services are first built
    from chalicelib.flows.activation import Activation
    from chalicelib.flows.gsis_signin import GsisSignIn
    from chalicelib.flows.links import Links
    from chalicelib.flows.registration import GsisRegistration
    from chalicelib.flows.sessions import Sessions
    from chalicelib.ports import TokenSigner


@dataclass(frozen=True)
class Services:
    settings: Settings
    links: Links
    gsis_signin: GsisSignIn
    registration: GsisRegistration
    activation: Activation
    sessions: Sessions
    signer: TokenSigner
    idempotency: Any
    """Runs POSTs that create or send at most once per payload (Powertools)."""
    mailbox: Any | None
    """Dev-only reader of the emulator's sent mail (None when deployed)."""


IDEMPOTENCY_WINDOWS = {
    "registration": 15 * 60,  # as long as a flow lives: a retried submit gets the same answer
    "activation-resend": 60,  # a second click within a minute sends no second mail
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


@functools.cache
def _build() -> Services:
    import boto3

    from chalicelib.adapters.argon2_hasher import Argon2Hasher
    from chalicelib.adapters.clock import SystemClock
    from chalicelib.adapters.dynamodb.models import TableBinding, bind_models
    from chalicelib.adapters.dynamodb.repositories import (
        DynamoAccountRepository,
        DynamoChallengeRepository,
        DynamoFlowRepository,
        DynamoSessionRepository,
    )
    from chalicelib.adapters.gsis_client import GsisClient
    from chalicelib.adapters.idempotency import Idempotency
    from chalicelib.adapters.jwt_signer import JwtSigner
    from chalicelib.adapters.secrets_source import SystemSecrets
    from chalicelib.adapters.ses_mailer import SesMailer
    from chalicelib.flows.activation import Activation
    from chalicelib.flows.challenges import Challenges
    from chalicelib.flows.gsis_signin import GsisSignIn
    from chalicelib.flows.links import Links
    from chalicelib.flows.registration import GsisRegistration
    from chalicelib.flows.sessions import Sessions

    settings = get_settings()
    links = Links(settings.public_url)
    clock, secrets = SystemClock(), SystemSecrets()
    models = bind_models(TableBinding(settings.table_name, settings.aws_region, settings.aws_endpoint_url))
    accounts = DynamoAccountRepository(models)
    flows = DynamoFlowRepository(models)
    hasher = Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    ses = boto3.client("ses", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    mailer = SesMailer(ses, sender=settings.mail_sender, configuration_set=settings.ses_configuration_set)
    gsis = GsisClient(
        base_url=settings.gsis_base_url,
        client_id=settings.gsis_client_id,
        client_secret=settings.gsis_client_secret,
        redirect_uri=links.gsis_callback(),
        timeout=settings.gsis_timeout_seconds,
    )
    if not settings.is_local and not settings.jwt_private_key:
        raise RuntimeError("MITROO_JWT_PRIVATE_KEY is required outside local and test runs")
    signer = JwtSigner(_signing_key(settings.jwt_private_key))
    signin = GsisSignIn(flows=flows, accounts=accounts, provider=gsis, clock=clock, secrets=secrets)
    challenges = Challenges(repository=DynamoChallengeRepository(models), clock=clock, secrets=secrets)
    activation = Activation(accounts=accounts, challenges=challenges, mailer=mailer, clock=clock, links=links)
    idempotency = Idempotency(
        table_name=settings.idempotency_table_name,
        client=boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url),
        windows=IDEMPOTENCY_WINDOWS,
    )
    mailbox = None
    if settings.is_local and settings.aws_endpoint_url:
        from chalicelib.adapters.dev_mailbox import EmulatorMailbox

        mailbox = EmulatorMailbox(settings.aws_endpoint_url)
    return Services(
        settings=settings,
        links=links,
        gsis_signin=signin,
        registration=GsisRegistration(
            signin=signin, accounts=accounts, hasher=hasher, activation=activation, clock=clock, secrets=secrets
        ),
        activation=activation,
        sessions=Sessions(
            accounts=accounts,
            sessions=DynamoSessionRepository(models),
            hasher=hasher,
            signer=signer,
            clock=clock,
            secrets=secrets,
            links=links,
        ),
        signer=signer,
        idempotency=idempotency,
        mailbox=mailbox,
    )
