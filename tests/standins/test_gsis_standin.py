"""Behavioural tests for the GSIS (Taxisnet) stand-in, exercised over real HTTP.

Mitroo's GSIS client is tested against this stand-in, so the stand-in itself
must be proven to behave like the real server, quirks included.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from standins.gsis import Client, GsisStandIn, Identity, make_afm, valid_afm

CLIENT_ID = "mitroo-test"
SECRET = "s3cret"
REDIRECT_URI = "http://127.0.0.1:9999/realms/eiep/gsis/callback"
OTHER_REDIRECT_URI = "http://127.0.0.1:9999/other?tenant=eiep"
REPO_ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    """Monotonic clock the test moves forward by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gsis(clock: FakeClock) -> Iterator[GsisStandIn]:
    clients = {CLIENT_ID: Client(CLIENT_ID, SECRET, (REDIRECT_URI, OTHER_REDIRECT_URI))}
    with GsisStandIn(
        port=0, clients=clients, code_ttl_seconds=60, token_ttl_seconds=600, quiet=True, clock=clock
    ) as standin:
        yield standin


def authorize(
    gsis: GsisStandIn,
    identity: str = "vavoula",
    state: str | None = "st-1",
    redirect_uri: str = REDIRECT_URI,
    **extra: str,
) -> requests.Response:
    form = {"client_id": CLIENT_ID, "redirect_uri": redirect_uri, "scope": "read", "identity": identity, **extra}
    if state is not None:
        form["state"] = state
    return requests.post(f"{gsis.base_url}/oauth/authorize", data=form, allow_redirects=False, timeout=5)


def callback_params(response: requests.Response) -> dict[str, list[str]]:
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)


def get_code(gsis: GsisStandIn, identity: str = "vavoula") -> str:
    return callback_params(authorize(gsis, identity))["code"][0]


def exchange(gsis: GsisStandIn, code: str, secret: str = SECRET, redirect_uri: str = REDIRECT_URI) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": CLIENT_ID,
        "client_secret": secret,
    }
    return requests.post(f"{gsis.base_url}/oauth/token", data=form, timeout=5)


def access_token_for(gsis: GsisStandIn, identity: str) -> str:
    return exchange(gsis, get_code(gsis, identity)).json()["access_token"]


def userinfo(gsis: GsisStandIn, token: str) -> requests.Response:
    return requests.get(
        f"{gsis.base_url}/userinfo", params={"format": "xml"}, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


# -- authorize ------------------------------------------------------------------


def test_authorize_page_lists_identities_as_buttons_and_escapes_untrusted_text(gsis: GsisStandIn) -> None:
    # Given an identity whose name contains markup, and a hostile state value
    gsis.add_identity(Identity("evil", make_afm(9001), "<script>alert(1)</script>", "Α&Β", "Π", "Μ", "1999"))
    hostile_state = '"><img src=x onerror=alert(1)>'

    # When the browser opens the authorize URL
    response = requests.get(
        f"{gsis.base_url}/oauth/authorize",
        timeout=5,
        allow_redirects=False,
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "read",
            "state": hostile_state,
        },
    )

    # Then a Greek login page lists every identity as a submit button, with a deny button
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert "Σύνδεση μέσω Taxisnet" in page and "Άρνηση" in page
    for identity in gsis.identities:
        assert f'name="identity" value="{identity.key}"' in page
        assert identity.afm in page
    assert 'name="decision" value="deny"' in page
    assert 'action="/oauth2server/oauth/authorize"' in page
    # And everything untrusted is HTML-escaped
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Α&amp;Β" in page
    assert "<img" not in page and 'value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in page


def test_unregistered_redirect_uri_gets_400_page_and_no_redirect(gsis: GsisStandIn) -> None:
    # Given a redirect_uri that differs from the registered one only by a trailing path
    evil = REDIRECT_URI + "/../evil"

    # When the authorize page is requested, or the consent form posted, with it
    page = requests.get(
        f"{gsis.base_url}/oauth/authorize",
        allow_redirects=False,
        timeout=5,
        params={"client_id": CLIENT_ID, "redirect_uri": evil, "response_type": "code", "state": "s"},
    )
    post = authorize(gsis, redirect_uri=evil)

    # Then both answer 400 with an HTML error page and never redirect
    for response in (page, post):
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert "OAuth Error" in response.text


