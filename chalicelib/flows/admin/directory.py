"""Finding accounts (SPEC §2.11 ``GET /admin/accounts?q=&status=&role=&cursor=``).

A search text is folded (``domain/directory.py``) and looked up as a prefix of the keys
accounts are filed under: username, e-mail, registry number and surname. A role alone
lists the accounts holding it. Either way one page reads one DynamoDB page of at most
:data:`PAGE_SIZE` index entries and the accounts they name (SPEC §5: at most twice the
page size, whatever the realm holds), and the hits are checked against the accounts as
stored: an entry whose value has changed since, an account gone, or one that the
``status``/``role`` filter leaves out, is skipped. A page may therefore hold fewer than
:data:`PAGE_SIZE` rows and still have a next page; the cursor says where it starts.

e-IEP's administrators may also find an account by its exact AFM (nine digits with a
valid check digit): the AFM's uniqueness guard answers that, shown first on the first
page. No one else finds anything by AFM, and no AFM is ever prefix-searchable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from chalicelib.domain.accounts import Account, AccountStatus, UniqueKind
from chalicelib.domain.directory import (
    MAX_QUERY,
    PAGE_SIZE,
    DirectoryHit,
    DirectoryPage,
    given_name,
    search_form,
    search_keys,
    surname,
)
from chalicelib.domain.identity import is_valid_afm
from chalicelib.errors import InvalidInput
from chalicelib.flows.admin.capabilities import ADMIN, STAFF_ROLES
from chalicelib.flows.admin.cursors import open_cursor, seal_cursor
from chalicelib.ports import AccountDirectory, AccountRepository, Sealer
from chalicelib.realms import RealmConfig

MAX_TEXT = 200
"""Characters of a search text as sent; beyond this it is refused before folding."""


@dataclass(frozen=True)
class AccountRow:
    """One account as a search lists it."""

    account_id: str
    username: str
    name: str
    email: str
    status: AccountStatus
    roles: tuple[str, ...]
    matched: tuple[str, ...]
    """The fields the search text matched (``username``, ``email``, ``registry_number``,
    ``last_name``; ``afm`` for the exact AFM), empty for a role listing."""
    registry_number: str | None = None
    expires_on: date | None = None


@dataclass(frozen=True)
class SearchResult:
    rows: list[AccountRow]
    cursor: str | None
    """The next page's cursor (None after the last page)."""
    examined: int
    """Index entries this page read (the rows are those that passed every check)."""


def row_of(account: Account, matched: tuple[str, ...] = ()) -> AccountRow:
    return AccountRow(
        account_id=account.account_id,
        username=account.username,
        name=" ".join(part for part in (given_name(account), surname(account)) if part),
        email=account.email,
        status=account.status,
        roles=account.roles,
        matched=matched,
        registry_number=account.registry_number,
        expires_on=account.expires_on,
    )


@dataclass(frozen=True)
class AccountFinder:
    directory: AccountDirectory
    accounts: AccountRepository
    sealer: Sealer

    def search(
        self,
        realm: RealmConfig,
        *,
        text: str | None,
        status: str | None = None,
        role: str | None = None,
        cursor: str | None = None,
        viewer_roles: tuple[str, ...] = (),
    ) -> SearchResult:
        """One page of the accounts matching ``text`` (a prefix) and/or holding ``role``,
        optionally only those in ``status``.

        Raises
        ------
        InvalidInput
            no text and no role, a text too long, an unknown status or role, or a cursor
            that is not this search's.
        """
        errors: dict[str, list[str]] = {}
        raw = (text or "").strip()
        if len(raw) > MAX_TEXT:
            errors["q"] = [f"must be at most {MAX_QUERY} characters"]
            raw = ""
        prefix = search_form(raw)
        if len(prefix) > MAX_QUERY:
            errors["q"] = [f"must be at most {MAX_QUERY} characters"]
        wanted_status = None
        if status:
            try:
                wanted_status = AccountStatus(status)
            except ValueError:
                errors["status"] = [f"must be one of {', '.join(s.value for s in AccountStatus)}"]
        wanted_role = (role or "").strip() or None
        if wanted_role is not None and wanted_role not in STAFF_ROLES:
            errors["role"] = [f"must be one of {', '.join(STAFF_ROLES)}"]
        if not prefix and wanted_role is None and "q" not in errors:
            errors["q"] = ["type a name, username, e-mail or registry number (or choose a role)"]
        if errors:
            raise InvalidInput(errors=errors)
        query = {"realm": realm.id, "q": prefix, "status": status or "", "role": wanted_role or ""}
        after = open_cursor(self.sealer, cursor, query)

        exact: list[AccountRow] = []
        if prefix and after is None and self._may_find_by_afm(realm, viewer_roles, raw):
            holder = self.accounts.find_by_unique(realm.id, UniqueKind.AFM, raw)
            if holder is not None and self._passes(holder, wanted_status, wanted_role):
                exact.append(row_of(holder, ("afm",)))

        page: DirectoryPage
        if prefix:
            page = self.directory.search(realm.id, prefix, limit=PAGE_SIZE, after=after)
        else:
            assert wanted_role is not None
            page = self.directory.with_role(realm.id, wanted_role, limit=PAGE_SIZE, after=after)
        seen = {row.account_id for row in exact}
        rows = list(exact)
        for hit in page.hits:
            account = hit.account
            if account is None or hit.account_id in seen or not self._current(hit, account, prefix, wanted_role):
                continue
            if not self._passes(account, wanted_status, wanted_role):
                continue
            seen.add(hit.account_id)
            rows.append(row_of(account, hit.fields if prefix else ()))
        return SearchResult(rows, seal_cursor(self.sealer, query, page.after), examined=len(page.hits))

    @staticmethod
    def _may_find_by_afm(realm: RealmConfig, viewer_roles: tuple[str, ...], text: str) -> bool:
        return realm.identity_source == "gsis" and ADMIN in viewer_roles and is_valid_afm(text)

    @staticmethod
    def _current(hit: DirectoryHit, account: Account, prefix: str, role: str | None) -> bool:
        """The entry still says what the account holds (values and roles change)."""
        if prefix:
            return hit.key in search_keys(account) and hit.key.startswith(prefix)
        return role in account.roles

    @staticmethod
    def _passes(account: Account, status: AccountStatus | None, role: str | None) -> bool:
        return (status is None or account.status is status) and (role is None or role in account.roles)
