"""Greek → Latin transliteration and NTUA's "username contains the full surname" rule (SPEC §2.6, seed 004).

ELOT 743 expectations follow the standard as the Hellenic Police passport converter applies it
(ELOT 743:2001 = ISO 843:1997 type 2): ντ → nt and γκ → gk in every position, μπ → b only at the
start or end of a word (mp inside), αυ/ευ → av/ev before vowels and β γ δ ζ λ μ ν ρ, af/ef otherwise.
"""

from __future__ import annotations

import itertools
import time

import pytest

from chalicelib.domain.transliteration import elot743, fold, latin_variants, username_contains_surname

# --- ELOT 743 on real surnames ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("greek", "latin"),
    [
        ("Παπαδόπουλος", "papadopoulos"),  # ου → ou, final ς → s
        ("Γεωργίου", "georgiou"),  # ω → o, ι + ου
        ("Ευαγγέλου", "evangelou"),  # ευ + vowel → ev; γγ → ng
        ("Αυγερινός", "avgerinos"),  # αυ + γ (voiced) → av
        ("Ευθυμίου", "efthymiou"),  # ευ + θ (voiceless) → ef; θ → th; υ → y
        ("Μπακογιάννης", "bakogiannis"),  # μπ at word start → b; νν kept double
        ("Ντόκος", "ntokos"),  # ELOT: ντ → nt even at word start (the spoken "d" is informal)
        ("Γκίκας", "gkikas"),  # ELOT: γκ → gk even at word start (the spoken "g" is informal)
        ("Σγουρός", "sgouros"),
        ("Οικονόμου", "oikonomou"),  # οι → oi
        ("Καραγιάννης", "karagiannis"),
        ("Χατζηδάκης", "chatzidakis"),  # χ → ch, η → i
        ("Ψαρράς", "psarras"),  # ψ → ps, ρρ → rr
        ("Ξανθόπουλος", "xanthopoulos"),  # ξ → x
        ("Θεοδωρίδης", "theodoridis"),
        ("Φωτίου", "fotiou"),  # φ → f
        ("Αγγελόπουλος", "angelopoulos"),  # γγ → ng
        ("Λαΐου", "laiou"),  # dialytika: α + ϊ are two vowels, not the digraph αι
        ("Κουτσούκος", "koutsoukos"),
        ("Τσιμπούκης", "tsimpoukis"),  # μπ inside a word → mp
        ("Αντωνίου", "antoniou"),  # ντ inside → nt
        ("Αυλωνίτης", "avlonitis"),  # αυ + λ (voiced) → av
        ("Ευσταθίου", "efstathiou"),  # ευ + σ (voiceless) → ef
        ("Παύλου", "pavlou"),  # the accent on υ does not split αυ
        ("Τσακαλώτος", "tsakalotos"),  # final ς
        ("Βενιζέλος", "venizelos"),  # β → v
        ("Ζαΐμης", "zaimis"),
    ],
)
def test_elot743_transcribes_real_surnames_as_on_greek_passports(greek: str, latin: str) -> None:
    assert elot743(greek) == latin


@pytest.mark.parametrize(
    ("greek", "latin"),
    [
        ("μπαμπάς", "bampas"),  # μπ → b at the start, mp between Greek letters
        ("σνομπ", "snob"),  # μπ → b at the end of a word
        ("ταυ", "taf"),  # αυ at the end of a word → af
        ("Ευρυπίδης", "evrypidis"),  # ευ + ρ (voiced) → ev
        ("Ταΰγετος", "taygetos"),  # dialytika on υ: α + υ, not αυ
        ("Μαΐου", "maiou"),
        ("άυλος", "aylos"),  # stress on the first vowel splits the pair as well
        ("συγχωρώ", "synchoro"),  # γχ → nch
        ("σφιγξ", "sfinx"),  # γξ → nx
        ("ηύρα", "ivra"),  # ηυ + ρ → iv
    ],
)
def test_elot743_applies_context_rules(greek: str, latin: str) -> None:
    assert elot743(greek) == latin


