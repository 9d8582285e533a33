"""authlib's authorization server on Chalice, as ``authlib.integrations.flask_oauth2``
does it for Flask: a request adapter, a response adapter, and the server they serve.

This module imports authlib, so only the provider's routes import it, inside their
handlers: ``import app`` stays cheap (SPEC §5 cold start). The server is built per
request from the realm and the flows of this container (a few registrations, no I/O);
the grants and endpoints it registers are in ``web/oidc/grants.py``.
"""

from __future__ import annotations

import base64
import json
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import OAuth2Payload
from chalice import Response

from chalicelib.flows.oidc.discovery import endpoint
from chalicelib.realms import RealmConfig

if TYPE_CHECKING:
    from chalicelib.flows.oidc.provider import OidcProvider
    from chalicelib.flows.oidc.tokens import Issued
    from chalicelib.flows.wiring import Flows

logging.getLogger("authlib").setLevel(logging.INFO)
"""authlib logs issued tokens and client secrets' checks at DEBUG ("Issue token %r"): its
loggers stop at INFO whatever the service's level, so no token reaches a log line."""

MAX_BODY = 64 * 1024
"""An OAuth request is a handful of short parameters; a larger body is refused."""


class TooLarge(Exception):
    """The body is beyond :data:`MAX_BODY`."""


class MalformedBody(Exception):
    """The body is not a UTF-8 form (or repeats a parameter, RFC 6749 §3.1)."""


class ChalicePayload(OAuth2Payload):
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class ChaliceOAuth2Request(OAuth2Request):
    """A Chalice request as authlib sees it: parameters from the query (GET) or the
    form body (POST), the headers, and the realm and flows the grants work with."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Any,
        query: list[tuple[str, str]],
        form: list[tuple[str, str]],
        realm: RealmConfig,
        provider: OidcProvider,
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._args = dict(query)
        self._form = dict(form)
        self.payload = ChalicePayload(form if method == "POST" else query)
        self.realm = realm
        self.provider = provider
        self.issued: Issued | None = None
        """The grant a code redemption or a refresh rotation produced (for minting)."""

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class Headers(dict[str, str]):
    """Request headers with case-insensitive lookup, as authlib reads them."""

    def __init__(self, headers: Any) -> None:
        super().__init__({str(key).lower(): str(value) for key, value in dict(headers or {}).items()})

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


def sanitised_headers(headers: Any) -> Headers:
    """The headers, without HTTP Basic credentials that do not decode as UTF-8 text
    (authlib would fail on them with an exception instead of ``invalid_client``)."""
    clean = Headers(headers)
    scheme, _, value = (clean.get("authorization") or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            del clean["authorization"]
    return clean


def query_pairs(request: Any) -> list[tuple[str, str]]:
    params = request.query_params
    if not params:
        return []
    if hasattr(params, "getlist"):
        return [(key, value) for key in params for value in params.getlist(key)]
    return [(str(key), str(value)) for key, value in dict(params).items()]


def form_pairs(request: Any, *, strict: bool = False) -> list[tuple[str, str]]:
    """The form body's parameters. Raises TooLarge, and MalformedBody for a body that is
    not UTF-8 form data or (``strict``: token-type endpoints) repeats a parameter."""
    body: bytes = request.raw_body or b""
    if len(body) > MAX_BODY:
        raise TooLarge()
    if not body:
        return []
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise MalformedBody("Send the parameters as application/x-www-form-urlencoded.")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise MalformedBody("The form body could not be decoded.") from None
    if strict and len({key for key, _ in pairs}) != len(pairs):
        raise MalformedBody("A parameter is repeated.")
    return pairs


class ProviderServer(AuthorizationServer):
    """One realm's authorization server over this container's flows."""

    def __init__(self, realm: RealmConfig, flows: Flows) -> None:
        super().__init__(scopes_supported=None)  # unknown scopes are ignored (OIDC Core §3.1.2.1)
        self.realm = realm
        self.flows = flows
        self.provider = flows.oidc
        self.issuer = flows.links.issuer(realm.id)

    def endpoint_url(self, name: str) -> str:
        return endpoint(self.flows.links, self.realm.id, name)

    # -- authlib's framework hooks --------------------------------------------------------

    def query_client(self, client_id: str | None) -> Any:
        from chalicelib.web.oidc.grants import AuthlibClient

        client = self.provider.authorization.client(self.realm, client_id)
        return AuthlibClient(client, self.realm) if client is not None else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Nothing to save: the grant was written when the code was redeemed or the
        refresh token rotated, and access tokens are signed, not stored."""

    def create_oauth2_request(self, request: Any) -> Any:
        return request

    def create_json_request(self, request: Any) -> Any:  # no JSON endpoints here
        raise NotImplementedError

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        return oauth_response(status, body, headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """authlib's signals (client authenticated, token revoked): nothing listens."""

    def build_request(self, request: Any, name: str, *, form: list[tuple[str, str]] | None = None) -> Any:
        """Our request adapter for the Chalice request, addressed as endpoint ``name``."""
        query = query_pairs(request)
        return ChaliceOAuth2Request(
            method=str(request.method).upper(),
            uri=self.endpoint_url(name),
            headers=sanitised_headers(request.headers),
            query=query,
            form=form if form is not None else [],
            realm=self.realm,
            provider=self.provider,
        )


def oauth_response(status: int, body: Any, headers: list[tuple[str, str]] | dict[str, str]) -> Response:
    """RFC 6749 answers: JSON (``no-store``), or a bare redirect."""
    merged: dict[str, Any] = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    merged.update(dict(headers) if isinstance(headers, list) else headers)
    if isinstance(body, dict):
        merged["Content-Type"] = "application/json"
        return Response(body=json.dumps(body, ensure_ascii=False), status_code=status, headers=merged)
    return Response(body=body or "", status_code=status, headers=merged)


def oauth_error(status: int, error: str, description: str, **headers: str) -> Response:
    return oauth_response(status, {"error": error, "error_description": description}, dict(headers))


def build_server(realm: RealmConfig, flows: Flows) -> ProviderServer:
    """The realm's server with Mitroo's grants, client authentication and endpoints."""
    from chalicelib.web.oidc.grants import register

    server = ProviderServer(realm, flows)
    register(server)
    return server
