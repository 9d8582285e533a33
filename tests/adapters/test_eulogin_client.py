"""The EU Login client does OIDC the way EU Login demands, and trusts only a sound ID token.

Everything runs over real HTTP against the EU Login stand-in, which is as strict as EU
Login (PKCE S256, ``client_secret_jwt``, single-use codes) and can be told to issue
defective ID tokens.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc import jws, jwt
from joserfc.jwk import OctKey

from chalicelib.adapters.eulogin_client import EuLoginClient
from chalicelib.errors import IdentityProviderError
from standins.eulogin import ASSERTION_TYPE, Client, EuLoginStandIn, Identity

CLIENT_ID = "mitroo-adapter-test"
SECRET = "mitroo-adapter-test-secret-0123456789"
REDIRECT_URI = "http://app.test/realms/esep/eulogin/callback"
OTHER_CLIENT = Client("other-app", "other-app-secret-0123456789-abcdef", ("http://other.test/cb",))


@pytest.fixture(scope="module")
def standin() -> Iterator[EuLoginStandIn]:
    server = EuLoginStandIn(
        quiet=True,
        clients={CLIENT_ID: Client(CLIENT_ID, SECRET, (REDIRECT_URI,)), OTHER_CLIENT.client_id: OTHER_CLIENT},
    ).start()
    yield server
    server.stop()


@pytest.fixture
def client(standin: EuLoginStandIn) -> EuLoginClient:
    """A fresh client: nothing cached yet."""
    return EuLoginClient(standin.issuer, CLIENT_ID, SECRET, REDIRECT_URI, timeout=5)


def _flow(client: EuLoginClient) -> tuple[str, str, str, str]:
    """(authorize URL, state, nonce, code verifier) as the sign-in flow would make them."""
    state, nonce, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    return client.authorization_url(state=state, nonce=nonce, code_verifier=verifier), state, nonce, verifier


def _sign_in(standin: EuLoginStandIn, client: EuLoginClient, who: str | Identity = "n00a1b2c") -> dict[str, str]:
    """Complete the authorize step as ``who``: the code, verifier and nonce to exchange."""
    url, _, nonce, verifier = _flow(client)
    return {"code": standin.code_for(url, who), "code_verifier": verifier, "nonce": nonce}


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def _assertion(standin: EuLoginStandIn, secret: str = SECRET, **overrides: Any) -> str:
    """A client_secret_jwt assertion; an override of None leaves that claim out."""
    now = int(time.time())
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": standin.token_endpoint,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
        **overrides,
    }
    present = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode({"alg": "HS256"}, present, OctKey.import_key(secret), algorithms=["HS256"])


def _exchange_with(standin: EuLoginStandIn, exchange: dict[str, str], assertion: str) -> requests.Response:
    """The token request, made by hand with ``assertion`` as the client's credentials."""
    form = {
        "grant_type": "authorization_code",
        "code": exchange["code"],
        "code_verifier": exchange["code_verifier"],
        "redirect_uri": REDIRECT_URI,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    return requests.post(standin.token_endpoint, data=form, timeout=5)


# -- the happy path ------------------------------------------------------------------


def test_the_discovery_document_announces_what_eu_login_supports(standin: EuLoginStandIn) -> None:
    # When the discovery document is read
    document = requests.get(f"{standin.issuer}/.well-known/openid-configuration", timeout=5).json()

    # Then it names the endpoints and EU Login's methods
    assert document["issuer"] == standin.issuer
    assert document["id_token_signing_alg_values_supported"] == ["PS512", "RS256"]
    assert document["token_endpoint_auth_methods_supported"] == ["client_secret_jwt"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    keys = requests.get(document["jwks_uri"], timeout=5).json()["keys"]
    assert [(key["kty"], key["kid"]) for key in keys] == [("RSA", standin.kid)]


def test_the_authorize_url_asks_for_openid_with_pkce_s256_nonce_and_state(
    standin: EuLoginStandIn, client: EuLoginClient
) -> None:
    # When the client builds the authorize URL
    url = client.authorization_url(state="ST", nonce="NONCE", code_verifier="v" * 43)

    # Then it carries everything EU Login demands
    query = _query(url)
    assert url.startswith(standin.authorization_endpoint + "?")
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"].split() == ["openid", "email", "profile"]
    assert (query["state"], query["nonce"]) == ("ST", "NONCE")
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] != "v" * 43


def test_a_sign_in_gives_the_identity_from_a_ps512_id_token(standin: EuLoginStandIn, client: EuLoginClient) -> None:
    # Given a teacher who completed the authorize step
    exchange = _sign_in(standin, client, "n00e5f6a")

    # When the client exchanges the code
    identity = client.fetch_identity(**exchange)

    # Then it has her identity, read from an ID token EU Login signed PS512
    assert identity.subject == "n00e5f6a"
    assert identity.email == "lukas.mueller@school-de.example"
    assert (identity.given_name, identity.family_name) == ("Lukas", "Müller")
    header = jws.extract_compact(str(standin.last_id_token).encode()).headers()
    assert (header["alg"], header["kid"]) == ("PS512", standin.kid)


def test_a_sign_in_through_the_html_page_redirects_back_with_a_code_and_the_state(
    standin: EuLoginStandIn, client: EuLoginClient
) -> None:
    # Given the page a browser is sent to
    url, state, nonce, verifier = _flow(client)
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    assert "Παπαδοπούλου" in page.text and "n00a1b2c" in page.text

    # When the person picks an identity on it
    form = {**_query(url), "identity": "n00a1b2c"}
    answer = requests.post(standin.authorization_endpoint, data=form, allow_redirects=False, timeout=5)

    # Then EU Login sends the browser back with a code and the state, and the code signs in
    assert answer.status_code == 302
    back = _query(answer.headers["Location"])
    assert answer.headers["Location"].startswith(REDIRECT_URI + "?")
    assert back["state"] == state
    identity = client.fetch_identity(code=back["code"], code_verifier=verifier, nonce=nonce)
    assert identity.subject == "n00a1b2c"


def test_the_custom_form_signs_in_whoever_is_typed_with_a_trimmed_e_mail(
    standin: EuLoginStandIn, client: EuLoginClient
) -> None:
    # Given someone not in the list, typed into the page's custom form (e-mail padded)
    url, _, nonce, verifier = _flow(client)
    form = {
        **_query(url),
        "identity": "__custom__",
        "sub": "n0custom1",
        "email": "Eva.Novak@School-CZ.example",
        "given_name": " Eva ",
        "family_name": "Nováková",
    }
    answer = requests.post(standin.authorization_endpoint, data=form, allow_redirects=False, timeout=5)

    # When the client exchanges the code
    identity = client.fetch_identity(
        code=_query(answer.headers["Location"])["code"], code_verifier=verifier, nonce=nonce
    )

    # Then the identity is the typed one, its e-mail domain normalised
    assert identity.subject == "n0custom1"
    assert identity.email == "Eva.Novak@school-cz.example"
    assert (identity.given_name, identity.family_name) == ("Eva", "Nováková")


def test_an_e_mail_with_surrounding_spaces_is_stripped(standin: EuLoginStandIn, client: EuLoginClient) -> None:
    # Given an ID token whose e-mail claim is padded
    person = Identity("n0spaced1", "  jan.jansen@school-nl.example \t", "Jan", "Jansen")

    # When the client signs the person in
    identity = client.fetch_identity(**_sign_in(standin, client, person))

    # Then the e-mail is clean
    assert identity.email == "jan.jansen@school-nl.example"


def test_an_rs256_id_token_is_accepted(standin: EuLoginStandIn, client: EuLoginClient) -> None:
    # Given EU Login signing RS256
    with standin.behaving(alg="RS256"):
        exchange = _sign_in(standin, client)

        # When the client exchanges the code
        identity = client.fetch_identity(**exchange)

    # Then the identity is accepted
    assert identity.subject == "n00a1b2c"
    assert jws.extract_compact(str(standin.last_id_token).encode()).headers()["alg"] == "RS256"


# -- PKCE ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": None},
        {"code_challenge_method": "plain", "code_challenge": "p" * 43},
    ],
    ids=["no-challenge", "no-method", "plain"],
)
def test_an_authorize_request_without_an_s256_challenge_is_refused(
    standin: EuLoginStandIn, client: EuLoginClient, change: dict[str, str | None]
) -> None:
    # Given an authorize URL stripped of its S256 challenge
    url, state, _, _ = _flow(client)
    query = {name: value for name, value in {**_query(url), **change}.items() if value is not None}
    stripped = f"{standin.authorization_endpoint}?{urlencode(query)}"

    # When a browser follows it
    answer = requests.get(stripped, allow_redirects=False, timeout=5)

    # Then EU Login sends it back with invalid_request (and the helper agrees)
    assert answer.status_code == 302
    back = _query(answer.headers["Location"])
    assert (back["error"], back["state"]) == ("invalid_request", state)
    assert "code" not in back
    assert _query(standin.authorize(stripped, "n00a1b2c"))["error"] == "invalid_request"