def test_elot743_ignores_case_and_accents() -> None:
    # Given the same surname as secretariats type it: capitals, no accents / lower case with accents
    forms = ["ΠΑΠΑΔΟΠΟΥΛΟΣ", "Παπαδόπουλος", "παπαδοπουλος", "ΠΑΠΑΔΌΠΟΥΛΟΣ"]
    # Then every form has the same Latin spelling
    assert {elot743(form) for form in forms} == {"papadopoulos"}


def test_elot743_keeps_compound_separators_and_returns_ascii() -> None:
    assert elot743("Παπαδοπούλου-Κωστοπούλου") == "papadopoulou-kostopoulou"
    assert elot743("  Ζαχαρίου   Παπά ") == "zachariou papa"
    assert elot743("Müller-Ødegaard").isascii()
    assert elot743("Müller-Ødegaard") == "muller-odegaard"


def test_elot743_repairs_latin_lookalikes_inside_a_greek_word() -> None:
    # Given «ΠΑΠΑΔΟΠΟΥΛΟΣ» typed with Latin A, O, Y and «ΡΗΓΑΣ» with Latin P, H
    # Then they are read as the Greek letters they look like (P → ρ → r, H → η → i)
    assert elot743("ΠAΠAΔOΠOYΛOΣ") == "papadopoulos"
    assert elot743("PHΓΑΣ") == "rigas"
    # But a Latin word stays Latin
    assert elot743("PETER") == "peter"


def test_first_name_giorgos_transliterates_but_georgios_is_a_different_name() -> None:
    # «Γιώργος» → giorgos (ELOT); yorgos/yiorgos are informal spellings of the same form.
    # "georgios" is the learned form Γεώργιος, a different name, not a spelling of Γιώργος.
    assert elot743("Γιώργος") == "giorgos"
    assert {"giorgos", "yorgos", "yiorgos"} <= latin_variants("Γιώργος")
    assert "georgios" not in latin_variants("Γιώργος")
    assert elot743("Γεώργιος") == "georgios"


# --- fold -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("ΠΑΠΑΔΌΠΟΥΛΟΣ", "παπαδοπουλοσ"),
        ("Λαΐου", "λαιου"),
        ("  Ζαχαρίου \t  Παπά  ", "ζαχαριου παπα"),
        ("Müller", "muller"),
        ("Ødegaard", "odegaard"),
        ("ΠAΠAΣ", "παπασ"),  # Latin A's inside a Greek word become Greek
    ],
)
def test_fold_removes_case_accents_and_final_sigma_but_keeps_greek(raw: str, folded: str) -> None:
    assert fold(raw) == folded


# --- latin_variants -----------------------------------------------------------------------------------


def test_latin_variants_of_papadopoulos_are_the_elot_form_and_u_for_ou() -> None:
    assert latin_variants("Παπαδόπουλος") == {"papadopoulos", "papadopulos"}


@pytest.mark.parametrize(
    ("surname", "expected"),
    [
        ("Μπακογιάννης", {"bakogiannis", "mpakogiannis", "mbakogiannis", "bakoyannis", "bakoyiannis", "bakogianis"}),
        ("Χατζηδάκης", {"chatzidakis", "hatzidakis", "xatzidakis"}),
        ("Ευαγγέλου", {"evangelou", "euaggelou", "evaggelou", "evangelu"}),
        ("Αντωνίου", {"antoniou", "andoniou", "adoniou"}),
        ("Φωτίου", {"fotiou", "photiou", "fotiu"}),
        ("Οικονόμου", {"oikonomou", "ikonomou", "ikonomu"}),
        ("Ψαρράς", {"psarras", "psaras"}),
        ("Καισάρης", {"kaisaris", "kesaris"}),
        ("Γκίκας", {"gkikas", "gikas", "ngikas", "nkikas"}),
        ("Βασιλείου", {"vasileiou", "basileiou", "vasiliou"}),
        ("Ξυδάκης", {"xydakis", "ksydakis", "xidakis"}),
    ],
)
def test_latin_variants_include_the_informal_spellings_we_accept(surname: str, expected: set[str]) -> None:
    variants = latin_variants(surname)
    assert elot743(surname) in variants
    assert expected <= variants


