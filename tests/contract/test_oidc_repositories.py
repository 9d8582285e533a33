"""The OpenID Provider's repository contracts: the in-memory fakes and DynamoDB alike.

Proves: a code is issued only under a live session of the same browser, and the session
then names the client and the grant; a code is redeemed once (of 20 concurrent
redemptions exactly one wins), only by its client, only unexpired, only with its hash;
a refresh token rotates once, remembers the spent one, and never widens the scope; a
revoked grant refuses everything; a client assertion's jti is accepted once; session
records grow authentication methods and links; clients and consents read back; the
provider's one-round-trip reads find what they name.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.audit import AuditEntry, audit
from chalicelib.domain.oidc import Consent, Expectations, OidcClient, OidcGrant
from chalicelib.domain.secrets import fingerprint
from tests.contract.builders import NOW, REALM, account, refresh_token, session_family, unique, unique_email
from tests.fakes import InMemoryAccountRepository, InMemoryAuditLog, InMemorySessionRepository, InMemoryStore, race

LATER = NOW + timedelta(seconds=10)
BROWSER = fingerprint("browser-secret")


def _client(**changes: Any) -> OidcClient:
    base = OidcClient(
        realm=REALM,
        client_id=unique(),
        name="App",
        redirect_uris=("https://app.example/cb",),
        auth_method="client_secret_basic",
        created_at=NOW,
        updated_at=NOW,
        secret_hash=fingerprint("secret"),
        scopes=("gsis",),
        post_logout_redirect_uris=("https://app.example/bye",),
        backchannel_logout_uri="https://app.example/logout",
    )
    return dataclasses.replace(base, **changes)


class OidcContract:
    sessions: Any
    grants: Any
    clients: Any
    consents: Any
    lookup: Any
    accounts: Any
    audit: Any

    def _session(self, **changes: Any) -> Any:
        family = session_family(**{"browser_hash": BROWSER, "auth_time": NOW, "amr": ("pwd",), **changes})
        self.sessions.start(family, refresh_token(family))
        return family

    def _grant(self, family: Any, **changes: Any) -> tuple[OidcGrant, str]:
        grant_id = unique()
        code = f"{grant_id}.{unique()}"
        base = OidcGrant(
            grant_id=grant_id,
            realm=REALM,
            client_id=changes.pop("client_id", "client-1"),
            account_id=family.account_id,
            session_id=family.family_id,
            scopes=("email", "openid"),
            redirect_uri="https://app.example/cb",
            auth_time=NOW,
            created_at=NOW,
            expires_at=family.expires_at,
            code_hash=fingerprint(code),
            code_expires_at=NOW + timedelta(seconds=60),
            amr=("pwd",),
            nonce="n",
        )
        return dataclasses.replace(base, **changes), code

    def _issued(self, **changes: Any) -> tuple[OidcGrant, str, Any]:
        family = self._session()
        grant, code = self._grant(family, **changes)
        assert self.grants.issue(grant, browser_hash=BROWSER, now=NOW)
        return grant, code, family

    def _redeem(self, grant: OidcGrant, code: str, *, client_id: str = "client-1", now: Any = LATER) -> Any:
        return self.grants.redeem(
            grant.grant_id,
            code_hash=fingerprint(code),
            client_id=client_id,
            now=now,
            refresh_hash=fingerprint("r0"),
            refresh_expires_at=NOW + timedelta(days=14),
        )

    # -- issuing --------------------------------------------------------------------------

    def test_a_code_is_issued_under_a_live_session_which_then_names_client_and_grant(self) -> None:
        grant, _, family = self._issued()
        stored = self.grants.get(grant.grant_id)
        assert stored == grant
        session = self.sessions.get_family(REALM, family.account_id, family.family_id)
        assert session.clients == ("client-1",) and session.grants == (grant.grant_id,)

    def test_no_code_under_a_revoked_session_or_from_another_browser(self) -> None:
        family = self._session()
        grant, _ = self._grant(family)
        assert not self.grants.issue(grant, browser_hash=fingerprint("another browser"), now=NOW)
        self.sessions.revoke_family(REALM, family.account_id, family.family_id, NOW)
        assert not self.grants.issue(grant, browser_hash=BROWSER, now=NOW)
        assert self.grants.get(grant.grant_id) is None

    def test_a_code_from_the_cookie_alone_checks_the_account_for_second_factors_in_its_write(self) -> None:
        # Given sessions that passed a password alone: of a plain account, of an
        # administrator without a factor, and of an account that has a factor
        def issued(amr: tuple[str, ...], roles_refused: tuple[str, ...] | None, **changes: Any) -> bool:
            family = self._session(amr=amr)
            person = account(account_id=family.account_id, status=AccountStatus.ACTIVE, **changes)
            self.accounts.create(person, audit=audit(REALM, person.account_id, "account_created", actor="t", at=NOW))
            expect = Expectations(NOW, family.expires_at, amr, NOW.date(), None, roles_refused)
            grant, _ = self._grant(family, amr=amr)
            return bool(self.grants.issue(grant, browser_hash=BROWSER, now=NOW, expect=expect))

        # When a code is issued straight from the cookie, naming the roles that need a factor
        refused = ("admin", "secretariat")

        # Then only the plain account gets one; a session that passed a factor gets it too
        assert issued(("pwd",), refused) is True
        assert issued(("pwd",), refused, roles=("secretariat", "teacher")) is False
        assert issued(("pwd",), refused, second_factors=1) is False
        assert issued(("pwd", "otp"), None, second_factors=1, roles=("admin",)) is True

    def test_revoking_a_session_answers_the_clients_and_grants_it_named(self) -> None:
        grant, _, family = self._issued()
        revoked = self.sessions.revoke_family(REALM, family.account_id, family.family_id, LATER)
        assert revoked is not None and revoked.revoked_at == LATER and revoked.grants == (grant.grant_id,)
        assert self.sessions.revoke_family(REALM, family.account_id, family.family_id, LATER) is None

    # -- redeeming ------------------------------------------------------------------------

    def test_a_code_is_redeemed_once(self) -> None:
        grant, code, _ = self._issued()
        redeemed = self._redeem(grant, code)
        assert redeemed.code_used_at == LATER and redeemed.refresh_hash == fingerprint("r0")
        assert self._redeem(grant, code) is None

    def test_a_code_is_redeemed_only_by_its_client_with_its_hash_before_it_expires(self) -> None:
        grant, code, _ = self._issued()
        assert self._redeem(grant, code, client_id="someone-else") is None
        assert self._redeem(grant, code + "x") is None
        assert self._redeem(grant, code, now=NOW + timedelta(seconds=61)) is None
        assert self._redeem(grant, code) is not None

    def test_a_revoked_grant_cannot_be_redeemed_and_is_revoked_once(self) -> None:
        grant, code, _ = self._issued()
        assert self.grants.revoke(grant.grant_id, NOW) is True
        assert self.grants.revoke(grant.grant_id, LATER) is False
        assert self._redeem(grant, code) is None
        assert self.grants.get(grant.grant_id).revoked_at == NOW

    @pytest.mark.slow
    def test_of_20_concurrent_redemptions_exactly_one_wins(self) -> None:
        grant, code, _ = self._issued()
        outcomes = race(20, lambda i: self._redeem(grant, code))
        assert sum(outcome is not None and not isinstance(outcome, BaseException) for outcome in outcomes) == 1

    # -- rotating -------------------------------------------------------------------------

    def _rotate(self, grant: OidcGrant, old: str, new: str, slot: str = "s0", scopes: tuple[str, ...] = ()) -> Any:
        return self.grants.rotate(
            grant.grant_id,
            client_id="client-1",
            old_hash=fingerprint(old),
            new_hash=fingerprint(new),
            slot=slot,
            expires_at=LATER + timedelta(days=14),
            scopes=scopes,
            now=LATER,
        )

    def test_a_refresh_token_rotates_once_and_is_remembered_as_spent(self) -> None:
        grant, code, _ = self._issued()
        self._redeem(grant, code)
        rotated = self._rotate(grant, "r0", "r1")
        assert rotated.refresh_hash == fingerprint("r1") and rotated.spent_refresh == (fingerprint("r0"),)
        assert self._rotate(grant, "r0", "r1-again") is None
        assert self._rotate(grant, "r1", "r2", slot="s1").spent_refresh == (fingerprint("r0"), fingerprint("r1"))

    def test_a_rotation_keeps_within_the_granted_scopes(self) -> None:
        grant, code, _ = self._issued()
        self._redeem(grant, code)
        assert self._rotate(grant, "r0", "r1", scopes=("openid", "profile")) is None
        assert self._rotate(grant, "r0", "r1", scopes=("openid",)) is not None

    def test_a_revoked_grant_does_not_rotate(self) -> None:
        grant, code, _ = self._issued()
        self._redeem(grant, code)
        self.grants.revoke(grant.grant_id, LATER)
        assert self._rotate(grant, "r0", "r1") is None

    def test_a_client_assertion_is_accepted_once(self) -> None:
        jti = unique()
        assert self.grants.remember_assertion("client-1", jti, LATER) is True
        assert self.grants.remember_assertion("client-1", jti, LATER) is False
        assert self.grants.remember_assertion("client-2", jti, LATER) is True

    # -- sessions -------------------------------------------------------------------------

    def test_a_session_adds_authentication_methods_and_links(self) -> None:
        family = self._session()
        more = self.sessions.add_authentication(REALM, family.account_id, family.family_id, "otp", LATER)
        assert more.amr == ("pwd", "otp") and more.auth_time == LATER and more.acr == "2"
        earlier = self._session(account_id=family.account_id)
        self.sessions.link(REALM, family.account_id, family.family_id, [earlier.family_id])
        assert self.sessions.get_family(REALM, family.account_id, family.family_id).linked == (earlier.family_id,)
        live = {f.family_id for f in self.sessions.live_families(REALM, family.account_id, LATER)}
        assert live == {family.family_id, earlier.family_id}

    # -- clients and consents ---------------------------------------------------------------

    def test_clients_read_back_list_change_and_go(self) -> None:
        client = _client()
        self.clients.create(client)
        assert self.clients.get(REALM, client.client_id) == client
        assert client in self.clients.list(REALM)
        rotated = dataclasses.replace(client, secret_hash=fingerprint("new"), updated_at=LATER)
        assert self.clients.save(rotated) is True and self.clients.get(REALM, client.client_id) == rotated
        assert self.clients.remove(REALM, client.client_id) is True
        assert self.clients.get(REALM, client.client_id) is None
        assert self.clients.save(rotated) is False and self.clients.remove(REALM, client.client_id) is False

    def test_consents_merge_scopes_and_can_be_withdrawn(self) -> None:
        account_id = unique()
        self.consents.grant(Consent(REALM, account_id, "c", ("openid",), NOW))
        self.consents.grant(Consent(REALM, account_id, "c", ("email",), LATER))
        consent = self.consents.get(REALM, account_id, "c")
        assert consent.scopes == ("email", "openid") and consent.granted_at == LATER
        assert [c.client_id for c in self.consents.list(REALM, account_id)] == ["c"]
        assert self.consents.revoke(REALM, account_id, "c") is True
        assert self.consents.get(REALM, account_id, "c") is None

    def test_a_consent_withdrawn_with_an_audit_entry_leaves_that_entry_only_when_it_was_there(self) -> None:
        # Given a person's consent to one client
        account_id = unique()
        self.consents.grant(Consent(REALM, account_id, "c", ("openid",), NOW))
        entry = AuditEntry(REALM, account_id, "application.revoked", account_id, NOW, details={"client_id": "c"})
        # When it is withdrawn with an audit entry, and withdrawn again
        first = self.consents.revoke(REALM, account_id, "c", audit=entry)
        again = self.consents.revoke(REALM, account_id, "c", audit=dataclasses.replace(entry, action="again"))
        # Then the first write removed it and recorded the entry, the second neither
        assert (first, again) == (True, False)
        assert self.consents.get(REALM, account_id, "c") is None
        assert [e.action for e in self.audit.entries(REALM, account_id)] == ["application.revoked"]

    # -- the hot reads --------------------------------------------------------------------

    def test_the_authorization_read_finds_session_account_and_consent(self) -> None:
        family = self._session()
        account = Account(
            account_id=family.account_id,
            realm=REALM,
            username=unique_email(),
            email=unique_email(),
            status=AccountStatus.ACTIVE,
            created_at=NOW,
            updated_at=NOW,
        )
        self.accounts.create(account, audit=audit(REALM, account.account_id, "account_created", actor="test", at=NOW))
        self.consents.grant(Consent(REALM, account.account_id, "c", ("openid",), NOW))
        found, who, consent = self.lookup.authorization_context(REALM, account.account_id, family.family_id, "c")
        assert found.family_id == family.family_id and who.account_id == account.account_id
        assert consent.scopes == ("openid",)
        assert self.lookup.authorization_context(REALM, unique(), unique(), "c") == (None, None, None)

    def test_the_userinfo_read_finds_grant_and_account(self) -> None:
        grant, _, family = self._issued()
        account = Account(
            account_id=family.account_id,
            realm=REALM,
            username=unique_email(),
            email=unique_email(),
            status=AccountStatus.ACTIVE,
            created_at=NOW,
            updated_at=NOW,
        )
        self.accounts.create(account, audit=audit(REALM, account.account_id, "account_created", actor="test", at=NOW))
        found, who, member = self.lookup.userinfo_context(REALM, account.account_id, grant.grant_id, with_member=False)
        assert found == grant and who.account_id == account.account_id and member is None


def _hour(moment: Any) -> Any:
    return moment.replace(minute=0, second=0, microsecond=0)


class EndedSessionsContract(OidcContract):
    def test_only_sessions_that_signed_clients_in_are_found_when_they_have_ended(self) -> None:
        # Given a session that signed a client in, a revoked one that did, and one that did not
        grant, _, family = self._issued()
        revoked_grant, _, revoked = self._issued()
        self.sessions.revoke_family(REALM, revoked.account_id, revoked.family_id, NOW)
        quiet = self._session()
        end = family.expires_at
        mine = {family.family_id, revoked.family_id, quiet.family_id}  # other tests file sessions there too

        def found(hour: Any, now: Any) -> list[Any]:
            return [f for f in self.sessions.ended_sessions(hour, now) if f.family_id in mine]

        # Then before its end nothing is found; after it, only the live one with a client
        assert found(_hour(end), end - timedelta(seconds=1)) == []
        [ended] = found(_hour(end), end + timedelta(minutes=1))
        assert ended.family_id == family.family_id and grant.grant_id in ended.grants
        assert revoked_grant.session_id != ended.family_id
        assert found(_hour(end) + timedelta(hours=1), end + timedelta(hours=2)) == []


class TestInMemoryOidc(EndedSessionsContract):
    @pytest.fixture(autouse=True)
    def _repositories(self) -> None:
        from tests.fakes import InMemoryFlowRepository
        from tests.fakes_esep import FakeEsepRepository
        from tests.fakes_oidc import oidc_fakes

        store = InMemoryStore()
        self.accounts = InMemoryAccountRepository(store)
        self.sessions = InMemorySessionRepository(store)
        fakes = oidc_fakes(store, self.accounts, FakeEsepRepository(self.accounts, InMemoryFlowRepository(store)))
        self.grants, self.clients = fakes["oidc_grants"], fakes["oidc_clients"]
        self.consents, self.lookup = fakes["consents"], fakes["oidc_lookup"]
        self.audit = InMemoryAuditLog(store)


class TestDynamoOidc(EndedSessionsContract):
    @pytest.fixture(autouse=True)
    def _repositories(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.audit import DynamoAuditLog
        from chalicelib.adapters.dynamodb.oidc import (
            DynamoConsentRepository,
            DynamoOidcClientRepository,
            DynamoOidcGrantRepository,
            DynamoOidcLookup,
        )
        from chalicelib.adapters.dynamodb.repositories import DynamoAccountRepository, DynamoSessionRepository

        self.accounts = DynamoAccountRepository(dynamo_models)
        self.sessions = DynamoSessionRepository(dynamo_models)
        self.grants = DynamoOidcGrantRepository(dynamo_models)
        self.clients = DynamoOidcClientRepository(dynamo_models, cache_seconds=0)
        self.consents = DynamoConsentRepository(dynamo_models)
        self.lookup = DynamoOidcLookup(dynamo_models)
        self.audit = DynamoAuditLog(dynamo_models)
