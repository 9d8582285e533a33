"""Render a :class:`MailMessage` into subject, text and HTML from the template files.

Each message is three files per language under ``templates/``:
``{name}.{lang}.subject.txt``, ``{name}.{lang}.txt`` and ``{name}.{lang}.html``. HTML is
autoescaped; the text part is not (it is not HTML).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib.domain.mail import MailMessage

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@functools.cache
def _environments() -> tuple[Any, Any]:
    import jinja2  # imported on first mail, not at cold start

    loader = jinja2.FileSystemLoader(str(TEMPLATES))
    common: dict[str, Any] = {"loader": loader, "undefined": jinja2.StrictUndefined, "keep_trailing_newline": True}
    html_env = jinja2.Environment(autoescape=True, **common)
    text_env = jinja2.Environment(autoescape=False, **common)
    for env in (html_env, text_env):
        env.filters["datetime"] = _format_datetime
    return text_env, html_env


def _format_datetime(value: datetime) -> str:
    return value.strftime("%d/%m/%Y %H:%M UTC")


def render(message: MailMessage) -> RenderedMail:
    text_env, html_env = _environments()
    stem = f"{message.template}.{message.language}"
    context = dict(message.context)
    subject = text_env.get_template(f"{stem}.subject.txt").render(context)
    return RenderedMail(
        subject=" ".join(subject.split()),
        text=text_env.get_template(f"{stem}.txt").render(context),
        html=html_env.get_template(f"{stem}.html").render(context),
    )