def test_latin_variants_always_contain_the_elot_form_and_respect_the_limit() -> None:
    long_name = "Χατζηευθυμιαδοπουλοπαπαμπαγγελογιαννάκης"
    assert latin_variants(long_name, limit=1) == {elot743(long_name)}
    bounded = latin_variants(long_name, limit=500)
    assert len(bounded) == 500
    assert elot743(long_name) in bounded


def test_latin_variants_rejects_a_non_positive_limit() -> None:
    with pytest.raises(ValueError):
        latin_variants("Παπαδόπουλος", limit=0)


@pytest.mark.parametrize("blank", ["", "   ", "-", "123"])
def test_latin_variants_of_a_blank_surname_is_empty(blank: str) -> None:
    assert latin_variants(blank) == frozenset()


def test_latin_variants_of_a_latin_surname_is_its_ascii_form() -> None:
    assert latin_variants("Smith") == {"smith"}
    assert latin_variants("Müller") == {"muller"}


@pytest.mark.parametrize(
    "surname",
    ["Παπαδόπουλος", "Μπακογιάννης", "Ευαγγέλου", "Χατζηδάκης", "Τσιμπούκης", "Παπαδοπούλου-Κωστοπούλου", "Smith"],
)
def test_every_enumerated_variant_is_accepted_by_the_matcher(surname: str) -> None:
    # The regex matcher and the enumeration come from the same table: they must agree.
    for variant in latin_variants(surname):
        assert username_contains_surname(variant, surname), variant


# --- username_contains_surname ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "surname"),
    [
        ("gpapadopoulos", "Παπαδόπουλος"),
        ("giorgospapadopoulos", "Παπαδόπουλος"),
        ("papadopoulos.g", "Παπαδόπουλος"),
        ("g.papadopoulos2024", "Παπαδόπουλος"),
        ("g_papadopoulos", "Παπαδόπουλος"),
        ("papadopulos", "Παπαδόπουλος"),  # ου → u accepted
        ("kgeorgiou", "Γεωργίου"),
        ("kyeorgiou", "Γεωργίου"),  # γ before ε → y accepted
        ("mbakogiannis", "Μπακογιάννης"),
        ("bakogiannis", "Μπακογιάννης"),
        ("mpakogiannis", "Μπακογιάννης"),
        ("dbakoyannis", "Μπακογιάννης"),
        ("chatzidakis", "Χατζηδάκης"),
        ("hatzidakis", "Χατζηδάκης"),
        ("xatzidakis", "Χατζηδάκης"),
        ("ntokos", "Ντόκος"),
        ("dokos.n", "Ντόκος"),  # spoken ντ → d accepted
        ("gikas", "Γκίκας"),
        ("angelopoulos", "Αγγελόπουλος"),
        ("aggelopoulos", "Αγγελόπουλος"),  # greeklish γγ → gg
        ("efthimiou", "Ευθυμίου"),
        ("eythymiou", "Εϋθυμίου"),  # dialytika: ε + ϋ (not ευ) → ey
        ("efstathiou", "Ευσταθίου"),
        ("eustathiou", "Ευσταθίου"),
        ("psaras", "Ψαρράς"),
        ("laiou", "Λαΐου"),
        ("tsibukis", "Τσιμπούκης"),
        ("jsmith", "Smith"),
        ("fmuller", "Müller"),
        ("aobrien", "O'Brien"),
    ],
)
def test_username_containing_an_accepted_spelling_qualifies(username: str, surname: str) -> None:
    assert username_contains_surname(username, surname)


@pytest.mark.parametrize(
    ("username", "surname"),
    [
        ("gpapadakis", "Παπαδόπουλος"),  # a different surname
        ("papadopoulou", "Παπαδόπουλος"),  # the genitive/feminine form is not the surname given
        ("papadhopoulos", "Παπαδόπουλος"),  # δ → dh (old BGN) is not accepted
        ("papadopolos", "Παπαδόπουλος"),  # a dropped letter is a misspelling
        ("papadopoylos", "Παπαδόπουλος"),  # ου → oy would mean a dialytika that is not there
        ("papad", "Παπαδόπουλος"),  # the *full* surname is required
        ("kgeorgio", "Γεωργίου"),
        ("akis", "Χατζηδάκης"),
        ("chadzidakis", "Χατζηδάκης"),  # τζ → dz is not accepted
        ("smit", "Smith"),
    ],
)
def test_username_without_an_accepted_spelling_does_not_qualify(username: str, surname: str) -> None:
    assert not username_contains_surname(username, surname)


