"""The password hasher: argon2id for new hashes; argon2 and bcrypt hashes from the old
e-IEP registry verified and flagged for an upgrade at the first login (SPEC §2.3, §3)."""

from __future__ import annotations

import bcrypt
import pytest
from argon2 import PasswordHasher as Argon2PasswordHasher
from argon2 import Type
from argon2.low_level import hash_secret

from chalicelib.adapters.argon2_hasher import Argon2Hasher, is_supported_hash

PASSWORD = "Kal0s!Kodikos"
# Cheap but real parameters, so the suite stays fast; the logic does not depend on cost.
TIME_COST, MEMORY_KIB = 1, 8192


@pytest.fixture(scope="module")
def hasher() -> Argon2Hasher:
    return Argon2Hasher(time_cost=TIME_COST, memory_kib=MEMORY_KIB, parallelism=1)


def _bcrypt(password: str, prefix: str) -> str:
    """A bcrypt hash with the given prefix; bcrypt never writes ``2y`` (PHP does), and the
    ``2y`` and ``2b`` algorithms are identical, so the prefix is swapped in."""
    made = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4, prefix=b"2a" if prefix == "2a" else b"2b"))
    return "$" + prefix + made.decode()[3:]


# --- argon2 -------------------------------------------------------------------------------------


def test_a_new_hash_is_argon2id_at_the_configured_cost_and_needs_no_rehash(hasher: Argon2Hasher) -> None:
    # Given a password hashed now
    stored = hasher.hash(PASSWORD)

    # Then it is argon2id with the configured parameters, verifies, and stays as it is
    assert stored.startswith(f"$argon2id$v=19$m={MEMORY_KIB},t={TIME_COST},p=1$")
    assert hasher.verify(stored, PASSWORD)
    assert not hasher.verify(stored, PASSWORD + "x")
    assert not hasher.needs_rehash(stored)


def test_a_legacy_argon2i_hash_of_the_old_version_verifies_and_needs_a_rehash(hasher: Argon2Hasher) -> None:
    # Given an argon2i hash of version 1.0 (v=16) at a weaker cost, as old libraries wrote
    stored = hash_secret(
        PASSWORD.encode(), b"legacy-salt-0001", time_cost=1, memory_cost=64, parallelism=1, hash_len=32, type=Type.I,
        version=16,
    ).decode()  # fmt: skip
    assert stored.startswith("$argon2i$v=16$m=64,t=1,p=1$")

    # Then the right password verifies, a wrong one does not, and login will upgrade it
    assert hasher.verify(stored, PASSWORD)
    assert not hasher.verify(stored, "wrong password")
    assert hasher.needs_rehash(stored)


@pytest.mark.parametrize("kind", [Type.ID, Type.D])
def test_an_argon2_hash_with_weaker_parameters_needs_a_rehash(hasher: Argon2Hasher, kind: Type) -> None:
    # Given an argon2 hash with less memory than configured
    stored = Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=kind).hash(PASSWORD)

    # Then it verifies and is flagged for an upgrade
    assert hasher.verify(stored, PASSWORD)
    assert hasher.needs_rehash(stored)


# --- bcrypt -------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["2a", "2b", "2y"])
def test_a_bcrypt_hash_verifies_and_always_needs_a_rehash(hasher: Argon2Hasher, prefix: str) -> None:
    # Given a bcrypt hash from the old registry
    stored = _bcrypt(PASSWORD, prefix)
    assert stored.startswith(f"${prefix}$04$")

    # Then only the right password verifies, and login will replace it with argon2id
    assert hasher.verify(stored, PASSWORD)
    assert not hasher.verify(stored, "Kal0s!Kodikoz")
    assert not hasher.verify(stored, "")
    assert hasher.needs_rehash(stored)


def test_a_password_longer_than_bcrypts_72_bytes_is_refused_without_an_exception(hasher: Argon2Hasher) -> None:
    # Given a bcrypt hash of a 72-byte password
    base = "a" * 72
    stored = _bcrypt(base, "2b")

    # When a longer password (the same 72 bytes and more) is tried
    # Then it is simply wrong: bcrypt>=4.1 raises for it, the hasher answers False
    assert hasher.verify(stored, base)
    assert not hasher.verify(stored, base + "b")
    assert not hasher.verify(stored, base + "ά")


def test_a_password_with_a_lone_surrogate_is_wrong_not_an_error(hasher: Argon2Hasher) -> None:
    assert not hasher.verify(_bcrypt(PASSWORD, "2b"), "\ud800")
    assert not hasher.verify(hasher.hash(PASSWORD), "\ud800")


# --- anything else ------------------------------------------------------------------------------

GARBAGE = [
    "",
    "garbage",
    "ü",
    "fake$5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
    "$argon2id$v=19$m=abc",
    "$argon2id$v=19$m=8,t=1,p=1$!!!!$????",
    "$argon2x$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
    "$2b$04$" + "!" * 53,
    "$2b$04$tooshort",
    "$2x$04$" + "a" * 53,
    "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",
    "$pbkdf2-sha256$29000$abc$def",
]


@pytest.mark.parametrize("stored", GARBAGE)
def test_an_unknown_or_damaged_hash_never_verifies_nor_asks_for_a_rehash(hasher: Argon2Hasher, stored: str) -> None:
    assert hasher.verify(stored, PASSWORD) is False
    assert hasher.needs_rehash(stored) is False


def test_a_well_formed_bcrypt_hash_with_a_damaged_salt_does_not_verify(hasher: Argon2Hasher) -> None:
    # Given the right shape but a salt bcrypt cannot decode (last salt character out of range)
    stored = "$2b$04$" + "z" * 53
    assert hasher.verify(stored, PASSWORD) is False


# --- which hashes an import may carry -----------------------------------------------------------


def test_is_supported_hash_accepts_the_standard_argon2_and_bcrypt_forms(hasher: Argon2Hasher) -> None:
    legacy_v16 = hash_secret(b"x", b"saltsaltsalt", time_cost=2, memory_cost=4096, parallelism=2, hash_len=32,
                             type=Type.I, version=16).decode()  # fmt: skip
    for stored in (
        hasher.hash(PASSWORD),
        Argon2PasswordHasher(type=Type.I).hash(PASSWORD),
        Argon2PasswordHasher(type=Type.D, memory_cost=65536, time_cost=3, parallelism=4).hash(PASSWORD),
        legacy_v16,
        legacy_v16.replace("v=16$", ""),  # libargon2 omits the version of 1.0 hashes
        _bcrypt(PASSWORD, "2a"),
        _bcrypt(PASSWORD, "2b"),
        _bcrypt(PASSWORD, "2y"),
        "$2y$10$" + "a" * 53,
    ):
        assert is_supported_hash(stored), stored


@pytest.mark.parametrize(
    "stored",
    [
        *GARBAGE,
        "$2b$31$" + "a" * 53,  # a cost no login can afford
        "$2b$03$" + "a" * 53,  # below bcrypt's minimum
        "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",  # 4 GiB per attempt
        "$argon2id$v=19$m=19456,t=1000,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        "$argon2id$v=19$m=19456,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        "$argon2id$v=19$m=4,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",  # below argon2's minimum memory
        " $2b$10$" + "a" * 53,
        "$2b$10$" + "a" * 53 + "\n",
    ],
)
def test_is_supported_hash_refuses_other_strings_and_unaffordable_costs(stored: str) -> None:
    assert not is_supported_hash(stored)
