"""Request and response models of the admin API of OpenID clients (SPEC §2.8)."""

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.oidc import OidcClient

Uri = Annotated[str, Field(max_length=2000)]


class OidcClientInput(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: Annotated[str, Field(min_length=1, max_length=100, description="Shown to people on the consent page.")]
    redirect_uris: Annotated[list[Uri], Field(min_length=1, max_length=20, description="Matched exactly.")]
    public: bool = Field(False, description="A browser or native app: no secret, PKCE required.")
    trusted: bool = Field(False, description="The realm's own application: no consent page.")
    require_pkce: bool = False
    auth_method: Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] | None = Field(
        None, description="Token endpoint authentication (default client_secret_basic; none if public)."
    )
    scopes: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=8)] = Field(
        default_factory=list,
        description="Realm scopes this client may receive (eiep: gsis; ntua: affiliation; esep: etwinning).",
    )
    post_logout_redirect_uris: Annotated[list[Uri], Field(max_length=20)] = Field(default_factory=list)
    backchannel_logout_uri: Uri | None = None
    jwks_uri: Uri | None = Field(None, description="private_key_jwt: where the client publishes its keys.")
    refresh_tokens: bool = Field(True, description="A refresh token with every code exchange.")


class OidcClientOutput(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)

    client_id: str
    name: str
    redirect_uris: list[str]
    auth_method: str
    public: bool
    trusted: bool
    require_pkce: bool
    scopes: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None = None
    jwks_uri: str | None = None
    refresh_tokens: bool
    created_at: datetime
    updated_at: datetime
    client_secret: str | None = Field(None, description="Answered once, when created or rotated; stored hashed.")

    @classmethod
    def of(cls, client: OidcClient, secret: str | None = None) -> Self:
        return cls(
            client_id=client.client_id,
            name=client.name,
            redirect_uris=list(client.redirect_uris),
            auth_method=client.auth_method,
            public=client.public,
            trusted=client.trusted,
            require_pkce=client.require_pkce,
            scopes=list(client.scopes),
            post_logout_redirect_uris=list(client.post_logout_redirect_uris),
            backchannel_logout_uri=client.backchannel_logout_uri,
            jwks_uri=client.jwks_uri,
            refresh_tokens=client.refresh_tokens,
            created_at=client.created_at,
            updated_at=client.updated_at,
            client_secret=secret,
        )


class OidcClientList(BaseModel):
    clients: list[OidcClientOutput]