@pytest.mark.parametrize(
    "username",
    ["mpapadopouloukostopoulou", "papadopoulou.kostopoulou", "papadopoulou-m-kostopoulou", "papadopulukostopulu"],
)
def test_compound_surname_needs_every_part_in_order(username: str) -> None:
    assert username_contains_surname(username, "Παπαδοπούλου-Κωστοπούλου")


@pytest.mark.parametrize("username", ["mpapadopoulou", "mkostopoulou", "kostopoulou.papadopoulou"])
def test_compound_surname_with_a_part_missing_or_out_of_order_does_not_qualify(username: str) -> None:
    assert not username_contains_surname(username, "Παπαδοπούλου-Κωστοπούλου")


def test_compound_surname_separated_by_a_space() -> None:
    assert username_contains_surname("zachariou.papa", "Ζαχαρίου Παπά")
    assert username_contains_surname("zahariou_papa", "Ζαχαρίου Παπά")
    assert not username_contains_surname("zachariou", "Ζαχαρίου Παπά")


@pytest.mark.parametrize("surname", ["ΠΑΠΑΔΟΠΟΥΛΟΣ", "παπαδοπουλος", "Παπαδόπουλος", "ΠΑΠΑΔΌΠΟΥΛΟΣ", "ΠAΠAΔOΠOYΛOΣ"])
@pytest.mark.parametrize("username", ["GPapadopoulos", "gpapadopoulos", "G.PAPADOPOULOS"])
def test_case_and_accents_never_matter(username: str, surname: str) -> None:
    assert username_contains_surname(username, surname)


@pytest.mark.parametrize("surname", ["", "   ", "-", "1234", "·"])
def test_blank_surname_never_matches(surname: str) -> None:
    assert not username_contains_surname("papadopoulos", surname)
    assert not username_contains_surname("", surname)


def test_one_letter_surname_must_equal_the_username_letters() -> None:
    # Given a surname of a single letter, "contains" would accept almost any username
    # Then only a username made of exactly that letter qualifies
    assert username_contains_surname("o", "Ω")
    assert username_contains_surname("O1", "Ω")
    assert not username_contains_surname("john.o", "Ω")


def test_a_greek_username_is_read_in_its_elot_form() -> None:
    assert username_contains_surname("γπαπαδοπουλος", "Παπαδόπουλος")


# --- performance ---------------------------------------------------------------------------------------

_STEMS = ["Παπαδ", "Γεωργ", "Κωνσταντιν", "Νικολ", "Δημητρ", "Μπακογιανν", "Χατζηδ", "Ευαγγελ", "Αντων", "Ψαρρ"]
_ENDINGS = ["όπουλος", "ίου", "άκης", "ίδης", "άτος", "ιάδης", "ούλης", "έλλης", "άρας", "ούδης"]


def test_ten_thousand_checks_run_well_under_two_seconds() -> None:
    # Given 100 distinct surnames (cold and warm) and 10 000 distinct usernames, half matching
    surnames = [stem + ending for stem, ending in itertools.product(_STEMS, _ENDINGS)]
    cases = []
    for i in range(10_000):
        surname = surnames[i % len(surnames)]
        latin = elot743(surname) if i % 2 else "someoneelse"
        cases.append((f"u{i}.{latin}{i % 97}", surname))
    # When every pair is checked
    started = time.perf_counter()
    matched = sum(username_contains_surname(username, surname) for username, surname in cases)
    elapsed = time.perf_counter() - started
    # Then the ELOT half matches and the whole run stays far below the budget (< 1 ms per call)
    assert matched == 5_000
    assert elapsed < 5.0, f"{elapsed:.2f}s for 10 000 checks"
