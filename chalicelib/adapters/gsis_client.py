"""GSIS (Taxisnet) OAuth2 client: authorization code, ``client_secret_post``, XML userinfo.

ANCHORS §1: GSIS is plain OAuth2 (no OIDC, no id_token). Its userinfo answers XML with
space-padded attribute values, Greek sometimes as numeric character references, and JSON
instead of XML when something goes wrong. The XML is parsed with defusedxml, so entity
expansion and external entities are refused. ``taxid`` (the AFM) is the identity key;
the Taxisnet login name ``userid`` is kept only for reference.
"""

from __future__ import annotations

import html
import logging
from typing import Any
from xml.etree.ElementTree import Element

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from chalicelib.domain.identity import GsisIdentity, is_valid_afm
from chalicelib.errors import IdentityProviderError

log = logging.getLogger(__name__)

MAX_USERINFO_BYTES = 64 * 1024
_FIELDS = {
    "afm": "taxid",
    "last_name": "lastname",
    "first_name": "firstname",
    "father_name": "fathername",
    "mother_name": "mothername",
    "birth_year": "birthyear",
}


class GsisClient:
    """Talks to ``{base}/oauth/authorize``, ``{base}/oauth/token``, ``{base}/userinfo``."""

    def __init__(
        self, *, base_url: str, client_id: str, client_secret: str, redirect_uri: str, timeout: float = 10.0
    ) -> None:
        self._base = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._timeout = timeout

    def _session(self) -> OAuth2Session:
        return OAuth2Session(
            client_id=self._client_id,
            client_secret=self._client_secret,
            scope="read",
            redirect_uri=self._redirect_uri,
            token_endpoint_auth_method="client_secret_post",
        )

    def authorization_url(self, state: str) -> str:
        url, _ = self._session().create_authorization_url(f"{self._base}/oauth/authorize", state=state)
        return str(url)

    def logout_url(self, return_url: str) -> str:
        """GSIS logout must happen in the browser (a server-side GET does nothing)."""
        return f"{self._base}/logout/{self._client_id}/?{requests.compat.urlencode({'url': return_url})}"

    def fetch_identity(self, code: str) -> GsisIdentity:
        session = self._session()
        try:
            session.fetch_token(
                f"{self._base}/oauth/token",
                grant_type="authorization_code",
                code=code,
                timeout=self._timeout,
            )
            response = session.get(
                f"{self._base}/userinfo", params={"format": "xml"}, timeout=self._timeout, stream=True
            )
            body = response.raw.read(MAX_USERINFO_BYTES + 1, decode_content=True)
        except (AuthlibBaseError, requests.RequestException, ValueError) as exc:
            log.warning("GSIS token or userinfo request failed: %s", type(exc).__name__)
            raise IdentityProviderError("GSIS could not be reached or refused the sign-in.") from None
        finally:
            session.close()
        if response.status_code != 200:
            log.warning("GSIS userinfo answered HTTP %s", response.status_code)
            raise IdentityProviderError("GSIS refused to share your details.")
        if len(body) > MAX_USERINFO_BYTES:
            raise IdentityProviderError("GSIS answered with an oversized document.")
        return parse_userinfo(body, response.headers.get("Content-Type", ""))


def parse_userinfo(body: bytes, content_type: str = "") -> GsisIdentity:
    """Read a GSIS userinfo document into an identity.

    Raises
    ------
    IdentityProviderError
        a JSON body (GSIS's way of reporting errors), malformed or hostile XML, or a
        document without a tax number.
    """
    text = body.lstrip()
    if "json" in content_type.lower() or text[:1] in (b"{", b"["):
        log.warning("GSIS userinfo answered JSON (an error report)")
        raise IdentityProviderError("GSIS reported an error instead of your details.")
    try:
        root = fromstring(text, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        log.warning("GSIS userinfo was not well-formed, safe XML")
        raise IdentityProviderError("GSIS answered with an unreadable document.") from None
    element = root if root.tag == "userinfo" else root.find(".//userinfo")
    if element is None:
        raise IdentityProviderError("GSIS answered without user information.")
    values = {name: _clean(element, attribute) for name, attribute in _FIELDS.items()}
    if not is_valid_afm(values["afm"]):
        log.warning("GSIS answered without a valid tax number")
        raise IdentityProviderError("GSIS answered without a valid tax number.")
    return GsisIdentity(userid=_clean(element, "userid"), **values)


def _clean(element: Element, attribute: str) -> str:
    """Trim padding and decode entities that survived XML parsing (double-encoded ones)."""
    raw: Any = element.get(attribute, "")
    return " ".join(html.unescape(str(raw)).split())
