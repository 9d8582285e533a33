"""The account directory: the keys under which administrators find an account.

SPEC §2.11: prefix search on username, e-mail and registry number, accent- and
case-insensitive, through index queries only. An account is filed under the *folded*
form (:func:`chalicelib.domain.transliteration.fold`: lower case, no tonos or
dialytika, final ς as σ, single spaces) of each of those values and of its surname, so
«παπαδοπ» finds «ΠΑΠΑΔΟΠΟΥΛΟΥ» and «Παπαδόπουλος» alike. Values that fold to the same
key (an e-IEP username *is* the e-mail), or of which one begins the other (a username
``gpapas`` and the e-mail ``gpapas@gmail.com``), are one entry naming both fields.

A registry number equal to the account's AFM (e-IEP registers the AFM when the teacher
gives no registry number) is not filed: that would make the AFM prefix-searchable,
where the SPEC allows only the exact AFM, and only to e-IEP's administrators (the
uniqueness guard answers that look-up, no index needed).

Entries are written with the account (same transaction) and when an indexed value
changes; readers still check each hit against the account as stored, so an entry left
behind by a change elsewhere shows nothing wrong, it only shortens a page.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.accounts import Account
from chalicelib.domain.transliteration import fold

MAX_QUERY = 64
"""Characters a search text may have (folded); longer ones are refused, not cut."""
MAX_KEY = 200
"""Characters of a value kept in a key (DynamoDB sort keys hold 1 KiB; names are shorter)."""
PAGE_SIZE = 50
SEPARATOR = "\t"
"""Between a key and the account id in an entry's sort key: folding turns every run of
whitespace into one space, so no key contains it, and it sorts below every character a
key has (an exact key comes before the longer keys it prefixes)."""

SEARCHED_FIELDS = ("username", "email", "registry_number", "last_name")
"""What an entry may name as the field(s) it was made from."""


def search_form(text: str) -> str:
    """The folded form a key or a search text is compared in."""
    return fold(text)


def surname(account: Account) -> str:
    """The account's surname: GSIS's (e-IEP), the registrar's (NTUA, stored the same
    way), or EU Login's family name (eTwinning)."""
    if account.identity is not None and account.identity.last_name:
        return account.identity.last_name
    return account.extra.get("family_name", "")


def given_name(account: Account) -> str:
    if account.identity is not None and account.identity.first_name:
        return account.identity.first_name
    return account.extra.get("given_name", "")


def search_keys(account: Account) -> dict[str, tuple[str, ...]]:
    """Each folded key the account is filed under, with the fields it comes from."""
    afm = account.identity.afm if account.identity is not None else ""
    values = [
        ("username", account.username),
        ("email", account.email),
        ("registry_number", "" if account.registry_number == afm else account.registry_number or ""),
        ("last_name", surname(account)),
    ]
    keys: dict[str, tuple[str, ...]] = {}
    for field, value in values:
        key = search_form(value or "")[:MAX_KEY]
        if key:
            keys[key] = (*keys.get(key, ()), field)
    # A key that begins another (a username that begins the e-mail) adds nothing to a
    # prefix search: every prefix of it is a prefix of the longer key. Filed once, under
    # the longer key naming both fields, the account is one row of a page, not two.
    for key in sorted(keys, key=len):
        longer = next((other for other in keys if other != key and other.startswith(key)), None)
        if longer is not None:
            keys[longer] = (*keys.pop(key), *keys[longer])
    return keys


def role_keys(account: Account) -> dict[str, str]:
    """Each role the account is listed under, with the sort key of its listing (the
    folded username: a role's members come in username order)."""
    return {role: search_form(account.username)[:MAX_KEY] for role in dict.fromkeys(account.roles)}


@dataclass(frozen=True)
class DirectoryHit:
    """One index entry read, with the account it names (None if that is gone)."""

    account_id: str
    key: str
    """The folded value the entry files the account under (a role listing: the username)."""
    fields: tuple[str, ...]
    account: Account | None


@dataclass(frozen=True)
class DirectoryPage:
    hits: list[DirectoryHit]
    after: str | None
    """Where the next page starts (the last entry read), None after the last page."""
