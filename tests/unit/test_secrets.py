"""Domain helpers for secrets and tax numbers: fingerprints, salted code fingerprints,
constant-time comparison, AFM check digits and masking."""

from __future__ import annotations

import pytest

from chalicelib.domain.identity import GsisIdentity, is_valid_afm, mask_afm
from chalicelib.domain.secrets import code_fingerprint, fingerprint, same

SALT = fingerprint("token")


def test_fingerprint_is_hex_sha256() -> None:
    assert fingerprint("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_fingerprint_hashes_unicode_as_utf8() -> None:
    assert fingerprint("ΑΦΜ") != fingerprint("AFM") and len(fingerprint("ΑΦΜ")) == 64


def test_code_fingerprint_depends_on_the_salt() -> None:
    assert code_fingerprint("123456", salt=SALT) != code_fingerprint("123456", salt=fingerprint("other"))


def test_code_fingerprint_ignores_surrounding_whitespace() -> None:
    assert code_fingerprint(" 123456\n", salt=SALT) == code_fingerprint("123456", salt=SALT)


def test_code_fingerprint_is_not_the_plain_fingerprint() -> None:
    assert code_fingerprint("123456", salt=SALT) != fingerprint("123456")


def test_same_compares_exactly() -> None:
    assert same(fingerprint("a"), fingerprint("a"))
    assert not same(fingerprint("a"), fingerprint("b"))
    assert not same("abc", "abcd")


@pytest.mark.parametrize("afm", ["090000045", "094014201", "100000090"])
def test_well_formed_afms_are_valid(afm: str) -> None:
    assert is_valid_afm(afm)


@pytest.mark.parametrize(
    "afm",
    [
        "090000046",  # wrong check digit
        "000000000",  # passes the arithmetic, but is no one's number
        "09000004",  # eight digits
        "0900000450",  # ten digits
        "09000004a",
        " 90000045",
        "",
        "٠٩٠٠٠٠٠٤٥",  # Arabic-Indic digits are digits, but not ASCII
    ],
)
def test_malformed_afms_are_invalid(afm: str) -> None:
    assert not is_valid_afm(afm)


def test_mask_afm_shows_only_the_last_three_digits() -> None:
    assert mask_afm("090000045") == "******045"


@pytest.mark.parametrize("afm", ["", "1", "12"])
def test_mask_afm_of_a_short_value_shows_nothing(afm: str) -> None:
    assert mask_afm(afm) == "***"


def test_public_fields_leave_out_the_taxisnet_login_name() -> None:
    identity = GsisIdentity("090000045", "ΠΑΠΑΔΟΠΟΥΛΟΥ", "ΜΑΡΙΑ", "ΓΕΩΡΓΙΟΣ", "ΕΛΕΝΗ", "1980", userid="mpapad")
    fields = identity.public_fields()
    assert "userid" not in fields and "mpapad" not in fields.values()
    assert fields["afm"] == "090000045" and fields["first_name"] == "ΜΑΡΙΑ"