def test_unknown_client_id_gets_400_and_no_redirect(gsis: GsisStandIn) -> None:
    # Given / When an authorize request names a client GSIS does not know
    response = requests.get(
        f"{gsis.base_url}/oauth/authorize",
        allow_redirects=False,
        timeout=5,
        params={"client_id": "nobody", "redirect_uri": REDIRECT_URI, "response_type": "code"},
    )

    # Then it is rejected without redirecting
    assert response.status_code == 400 and "Location" not in response.headers


def test_unsupported_response_type_is_redirected_as_an_oauth_error(gsis: GsisStandIn) -> None:
    # Given / When a valid client asks for the implicit flow
    response = requests.get(
        f"{gsis.base_url}/oauth/authorize",
        allow_redirects=False,
        timeout=5,
        params={"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "token", "state": "s"},
    )

    # Then the error goes back to the (registered) redirect_uri
    params = callback_params(response)
    assert params["error"] == ["unsupported_response_type"] and params["state"] == ["s"]


def test_deny_redirects_with_access_denied_and_original_state(gsis: GsisStandIn) -> None:
    # Given / When the user presses «Άρνηση»
    response = authorize(gsis, identity="", state="xyz 123", decision="deny")

    # Then GSIS redirects back with error=access_denied and the state untouched
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    params = callback_params(response)
    assert params == {"error": ["access_denied"], "error_description": ["User denied access"], "state": ["xyz 123"]}


def test_approval_redirects_with_code_and_state_or_without_state_when_absent(gsis: GsisStandIn) -> None:
    # Given / When the user picks an identity, once with state and once without
    with_state = callback_params(authorize(gsis, state="abc"))
    without_state = callback_params(authorize(gsis, state=None))

    # Then a code is issued, and state is echoed only when it was sent
    assert with_state["state"] == ["abc"] and with_state["code"][0]
    assert "state" not in without_state and without_state["code"][0]


def test_redirect_uri_with_existing_query_gets_params_appended_with_ampersand(gsis: GsisStandIn) -> None:
    # Given / When the registered redirect_uri already carries a query string
    response = authorize(gsis, redirect_uri=OTHER_REDIRECT_URI, state="s")

    # Then code and state are appended with "&", keeping the original query
    location = response.headers["Location"]
    assert location.startswith(OTHER_REDIRECT_URI + "&code=")
    assert parse_qs(urlsplit(location).query)["tenant"] == ["eiep"]


def test_unknown_identity_on_consent_gets_400(gsis: GsisStandIn) -> None:
    # Given / When the consent form names an identity that does not exist
    response = authorize(gsis, identity="ghost")

    # Then no code is issued
    assert response.status_code == 400 and "Location" not in response.headers


# -- token ----------------------------------------------------------------------


def test_code_exchange_returns_bearer_token_json(gsis: GsisStandIn) -> None:
    # Given an authorization code
    code = get_code(gsis)

    # When the client exchanges it with client_secret_post
    response = exchange(gsis, code)

    # Then GSIS answers the Spring-style token JSON
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in", "scope"}
    assert body["token_type"] == "bearer" and body["scope"] == "read" and body["expires_in"] == 600
    assert body["access_token"] and body["refresh_token"]


def test_code_exchange_accepts_http_basic_client_auth(gsis: GsisStandIn) -> None:
    # Given a code, When the client authenticates with HTTP Basic instead of the body
    response = requests.post(
        f"{gsis.base_url}/oauth/token",
        auth=(CLIENT_ID, SECRET),
        timeout=5,
        data={"grant_type": "authorization_code", "code": get_code(gsis), "redirect_uri": REDIRECT_URI},
    )

    # Then the exchange succeeds
    assert response.status_code == 200 and response.json()["access_token"]


def test_code_is_single_use(gsis: GsisStandIn) -> None:
    # Given a code that has already been exchanged
    code = get_code(gsis)
    assert exchange(gsis, code).status_code == 200

    # When it is exchanged again
    response = exchange(gsis, code)

    # Then it is an invalid grant
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": f"Invalid authorization code: {code}"}


def test_wrong_client_secret_is_401_invalid_client(gsis: GsisStandIn) -> None:
    # Given / When a code is exchanged with the wrong secret
    response = exchange(gsis, get_code(gsis), secret="wrong")

    # Then the client is rejected
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_redirect_uri_mismatch_is_invalid_grant_and_burns_the_code(gsis: GsisStandIn) -> None:
    # Given a code issued for REDIRECT_URI
    code = get_code(gsis)

    # When it is exchanged with a different (even registered) redirect_uri
    mismatch = exchange(gsis, code, redirect_uri=OTHER_REDIRECT_URI)
    retry = exchange(gsis, code)

    # Then it fails with invalid_grant, and the code is consumed by that failed attempt
    assert mismatch.status_code == 400 and mismatch.json()["error"] == "invalid_grant"
    assert retry.status_code == 400 and retry.json()["error"] == "invalid_grant"


def test_expired_code_is_invalid_grant(gsis: GsisStandIn, clock: FakeClock) -> None:
    # Given a code older than code_ttl_seconds
    code = get_code(gsis)
    clock.now += 61

    # When it is exchanged
    response = exchange(gsis, code)

    # Then it is an invalid grant
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_token_endpoint_rejects_other_grant_types_and_non_form_bodies(gsis: GsisStandIn) -> None:
    # Given / When the client sends a password grant, or a JSON body
    password = requests.post(
        f"{gsis.base_url}/oauth/token",
        timeout=5,
        data={"grant_type": "password", "client_id": CLIENT_ID, "client_secret": SECRET},
    )
    as_json = requests.post(
        f"{gsis.base_url}/oauth/token",
        timeout=5,
        json={
            "grant_type": "authorization_code",
            "code": get_code(gsis),
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "redirect_uri": REDIRECT_URI,
        },
    )

    # Then both are 400s with OAuth error codes
    assert password.status_code == 400 and password.json()["error"] == "unsupported_grant_type"
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"


# -- userinfo -------------------------------------------------------------------


def test_userinfo_xml_is_padded_and_parses_to_the_identity(gsis: GsisStandIn) -> None:
    # Given a token for the plain-UTF-8 identity from the GSIS documentation
    token = access_token_for(gsis, "vavoula")

    # When userinfo is fetched as XML
    response = userinfo(gsis, token)

    # Then the body has GSIS's exact shape, with space-padded values
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/xml;charset=UTF-8"
    text = response.content.decode("utf-8")
    assert text.startswith('<root><userinfo userid="User068933130   " taxid="068933130   " lastname="ΒΑΒΟΥΛΑ ')
    assert text.endswith('birthyear="1950  "/></root>')
    attributes = ET.fromstring(response.content).find("userinfo").attrib
    assert list(attributes) == ["userid", "taxid", "lastname", "firstname", "fathername", "mothername", "birthyear"]
    assert all(value != value.rstrip() for value in attributes.values())
    # And it parses to the right values once stripped
    assert {k: v.strip() for k, v in attributes.items()} == {
        "userid": "User068933130",
        "taxid": "068933130",
        "lastname": "ΒΑΒΟΥΛΑ",
        "firstname": "ΕΥΤΥΧΙΑ",
        "fathername": "ΕΜΜΑΝΟΥΗΛ",
        "mothername": "ΑΝΝΑ",
        "birthyear": "1950",
    }


def test_userinfo_sends_configured_fields_as_numeric_entities_mixed_with_utf8(gsis: GsisStandIn) -> None:
    # Given an identity whose lastname and fathername are configured as entities
    papadopoulos = next(i for i in gsis.identities if i.key == "papadopoulos")
    assert papadopoulos.entity_fields == ("lastname", "fathername")

    # When userinfo is fetched (token passed in the query string, as some clients do)
    response = requests.get(
        f"{gsis.base_url}/userinfo",
        timeout=5,
        params={"format": "xml", "access_token": access_token_for(gsis, "papadopoulos")},
    )

    # Then those fields arrive as &#NNN; references while the others stay plain UTF-8
    text = response.content.decode("utf-8")
    assert 'lastname="&#928;&#913;&#928;&#913;&#916;&#927;&#928;&#927;&#933;&#923;&#927;&#931;' in text
    assert "&#916;&#919;&#924;&#919;&#932;&#929;&#921;&#927;&#931;" in text
    assert 'firstname="ΓΕΩΡΓΙΟΣ ' in text and "ΠΑΠΑΔΟΠΟΥΛΟΣ" not in text
    # And an XML parser resolves them to the real names
    attributes = ET.fromstring(response.content).find("userinfo").attrib
    assert attributes["lastname"].strip() == "ΠΑΠΑΔΟΠΟΥΛΟΣ"
    assert attributes["fathername"].strip() == "ΔΗΜΗΤΡΙΟΣ"
    assert attributes["taxid"].strip() == papadopoulos.afm


def test_userinfo_escapes_xml_special_characters_in_values(gsis: GsisStandIn) -> None:
    # Given an identity with characters that are special in XML attributes
    gsis.add_identity(
        Identity("quotes", make_afm(9002), 'Ο"ΝΗΛ & <ΣΙΑ>', "ΓΙΑΝΝΗΣ", "Π", "Μ", 1990, entity_fields=("lastname",))
    )

    # When / Then its userinfo still parses to the exact value
    response = userinfo(gsis, access_token_for(gsis, "quotes"))
    attributes = ET.fromstring(response.content).find("userinfo").attrib
    assert attributes["lastname"].strip() == 'Ο"ΝΗΛ & <ΣΙΑ>'
    assert attributes["birthyear"].strip() == "1990"


@pytest.mark.parametrize(
    "headers,params",
    [
        ({}, {"format": "xml"}),
        ({"Authorization": "Bearer abc"}, {"format": "xml"}),
        ({}, {"format": "xml", "access_token": "abc"}),
    ],
)
def test_userinfo_with_missing_or_unknown_token_is_401_json(
    gsis: GsisStandIn, headers: dict[str, str], params: dict[str, str]
) -> None:
    # Given / When userinfo is called without a valid token, although XML was requested
    response = requests.get(f"{gsis.base_url}/userinfo", headers=headers, params=params, timeout=5)

    # Then GSIS answers 401 with a JSON (not XML) error body
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] in {"invalid_token", "unauthorized"}
    if "abc" in str(headers) + str(params):
        assert body == {"error": "invalid_token", "error_description": "Invalid access token: abc"}


