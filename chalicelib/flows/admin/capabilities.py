"""Who may do what in the administration consoles (SPEC §2.11), realm by realm.

``admin`` may do everything its realm offers; ``secretariat`` the accounts, the registry
and the jobs of a registrar realm (NTUA); ``helpdesk`` the tickets of a realm with a
support desk; ``nso`` the eTwinning validation of its own country (the desk). A
capability a realm does not have is not there at all (404), for anyone; one it has,
asked for by someone without a role for it, is refused (403).

Staff act on the people of their realm, not on each other: only an ``admin`` acts on an
account that holds an administrative role (a secretariat member cannot disable, reset
or unlock an administrator), and nobody disables, re-roles or strips the factors of
their own account (an administrator cannot lock the realm out by mistake, and cannot
quietly widen their own authority).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.errors import Forbidden, NotFound
from chalicelib.realms import RealmConfig

ADMIN = "admin"
SECRETARIAT = "secretariat"
HELPDESK = "helpdesk"
NSO = "nso"
STAFF_ROLES = (ADMIN, SECRETARIAT, HELPDESK, NSO)


@dataclass(frozen=True)
class Staff:
    """The member of staff acting (from their verified session)."""

    account_id: str
    roles: tuple[str, ...]


class Capability(enum.StrEnum):
    ACCOUNTS = "accounts"
    """Find accounts, see one, disable/enable, reset, resend, unlock, remove factors."""
    AUDIT = "audit"
    ROLES = "roles"
    REGISTRAR = "registrar"
    """Create one account, renew (expiry), the student registry, spreadsheet jobs."""
    TICKETS = "tickets"
    DESK = "desk"


def roles_for(realm: RealmConfig, capability: Capability) -> tuple[str, ...]:
    """The roles that may use ``capability`` in ``realm``; empty when the realm has it not."""
    registrar = realm.registrar is not None
    match capability:
        case Capability.ACCOUNTS | Capability.AUDIT:
            return (ADMIN, SECRETARIAT) if registrar else (ADMIN,)
        case Capability.ROLES:
            return (ADMIN,)
        case Capability.REGISTRAR:
            return (ADMIN, SECRETARIAT) if registrar else ()
        case Capability.TICKETS:
            return (ADMIN, HELPDESK) if realm.support is not None else ()
        case Capability.DESK:
            return (NSO,) if realm.identity_source == "eulogin" else ()
    return ()


def require_available(realm: RealmConfig, capability: Capability) -> tuple[str, ...]:
    """The roles of ``capability`` in ``realm``. Raises NotFound when the realm has it not."""
    roles = roles_for(realm, capability)
    if not roles:
        raise NotFound(f"This realm has no {capability} console.")
    return roles


def capabilities_of(realm: RealmConfig, roles: Iterable[str]) -> list[Capability]:
    """What a person holding ``roles`` may do in ``realm`` (the start page lists these)."""
    held = set(roles)
    return [capability for capability in Capability if held & set(roles_for(realm, capability))]


def assignable_roles(realm: RealmConfig) -> tuple[str, ...]:
    """The administrative roles an admin may give in ``realm``."""
    roles = [ADMIN]
    if realm.registrar is not None:
        roles.append(SECRETARIAT)
    if realm.support is not None:
        roles.append(HELPDESK)
    if realm.identity_source == "eulogin":
        roles.append(NSO)
    return tuple(roles)


def require_authority_over(
    actor_id: str, actor_roles: Iterable[str], target_id: str, target_roles: Iterable[str], *, self_allowed: bool
) -> None:
    """Refuse an action on another member of staff by anyone but an admin, and on one's
    own account unless ``self_allowed``.

    Raises
    ------
    Forbidden
        with the reason.
    """
    if actor_id == target_id and not self_allowed:
        raise Forbidden("You cannot do this to your own account; ask another administrator.")
    if set(target_roles) & set(STAFF_ROLES) and ADMIN not in set(actor_roles):
        raise Forbidden("Only an administrator acts on the account of a member of staff.")
