"""The GSIS client survives GSIS's real quirks and refuses hostile or broken answers."""

from __future__ import annotations

import pytest

from chalicelib.adapters.gsis_client import GsisClient, parse_userinfo
from chalicelib.errors import IdentityProviderError
from standins.gsis import Client, GsisStandIn, Identity, make_afm

PADDED = (
    '<root><userinfo userid="User068933130   " taxid="068933130   " '
    'lastname="&#914;&#913;&#914;&#927;&#933;&#923;&#913;  " firstname="ΕΥΤΥΧΙΑ   " '
    'fathername="ΕΜΜΑΝΟΥΗΛ " mothername="ΑΝΝΑ " birthyear="1950  "/></root>'
)


def test_values_are_trimmed_and_entities_decoded() -> None:
    identity = parse_userinfo(PADDED.encode(), "application/xml;charset=UTF-8")
    assert identity.afm == "068933130"
    assert identity.last_name == "ΒΑΒΟΥΛΑ"
    assert identity.first_name == "ΕΥΤΥΧΙΑ"
    assert identity.birth_year == "1950"
    assert identity.userid == "User068933130"


def test_double_encoded_html_entities_are_decoded_too() -> None:
    body = PADDED.replace("ΕΥΤΥΧΙΑ", "&amp;#917;&amp;#933;ΤΥΧΙΑ").encode()
    assert parse_userinfo(body).first_name == "ΕΥΤΥΧΙΑ"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"error":"invalid_token","error_description":"Invalid access token"}', "application/json"),
        (b'{"error":"server_error"}', "application/xml"),  # JSON even though XML was asked for
        (b'<root><userinfo taxid="1234', "application/xml"),
        (b"<root><other/></root>", "application/xml"),
        (b'<root><userinfo taxid="   " lastname="X"/></root>', "application/xml"),
        (b'<root><userinfo taxid="ABC" lastname="X"/></root>', "application/xml"),
        (b'<root><userinfo taxid="068933131" lastname="X"/></root>', "application/xml"),  # bad check digit
        (b'<root><userinfo taxid="\xd9\xa1\xd9\xa2\xd9\xa3" lastname="X"/></root>', "application/xml"),  # Arabic digits
    ],
)
def test_error_bodies_and_unusable_documents_are_idp_errors(body: bytes, content_type: str) -> None:
    with pytest.raises(IdentityProviderError):
        parse_userinfo(body, content_type)


@pytest.mark.parametrize(
    "body",
    [
        # Billion laughs: entity expansion must be refused, not performed.
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<root><userinfo taxid="068933130" lastname="&b;"/></root>',
        # External entity: must never be fetched.
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<root><userinfo taxid="068933130" lastname="&x;"/></root>',
    ],
)
def test_hostile_xml_is_refused(body: bytes) -> None:
    with pytest.raises(IdentityProviderError):
        parse_userinfo(body, "application/xml")


@pytest.fixture(scope="module")
def standin() -> GsisStandIn:
    server = GsisStandIn(quiet=True, clients={"c": Client("c", "s", ("http://app.test/cb",))}).start()
    yield server
    server.stop()


def _code_for(standin: GsisStandIn, identity_key: str) -> str:
    return standin.issue_code("c", "http://app.test/cb", identity_key, "read")


def test_the_client_exchanges_a_code_with_client_secret_post_and_reads_xml(standin: GsisStandIn) -> None:
    # Given a person at GSIS and a code issued for our client
    person = standin.add_identity(
        Identity(
            "client-test",
            make_afm(424242),
            "ΝΙΚΟΛΑΟΥ",
            "ΠΕΤΡΟΣ",
            "ΙΩΑΝΝΗΣ",
            "ΣΟΦΙΑ",
            "1977",
            entity_fields=("lastname",),
        )
    )
    client = GsisClient(base_url=standin.base_url, client_id="c", client_secret="s", redirect_uri="http://app.test/cb")

    # When the client exchanges the code
    identity = client.fetch_identity(_code_for(standin, person.key))

    # Then it has the clean identity
    assert (identity.afm, identity.last_name, identity.first_name) == (person.afm, "ΝΙΚΟΛΑΟΥ", "ΠΕΤΡΟΣ")


def test_a_wrong_client_secret_is_an_idp_error(standin: GsisStandIn) -> None:
    client = GsisClient(
        base_url=standin.base_url, client_id="c", client_secret="wrong", redirect_uri="http://app.test/cb"
    )
    with pytest.raises(IdentityProviderError):
        client.fetch_identity(_code_for(standin, "vavoula"))


def test_an_unreachable_gsis_is_an_idp_error() -> None:
    client = GsisClient(base_url="http://127.0.0.1:9", client_id="c", client_secret="s", redirect_uri="x", timeout=1)
    with pytest.raises(IdentityProviderError):
        client.fetch_identity("code")


def test_the_authorize_url_asks_for_scope_read_with_our_state() -> None:
    client = GsisClient(
        base_url="https://oauth2.gsis.gr/oauth2server/",
        client_id="c",
        client_secret="s",
        redirect_uri="https://m.example/cb",
    )
    url = client.authorization_url("STATE123")
    assert url.startswith("https://oauth2.gsis.gr/oauth2server/oauth/authorize?")
    for part in (
        "response_type=code",
        "client_id=c",
        "scope=read",
        "state=STATE123",
        "redirect_uri=https%3A%2F%2Fm.example%2Fcb",
    ):
        assert part in url
    assert (
        client.logout_url("https://m.example/")
        == "https://oauth2.gsis.gr/oauth2server/logout/c/?url=https%3A%2F%2Fm.example%2F"
    )
