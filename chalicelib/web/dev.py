"""Local-mode only: the mail the emulator's SES received (``/_dev/mail``, ``/_dev/mailbox``).

``app.py`` registers this blueprint only when ``MITROO_DEV_ROUTES`` is set, so deployed
stages have no such route at all; the handlers also refuse outside local and test runs.
"""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint, Response

from chalicelib.errors import NotFound
from chalicelib.web.endpoints import Ctx, Reply, api, page
from chalicelib.web.html import render_page

bp = Blueprint(__name__)

_LINK = re.compile(r"https?://[^\s\"'<>]+")


def _messages(ctx: Ctx) -> list[dict[str, Any]]:
    mailbox = ctx.services.mailbox
    if mailbox is None or not ctx.services.settings.is_local:
        raise NotFound()
    recipient = (ctx.query("to") or "").casefold()
    messages = mailbox.messages()
    if recipient:
        messages = [m for m in messages if recipient in (address.casefold() for address in m["to"])]
    for message in messages:
        message["links"] = sorted(set(_LINK.findall((message.get("text") or "") + (message.get("html") or ""))))
    return messages


@api(
    bp,
    "/_dev/mail",
    summary="Sent mail, newest first (local mode only)",
    responses={200: None},
    tags=["dev"],
    query={"to": "only mail to this address"},
)
def mail(ctx: Ctx) -> Reply:
    return Reply(body={"messages": _messages(ctx)})


@page(bp, "/_dev/mailbox")
def mailbox(ctx: Ctx) -> Response:
    return render_page("mailbox.html", request=ctx.request, messages=_messages(ctx), home_url="/_dev/mailbox")