def test_userinfo_with_expired_token_is_401_json(gsis: GsisStandIn, clock: FakeClock) -> None:
    # Given a token older than token_ttl_seconds
    token = access_token_for(gsis, "vavoula")
    clock.now += 601

    # When / Then userinfo rejects it
    response = userinfo(gsis, token)
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_fault_json_answers_200_with_a_json_error_body(gsis: GsisStandIn) -> None:
    # Given / When the fault-json identity's userinfo is fetched as XML
    token = access_token_for(gsis, "fault-json")
    response = userinfo(gsis, token)

    # Then GSIS's quirk is reproduced: HTTP 200, JSON content type, an error body
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.json() == {"error": "invalid_token", "error_description": f"Invalid access token: {token}"}


def test_fault_xml_answers_truncated_xml(gsis: GsisStandIn) -> None:
    # Given / When the fault-xml identity's userinfo is fetched
    response = userinfo(gsis, access_token_for(gsis, "fault-xml"))

    # Then it claims to be XML but does not parse
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    assert response.text.startswith("<root><userinfo")
    with pytest.raises(ET.ParseError):
        ET.fromstring(response.content)


def test_fault_500_answers_an_html_error_page(gsis: GsisStandIn) -> None:
    # Given / When the fault-500 identity's userinfo is fetched
    response = userinfo(gsis, access_token_for(gsis, "fault-500"))

    # Then the server fails with an HTML page
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/html")