def test_a_token_request_with_a_wrong_code_verifier_fails(standin: EuLoginStandIn, client: EuLoginClient) -> None:
    # Given a code obtained with one verifier
    exchange = _sign_in(standin, client)

    # When the client exchanges it with another verifier
    # Then EU Login refuses (invalid_grant) and the client reports it
    with pytest.raises(IdentityProviderError):
        client.fetch_identity(**{**exchange, "code_verifier": secrets.token_urlsafe(48)})


# -- client authentication -----------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_the_client_secret_in_plain_text_is_refused(
    standin: EuLoginStandIn, client: EuLoginClient, method: str
) -> None:
    # Given a valid code and verifier
    exchange = _sign_in(standin, client)
    form = {
        "grant_type": "authorization_code",
        "code": exchange["code"],
        "code_verifier": exchange["code_verifier"],
        "redirect_uri": REDIRECT_URI,
    }

    # When the code is exchanged with the secret in the form, or in HTTP Basic
    if method == "client_secret_post":
        answer = requests.post(
            standin.token_endpoint, data={**form, "client_id": CLIENT_ID, "client_secret": SECRET}, timeout=5
        )
    else:
        answer = requests.post(standin.token_endpoint, data=form, auth=(CLIENT_ID, SECRET), timeout=5)

    # Then EU Login refuses the client
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "https://elsewhere.example/token"},
        {"exp": int(time.time()) - 120},
        {"sub": "someone-else"},
        {"jti": None},
        {"secret": "not-the-secret-but-long-enough-0123456789"},
    ],
    ids=["wrong-audience", "expired", "sub-not-client", "no-jti", "wrong-secret"],
)
def test_a_defective_client_assertion_is_refused(
    standin: EuLoginStandIn, client: EuLoginClient, overrides: dict[str, Any]
) -> None:
    # Given a valid code, and a client assertion with one defect
    exchange = _sign_in(standin, client)

    # When the code is exchanged with it
    answer = _exchange_with(standin, exchange, _assertion(standin, **overrides))

    # Then EU Login refuses the client
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")


