"""What each scope releases about a person (SPEC §2.8), and nothing more.

``sub`` is the account id: stable across e-mail and username changes, and never the
e-mail. The grant's scopes were already narrowed to what the client is registered for
(realm scopes such as ``gsis``, which releases the AFM, only for clients allowed them),
so this only maps scopes to claims.

``email_verified`` says whether the address was proven by following a mailed link or a
federated sign-in: an e-IEP account is activated from its mail, an NTUA account gets its
first password through a link sent there, an ESEP address comes from EU Login. An
imported or registrar account that never used such a link reports ``false``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.esep import Member, Organisation
from chalicelib.realms import RealmConfig


def names(account: Account) -> tuple[str, str]:
    """(given name, family name): GSIS or the registrar's record, else EU Login's."""
    if account.identity is not None and (account.identity.first_name or account.identity.last_name):
        return account.identity.first_name, account.identity.last_name
    return account.extra.get("given_name", ""), account.extra.get("family_name", "")


def email_verified(realm: RealmConfig, account: Account) -> bool:
    if account.status is not AccountStatus.ACTIVE:
        return False
    if realm.identity_source == "eulogin":
        return True
    return account.activated_at is not None or bool(account.password_hash)


def claims_for(
    realm: RealmConfig,
    account: Account,
    scopes: Iterable[str],
    *,
    member: Member | None = None,
    organisations: Mapping[str, Organisation] | None = None,
) -> dict[str, Any]:
    """The claims of ``scopes`` (``openid`` always gives ``sub``)."""
    wanted = set(scopes)
    claims: dict[str, Any] = {"sub": account.account_id}
    if "profile" in wanted:
        given, family = names(account)
        claims.update(
            name=" ".join(part for part in (given, family) if part),
            given_name=given,
            family_name=family,
            preferred_username=account.username,
            locale=account.language,
        )
    if "email" in wanted:
        claims.update(email=account.email, email_verified=email_verified(realm, account))
    if "roles" in wanted:
        claims["roles"] = list(account.roles)
    if "gsis" in wanted and realm.identity_source == "gsis":
        claims["gsis_verified"] = account.gsis_verified
        claims["afm"] = account.identity.afm if account.identity is not None and account.identity.afm else None
    if "affiliation" in wanted and realm.identity_source == "registrar":
        claims["affiliation"] = account.affiliation
        claims["expires_on"] = account.expires_on.isoformat() if account.expires_on else None
    if "etwinning" in wanted and realm.identity_source == "eulogin":
        if member is None:
            claims.update(role=None, country=None, etwinning_status=None, organisations=[])
        else:
            known = organisations or {}
            claims.update(
                role=str(member.role),
                country=member.country,
                etwinning_status=str(member.status),
                organisations=[
                    {"id": oid, "name": known[oid].name if oid in known else None} for oid in member.organisation_ids
                ],
            )
    return claims
