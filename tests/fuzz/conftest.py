"""The fuzz run's site and its signed-in people.

The site is the one ``make run`` serves (``tests.support.site``), with tables of its own;
in it one person per realm can sign in: an NTUA registrar (role ``admin``), a
GSIS-verified e-IEP teacher, and an eTwinning person born through the EU Login stand-in.
:class:`Realms` signs them in over HTTP, as a client would, each time schemathesis asks
for a token (first use, and again after a 401: the fuzzer may well sign a session out).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from devtools.local_gateway import TEST_ADDRESS_HEADER
from tests.support.site import Site, running_site

NTUA_PASSPHRASE = "correct horse battery staple fuzz"
EIEP_PASSWORD = "Pal1os!Kodikos"
SIGN_IN_ADDRESS = "198.51.100.1"
"""The people sign in from an address of their own: the fuzzer's failed logins make the
lockout slow its own addresses down, not these."""


@dataclass
class Realms:
    """Who signs in where, and how; ``token(realm)`` signs in afresh."""

    site: Site
    eulogin_sub: str = "n00a1b2c"  # a default identity of the EU Login stand-in (GR)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _browsers: dict[str, Any] = field(default_factory=dict)

    def prepare(self) -> None:
        self.site.account(
            "ntua",
            username="fuzz.registrar",
            email="fuzz.registrar@example.gr",
            roles=("admin",),
            password=NTUA_PASSPHRASE,
        )
        from chalicelib.domain.identity import GsisIdentity
        from standins.gsis import make_afm

        identity = GsisIdentity(
            afm=make_afm(808),
            last_name="ΦΑΖΟΠΟΥΛΟΣ",
            first_name="ΝΙΚΟΛΑΟΣ",
            father_name="ΙΩΑΝΝΗΣ",
            mother_name="ΕΛΕΝΗ",
            birth_year="1980",
        )
        self.site.account(
            "eiep", username="fuzz@example.gr", email="fuzz@example.gr", password=EIEP_PASSWORD, identity=identity
        )
        self._eulogin_register()

    def token(self, realm: str) -> str | None:
        with self._lock:
            if realm == "ntua":
                return self._password_sign_in("ntua", "fuzz.registrar", NTUA_PASSPHRASE)
            if realm == "eiep":
                return self._password_sign_in("eiep", "fuzz@example.gr", EIEP_PASSWORD)
            if realm == "esep":
                flow, browser = self._eulogin_flow()
                answer = self._post("esep", "sessions", {"flow": flow}, browser)
                return str(answer["access_token"])
            return None

    # -- over HTTP, as a client ---------------------------------------------------------
    def _post(self, realm: str, path: str, body: dict[str, Any], browser: Any = requests) -> dict[str, Any]:
        answer = browser.post(
            f"{self.site.url}/api/v1/realms/{realm}/{path}",
            json=body,
            headers={TEST_ADDRESS_HEADER: SIGN_IN_ADDRESS},
            timeout=30,
        )
        assert answer.status_code in (200, 201), f"{realm} {path}: {answer.status_code} {answer.text}"
        return dict(answer.json())

    def _password_sign_in(self, realm: str, username: str, password: str) -> str:
        # As the owner's known browser (its device cookie, flows/devices.py): the fuzzer's
        # wrong current passwords at POST /me/password count toward the username's
        # lockout, as they must (SPEC §2.10), and must not stop the owner signing in.
        browser = self._browsers.setdefault(realm, requests.Session())
        token = str(
            self._post(realm, "sessions", {"username": username, "password": password}, browser)["access_token"]
        )
        for name in [cookie.name for cookie in browser.cookies if cookie.name != "mitroo_device"]:
            browser.cookies.set(name, None)  # only the device cookie goes along: the bearer token is the session
        self.site.second_factor_passed(token)  # the registrar's role needs a second factor (SPEC §2.9)
        return token

    def _eulogin_flow(self) -> tuple[str, Any]:
        """Start at Mitroo, pick the person at the EU Login stand-in, land back: the flow id."""
        browser = requests.Session()
        browser.headers[TEST_ADDRESS_HEADER] = SIGN_IN_ADDRESS
        start = browser.get(self.site.realm("esep", "/eulogin/start"), allow_redirects=False, timeout=30)
        assert start.status_code == 302, start.text
        authorize = urlsplit(start.headers["Location"])
        form = dict(parse_qsl(authorize.query)) | {"identity": self.eulogin_sub}
        picked = browser.post(
            f"{authorize.scheme}://{authorize.netloc}{authorize.path}", data=form, allow_redirects=False, timeout=30
        )
        assert picked.status_code in (302, 303), picked.text
        landed = browser.get(picked.headers["Location"], allow_redirects=False, timeout=30)
        assert landed.status_code == 303, landed.text
        return dict(parse_qsl(urlsplit(landed.headers["Location"]).query))["flow"], browser

    def _eulogin_register(self) -> None:
        flow, browser = self._eulogin_flow()
        body = {"flow": flow, "role": "other", "country": "GR", "organisation_ids": []}
        self._post("esep", "registrations", body, browser)


@pytest.fixture(scope="session")
def fuzz_site(aws_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(aws_endpoint, tmp_path_factory.mktemp("fuzz") / "site.log", name="fuzz") as served:
        yield served


@pytest.fixture(scope="session")
def fuzz_realms(fuzz_site: Site) -> Realms:
    realms = Realms(fuzz_site)
    realms.prepare()
    return realms
