"""The realm's OpenID Provider as the web layer sees it: its flows in one place."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.flows.oidc.authorization import Authorization
from chalicelib.flows.oidc.backchannel import BackchannelLogout
from chalicelib.flows.oidc.clients import ClientRegistry
from chalicelib.flows.oidc.tokens import OidcTokens
from chalicelib.flows.oidc.userinfo import Userinfo
from chalicelib.flows.session_ending import SessionEnding
from chalicelib.ports import Clock, ConsentRepository, OidcClientRepository, OidcGrantRepository, TokenSigner


@dataclass(frozen=True)
class OidcProvider:
    clients: ClientRegistry
    authorization: Authorization
    tokens: OidcTokens
    userinfo: Userinfo
    backchannel: BackchannelLogout
    ending: SessionEnding
    consents: ConsentRepository
    client_store: OidcClientRepository
    grants: OidcGrantRepository
    signer: TokenSigner
    clock: Clock
