"""Who may open an administration page: the one gate every admin page goes through.

Every page under ``/realms/{r}/admin/`` asks :func:`admin_principal` and nothing else, so
a rule that concerns them all — the second factor SPEC §2.11 requires of administrators
(§2.9) — is added here once and holds for every console page at the same moment.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalice import Response

from chalicelib.errors import Forbidden, MfaEnrolmentRequired, Unauthorized
from chalicelib.flows.mfa.policy import require_second_factor
from chalicelib.flows.sessions import Principal
from chalicelib.realms import RealmConfig
from chalicelib.web.endpoints import Ctx
from chalicelib.web.html import redirect
from chalicelib.web.sessions import authenticate


def sign_in_page(realm: RealmConfig) -> str:
    """Where a person who is not signed in is sent: EU Login realms sign in from their
    start page (their password form is the pupils'), the others at ``/login``."""
    return f"/realms/{realm.id}" if realm.identity_source == "eulogin" else f"/realms/{realm.id}/login"


def admin_principal(ctx: Ctx, roles: Iterable[str]) -> Principal | Response:
    """The signed-in administrator holding one of ``roles``, or the redirect to sign in.

    Raises Forbidden for a signed-in person without any of the roles (the page says so
    rather than sending them round the sign-in again).
    """
    try:
        principal = authenticate(ctx)
    except Unauthorized:
        return redirect(sign_in_page(ctx.realm))
    wanted = tuple(roles)
    if not set(wanted) & set(principal.roles):
        raise Forbidden(f"This needs the role {' or '.join(wanted)}.")
    try:
        require_second_factor(ctx.realm, principal)
    except MfaEnrolmentRequired:  # the role needs a second factor: enrol (or confirm) one first
        return redirect(f"/realms/{ctx.realm.id}/account/security")
    return principal
