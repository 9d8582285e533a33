"""Mail the flows ask to send; rendering and transport are adapters' business."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MailMessage:
    """A templated message: ``template`` names files under ``chalicelib/mail/templates``."""

    template: str
    to: str
    language: str
    context: dict[str, Any] = field(default_factory=dict)
    reply_to: str | None = None