# -- logout, admin, misc ----------------------------------------------------------


def test_logout_redirects_to_url_for_known_client_only(gsis: GsisStandIn) -> None:
    # Given / When the browser is sent to the logout endpoint
    target = "http://127.0.0.1:9999/bye?x=1"
    known = requests.get(
        f"{gsis.base_url}/logout/{CLIENT_ID}/", params={"url": target}, allow_redirects=False, timeout=5
    )
    unknown = requests.get(f"{gsis.base_url}/logout/nobody/", params={"url": target}, allow_redirects=False, timeout=5)

    # Then a known client is redirected to url, an unknown one is refused
    assert known.status_code == 302 and known.headers["Location"] == target
    assert unknown.status_code == 400 and "Location" not in unknown.headers


def test_admin_endpoint_adds_an_identity_usable_in_the_flow(gsis: GsisStandIn) -> None:
    # Given a new identity registered out-of-process through the admin endpoint
    afm = make_afm(4242)
    payload = {
        "key": "admin-made",
        "afm": afm,
        "last_name": "ΔΟΚΙΜΑΣΤΙΚΗ",
        "first_name": "ΙΩΑΝΝΑ",
        "father_name": "ΣΠΥΡΙΔΩΝ",
        "mother_name": "ΚΑΛΛΙΟΠΗ",
        "birth_year": "2001",
        "entity_fields": ["firstname"],
    }
    admin = f"{gsis.base_url.removesuffix('/oauth2server')}/_standin/identities"
    created = requests.post(admin, json=payload, timeout=5)

    # When it is listed and then used to log in
    listed = requests.get(admin, timeout=5).json()
    response = userinfo(gsis, access_token_for(gsis, "admin-made"))

    # Then it was created with defaults filled in, is listed, and its userinfo is served
    assert created.status_code == 201
    assert created.json() == {**payload, "userid": f"User{afm}", "fault": None}
    assert created.json() in listed
    attributes = ET.fromstring(response.content).find("userinfo").attrib
    assert attributes["taxid"].strip() == afm and attributes["firstname"].strip() == "ΙΩΑΝΝΑ"
    assert "&#921;&#937;" in response.text
    # And a duplicate key or an unknown field is rejected
    assert requests.post(admin, json=payload, timeout=5).status_code == 400
    assert requests.post(admin, json={**payload, "key": "x", "bogus": 1}, timeout=5).status_code == 400


