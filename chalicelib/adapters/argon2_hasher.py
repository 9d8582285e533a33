"""Password hashing with argon2id (OWASP: m=19 MiB, t=2, p=1 unless configured stronger).

New hashes are always argon2id at the configured cost. Verification also accepts what
the old e-IEP registry stored (SPEC §2.3): argon2 hashes of any variant and cost, and
bcrypt hashes (``$2a$``, ``$2b$``, ``$2y$``). argon2-cffi cannot verify bcrypt at all, so
those go to the ``bcrypt`` package. ``needs_rehash`` is True for every bcrypt hash and
for argon2 hashes weaker than (or otherwise different from) the configured parameters,
so the login flow replaces them with argon2id at the first successful login.
"""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from chalicelib.domain.password_hashes import hash_scheme, is_supported_hash

__all__ = ["BCRYPT_MAX_PASSWORD_BYTES", "Argon2Hasher", "is_supported_hash"]

BCRYPT_MAX_PASSWORD_BYTES = 72
"""bcrypt only ever looked at the first 72 bytes; bcrypt>=4.1 refuses longer input."""


class Argon2Hasher:
    def __init__(self, *, time_cost: int = 2, memory_kib: int = 19456, parallelism: int = 1) -> None:
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)
        # A real hash at the configured cost, so unknown users cost exactly one verify.
        self._decoy = self._argon2.hash("decoy password for unknown users")

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """True only for the right password; False for a wrong one or an unusable hash."""
        scheme = hash_scheme(stored_hash)
        if scheme == "bcrypt":
            return _verify_bcrypt(stored_hash, password)
        if scheme is None:
            return False
        try:
            return self._argon2.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError):
            # ValueError: a hash of the right shape whose salt or digest does not decode.
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash should be replaced by one at the configured argon2id cost.

        Never True for a hash that cannot be read: a garbage hash cannot have verified, and
        the caller must not be sent into rehashing by it.
        """
        scheme = hash_scheme(stored_hash)
        if scheme != "argon2":
            return scheme == "bcrypt"
        try:
            return self._argon2.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return False

    def waste_time(self, password: str) -> None:
        self.verify(self._decoy, password)


def _verify_bcrypt(stored_hash: str, password: str) -> bool:
    """Check a password against a legacy bcrypt hash.

    The bcrypt package is imported here, on first use: only legacy accounts that have not
    logged in since the import need it, and the API's cold start stays small (SPEC §5).

    A password longer than 72 bytes is refused rather than cut: the old registry's
    behaviour with such input is unknown (some stacks truncated, some refused), and bcrypt
    itself now raises for it. The owner can still reset the password.
    """
    import bcrypt

    try:
        secret = password.encode("utf-8")
        if len(secret) > BCRYPT_MAX_PASSWORD_BYTES:
            return False
        return bool(bcrypt.checkpw(secret, stored_hash.encode("ascii")))
    except ValueError:  # "Invalid salt", lone surrogates and the like: never a match
        return False
