"""Signing in through EU Login (OIDC, SPEC §2.7): start, callback, and the resulting flow.

The ``state`` is kept server-side as for GSIS (single use, expiring, bound to the
browser by a cookie); with it the PKCE ``code_verifier`` and the ``nonce``, which never
leave the server except as the S256 challenge and inside the authorize URL. A validated
ID token becomes an :class:`IdentityFlow` whose intent says what comes next: ``login``
for a ``sub`` that has an account, ``register`` otherwise. Accounts are keyed on ``sub``
alone, compared exactly (OIDC subjects are case-sensitive: :func:`find_by_subject`); the
e-mail is used only to offer a legacy migration.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.accounts import Account, UniqueKind
from chalicelib.domain.flows import IdentityFlow, Intent
from chalicelib.domain.secrets import fingerprint
from chalicelib.errors import IdentityProviderError, InvalidInput
from chalicelib.flows.gsis_signin import CompletedSignIn, StartedSignIn
from chalicelib.flows.oauth_states import save_state, take_state
from chalicelib.ports import AccountRepository, Clock, EuLoginProvider, FlowRepository, SecretSource
from chalicelib.realms import RealmConfig

PROVIDER = "eulogin"


def find_by_subject(accounts: AccountRepository, realm: str, subject: str) -> Account | None:
    """The account of the EU Login user ``subject``, compared exactly.

    Accounts hold a guard of their exact subject. Accounts stored before subjects were
    compared exactly hold a casefolded username guard instead (and no ``subject``): one
    found that way is theirs only if its username — the subject it registered with, as
    EU Login sent it — equals ``subject`` exactly, and it has no password (a pupil's
    account, whose username anyone could spell as a ``sub``, never signs in this way).
    """
    found = accounts.find_by_unique(realm, UniqueKind.SUBJECT, subject)
    if found is not None:
        return found
    older = accounts.find_by_unique(realm, UniqueKind.USERNAME, subject.casefold())
    if older is not None and older.subject is None and older.password_hash is None and older.username == subject:
        return older
    return None


@dataclass(frozen=True)
class EuLoginSignIn:
    flows: FlowRepository
    provider: EuLoginProvider
    accounts: AccountRepository
    clock: Clock
    secrets: SecretSource

    def start(self, realm: RealmConfig, browser_binding: str | None) -> StartedSignIn:
        """Create a state (with its PKCE verifier and nonce) and the EU Login URL.

        Raises
        ------
        InvalidInput
            the realm does not use EU Login.
        """
        if realm.identity_source != PROVIDER:
            raise InvalidInput("This realm does not use EU Login.", errors={"realm": ["EU Login is not used here"]})
        binding = browser_binding or self.secrets.token()
        state, nonce, verifier = self.secrets.token(), self.secrets.token(), self.secrets.token() + self.secrets.token()
        now = self.clock.now()
        save_state(
            self.flows,
            realm,
            provider=PROVIDER,
            intent=Intent.REGISTER,  # decided at the callback: login for a known sub
            state=state,
            browser_binding=binding,
            now=now,
            params={"nonce": nonce, "code_verifier": verifier},
        )
        url = self.provider.authorization_url(state=state, nonce=nonce, code_verifier=verifier)
        return StartedSignIn(url, binding)

    def complete(
        self,
        realm: RealmConfig,
        *,
        state: str | None,
        code: str | None,
        error: str | None,
        browser_binding: str | None,
    ) -> CompletedSignIn:
        """Turn EU Login's answer into a flow (``login`` for a known ``sub``).

        The state is taken before anything else: a replayed callback fails even when the
        first one failed later on.

        Raises
        ------
        StateInvalid
            unknown, replayed, expired, foreign or another browser's state.
        IdentityProviderError
            EU Login refused, or its answer did not validate (PKCE, nonce, signature…).
        """
        now = self.clock.now()
        stored = take_state(self.flows, realm, provider=PROVIDER, state=state, browser_binding=browser_binding, now=now)
        if error:
            raise IdentityProviderError(
                "EU Login did not confirm your identity (the sign-in was cancelled or refused)."
            )
        if not code:
            raise IdentityProviderError("EU Login answered without an authorization code.")
        identity = self.provider.fetch_identity(
            code=code, code_verifier=stored.params["code_verifier"], nonce=stored.params["nonce"]
        )
        known = find_by_subject(self.accounts, realm.id, identity.subject)
        intent = Intent.LOGIN if known is not None else Intent.REGISTER
        flow_id = self.secrets.token()
        self.flows.save_flow(
            IdentityFlow(
                flow_hash=fingerprint(flow_id),
                realm=realm.id,
                intent=intent,
                identity=identity,
                created_at=now,
                expires_at=now + realm.lifetimes.flow,
                params={"account_id": known.account_id} if known is not None else {},
                browser_hash=stored.browser_hash,
            )
        )
        return CompletedSignIn(flow_id, intent)