def test_unknown_paths_are_404(gsis: GsisStandIn) -> None:
    # Given / When unknown paths are requested, Then they are 404
    assert requests.get(f"{gsis.base_url}/nope", timeout=5).status_code == 404
    assert requests.post(f"{gsis.base_url}/oauth/token/x", data={"a": "b"}, timeout=5).status_code == 404


def test_built_in_identities_cover_entities_and_faults_with_valid_afms(gsis: GsisStandIn) -> None:
    # Given / When the stand-in starts with its built-in identities
    identities = {i.key: i for i in gsis.identities}

    # Then there are enough distinct, valid users, some with entities, plus the fault users
    normal = [i for i in identities.values() if i.fault is None]
    assert len(normal) >= 6 and sum(bool(i.entity_fields) for i in normal) >= 2
    assert {identities[k].fault for k in ("fault-json", "fault-xml", "fault-500")} == {
        "json_error",
        "malformed_xml",
        "http_500",
    }
    assert all(valid_afm(i.afm) for i in identities.values())
    assert len({i.afm for i in identities.values()}) == len(identities)


# -- AFM helpers ------------------------------------------------------------------


def test_make_afm_is_deterministic_and_always_valid() -> None:
    # Given / When AFMs are derived from many seeds
    afms = [make_afm(seed) for seed in range(2_000)]

    # Then each is a valid 9-digit AFM and the same seed gives the same AFM
    assert all(len(a) == 9 and a.isdigit() and valid_afm(a) for a in afms)
    assert afms == [make_afm(seed) for seed in range(2_000)]
    assert len(set(afms)) == len(afms)


@pytest.mark.parametrize("afm", ["068933130", "090000045", "094019245"])
def test_valid_afm_accepts_real_shaped_afms(afm: str) -> None:
    # Given / When / Then known-valid AFMs pass the check-digit rule
    assert valid_afm(afm)


@pytest.mark.parametrize(
    "afm", ["068933131", "000000000", "12345678", "1234567890", "06893313a", " 68933130", "068933130 ", "٠٦٨٩٣٣١٣٠"]
)
def test_valid_afm_rejects_bad_check_digit_length_and_characters(afm: str) -> None:
    # Given / When / Then malformed AFMs are rejected
    assert not valid_afm(afm)


# -- CLI ----------------------------------------------------------------------------


def test_cli_prints_base_url_serves_and_stops_on_sigterm() -> None:
    # Given the stand-in started from the command line on a free port
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "standins.gsis",
            "--port",
            "0",
            "--client-id",
            "cli",
            "--client-secret",
            "x",
            "--redirect-uri",
            REDIRECT_URI,
            "--quiet",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # When it reports where it listens
        line = process.stdout.readline().strip()
        base_url = line.rsplit(" ", 1)[-1]

        # Then that base URL serves the configured client
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/oauth2server")
        response = requests.get(
            f"{base_url}/oauth/authorize",
            timeout=5,
            params={"client_id": "cli", "redirect_uri": REDIRECT_URI, "response_type": "code"},
        )
        assert response.status_code == 200
    finally:
        # And SIGTERM stops it cleanly
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()


def test_concurrent_flows_each_get_their_own_identity(gsis: GsisStandIn) -> None:
    # Given many identities registered at runtime, as parallel tests would do
    keys = [f"parallel-{n}" for n in range(24)]
    for n, key in enumerate(keys):
        gsis.add_identity(Identity(key, make_afm(5000 + n), "ΠΑΡΑΛΛΗΛΟΣ", f"Χ{n}", "Π", "Μ", "1990"))

    # When all of them run the full flow at the same time
    def taxid_for(key: str) -> str:
        response = userinfo(gsis, access_token_for(gsis, key))
        return ET.fromstring(response.content).find("userinfo").attrib["taxid"].strip()

    with ThreadPoolExecutor(max_workers=8) as pool:
        taxids = list(pool.map(taxid_for, keys))

    # Then every flow saw exactly its own identity
    assert taxids == [make_afm(5000 + n) for n in range(len(keys))]
