"""Access tokens: RS256 JWTs signed and verified with joserfc.

joserfc is authlib's JOSE implementation (authlib depends on it; ``authlib.jose`` is
deprecated in its favour), so this is still the authlib stack, not an extra library.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from chalicelib.domain.tokens import ACCESS_TOKEN_AUDIENCE
from chalicelib.errors import Unauthorized

ALGORITHM = "RS256"


def generate_private_key_pem() -> str:
    """A fresh RSA key (local and test runs only; deployed stages load theirs)."""
    return RSAKey.generate_key(2048).as_pem(private=True).decode("ascii")


class JwtSigner:
    """Signs with one private key; publishes its public half as a JWKS with a ``kid``."""

    def __init__(self, private_key_pem: str) -> None:
        self._key = RSAKey.import_key(private_key_pem)
        if not self._key.is_private:
            raise ValueError("the signing key must be a private RSA key")
        self._kid = self._key.thumbprint()

    def sign(self, claims: dict[str, Any], *, typ: str = "at+jwt") -> str:
        header = {"alg": ALGORITHM, "typ": typ, "kid": self._kid}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM])

    def verify(
        self,
        token: str,
        *,
        issuer: str,
        now: datetime,
        audience: str | None = ACCESS_TOKEN_AUDIENCE,
        typ: str = "at+jwt",
        check_expiry: bool = True,
    ) -> dict[str, Any]:
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, **({"value": audience} if audience is not None else {})},
            "sub": {"essential": True},
        }
        if typ == "at+jwt":
            options["sid"] = {"essential": True}
        if check_expiry:
            options["exp"] = {"essential": True}
        registry = jwt.JWTClaimsRegistry(now=int(now.timestamp()), **options)
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            if decoded.header.get("typ") != typ:
                raise Unauthorized("The token is not valid.")
            claims = dict(decoded.claims)
            if not check_expiry:
                claims.pop("exp", None)  # an ID token hint may have expired (RP-Initiated Logout §2)
            registry.validate(claims)
        except (JoseError, ValueError, TypeError):
            raise Unauthorized("The access token is not valid.") from None
        return dict(decoded.claims)

    def jwks(self) -> dict[str, Any]:
        public = dict(self._key.as_dict(private=False))
        public.update({"kid": self._kid, "use": "sig", "alg": ALGORITHM})
        return {"keys": [public]}
