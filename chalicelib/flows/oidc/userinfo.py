"""The UserInfo endpoint's answer: the claims of the access token's scopes, fresh.

The token's signature, issuer and expiry are checked locally; then one read brings its
grant and its account (and, for ``etwinning``, the member record): a grant revoked by a
logout or a replay, an account that may no longer sign in, or a client removed since
stops the token even inside its fifteen minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.accounts import AccountStatus
from chalicelib.errors import OAuthRefused
from chalicelib.flows.oidc.claims import claims_for
from chalicelib.flows.oidc.tokens import OidcTokens
from chalicelib.ports import Clock, EsepRepository, OidcClientRepository, OidcLookup
from chalicelib.realms import RealmConfig


@dataclass(frozen=True)
class Userinfo:
    tokens: OidcTokens
    lookup: OidcLookup
    clients: OidcClientRepository
    esep: EsepRepository
    clock: Clock

    def claims(self, realm: RealmConfig, access_token: str) -> dict[str, Any]:
        """Raises OAuthRefused ``invalid_token`` (with why in its description), or
        ``insufficient_scope`` for a token without ``openid``."""
        token = self.tokens.read_access_token(realm, access_token)
        scopes = tuple(str(token.get("scope", "")).split())
        if "openid" not in scopes:
            raise OAuthRefused("insufficient_scope", "The access token was not issued for openid.")
        etwinning = "etwinning" in scopes and realm.identity_source == "eulogin"
        grant, account, member = self.lookup.userinfo_context(
            realm.id, str(token["sub"]), str(token["gid"]), with_member=etwinning
        )
        now = self.clock.now()
        if grant is None or account is None or grant.account_id != account.account_id or not grant.is_active(now):
            raise OAuthRefused("invalid_token", "The access token has been revoked.")
        if grant.client_id != token["client_id"] or self.clients.get(realm.id, grant.client_id) is None:
            raise OAuthRefused("invalid_token", "The access token has been revoked.")
        if account.status is not AccountStatus.ACTIVE or account.is_past_expiry(now.date()):
            raise OAuthRefused("invalid_token", "The account may no longer sign in.")
        organisations = (
            self.esep.get_organisations(list(member.organisation_ids)) if member is not None and etwinning else {}
        )
        granted = tuple(scope for scope in scopes if scope in grant.scopes)
        return claims_for(realm, account, granted, member=member, organisations=organisations)
