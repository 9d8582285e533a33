"""Realm esep's pages: the registration form after EU Login (seed 003 «Α. Εγγραφή»
steps 3–9 on one page) and the session a ``login`` flow opens.

The forms post to the API (``…/registrations``, ``…/organisations``) like every other
page's; a refused post comes back as this page with the values and the problems.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib.domain.esep import NSO_ROLE, ORGANISATION_KINDS
from chalicelib.errors import FlowUsed
from chalicelib.flows.esep.rules import ETWINNING_COUNTRIES
from chalicelib.web.binding import browser_binding
from chalicelib.web.endpoints import Ctx
from chalicelib.web.esep.names import country_choices, country_name
from chalicelib.web.oidc.browser import continuation_targets, take_next

NAVIGATION = ("home", "profile", "people", "contacts", "projects", "invitations")
"""The esep pages every esep page links to, in this order (the NSO's desk is added for
NSO administrators, the account page for everyone signed in)."""

ROLES = ("teacher", "head_teacher", "school_staff", "company_staff", "other")


def register_page(ctx: Ctx, form_page: Callable[..., Response]) -> Response:
    """``/realms/esep/register?flow=F[&q=…]``: the identity EU Login gave, the legacy
    offer, organisations matching ``q``, and the profile form."""
    flow_id = ctx.query("flow") or ""
    view = ctx.flows.esep_registration.view(ctx.realm, flow_id, browser_binding(ctx))
    if view["used"]:
        raise FlowUsed()
    query = (ctx.query("q") or "").strip()[:100]
    found = ctx.flows.esep_network.search_organisations(text=query, country=None) if query else []
    return form_page(
        ctx,
        "esep_register.html",
        flow_id=flow_id,
        identity=view["identity"],
        legacy=view["legacy_account"],
        query=query,
        found=found,
        roles=ROLES,
        countries=ETWINNING_COUNTRIES,
        country_choices=country_choices,
        country_name=country_name,
        kinds=ORGANISATION_KINDS,
    )


def member_summary(ctx: Ctx, account_id: str) -> dict[str, Any] | None:
    """What the home page shows of an eTwinning member (None elsewhere, and for pupils)."""
    if ctx.realm.identity_source != "eulogin":
        return None
    member = ctx.flows.esep_network.esep.get_member(account_id)
    if member is None:
        return None
    view = ctx.flows.esep_network.member_view(member)
    account = ctx.flows.esep_projects.accounts.get(ctx.realm.id, account_id)
    view["navigation"] = NAVIGATION
    view["is_nso"] = account is not None and NSO_ROLE in account.roles
    return view


def home_from_flow(ctx: Ctx, flow_id: str, form_page: Callable[..., Response]) -> Response:
    """The callback of a known ``sub`` lands on ``home?flow=F``: a page whose button
    POSTs the flow to ``…/sessions``, which opens the session (once). A GET consumes
    nothing and signs nobody in (a planted link is a login CSRF), and only the browser
    that made the flow can see it at all. When an application's authorization request
    sent the person to EU Login, the ``next`` kept across the round trip goes with the
    button's post, which then returns there (``web/oidc/browser.py``)."""
    view = ctx.flows.esep_registration.view(ctx.realm, flow_id, browser_binding(ctx))
    if view["used"] or view["intent"] != "login":
        raise FlowUsed()
    next_url, clear_next = take_next(ctx.request, ctx.realm)
    shown = form_page(
        ctx,
        "esep_continue.html",
        flow_id=flow_id,
        identity=view["identity"],
        next_url=next_url or "",
        form_targets=continuation_targets(ctx.flows, ctx.realm, next_url),
    )
    if clear_next:
        earlier = shown.headers.get("Set-Cookie") or []
        shown.headers["Set-Cookie"] = [*([earlier] if isinstance(earlier, str) else earlier), *clear_next]
    return shown
