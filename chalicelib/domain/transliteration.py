"""Greek → Latin transliteration, and NTUA's "username contains the surname" row rule (SPEC §2.6, seed 004).

NTUA secretariats upload spreadsheets of postgraduate students whose username must contain the
student's full surname in Latin letters.  Secretariats write surnames in Greek (any case, with or
without accents); people spell them in Latin in several ways.  So the rule is: the username must
contain *some accepted* Latin spelling of the surname, where the accepted spellings are

* the ELOT 743:2001 transcription (identical to ISO 843:1997 type 2, the form printed on Greek
  passports), and
* a small, explicit set of informal spellings people really use (``ph`` for φ, ``u`` for ου,
  ``b`` for μπ, ``h``/``x`` for χ, ``y`` for a palatal γ, single for double consonants, …).

Everything is table-driven: a surname is cut into *units* (a letter or a digraph such as ου, μπ,
αυ, γκ) and every unit has a tuple of accepted Latin strings, the ELOT 743 one first.  Matching
compiles those tuples into one regular expression (``p(?:ou|u)l…``), which is exact and never
enumerates the combinations; :func:`latin_variants` enumerates the same table, bounded, for tests
and documentation.

Pure, stdlib only, no I/O.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import NamedTuple

__all__ = ["elot743", "fold", "latin_variants", "username_contains_surname"]

# --- character classes (lower case; final sigma is folded to σ before we look at letters) -------------

_GREEK_LETTERS = frozenset("αβγδεζηθικλμνξοπρστυφχψω")
_VOWELS = frozenset("αεηιουω")
# ELOT 743: αυ/ευ/ηυ give v before a vowel or one of these voiced consonants, f otherwise (and at word end).
_VOICED = frozenset("βγδζλμνρ")
# γ before these sounds is the palatal [ʝ] many people write as "y" (Γιάννης → Yannis, Γεωργίου → Yeorgiou).
_FRONT_VOWELS = frozenset("εηιυ")

_DIAERESIS = "\u0308"
_STRESS_MARKS = frozenset("\u0301\u0300\u0342")  # tonos/oxia, varia, perispomeni (polytonic input)

# Latin letters that NFKD does not reduce to ASCII; foreign surnames must still fold to ASCII.
_LATIN_EXTRA: dict[str, str] = {
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ı": "i",
    "ħ": "h",
    "ŧ": "t",
}
_LATIN_EXTRA_TABLE = str.maketrans(_LATIN_EXTRA)

# Latin letters that look exactly like Greek ones.  Spreadsheets often carry a Greek surname typed
# partly on a Latin keyboard layout («ΠAΠAΔOΠOYΛOΣ» with Latin A, O, Y); read as Latin, P would
# become "p" instead of ρ → "r" and H "h" instead of η → "i".
_HOMOGLYPHS = str.maketrans("ABEZHIKMNOPTYXo", "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧο")
_HOMOGLYPH_SET = frozenset("ABEZHIKMNOPTYXo")
_LETTER_RUN = re.compile(r"[^\W\d_]+")

# --- the transliteration table: Greek unit → accepted Latin strings, ELOT 743 first --------------------

_Alternatives = tuple[str, ...]

_SINGLE: dict[str, _Alternatives] = {
    "α": ("a",),
    "β": ("v", "b"),  # b: Erasmian/English habit (Vasileiou/Basileiou)
    "γ": ("g",),  # y before front vowels is added in context, see _FRONT_VOWELS
    "δ": ("d",),  # "dh" (old BGN) is deliberately *not* accepted: nobody writes it in usernames
    "ε": ("e",),
    "ζ": ("z",),
    "η": ("i",),
    "θ": ("th",),
    "ι": ("i",),
    "κ": ("k",),
    "λ": ("l",),
    "μ": ("m",),
    "ν": ("n",),
    "ξ": ("x", "ks"),
    "ο": ("o",),
    "π": ("p",),
    "ρ": ("r",),
    "σ": ("s",),
    "τ": ("t",),
    "υ": ("y", "i"),  # modern pronunciation [i]
    "φ": ("f", "ph"),
    "χ": ("ch", "h", "x"),  # x: "greeklish" (Χατζηδάκης → xatzidakis)
    "ψ": ("ps",),
    "ω": ("o",),
}

# Vowel digraphs; a diaeresis on the second letter or a stress on the first splits them (Λαΐου, τσάι).
_VOWEL_DIGRAPHS: dict[str, _Alternatives] = {
    "αι": ("ai", "e"),
    "ει": ("ei", "i"),
    "οι": ("oi", "i"),
    "ου": ("ou", "u"),
    "υι": ("yi", "i"),
}

# αυ, ευ, ηυ: ELOT picks v/f by the next letter; informally people also write the "u" (Eugenia).
_V_DIGRAPH_FIRST: dict[str, str] = {"α": "a", "ε": "e", "η": "i"}
_V_DIGRAPH_INFORMAL: dict[str, _Alternatives] = {
    "α": ("av", "af", "au"),
    "ε": ("ev", "ef", "eu"),
    "η": ("iv", "if"),
}

# ELOT 743 / ISO 843 type 2, as implemented by the Hellenic Police passport converter
# (passport.gov.gr GrElotConverter): γγ → ng, γκ → gk, γξ → nx, γχ → nch and ντ → nt *everywhere*
# (Ντόκος → Ntokos, Γκίκας → Gkikas).  Only μπ depends on position, see _unit_at.  The spoken
# forms d / g at the start of a word are informal variants here, not the standard.
_CLUSTERS: dict[str, _Alternatives] = {
    "ντ": ("nt", "d", "nd"),
    "γκ": ("gk", "g", "ng", "nk"),
    "γγ": ("ng", "gg"),
    "γξ": ("nx", "nks", "gx", "gks"),
    "γχ": ("nch", "nh", "nx", "gch", "gh", "gx"),
}
_MP_INFORMAL: _Alternatives = ("b", "mp", "mb")
# γι before a vowel is one sound [ʝ]: Γιάννης → Giannis (ELOT), Yannis, Yiannis.
_GI_BEFORE_VOWEL: _Alternatives = ("gi", "y", "yi")


class _Letter(NamedTuple):
    """One letter of the input, lower case and without marks, remembering the marks that matter."""

    char: str
    greek: bool
    diaeresis: bool = False
    stressed: bool = False


_Word = list[_Letter]
_Token = _Word | str  # a word, or the separator text between words
_Unit = _Alternatives


# --- public API --------------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Case- and accent-insensitive form of ``text``: lower case, tonos/dialytika (and Latin accents)
    removed, final sigma ς → σ, Greek kept as Greek, runs of whitespace collapsed to one space.

    Why: names arrive from spreadsheets in capitals, with or without accents, sometimes with a stray
    Latin look-alike letter inside a Greek word (repaired here), and need one comparable form.
    """
    repaired = _repair_homoglyphs(unicodedata.normalize("NFC", text))
    decomposed = unicodedata.normalize("NFKD", repaired.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.translate(_LATIN_EXTRA_TABLE).split())


