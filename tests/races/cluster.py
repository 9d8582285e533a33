"""Several app containers behind one public URL, raced over real HTTP.

In AWS one API is served by many Lambda containers, each serving one request at a time
(``devtools/local_gateway.py`` serialises a local process's requests to keep that
model). So one ``python -m devtools.run`` never races itself: fifty requests that reach
it together run one after the other, and a race test against it would prove only the
sequential logic. :func:`start_cluster` therefore starts :data:`CONTAINERS` processes of
``devtools.run``, each on a port of its own but all with the same ``MITROO_PUBLIC_URL``
(links, redirect URIs), the same tables, the same token-signing key and the first
container's GSIS and EU Login stand-ins, and the tests spread each burst of requests
over them, as API Gateway spreads requests over containers. Conflicting writes then
meet where they meet in AWS: in DynamoDB (the emulator applies one request at a time,
as DynamoDB serialises the writes of one item).

Each container also has a task queue of its own: two provisioning jobs submitted to two
containers are run by two task workers at the same time, as two concurrent worker
invocations would run them.

:func:`race` sends a burst: one thread per request (a pool of :data:`WORKERS`), each with
its connection to its container open beforehand, all released by one
:class:`threading.Barrier`.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from devtools import site_process
from devtools.local_gateway import TEST_ADDRESS_HEADER
from devtools.site_process import free_ports
from tests.support.site import Site

CONTAINERS = 3
"""App processes behind the one public URL (2 shared cores here: more would only queue)."""
WORKERS = 50
"""Threads of a burst: every request of a race is in flight at once."""
GSIS_PREFIX = "/oauth2server"
PASSWORD = "Kal0s!Kodikos"
"""Acceptable in realm eiep (composition rules)."""
PASSPHRASE = "agapw poly th mairh sto vouno"
"""Acceptable in realm ntua (length and strength)."""
EULOGIN_PREFIX = "/cas/oauth2"

_seeds = itertools.count(random.randrange(10**6, 10**7))


def unique(prefix: str) -> str:
    """A value no other test (or earlier run on a kept emulator) has used."""
    return f"{prefix}{next(_seeds)}"


def _address() -> str:
    """A client address of its own: rate limits are per address (TEST_ADDRESS_HEADER)."""
    return f"203.0.{random.randrange(256)}.{random.randrange(1, 255)}"


@dataclass(frozen=True)
class Call:
    """One request of a burst, ready to send."""

    base: str
    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    data: Any = None


def race(calls: Sequence[Call]) -> list[requests.Response]:
    """Send every call at the same moment (one thread each); the answers, in order."""
    assert 0 < len(calls) <= WORKERS
    barrier = threading.Barrier(len(calls))

    def shoot(call: Call) -> requests.Response:
        with requests.Session() as session:
            # Connect first (HTTP/1.1 keeps the connection): the barrier then releases
            # requests, not fifty TCP handshakes queueing in a listen backlog of five.
            session.get(call.base + "/api/v1/health", timeout=60).raise_for_status()
            barrier.wait(timeout=60)
            return session.request(
                call.method,
                call.base + call.path,
                headers=call.headers,
                json=call.json,
                data=call.data,
                allow_redirects=False,
                timeout=120,
            )

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="race") as pool:
        return list(pool.map(shoot, calls))


def outcome(response: requests.Response) -> str:
    """``"201"`` for an answer that is not an error, else ``"409 email_taken"`` and the like
    (the problem's code from its JSON, or from the error page of a browser route)."""
    if response.status_code < 400:
        return str(response.status_code)
    try:
        code = response.json().get("code")
    except ValueError:
        shown = re.search(r'class="problem"[^>]*data-code="([a-z_]+)"', response.text)
        code = shown.group(1) if shown else None
    return f"{response.status_code} {code}"


def outcomes(responses: Sequence[requests.Response]) -> Counter[str]:
    return Counter(outcome(response) for response in responses)


def winners(responses: Sequence[requests.Response]) -> list[int]:
    """Indexes of the answers that are not errors."""
    return [index for index, response in enumerate(responses) if response.status_code < 400]


@dataclass
class Cluster:
    public_url: str
    """What every container calls itself (links, redirect URIs): the first one's URL."""
    containers: tuple[str, ...]
    gsis_root: str
    eulogin_root: str
    site: Site
    table_name: str
    endpoint: str
    _table: Any = field(default=None, repr=False)

    def base(self, container: int) -> str:
        return self.containers[container % len(self.containers)]

    def visitor(self, container: int = 0) -> Visitor:
        return Visitor(self, container)

    def staff(self, realm: str = "ntua", role: str = "secretariat") -> tuple[Visitor, str]:
        """A signed-in administrator of ``realm`` (made as the operator CLI makes one) and
        their access token."""
        username = unique("staff")
        self.site.account(realm, username=username, email=f"{username}@example.gr", roles=(role,), password=PASSPHRASE)
        visitor = self.visitor()
        token = str(visitor.login(realm, username, PASSPHRASE)["access_token"])
        self.site.second_factor_passed(token)  # staff roles need a second factor (SPEC §2.9)
        return visitor, token

    # -- mail ---------------------------------------------------------------------------
    def mail(self, to: str | None = None) -> list[dict[str, Any]]:
        """Mail the site sent (to ``to``), newest first, from ``GET /_dev/mail``."""
        query = f"?{urlencode({'to': to})}" if to else ""
        answer = requests.get(f"{self.base(0)}/_dev/mail{query}", timeout=30)
        answer.raise_for_status()
        return list(answer.json()["messages"])

    def wait_for_mail(self, to: str, count: int = 1, timeout: float = 30) -> list[dict[str, Any]]:
        """The mail to ``to`` once at least ``count`` messages arrived (the task workers send it)."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.mail(to)
            if len(messages) >= count or time.monotonic() > deadline:
                assert len(messages) >= count, f"{len(messages)} of {count} messages to {to} after {timeout}s"
                return messages
            time.sleep(0.2)

    # -- the table, read directly -------------------------------------------------------
    @property
    def table(self) -> Any:
        if self._table is None:
            import boto3

            region = os.environ.get("AWS_REGION", "eu-west-1")
            self._table = boto3.resource("dynamodb", region_name=region, endpoint_url=self.endpoint).Table(
                self.table_name
            )
        return self._table

    def items(self, kind: str, **equal: Any) -> list[dict[str, Any]]:
        """Every item of ``kind`` whose attributes equal ``equal`` (a scan: the table holds
        only the race tests' items). A dotted name reaches into a map: ``identity.afm``."""
        from boto3.dynamodb.conditions import Attr

        condition = Attr("kind").eq(kind)
        for name, value in equal.items():
            condition = condition & Attr(name.replace("__", ".")).eq(value)
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {"FilterExpression": condition, "ConsistentRead": True}
        while True:
            page = self.table.scan(**request)
            found.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def guard(self, realm: str, kind: str, value: str) -> dict[str, Any] | None:
        """The uniqueness guard that holds ``value``, if any."""
        from chalicelib.adapters.dynamodb.accounts import guard_key

        pk, sk = guard_key(realm, kind, value)
        return self.table.get_item(Key={"PK": pk, "SK": sk}, ConsistentRead=True).get("Item")


class Visitor:
    """One person's browser: cookies and a client address of its own; each request goes
    to the container named (by default the visitor's own)."""

    def __init__(self, cluster: Cluster, container: int = 0) -> None:
        self.cluster = cluster
        self.container = container
        self.jar: dict[str, str] = {}
        self.address = _address()
        self.session = requests.Session()

    def _headers(self, headers: dict[str, str] | None, html: bool, address: str | None) -> dict[str, str]:
        sent = {"Accept": "text/html" if html else "application/json", TEST_ADDRESS_HEADER: address or self.address}
        if self.jar:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        sent.update(headers or {})
        return sent

    def request(
        self,
        method: str,
        path: str,
        *,
        container: int | None = None,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        html: bool = False,
    ) -> requests.Response:
        base = self.cluster.base(self.container if container is None else container)
        response = self.session.request(
            method,
            base + path,
            headers=self._headers(headers, html, None),
            json=json,
            data=data,
            allow_redirects=False,
            timeout=60,
        )
        for cookie in response.raw.headers.getlist("Set-Cookie"):
            name, _, rest = cookie.partition("=")
            if "Max-Age=0" in cookie:
                self.jar.pop(name, None)
            else:
                self.jar[name] = rest.split(";", 1)[0]
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def call(
        self,
        method: str,
        path: str,
        *,
        container: int,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        address: str | None = None,
    ) -> Call:
        """This visitor's request (its cookies as they are now) for a burst; ``address``
        defaults to a fresh one, so that per-address limits do not decide the race."""
        return Call(
            base=self.cluster.base(container),
            method=method,
            path=path,
            headers=self._headers(headers, False, address or _address()),
            json=json,
            data=data,
        )

    # -- GSIS ---------------------------------------------------------------------------
    def new_gsis_identity(self, **overrides: Any) -> dict[str, Any]:
        """A fresh Taxisnet person with a valid AFM, added to the stand-in over HTTP."""
        from standins.gsis import make_afm

        seed = next(_seeds)
        identity = {
            "key": f"racer-{seed}",
            "afm": make_afm(seed),
            "last_name": "ΠΑΠΑΔΟΠΟΥΛΟΥ",
            "first_name": "ΜΑΡΙΑ",
            "father_name": "ΓΕΩΡΓΙΟΣ",
            "mother_name": "ΕΛΕΝΗ",
            "birth_year": "1984",
        }
        identity.update(overrides)
        answer = requests.post(f"{self.cluster.gsis_root}/_standin/identities", json=identity, timeout=30)
        assert answer.status_code == 201, answer.text
        return identity

    def gsis_callback(self, identity_key: str, intent: str = "register") -> str:
        """Start a GSIS sign-in and pick ``identity_key`` on the stand-in's form; the
        callback path and query GSIS sends the browser back to (not yet followed)."""
        start = self.get(f"/realms/eiep/gsis/start?intent={intent}", html=True)
        assert start.status_code == 302, start.text
        authorize = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["Location"]).query).items()}
        fields = ("client_id", "redirect_uri", "state", "scope")
        form = {"identity": identity_key, **{k: authorize[k] for k in fields if k in authorize}}
        chosen = requests.post(
            f"{self.cluster.gsis_root}{GSIS_PREFIX}/oauth/authorize", data=form, allow_redirects=False, timeout=30
        )
        assert chosen.status_code == 302, chosen.text
        return _path_and_query(chosen.headers["Location"])

    def gsis_flow(self, identity_key: str) -> str:
        """The whole GSIS round trip; the flow id."""
        back = self.get(self.gsis_callback(identity_key), html=True)
        assert back.status_code == 303, back.text
        return parse_qs(urlsplit(back.headers["Location"]).query)["flow"][0]

    # -- EU Login -----------------------------------------------------------------------
    def eulogin_callback(self, sub: str, email: str) -> str:
        """Start an EU Login sign-in and sign in as ``sub`` on the stand-in's "someone
        else" form; the callback path and query (not yet followed)."""
        start = self.get("/realms/esep/eulogin/start", html=True)
        assert start.status_code == 302, start.text
        authorize = urlsplit(start.headers["Location"])
        form = {k: v[0] for k, v in parse_qs(authorize.query).items()}
        form.update(
            {"identity": "__custom__", "sub": sub, "email": email, "given_name": "Ελένη", "family_name": "Αντωνίου"}
        )
        chosen = requests.post(
            f"{authorize.scheme}://{authorize.netloc}{authorize.path}", data=form, allow_redirects=False, timeout=30
        )
        assert chosen.status_code == 302, chosen.text
        return _path_and_query(chosen.headers["Location"])

    def eulogin_flow(self, sub: str, email: str) -> str:
        back = self.get(self.eulogin_callback(sub, email), html=True)
        assert back.status_code == 303, back.text
        return parse_qs(urlsplit(back.headers["Location"]).query)["flow"][0]

    # -- sessions -----------------------------------------------------------------------
    def login(self, realm: str, username: str, password: str) -> dict[str, Any]:
        answer = self.post(f"/api/v1/realms/{realm}/sessions", json={"username": username, "password": password})
        assert answer.status_code == 201, answer.text
        return dict(answer.json())


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@contextmanager
def start_cluster(aws_endpoint: str, logs: Path, *, name: str = "races") -> Iterator[Cluster]:
    """:data:`CONTAINERS` processes of ``devtools.run`` serving one public URL, on the
    emulator at ``aws_endpoint`` with tables, bucket and sender of their own (``name``)."""
    from chalicelib.adapters.jwt_signer import generate_private_key_pem
    from chalicelib.settings import Settings
    from devtools.emulator import prepare
    from devtools.run import DEV_EULOGIN, DEV_GSIS

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    *ports, gsis_port, eulogin_port = free_ports(CONTAINERS + 2)
    public_url = f"http://127.0.0.1:{ports[0]}"
    gsis_root, eulogin_root = f"http://127.0.0.1:{gsis_port}", f"http://127.0.0.1:{eulogin_port}"
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MITROO_", "PYTEST_")) or key in ("MITROO_DEV_ROUTES",)
    }
    shared = {
        **inherited,
        "AWS_ENDPOINT_URL": aws_endpoint,
        "MITROO_PUBLIC_URL": public_url,
        "MITROO_TABLE_NAME": f"mitroo-{name}-{worker}-main",
        "MITROO_IDEMPOTENCY_TABLE_NAME": f"mitroo-{name}-{worker}-idempotency",
        "MITROO_UPLOAD_BUCKET": f"mitroo-{name}-{worker}-uploads",
        "MITROO_MAIL_SENDER": f"no-reply-{name}-{worker}@mitroo.local",
        "MITROO_TASK_QUEUE_NAME": f"mitroo-{name}-{worker}-tasks-0",
        "MITROO_JWT_PRIVATE_KEY": generate_private_key_pem(),
        # Races are about who wins, not hashing cost or SES quotas: keep bursts quick.
        "MITROO_ARGON2_TIME_COST": "1",
        "MITROO_ARGON2_MEMORY_KIB": "8192",
        "MITROO_MAIL_RATE_PER_SECOND": "1000",
    }
    prepare(Settings.from_environ(shared))  # once, before the containers race to create it
    standins = {
        "MITROO_GSIS_BASE_URL": gsis_root + GSIS_PREFIX,
        "MITROO_GSIS_CLIENT_ID": DEV_GSIS[0],
        "MITROO_GSIS_CLIENT_SECRET": DEV_GSIS[1],
        "MITROO_EULOGIN_ISSUER": eulogin_root + EULOGIN_PREFIX,
        "MITROO_EULOGIN_CLIENT_ID": DEV_EULOGIN[0],
        "MITROO_EULOGIN_CLIENT_SECRET": DEV_EULOGIN[1],
    }
    logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        started: list[tuple[subprocess.Popen[bytes], Path, int]] = []
        for index, port in enumerate(ports):
            # The first container starts the stand-ins (registered for the public URL's
            # callbacks); the others are pointed at them.
            env = {**shared, "MITROO_TASK_QUEUE_NAME": f"mitroo-{name}-{worker}-tasks-{index}"}
            if index:
                env.update(standins)
            log = logs / f"container-{index}.log"
            process = site_process.launch(log, env, port=port, gsis_port=gsis_port, eulogin_port=eulogin_port)
            stack.callback(site_process.stop, process)
            started.append((process, log, port))
        for process, log, port in started:
            site_process.wait_until_up(f"http://127.0.0.1:{port}", process, log, timeout=90, what="a container")
        with ThreadPoolExecutor(max_workers=CONTAINERS) as pool:
            list(pool.map(_warm, (f"http://127.0.0.1:{port}" for port in ports)))
        table_name = shared["MITROO_TABLE_NAME"]
        yield Cluster(
            public_url=public_url,
            containers=tuple(f"http://127.0.0.1:{port}" for port in ports),
            gsis_root=gsis_root,
            eulogin_root=eulogin_root,
            site=Site(url=public_url, gsis_url=gsis_root, endpoint=aws_endpoint, table_name=table_name),
            table_name=table_name,
            endpoint=aws_endpoint,
        )


WARM_UP = (
    ("POST", "/api/v1/realms/ntua/sessions/refresh", {"refresh_token": "warm-up"}),
    ("POST", "/api/v1/realms/ntua/sessions", {"username": "warm-up", "password": "warm-up"}),
    ("POST", "/api/v1/realms/ntua/password-checks", {"password": PASSPHRASE}),
    ("GET", "/realms/eiep/gsis/start?intent=register", None),
    ("GET", "/realms/esep/eulogin/start", None),
)
"""Requests that make a container build what it builds on first use (its services and
clients, the strength meter's dictionaries, EU Login's discovery document)."""


def _warm(base: str) -> None:
    """Take a container past its cold start. A cold container spends its first second
    building; a burst would then find the warm ones done before the cold one begins,
    and nothing would race."""
    for method, path, body in WARM_UP:
        answer = requests.request(
            method, base + path, json=body, headers={TEST_ADDRESS_HEADER: _address()}, allow_redirects=False, timeout=60
        )
        assert answer.status_code < 500, f"{method} {path}: {answer.status_code} {answer.text[:500]}"
