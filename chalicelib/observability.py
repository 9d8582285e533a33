"""Powertools Logger, Metrics and Tracer: created once, shared by every module.

Flows and adapters log through stdlib loggers under ``chalicelib``; those records go
through the same Powertools handler, so every line is structured JSON with the realm,
route and request id the middleware appends. The formatter redacts what must never
reach a log (SPEC §3): tokens and JWTs, tax numbers (AFM), and e-mail local parts.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "mitroo"

_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # JWTs (three base64url parts).
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[jwt]"),
    # argon2 / bcrypt hashes.
    (re.compile(r"\$(argon2(id|i|d)|2[aby])\$[^\s\"']+"), "[password-hash]"),
    # Long URL-safe secrets: link tokens, flow ids, states, refresh tokens (≥ 40 chars).
    (re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])"), "[secret]"),
    # Greek tax numbers: any run of exactly nine digits.
    (re.compile(r"(?<!\d)\d{6}(\d{3})(?!\d)"), r"******\1"),
    # E-mail addresses keep their first character and domain.
    (re.compile(r"([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})"), r"\1***@\2"),
)


def redact(text: str) -> str:
    """Mask secrets and personal numbers in an already formatted log line."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter with :func:`redact` applied to the finished line."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return redact(super().serialize(log))


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())
metrics = Metrics(namespace="Mitroo", service=SERVICE)


@functools.cache
def tracer() -> Any:
    """The X-Ray tracer, created on the first request, not at import.

    Importing ``aws_xray_sdk`` builds a recorder (and, outside Lambda, a sampler with
    botocore clients): about a quarter second that would otherwise land in every cold
    import. Only botocore (PynamoDB and SES calls) and requests (GSIS) are patched.
    """
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE, patch_modules=("botocore", "requests"))


_app_logger = logging.getLogger("chalicelib")
_app_logger.addHandler(logger.registered_handler)
_app_logger.setLevel(logger.log_level)
_app_logger.propagate = False

# Most requests record no business metric; Powertools warns on every such flush.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