def test_a_client_assertion_is_accepted_once_only(standin: EuLoginStandIn, client: EuLoginClient) -> None:
    # Given an assertion that was just used to exchange a code
    assertion = _assertion(standin)
    first = _exchange_with(standin, _sign_in(standin, client), assertion)
    assert first.status_code == 200, first.text

    # When it is replayed with another code
    replay = _exchange_with(standin, _sign_in(standin, client), assertion)

    # Then EU Login refuses it (its jti was used)
    assert (replay.status_code, replay.json()["error"]) == (401, "invalid_client")


def test_a_client_configured_with_a_wrong_secret_cannot_sign_in(standin: EuLoginStandIn) -> None:
    # Given a client whose secret is not the registered one
    wrong = EuLoginClient(standin.issuer, CLIENT_ID, "wrong-secret-wrong-secret-0123456789", REDIRECT_URI, timeout=5)

    # When it exchanges a code
    # Then the sign-in fails
    with pytest.raises(IdentityProviderError):
        wrong.fetch_identity(**_sign_in(standin, wrong))


# -- codes ---------------------------------------------------------------------------


def test_a_replayed_code_fails(standin: EuLoginStandIn, client: EuLoginClient) -> None:
    # Given a code that signed someone in
    exchange = _sign_in(standin, client)
    client.fetch_identity(**exchange)

    # When it is used again
    # Then the sign-in fails
    with pytest.raises(IdentityProviderError):
        client.fetch_identity(**exchange)


def test_an_expired_code_fails() -> None:
    # Given an EU Login whose codes expire at once
    clients = {CLIENT_ID: Client(CLIENT_ID, SECRET, (REDIRECT_URI,))}
    with EuLoginStandIn(quiet=True, clients=clients, code_ttl_seconds=0) as hasty:
        client = EuLoginClient(hasty.issuer, CLIENT_ID, SECRET, REDIRECT_URI, timeout=5)
        exchange = _sign_in(hasty, client)

        # When the client exchanges a code
        # Then the sign-in fails
        with pytest.raises(IdentityProviderError):
            client.fetch_identity(**exchange)


def test_a_code_issued_to_another_client_cannot_be_redeemed(standin: EuLoginStandIn, client: EuLoginClient) -> None:
    # Given a code EU Login issued to another application
    other = EuLoginClient(standin.issuer, OTHER_CLIENT.client_id, OTHER_CLIENT.secret, OTHER_CLIENT.redirect_uris[0])
    exchange = _sign_in(standin, other)

    # When our client presents it
    # Then the sign-in fails
    with pytest.raises(IdentityProviderError):
        client.fetch_identity(**exchange)


# -- ID token validation -------------------------------------------------------------


@pytest.mark.parametrize(
    "defect",
    [
        {"unknown_key": True},
        {"audience": "another-client"},
        {"expired": True},
        {"nonce": "wrong"},
        {"nonce": "missing"},
        {"issuer": "https://ecas.ec.europa.eu/cas/oauth2"},
        {"alg": "HS256"},
    ],
    ids=["unknown-key", "wrong-audience", "expired", "wrong-nonce", "missing-nonce", "wrong-issuer", "hs256"],
)
def test_a_defective_id_token_is_an_idp_error(
    standin: EuLoginStandIn, client: EuLoginClient, defect: dict[str, Any]
) -> None:
    # Given EU Login issuing an ID token with one defect
    with standin.behaving(**defect):
        exchange = _sign_in(standin, client)

        # When the client exchanges the code
        # Then it refuses the identity
        with pytest.raises(IdentityProviderError):
            client.fetch_identity(**exchange)


