"""Who may use the administration consoles: the one gate every admin route goes through.

Every operation under ``/api/v1/realms/{r}/admin/`` and every page under
``/realms/{r}/admin/`` asks :func:`authorise` (the API through :func:`require_role`,
the pages through :func:`admin_principal`) and nothing else. A rule that concerns them
all — the second factor SPEC §2.11 requires of administrators (§2.9) — is therefore
added in :func:`authorise` once and holds for every console route at the same moment.

Roles are checked here, in our code: API Gateway authorizers are not exercised by
``chalice local`` or the test client, and a token's roles are only as fresh as the
session (changes of roles end the person's sessions, ``flows/admin/accounts.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from chalice import Response

from chalicelib.errors import Forbidden, MfaEnrolmentRequired, Unauthorized
from chalicelib.flows.admin.capabilities import Capability, Staff, require_available
from chalicelib.flows.mfa.policy import require_second_factor
from chalicelib.flows.sessions import Principal
from chalicelib.realms import RealmConfig
from chalicelib.web.endpoints import Ctx
from chalicelib.web.html import redirect
from chalicelib.web.sessions import authenticate


def authorise(ctx: Ctx, roles: Iterable[str]) -> Principal:
    """The caller, signed in to this realm (a live session) with one of ``roles``.

    Raises
    ------
    Unauthorized
        no valid token or session cookie for this realm (401).
    Forbidden
        signed in, but without any of the roles (403).
    MfaEnrolmentRequired
        the role needs a second factor (SPEC §2.9) and this session has not passed one
        (403); checked after the roles, so someone without them hears "forbidden".
    """
    principal = authenticate(ctx)
    wanted = tuple(roles)
    if not set(wanted) & set(principal.roles):
        raise Forbidden(f"This needs the role {' or '.join(wanted)}.")
    require_second_factor(ctx.realm, principal)
    return principal


def require_role(ctx: Ctx, *roles: str) -> Principal:
    """:func:`authorise` for API operations (``require_role(ctx, "admin", "secretariat")``)."""
    return authorise(ctx, roles)


def staff(ctx: Ctx, capability: Capability) -> Staff:
    """The caller as a member of staff who may use ``capability`` here (:func:`authorise`
    with the capability's roles). Raises NotFound when this realm has no such console."""
    principal = authorise(ctx, require_available(ctx.realm, capability))
    return Staff(principal.account_id, principal.roles)


def staff_page(ctx: Ctx, capability: Capability) -> Staff | Response:
    """:func:`staff` for pages: a person who is not signed in is sent to sign in."""
    roles = require_available(ctx.realm, capability)
    principal = admin_principal(ctx, roles)
    if isinstance(principal, Response):
        return principal
    return Staff(principal.account_id, principal.roles)


def sign_in_page(realm: RealmConfig) -> str:
    """Where a person who is not signed in is sent: EU Login realms sign in from their
    start page (their password form is the pupils'), the others at ``/login``."""
    return f"/realms/{realm.id}" if realm.identity_source == "eulogin" else f"/realms/{realm.id}/login"


def admin_principal(ctx: Ctx, roles: Iterable[str]) -> Principal | Response:
    """:func:`authorise` for pages: a person who is not signed in is sent to sign in.

    Raises Forbidden for a signed-in person without any of the roles (the page says so
    rather than sending them round the sign-in again). A role that needs a second factor
    the session has not passed leads to the Security page, to enrol (or confirm) one.
    """
    try:
        return authorise(ctx, roles)
    except Unauthorized:
        return redirect(sign_in_page(ctx.realm))
    except MfaEnrolmentRequired:
        return redirect(f"/realms/{ctx.realm.id}/account/security")
