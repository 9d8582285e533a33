"""Realm esep's pages: the registration form after EU Login (seed 003 «Α. Εγγραφή»
steps 3–9 on one page) and the session a ``login`` flow opens.

The form posts here, not to the JSON API: a browser sends one organisation (picked
from a search on the same page) and subjects as one line, which this page turns into
the API's registration request.
"""

from __future__ import annotations

from collections.abc import Callable

from chalice import Blueprint, Response

from chalicelib.flows.errors import FlowUsed
from chalicelib.flows.esep_network import ORGANISATION_KINDS
from chalicelib.flows.esep_registration import EsepRegistrationRequest
from chalicelib.flows.esep_rules import ETWINNING_COUNTRIES
from chalicelib.flows.sessions import TokenPair
from chalicelib.web.cookies import build_cookie
from chalicelib.web.endpoints import Ctx, page
from chalicelib.web.html import redirect
from chalicelib.web.inputs import raw_fields
from chalicelib.web.sessions import REFRESH_COOKIE, SESSION_COOKIE

bp = Blueprint(__name__)

ROLES = ("teacher", "head_teacher", "school_staff", "company_staff", "other")


def register_page(ctx: Ctx, form_page: Callable[..., Response]) -> Response:
    """``/realms/esep/register?flow=F[&q=…]``: the identity EU Login gave, the legacy
    offer, organisations matching ``q``, and the profile form."""
    flow_id = ctx.query("flow") or ""
    view = ctx.flows.esep_registration.view(ctx.realm, flow_id)
    if view["used"]:
        raise FlowUsed()
    query = (ctx.query("q") or "").strip()
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
        countries=sorted(ETWINNING_COUNTRIES),
        kinds=ORGANISATION_KINDS,
    )


@page(bp, "/realms/{realm}/etwinning/register", methods=["POST"], form=True)
def register(ctx: Ctx) -> Response:
    fields = raw_fields(ctx.request)
    organisation = str(fields.get("organisation_id") or "").strip()
    request = EsepRegistrationRequest(
        flow=str(fields.get("flow") or ""),
        role=str(fields.get("role") or ""),
        country=str(fields.get("country") or ""),
        join_etwinning=fields.get("join_etwinning") == "on",
        organisation_ids=[organisation] if organisation else [],
        available_for_projects=fields.get("available_for_projects") == "on",
        subjects=[part.strip() for part in str(fields.get("subjects") or "").split(",") if part.strip()],
        migrate_legacy=fields.get("migrate_legacy") == "on",
    )
    registered = ctx.flows.esep_registration.register(ctx.realm, request)
    return _signed_in(ctx, registered.tokens)


def home_from_flow(ctx: Ctx, flow_id: str) -> Response:
    """The callback of a known ``sub`` lands on ``home?flow=F``: the flow opens the
    session (once) and the browser continues without it in the address."""
    return _signed_in(ctx, ctx.flows.esep_registration.login(ctx.realm, flow_id))


def _signed_in(ctx: Ctx, tokens: TokenPair) -> Response:
    cookies = [
        build_cookie(SESSION_COOKIE, tokens.access_token, max_age=tokens.expires_in),
        build_cookie(
            REFRESH_COOKIE,
            tokens.refresh_token,
            path=f"/api/v1/realms/{ctx.realm.id}/sessions",
            max_age=tokens.refresh_expires_in,
        ),
    ]
    return redirect(f"/realms/{ctx.realm.id}/home", cookies=cookies)
