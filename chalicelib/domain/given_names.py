"""Common Greek given names, to tell a first name from a surname in «Ονοματεπώνυμο».

Secretariats write the full name in one cell, surname first or last. The provisioning
rule "the username contains the surname" picks the surname among the end words, but a
username such as ``giorgos99`` contains a first name, not a surname; without knowing
that «Γιώργος» is a given name the row would pass with the names swapped. This list
holds the most common given names (nominative, formal and everyday forms), folded: lower
case, no accents, final sigma as σ. A surname that is also a given name still passes
when the row has nothing else to be the surname (see ``split_full_name``).
"""

from __future__ import annotations

import unicodedata

_NAMES = """
γεωργιος γιωργος ιωαννης γιαννης κωνσταντινος κωστας νικολαος νικος δημητριος δημητρης
παναγιωτης πανος βασιλειος βασιλης χρηστος αθανασιος θανασης μιχαηλ μιχαλης ευαγγελος
βαγγελης σπυριδων σπυρος αντωνιος αντωνης ανδρεας στυλιανος στελιος αλεξανδρος αλεξης
ηλιας εμμανουηλ μανωλης μανος πετρος σωτηριος σωτηρης θεοδωρος θοδωρης αγγελος αποστολος
γρηγοριος γρηγορης ευσταθιος σταθης ελευθεριος λευτερης φωτιος φωτης χαραλαμπος μπαμπης
αναστασιος τασος διονυσιος διονυσης στεφανος σταυρος παυλος αρης μαριος θωμας λεωνιδας
αριστοτελης οδυσσεας ορεστης φιλιππος μαρκος ματθαιος λαμπρος κυριακος ευθυμιος θυμιος
ζησης μηνας ραφαηλ σεραφειμ ιασονας αχιλλεας περικλης ηρακλης θρασυβουλος ξενοφων
μαρια ελενη αικατερινη κατερινα βασιλικη βασω σοφια αγγελικη γεωργια δημητρα κωνσταντινα
ευαγγελια ιωαννα αναστασια παναγιωτα χριστινα ειρηνη θεοδωρα ευτυχια αθανασια φωτεινη
δεσποινα αλεξανδρα μαρινα αννα χαρικλεια ζωη νικη αργυρω σταυρουλα παρασκευη βουλα
πολυξενη ξανθη δαναη μυρτω αφροδιτη αθηνα ευγενια στυλιανη στελλα λαμπρινη κυριακη
ροδανθη αντωνια μαρκελλα ολγα νεφελη ραφαελα σταματια χρυσουλα ελευθερια εφη ευθυμια
πηνελοπη ιφιγενεια μαργαριτα ευδοκια ασημινα φανη μαγδαληνη χρυσα ευανθια ελπιδα
"""


def fold_name(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ς", "σ")


GIVEN_NAMES = frozenset(fold_name(name) for name in _NAMES.split())


def is_given_name(word: str) -> bool:
    return fold_name(word) in GIVEN_NAMES
