"""Typed runtime settings, read lazily from the environment.

Chalice imports ``app.py`` while packaging and the test client sets stage variables only
for the length of a request, so nothing here runs at import time: call
:func:`get_settings` from inside a request or a command. The environment variable names
of SPEC §4 (``AWS_ENDPOINT_URL``, ``MITROO_PUBLIC_URL``, ``MITROO_GSIS_*``,
``MITROO_EULOGIN_*``) are part of the contract with operators.
"""

import functools
import os
from collections.abc import Mapping
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Environment = Literal["local", "test", "deployed"]


class SettingsError(RuntimeError):
    """The environment does not describe a runnable configuration."""


class Settings(BaseModel):
    """Everything the service reads from its environment, validated once."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    environment: Environment = Field("local", alias="MITROO_ENV")
    public_url: str = Field("http://127.0.0.1:8000", alias="MITROO_PUBLIC_URL")
    aws_region: str = Field("eu-west-1", alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL")
    table_name: str = Field("mitroo-local-main", alias="MITROO_TABLE_NAME")
    idempotency_table_name: str = Field("mitroo-local-idempotency", alias="MITROO_IDEMPOTENCY_TABLE_NAME")
    task_queue_name: str = Field("mitroo-tasks", alias="MITROO_TASK_QUEUE_NAME")
    upload_bucket: str = Field("mitroo-local-uploads", alias="MITROO_UPLOAD_BUCKET")
    """SQS queue of deferred work (mail above all); its dead-letter queue is ``{name}-dlq``."""
    mail_sender: str = Field("no-reply@mitroo.local", alias="MITROO_MAIL_SENDER")
    ses_configuration_set: str | None = Field(None, alias="MITROO_SES_CONFIGURATION_SET")
    mail_rate_per_second: int = Field(14, alias="MITROO_MAIL_RATE_PER_SECOND", ge=1)
    """The SES account's maximum send rate (14 is SES's starting quota out of the sandbox)."""
    aws_max_attempts: int = Field(4, alias="MITROO_AWS_MAX_ATTEMPTS", ge=1, le=10)
    """Attempts per AWS call, the first included: botocore's standard retry mode retries
    throttling and transient errors with capped exponential backoff (at most ~1, 2, 4 s
    between attempts). What still fails then answers 503 with ``Retry-After`` (API) or
    fails the task, which SQS delivers again later (worker)."""

    gsis_base_url: str = Field("http://127.0.0.1:8001/oauth2server", alias="MITROO_GSIS_BASE_URL")
    gsis_client_id: str = Field("mitroo-dev", alias="MITROO_GSIS_CLIENT_ID")
    gsis_client_secret: str = Field("mitroo-dev-secret", alias="MITROO_GSIS_CLIENT_SECRET")
    gsis_timeout_seconds: float = Field(10.0, alias="MITROO_GSIS_TIMEOUT_SECONDS")

    eulogin_issuer: str | None = Field(None, alias="MITROO_EULOGIN_ISSUER")
    eulogin_client_id: str | None = Field(None, alias="MITROO_EULOGIN_CLIENT_ID")
    eulogin_client_secret: str | None = Field(None, alias="MITROO_EULOGIN_CLIENT_SECRET")

    jwt_private_key: str | None = Field(None, alias="MITROO_JWT_PRIVATE_KEY")
    """PEM of the RSA key that signs access tokens. Required when deployed (here or through
    its secret); local and test runs generate a throw-away key per process when absent."""

    jwt_private_key_secret: str | None = Field(None, alias="MITROO_JWT_PRIVATE_KEY_SECRET")
    gsis_client_secret_name: str | None = Field(None, alias="MITROO_GSIS_CLIENT_SECRET_NAME")
    eulogin_client_secret_name: str | None = Field(None, alias="MITROO_EULOGIN_CLIENT_SECRET_NAME")
    """Secrets Manager names (or ARNs) of the secrets above, as deployed stacks hold them:
    read once per warm container through Powertools parameters, never from the plain
    environment variable."""

    argon2_time_cost: int = Field(2, alias="MITROO_ARGON2_TIME_COST", ge=1)
    argon2_memory_kib: int = Field(19456, alias="MITROO_ARGON2_MEMORY_KIB", ge=8192)
    argon2_parallelism: int = Field(1, alias="MITROO_ARGON2_PARALLELISM", ge=1)

    dev_routes: bool = Field(False, alias="MITROO_DEV_ROUTES")

    oidc_client_cache_seconds: float = Field(10.0, alias="MITROO_OIDC_CLIENT_CACHE_SECONDS", ge=0, le=300)
    """How long a container keeps an OpenID client it read (a rotated secret or removed
    client stops working in every container within this time; 0 reads every time)."""
    outbound_timeout_seconds: float = Field(5.0, alias="MITROO_OUTBOUND_TIMEOUT_SECONDS", gt=0, le=30)
    """Timeout of back-channel logout posts and client JWKS reads."""
    task_max_receives: int = Field(5, alias="MITROO_TASK_MAX_RECEIVES", ge=1)
    """Deliveries of a task before SQS dead-letters it (the queue's maxReceiveCount)."""

    @field_validator("public_url", "gsis_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator(
        "aws_endpoint_url",
        "ses_configuration_set",
        "jwt_private_key",
        "jwt_private_key_secret",
        "gsis_client_secret_name",
        "eulogin_client_secret_name",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def is_local(self) -> bool:
        """Local and test runs may use dev-only conveniences (generated keys, dev mail)."""
        return self.environment in ("local", "test")

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry ``Secure`` unless the service is served over plain loopback HTTP."""
        return self.public_url.startswith("https://")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        """Validate ``environ``; raise :class:`SettingsError` naming every bad variable."""
        values = dict(environ)
        values.setdefault("AWS_REGION", environ.get("AWS_DEFAULT_REGION", "eu-west-1"))
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            names = ", ".join(str(err["loc"][0]) for err in exc.errors())
            raise SettingsError(f"invalid settings: {names}") from exc
        if settings.environment == "deployed" and not (settings.jwt_private_key or settings.jwt_private_key_secret):
            raise SettingsError(
                "MITROO_JWT_PRIVATE_KEY_SECRET (or MITROO_JWT_PRIVATE_KEY) is required when MITROO_ENV=deployed"
            )
        return settings


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, built on first use (never at import)."""
    return Settings.from_environ(os.environ)
