"""The NSO desk (SPEC §2.11 «NSO desk (esep)»): what waits for the national support
organisation of the administrator's country — members, organisations, projects — with
«validate» and «reject» (a reason, mailed to the person) on each.

The decisions post to the API's ``/admin/…`` endpoints, form-encoded with CSRF and
``form_page``, and come back here; a refusal without a reason comes back with the
problem next to that item's reason field.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.domain.esep import NSO_ROLE
from chalicelib.errors import NotFound
from chalicelib.web.admin.access import admin_principal
from chalicelib.web.endpoints import Ctx, page
from chalicelib.web.esep.member_pages import esep_page, member_or_none

bp = Blueprint(__name__)


@page(bp, "/realms/{realm}/admin/desk")
def desk(ctx: Ctx) -> Response:
    if ctx.realm.identity_source != "eulogin":
        raise NotFound("This realm has no national support organisations.")
    principal = admin_principal(ctx, (NSO_ROLE,))
    if isinstance(principal, Response):
        return principal
    validation = ctx.flows.esep_validation
    view = validation.desk_view(validation.desk(ctx.realm, principal.account_id, principal.roles))
    # A refused decision names its item in its form_page (``?item=``): the problem is
    # shown next to that item's reason, not next to every item's.
    refused = (ctx.query("item") or "") if ctx.form_state is not None else ""
    return esep_page(ctx, "esep_desk.html", "desk", member_or_none(ctx, principal), desk=view, request_item=refused)
