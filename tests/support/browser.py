"""A test-side browser: the Chalice test client plus cookies, and the GSIS round trip.

GSIS is reached over real HTTP (the stand-in); Mitroo is driven through
``chalice.test.Client`` exactly as API Gateway would call it.
"""

from __future__ import annotations

import itertools
import json as jsonlib
import random
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from devtools.local_gateway import TEST_ADDRESS_HEADER
from devtools.task_pump import TaskPump
from standins import eulogin as eulogin_standin
from standins.gsis import GsisStandIn, Identity, make_afm

_seeds = itertools.count(random.randrange(10**6))
_addresses = itertools.count(random.randrange(10**6))
"""Browsers' client addresses, drawn in turn so no two of one test process are the same.
They were random: now and then a test's browser shared its address with an earlier one
that had registered within the hour, and its 60th registration attempt met the
per-address limit (CI saw it once)."""


def _next_address() -> str:
    """198.51.X.Y, X never 100 (the fixed addresses some tests use are 198.51.100.*)."""
    n = next(_addresses) % (255 * 254)
    third, fourth = divmod(n, 254)
    return f"198.51.{third if third < 100 else third + 1}.{fourth + 1}"


STRONG_PASSWORD = "Kal0s!Kodikos"


class Response:
    def __init__(self, raw: Any) -> None:
        self.status = raw.status_code
        self.headers = {key.lower(): value for key, value in raw.headers.items()}
        self.body: bytes = raw.body
        self.text = self.body.decode("utf-8", "replace")

    @property
    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def location(self) -> str:
        return str(self.headers.get("location", ""))

    def cookies(self) -> list[str]:
        value = self.headers.get("set-cookie", [])
        return [value] if isinstance(value, str) else list(value)


