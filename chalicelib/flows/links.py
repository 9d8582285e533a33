"""Public URLs the flows put into mail and redirects, all under ``MITROO_PUBLIC_URL``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Links:
    base_url: str

    def page(self, realm: str, page: str, **query: str) -> str:
        """``/realms/{realm}/{page}?…`` — pages that browsers open."""
        url = f"{self.base_url}/realms/{realm}/{page}"
        return f"{url}?{urlencode(query)}" if query else url

    def gsis_callback(self) -> str:
        """The redirect URI registered with GSIS (SPEC §4)."""
        return f"{self.base_url}/realms/eiep/gsis/callback"

    def eulogin_callback(self) -> str:
        """The redirect URI registered with EU Login (SPEC §4)."""
        return f"{self.base_url}/realms/esep/eulogin/callback"

    def issuer(self, realm: str) -> str:
        """The ``iss`` of the realm's access tokens; its JWKS lives under it."""
        return f"{self.base_url}/realms/{realm}"