def test_an_id_token_without_an_e_mail_is_an_idp_error(standin: EuLoginStandIn, client: EuLoginClient) -> None:
    # Given an ID token whose e-mail claim is empty
    exchange = _sign_in(standin, client, Identity("n0nomail1", "", "No", "Mail"))

    # When the client exchanges the code
    # Then it refuses the identity
    with pytest.raises(IdentityProviderError):
        client.fetch_identity(**exchange)


def test_an_id_token_with_an_invalid_e_mail_is_an_idp_error(standin: EuLoginStandIn, client: EuLoginClient) -> None:
    # Given an ID token whose e-mail claim is not an address
    exchange = _sign_in(standin, client, Identity("n0badmail", "not-an-address", "Bad", "Mail"))

    # When the client exchanges the code
    # Then it refuses the identity
    with pytest.raises(IdentityProviderError):
        client.fetch_identity(**exchange)


def test_a_rotated_signing_key_is_fetched_once(standin: EuLoginStandIn, client: EuLoginClient) -> None:
    # Given a client that has signed someone in (the JWKS is cached)
    client.fetch_identity(**_sign_in(standin, client))
    fetched = standin.jwks_requests

    # When EU Login rotates its signing key and the next people sign in
    new_kid = standin.rotate_key()
    first = client.fetch_identity(**_sign_in(standin, client, "n00b2c3d"))
    second = client.fetch_identity(**_sign_in(standin, client, "n00c3d4e"))

    # Then both are signed in, and the client fetched the JWKS exactly once more
    assert (first.subject, second.subject) == ("n00b2c3d", "n00c3d4e")
    assert jws.extract_compact(str(standin.last_id_token).encode()).headers()["kid"] == new_kid
    assert standin.jwks_requests == fetched + 1


def test_the_discovery_document_and_jwks_are_fetched_once_per_client(standin: EuLoginStandIn) -> None:
    # Given a fresh client
    fresh = EuLoginClient(standin.issuer, CLIENT_ID, SECRET, REDIRECT_URI, timeout=5)
    before = standin.jwks_requests

    # When it signs three people in
    for who in ("n00a1b2c", "n00d4e5f", "n00f6a7b"):
        fresh.fetch_identity(**_sign_in(standin, fresh, who))

    # Then it read the JWKS once
    assert standin.jwks_requests == before + 1


# -- an unreachable provider ---------------------------------------------------------


def test_an_unreachable_eu_login_is_an_idp_error() -> None:
    # Given an issuer nobody listens on
    down = EuLoginClient("http://127.0.0.1:9/cas/oauth2", CLIENT_ID, SECRET, REDIRECT_URI, timeout=1)

    # When the client is used
    # Then every call reports an identity provider error
    with pytest.raises(IdentityProviderError):
        down.authorization_url(state="s", nonce="n", code_verifier="v" * 43)
    with pytest.raises(IdentityProviderError):
        down.fetch_identity(code="code", code_verifier="v" * 43, nonce="n")


def test_eu_login_going_down_after_the_redirect_is_an_idp_error() -> None:
    # Given a person sent back with a code, and then EU Login stopping
    with EuLoginStandIn(quiet=True, clients={CLIENT_ID: Client(CLIENT_ID, SECRET, (REDIRECT_URI,))}) as short_lived:
        client = EuLoginClient(short_lived.issuer, CLIENT_ID, SECRET, REDIRECT_URI, timeout=1)
        exchange = _sign_in(short_lived, client)

    # When the client exchanges the code
    # Then it reports an identity provider error
    with pytest.raises(IdentityProviderError):
        client.fetch_identity(**exchange)


def test_a_discovery_document_of_another_issuer_is_an_idp_error(standin: EuLoginStandIn) -> None:
    # Given a client configured with an issuer that is not the one the document names
    aliased = standin.issuer.replace("127.0.0.1", "localhost")
    client = EuLoginClient(aliased, CLIENT_ID, SECRET, REDIRECT_URI, timeout=5)
    try:
        reachable = requests.get(f"{aliased}/.well-known/openid-configuration", timeout=5).status_code == 200
    except requests.RequestException:
        reachable = False
    if not reachable:
        pytest.skip("localhost does not reach the stand-in here")

    # When it starts a sign-in
    # Then it refuses the provider
    with pytest.raises(IdentityProviderError):
        client.authorization_url(state="s", nonce="n", code_verifier="v" * 43)
