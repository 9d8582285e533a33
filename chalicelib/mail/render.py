"""Render a :class:`MailMessage` into subject, text and HTML from the template files.

Each message is three files under ``templates/``: ``{name}.subject.txt``, ``{name}.txt``
and ``{name}.html``; their words come from the same catalogues as the pages
(``chalicelib/messages``, keys ``mail.…``) in the message's language. HTML is
autoescaped; the text part is not (it is not HTML).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib.domain.mail import MailMessage
from chalicelib.i18n import DEFAULT, LANGUAGES, Translator

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
    stem = message.template
    language = message.language if message.language in LANGUAGES else DEFAULT
    context = {**message.context, "t": Translator(language), "lang": language}
    subject = text_env.get_template(f"{stem}.subject.txt").render(context)
    return RenderedMail(
        subject=" ".join(subject.split()),
        text=text_env.get_template(f"{stem}.txt").render(context),
        html=html_env.get_template(f"{stem}.html").render(context),
    )
