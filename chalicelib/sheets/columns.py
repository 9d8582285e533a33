"""The columns of the NTUA provisioning and renewal sheets, and how headers are matched.

Secretariats fill these sheets by hand, in Greek or in English, from the column list in
seed 004 rather than from a fixed template, so the same column turns up as «Όνομα
χρήστη», «ΟΝΟΜΑ ΧΡΗΣΤΗ», «Όνομα Χρήστη (username)» or "User name". Each column therefore
carries several aliases, and a header matches an alias after both are *folded*: accents,
case, punctuation and spacing do not count. The first alias of each column is the Greek
one the seed uses; it is what the template shows and what error messages name.

Plain Python with no third-party import: the app imports this module at cold start.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["text", "email", "date"]


@dataclass(frozen=True)
class Column:
    """One column of a sheet.

    ``key`` is the name code uses (``row.values["username"]``); ``aliases`` are the header
    texts that name it, the Greek one of seed 004 first. ``kind`` says how a cell is read:
    ``text`` and ``email`` cells become stripped strings (numbers lose their ``.0``),
    ``date`` cells become :class:`datetime.date`.
    """

    key: str
    aliases: tuple[str, ...]
    required: bool = True
    kind: ColumnKind = "text"

    def __post_init__(self) -> None:
        if not self.aliases:
            raise ValueError(f"column {self.key!r} needs at least one alias")

    @property
    def label(self) -> str:
        """The header a person should write: the first (Greek) alias."""
        return self.aliases[0]

    @property
    def english_label(self) -> str | None:
        """The first alias written in plain ASCII, to help operators who read no Greek."""
        return next((alias for alias in self.aliases if alias.isascii()), None)

    def describe(self) -> str:
        """``«Πατρώνυμο» (father's name)``: how error messages name the column."""
        english = self.english_label
        return f"«{self.label}»" + (f" ({english})" if english and english != self.label else "")


# --- header folding --------------------------------------------------------------------------

# Apostrophes vanish rather than split words, so "father's name" and "fathers name" agree.
_APOSTROPHES = re.compile(r"['’‘ʼ`´]")
# Everything that is not a letter or digit separates words: "/", "-", ".", "_", "*", "(", …
_SEPARATORS = re.compile(r"[\W_]+")
_PARENTHESISED = re.compile(r"\(([^()]*)\)")


def fold_header(text: str) -> str:
    """A header reduced to what identifies it: lower case, no accents, words of letters
    and digits separated by single spaces, "e-mail" and a bare "mail" both as "email".

    NFKD rather than NFD so that compatibility forms (full-width letters, a no-break
    space) fold too; ``casefold`` also turns a final sigma into σ.

    >>> fold_header("  Εκτός ΕΜΠ e-Mail ")
    'εκτοσ εμπ email'
    >>> fold_header("Father's  Name")
    'fathers name'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    words = _SEPARATORS.sub(" ", _APOSTROPHES.sub("", bare)).split()
    folded: list[str] = []
    for word in words:
        if word == "mail" and folded and folded[-1] == "e":
            folded[-1] = "email"  # "e-mail", "e mail", "e.mail"
        else:
            folded.append("email" if word == "mail" else word)
    return " ".join(folded)


def _match_key(text: str) -> str:
    # Spaces do not count either: «Τ.Κ.» and «ΤΚ», "postcode" and "post code" agree.
    return fold_header(text).replace(" ", "")


def alias_index(columns: Sequence[Column]) -> dict[str, Column]:
    """Folded alias → column, for matching headers.

    Raises ``ValueError`` when two columns share an alias (after folding) or a key: a
    header must never be able to name two columns, and that is a mistake in the column
    definitions, not in an uploaded file.
    """
    index: dict[str, Column] = {}
    keys: set[str] = set()
    for column in columns:
        if column.key in keys:
            raise ValueError(f"column key {column.key!r} is defined twice")
        keys.add(column.key)
        for alias in column.aliases:
            folded = _match_key(alias)
            other = index.get(folded)
            if other is not None and other.key != column.key:
                raise ValueError(f"alias {alias!r} names both {other.key!r} and {column.key!r}")
            index[folded] = column
    return index


def match_header(header: str, index: dict[str, Column]) -> Column | None:
    """The column a header names, or ``None`` for a column we do not know.

    A header with a parenthesised note, such as «Όνομα χρήστη (username)» (seed 004's own
    wording) or «Ημερομηνία λήξης (ηη/μμ/εεεε)», is tried whole, then without the note.
    The note alone is never tried: «Σχόλια (username)» is a comment column, not a second
    username column.
    """
    candidates = [header]
    if "(" in header:
        candidates.append(_PARENTHESISED.sub(" ", header))
    for candidate in candidates:
        key = _match_key(candidate)
        if key and key in index:
            return index[key]
    return None


# --- the two sheets --------------------------------------------------------------------------

PROVISIONING_COLUMNS: tuple[Column, ...] = (
    Column("username", ("Όνομα χρήστη", "username", "user name", "login")),
    Column("full_name", ("Ονοματεπώνυμο", "Ονοματεπώνυμο φοιτητή", "full name", "name and surname")),
    Column("father_name", ("Πατρώνυμο", "Όνομα πατέρα", "Όνομα πατρός", "father's name", "father name")),
    Column("mother_name", ("Μητρώνυμο", "Όνομα μητέρας", "Όνομα μητρός", "mother's name", "mother name")),
    Column("address", ("Διεύθυνση κατοικίας", "Διεύθυνση", "address", "home address"), required=False),
    Column("area", ("Περιοχή", "Πόλη", "area", "city"), required=False),
    Column(
        "postcode",
        ("ΤΚ", "Ταχυδρομικός κώδικας", "postcode", "postal code", "post code", "zip code"),
        required=False,
    ),
    Column(
        "mobile",
        ("Τηλέφωνο κινητό", "Κινητό τηλέφωνο", "Κινητό", "Τηλέφωνο", "mobile", "mobile phone", "phone"),
        required=False,
    ),
    Column(
        "external_email",
        (
            "Εκτός ΕΜΠ mail",
            "Email εκτός ΕΜΠ",
            "Εξωτερικό email",
            "external e-mail",
            "personal e-mail",
            "e-mail",
        ),
        kind="email",
    ),
    Column("registry_number", ("Αριθμός Μητρώου", "ΑΜ", "registry number", "registration number", "student number")),
    Column(
        "supervisor",
        (
            "Διευθυντής Μεταπτυχιακού / Επιβλέπων",
            "Διευθυντής Μεταπτυχιακού ή Επιβλέπων",
            "Διευθυντής Μεταπτυχιακού",
            "Επιβλέπων",
            "Επιβλέπων καθηγητής",
            "supervisor",
            "programme director",
            "program director",
            "programme director / supervisor",
            "supervisor / programme director",
        ),
        required=False,
    ),
    Column(
        "supervisor_email",
        (
            "Email Διευθυντή / Επιβλέποντα",
            "Email Διευθυντή ή Επιβλέποντα",
            "Email Διευθυντή",
            "Email Επιβλέποντα",
            "supervisor e-mail",
            "programme director e-mail",
            "program director e-mail",
            "programme director / supervisor e-mail",
            "supervisor / programme director e-mail",
        ),
        required=False,
        kind="email",
    ),
    Column(
        "end_date",
        (
            "Ημερομηνία λήξης",
            "Ημερομηνία λήξης ΔΠΜΣ",
            "Λήξη",
            "end date",
            "programme end date",
            "program end date",
            "expiry date",
        ),
        kind="date",
    ),
    Column(
        "previous_username",
        (
            "Προηγούμενο όνομα χρήστη",
            "Παλαιό όνομα χρήστη",
            "previous username",
            "old username",
            "former username",
        ),
        required=False,
    ),
)
"""Seed 004, «Μαζική απόδοση κωδικών»: the columns a secretariat sends to create
postgraduate and doctoral accounts. Contact details are optional (they are kept, not
checked); identity, the external e-mail, the registry number and the end date are not."""

RENEWAL_COLUMNS: tuple[Column, ...] = (
    Column("username", ("Υπαρκτό όνομα χρήστη", "Όνομα χρήστη", "username", "existing username", "user name")),
    Column(
        "expires_on",
        (
            "Ημερομηνία λήξης",
            "Νέα ημερομηνία λήξης",
            "new expiry date",
            "expiry date",
            "expires on",
            "end date",
        ),
        kind="date",
    ),
)
"""Seed 004, «Μαζική ανανέωση κωδικών»: an existing username and its new expiry date."""