class Browser:
    def __init__(
        self, client: Any, gsis: GsisStandIn, pump: TaskPump, eulogin: eulogin_standin.EuLoginStandIn | None = None
    ) -> None:
        self.client = client
        self.gsis = gsis
        self.eulogin = eulogin
        self.pump = pump
        self.jar: dict[str, str] = {}
        # Every browser is a different client address (rate limits are per address).
        self.address = _next_address()

    # -- HTTP ---------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        html: bool = False,
        body: bytes | None = None,
    ) -> Response:
        sent = {"Accept": "text/html" if html else "application/json", TEST_ADDRESS_HEADER: self.address}
        sent.update(headers or {})
        if self.jar:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        payload = body if body is not None else b""
        if json is not None:
            sent.setdefault("Content-Type", "application/json")
            payload = jsonlib.dumps(json).encode()
        elif form is not None:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
            payload = urlencode(form).encode()
        response = Response(self.client.http.request(method, path, headers=sent, body=payload))
        for cookie in response.cookies():
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return response

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        return self.request("DELETE", path, **kwargs)

    # -- GSIS ---------------------------------------------------------------------------
    def new_identity(self, **overrides: Any) -> Identity:
        """A fresh Taxisnet person with a unique, valid AFM."""
        seed = next(_seeds)
        fields = {
            "key": f"person-{seed}",
            "afm": make_afm(seed),
            "last_name": "ΠΑΠΑΔΟΠΟΥΛΟΥ",
            "first_name": "ΜΑΡΙΑ",
            "father_name": "ΓΕΩΡΓΙΟΣ",
            "mother_name": "ΕΛΕΝΗ",
            "birth_year": "1984",
            "entity_fields": ("lastname",),
        }
        fields.update(overrides)
        return self.gsis.add_identity(Identity(**fields))

    def start_gsis(self, intent: str = "register") -> dict[str, str]:
        """Open /gsis/start; returns the authorize query GSIS received."""
        response = self.get(f"/realms/eiep/gsis/start?intent={intent}", html=True)
        assert response.status == 302, response.text
        assert response.location.startswith(self.gsis.base_url + "/oauth/authorize")
        return {k: v[0] for k, v in parse_qs(urlsplit(response.location).query).items()}

    def choose_at_gsis(self, authorize: dict[str, str], identity_key: str | None, *, deny: bool = False) -> str:
        """Pick an identity (or deny) on the stand-in's page; returns the callback URL."""
        form = {k: authorize[k] for k in ("client_id", "redirect_uri", "state", "scope") if k in authorize}
        form.update({"decision": "deny"} if deny else {"identity": identity_key or ""})
        answer = requests.post(self.gsis.base_url + "/oauth/authorize", data=form, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        return str(answer.headers["Location"])

    def callback(self, callback_url: str) -> Response:
        parts = urlsplit(callback_url)
        return self.get(f"{parts.path}?{parts.query}", html=True)

    def gsis_flow(self, identity: Identity | None = None, intent: str = "register") -> str:
        """The whole GSIS round trip; returns the flow id."""
        identity = identity or self.new_identity()
        callback = self.callback(self.choose_at_gsis(self.start_gsis(intent), identity.key))
        assert callback.status == 303, callback.text
        query = parse_qs(urlsplit(callback.location).query)
        return query["flow"][0]

    # -- EU Login -------------------------------------------------------------------------
    def new_eulogin_person(self, country: str = "GR", **overrides: Any) -> eulogin_standin.Identity:
        """A fresh EU Login user (unique ``sub`` and e-mail)."""
        seed = next(_seeds)
        fields = {
            "sub": f"n{seed:07x}",
            "email": f"teacher{seed}@school.example",
            "given_name": "Ελένη",
            "family_name": "Αντωνίου",
            "country": country,
        }
        fields.update(overrides)
        return eulogin_standin.Identity(**fields)

    def start_eulogin(self) -> str:
        """Open /eulogin/start; returns the authorize URL EU Login received."""
        assert self.eulogin is not None
        response = self.get("/realms/esep/eulogin/start", html=True)
        assert response.status == 302, response.text
        assert response.location.startswith(self.eulogin.authorization_endpoint)
        return response.location

    def eulogin_flow(self, person: eulogin_standin.Identity) -> tuple[str, str]:
        """The whole EU Login round trip: (flow id, the page Mitroo sent the browser to)."""
        assert self.eulogin is not None
        callback = self.callback(self.eulogin.authorize(self.start_eulogin(), person))
        assert callback.status == 303, callback.text
        location = urlsplit(callback.location)
        return parse_qs(location.query)["flow"][0], location.path

    # -- Mitroo journeys ------------------------------------------------------------------
    def register(self, flow: str, email: str, password: str = STRONG_PASSWORD, **extra: Any) -> Response:
        body = {
            "flow": flow,
            "email": email,
            "password": password,
            "password_confirmation": password,
            "gender": "female",
        }
        body.update(extra)
        return self.post("/api/v1/realms/eiep/registrations", json=body)

    def run_tasks(self) -> int:
        """Run what the requests so far queued (mail), as the SQS trigger would."""
        return self.pump.drain()

    def mail_to(self, address: str) -> list[dict[str, Any]]:
        self.run_tasks()
        response = self.get(f"/_dev/mail?{urlencode({'to': address})}")
        assert response.status == 200, response.text
        return list(response.json["messages"])

    def activation_mail(self, address: str) -> tuple[str, str]:
        """(token, code) from the newest activation mail to ``address``."""
        messages = self.mail_to(address)
        assert messages, f"no mail to {address}"
        html = messages[0]["html"] or ""
        token = re.search(r"/activate\?token=([A-Za-z0-9_-]+)", html)
        code = re.search(r'data-code="activation">(\d+)<', html)
        assert token and code, html
        return token.group(1), code.group(1)

    def login(self, username: str, password: str = STRONG_PASSWORD) -> Response:
        return self.post("/api/v1/realms/eiep/sessions", json={"username": username, "password": password})


def unique_email(prefix: str = "teacher") -> str:
    return f"{prefix}.{next(_seeds)}@example.gr"
