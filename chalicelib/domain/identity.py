"""Identities asserted by external providers, and the Greek tax number (AFM)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class GsisIdentity:
    """What GSIS (Taxisnet) asserts about a person.

    GSIS gives no e-mail address; ``afm`` (its ``taxid``) is the stable key, never the
    Taxisnet login name ``userid`` (ANCHORS §1.3).
    """

    afm: str
    last_name: str
    first_name: str
    father_name: str
    mother_name: str
    birth_year: str
    userid: str = ""

    def public_fields(self) -> dict[str, str]:
        """The fields shown to the person and copied onto the account (no login name)."""
        return {
            "afm": self.afm,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "father_name": self.father_name,
            "mother_name": self.mother_name,
            "birth_year": self.birth_year,
        }


def comparable(value: str) -> str:
    """A name as compared between registry and GSIS: no accents, no case, single spaces.

    «Παπαδοπούλου» and «ΠΑΠΑΔΟΠΟΥΛΟΥ» are the same name written two ways.
    """
    decomposed = unicodedata.normalize("NFD", value)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.casefold().split())


def is_valid_afm(afm: str) -> bool:
    """True for a well-formed Greek tax number: nine digits with a valid check digit.

    The check digit is ``(sum(d[i] * 2**(8-i) for i in 0..7) % 11) % 10``.
    """
    if len(afm) != 9 or not afm.isascii() or not afm.isdigit() or afm == "000000000":
        return False
    total = sum(int(digit) << (8 - position) for position, digit in enumerate(afm[:8]))
    return (total % 11) % 10 == int(afm[8])


def mask_afm(afm: str) -> str:
    """The AFM as it may appear in logs and support mail: last three digits only."""
    return "******" + afm[-3:] if len(afm) >= 3 else "***"