def elot743(greek: str) -> str:
    """The ELOT 743:2001 Latin form of ``greek`` (ISO 843 type 2, as on Greek passports), lower-case ASCII.

    Why: it is the one official, reversible-enough spelling; every accepted username spelling set
    includes it.  Rules: αι ai, ει ei, οι oi, ου ou, υι yi; αυ/ευ/ηυ → av/ev/iv before a vowel or
    β γ δ ζ λ μ ν ρ, af/ef/if otherwise and at word end; μπ → b at the start or end of a word, mp
    inside; ντ → nt, γκ → gk, γγ → ng, γξ → nx, γχ → nch; θ th, χ ch, ψ ps, ξ x, η/ι i, υ y, ω o.
    A dialytika (ϊ, ϋ, ΐ, ΰ) or a stress on the first vowel splits a vowel pair (Λαΐου → laiou).
    Latin letters pass through without accents; spaces and ASCII punctuation are kept, other
    characters dropped.
    """
    return _render(_tokens(greek, repair=True))


def latin_variants(surname: str, *, limit: int = 4096) -> frozenset[str]:
    """Every Latin spelling of ``surname`` that :func:`username_contains_surname` accepts, at most ``limit``.

    Why: documents and tests the accepted spellings.  The ELOT 743 form is always included; then
    spellings are added in order of how many units deviate from ELOT (one informal unit, then two, …)
    until ``limit`` is reached, so a long name never explodes combinatorially.  Compound surnames keep
    their separator ("papadopoulou-kostopoulou"); a surname with no letters has no spellings.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    tokens = _tokens(surname, repair=True)
    if not any(isinstance(token, list) for token in tokens):
        return frozenset()
    units: list[_Unit] = []
    for token in tokens:
        units.extend(_word_units(token) if isinstance(token, list) else [(_separator(token),)])
    return _enumerate(units, limit)


def username_contains_surname(username: str, surname: str) -> bool:
    """True when the username contains the surname in one of its accepted Latin spellings.

    Why: NTUA row rule (SPEC §2.6).  Only the username's letters count (digits, dots, dashes and
    underscores are dropped, so ``g.papadopoulos2024`` qualifies), and case/accents never matter.
    Compound surnames («Παπαδοπούλου-Κωστοπούλου», «Ζαχαρίου Παπά») need every part, in the given
    order, adjacent or not.  A blank surname never matches; a surname of fewer than 2 letters must
    equal the username's letters exactly (otherwise "containing" one letter would be meaningless).
    """
    matcher = _surname_matcher(surname)
    if matcher is None:
        return False
    return matcher(_username_letters(username)) is not None


# --- scanning -------------------------------------------------------------------------------------------


def _is_greek_char(ch: str) -> bool:
    return "\u0370" <= ch <= "\u03ff" or "\u1f00" <= ch <= "\u1fff"


def _repair_homoglyphs(text: str) -> str:
    """Turn Latin look-alikes into Greek inside words that are otherwise Greek («ΠAΠAΣ» → «ΠΑΠΑΣ»).

    Only when *every* Latin letter of the word has a Greek twin, so genuinely mixed words stay as typed.
    """
    if text.isascii():
        return text

    def repair(match: re.Match[str]) -> str:
        word = match.group()
        latin = [ch for ch in word if ch.isascii()]
        if latin and any(_is_greek_char(ch) for ch in word) and all(ch in _HOMOGLYPH_SET for ch in latin):
            return word.translate(_HOMOGLYPHS)
        return word

    return _LETTER_RUN.sub(repair, text)


def _tokens(text: str, *, repair: bool) -> list[_Token]:
    """Words (runs of Greek/ASCII letters with their marks) and the separator text between them."""
    if repair:
        text = _repair_homoglyphs(unicodedata.normalize("NFC", text))
    tokens: list[_Token] = []
    for ch in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.combining(ch):
            word = tokens[-1] if tokens and isinstance(tokens[-1], list) else None
            if word and word[-1].greek:
                if ch == _DIAERESIS:
                    word[-1] = word[-1]._replace(diaeresis=True)
                elif ch in _STRESS_MARKS:
                    word[-1] = word[-1]._replace(stressed=True)
            continue
        for c in _LATIN_EXTRA.get(ch, ch):
            if c in _GREEK_LETTERS or ("a" <= c <= "z"):
                letter = _Letter(c, greek=c in _GREEK_LETTERS)
                if tokens and isinstance(tokens[-1], list):
                    tokens[-1].append(letter)
                else:
                    tokens.append([letter])
            elif c.isalpha():
                continue  # other scripts (Cyrillic, CJK, archaic Greek): cannot appear in an ASCII username
            elif tokens and isinstance(tokens[-1], str):
                tokens[-1] += c
            else:
                tokens.append(c)
    return tokens


def _separator(raw: str) -> str:
    """Keep spaces (collapsed) and printable ASCII punctuation/digits between words; drop the rest."""
    kept = "".join(c for c in raw if c.isspace() or (c.isascii() and c.isprintable()))
    return re.sub(r"\s+", " ", kept)


def _render(tokens: Sequence[_Token]) -> str:
    parts = ["".join(unit[0] for unit in _word_units(t)) if isinstance(t, list) else _separator(t) for t in tokens]
    return "".join(parts).strip()


# --- the unit table in context ---------------------------------------------------------------------------


def _greek_at(word: Sequence[_Letter], index: int) -> _Letter | None:
    if 0 <= index < len(word) and word[index].greek:
        return word[index]
    return None


def _ordered(elot: str, others: Sequence[str]) -> _Unit:
    """ELOT form first (so ``unit[0]`` is always the standard), duplicates removed, order otherwise kept."""
    return tuple(dict.fromkeys((elot, *others)))


def _single(word: Sequence[_Letter], i: int) -> _Unit:
    letter = word[i]
    if not letter.greek:
        return (letter.char,)
    if letter.char == "γ" and _front_vowel_follows(word, i + 1):
        return ("g", "y")
    return _SINGLE[letter.char]


def _front_vowel_follows(word: Sequence[_Letter], index: int) -> bool:
    nxt = _greek_at(word, index)
    if nxt is None:
        return False
    if nxt.char in _FRONT_VOWELS:
        return True
    after = _greek_at(word, index + 1)  # αι [e], οι [i]
    return nxt.char in "αο" and after is not None and after.char == "ι" and not after.diaeresis


def _unit_at(word: Sequence[_Letter], i: int) -> tuple[_Unit, int]:
    """The unit starting at ``word[i]`` and how many letters it spans (greedy, digraphs first)."""
    cur = word[i]
    nxt = _greek_at(word, i + 1)
    if not cur.greek or nxt is None:
        return _single(word, i), 1
    pair = cur.char + nxt.char
    joins_vowels = not nxt.diaeresis and not cur.stressed
    if joins_vowels and cur.char in _V_DIGRAPH_FIRST and nxt.char == "υ":
        after = _greek_at(word, i + 2)
        voiced = after is not None and (after.char in _VOWELS or after.char in _VOICED)
        elot = _V_DIGRAPH_FIRST[cur.char] + ("v" if voiced else "f")
        return _ordered(elot, _V_DIGRAPH_INFORMAL[cur.char]), 2
    if joins_vowels and pair in _VOWEL_DIGRAPHS:
        return _VOWEL_DIGRAPHS[pair], 2
    if pair == "μπ":
        # ELOT 743 (passport converter): "b" at the beginning or end of a word, "mp" between Greek letters.
        inside = _greek_at(word, i - 1) is not None and _greek_at(word, i + 2) is not None
        return _ordered("mp" if inside else "b", _MP_INFORMAL), 2
    if pair in _CLUSTERS:
        return _CLUSTERS[pair], 2
    if pair == "γι" and not nxt.diaeresis and not nxt.stressed:
        after = _greek_at(word, i + 2)
        if after is not None and after.char in _VOWELS:
            return _GI_BEFORE_VOWEL, 2
    if cur.char == nxt.char and cur.char not in _VOWELS:
        # Double consonants (σσ, λλ, ππ, ρρ, …): ELOT keeps both; people often write one.
        single = _single(word, i)
        return _ordered(single[0] * 2, [alt * 2 for alt in single] + list(single)), 2
    return _single(word, i), 1


def _word_units(word: Sequence[_Letter]) -> list[_Unit]:
    units: list[_Unit] = []
    i = 0
    while i < len(word):
        unit, width = _unit_at(word, i)
        units.append(unit)
        i += width
    return units


# --- enumeration and matching ------------------------------------------------------------------------------


def _enumerate(units: Sequence[_Unit], limit: int) -> frozenset[str]:
    """Spellings by increasing number of non-ELOT units; each choice of units is visited once."""
    standard = [unit[0] for unit in units]
    flexible = [index for index, unit in enumerate(units) if len(unit) > 1]
    found: set[str] = set()
    for deviations in range(len(flexible) + 1):
        for positions in itertools.combinations(flexible, deviations):
            for choice in itertools.product(*(units[p][1:] for p in positions)):
                spelling = standard.copy()
                for position, alternative in zip(positions, choice, strict=True):
                    spelling[position] = alternative
                found.add("".join(spelling))
                if len(found) >= limit:
                    return frozenset(found)
    return frozenset(found)


def _unit_pattern(unit: _Unit) -> str:
    if len(unit) == 1:
        return re.escape(unit[0])
    return "(?:" + "|".join(re.escape(alt) for alt in sorted(unit, key=len, reverse=True)) + ")"


@lru_cache(maxsize=8192)
def _surname_matcher(surname: str) -> Callable[[str], re.Match[str] | None] | None:
    """Compiled matcher for one surname: each part as a unit-alternation pattern, parts in order."""
    words = [token for token in _tokens(surname, repair=True) if isinstance(token, list)]
    if not words:
        return None
    parts = ["".join(_unit_pattern(unit) for unit in _word_units(word)) for word in words]
    pattern = re.compile(".*?".join(parts))
    if sum(len(word) for word in words) < 2:
        return pattern.fullmatch
    return pattern.search


_NOT_ASCII_LETTER = re.compile("[^a-z]+")


@lru_cache(maxsize=8192)
def _username_letters(username: str) -> str:
    """The username's letters only, lower-case ASCII (a Greek username is read in its ELOT form)."""
    if username.isascii():
        return _NOT_ASCII_LETTER.sub("", username.lower())
    return _NOT_ASCII_LETTER.sub("", _render(_tokens(username, repair=False)))
