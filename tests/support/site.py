"""The site as ``make run`` serves it, for tests that need it over real HTTP (the browser
tests, the schemathesis fuzz run): ``python -m devtools.run`` in its own process on free
ports (the app, its GSIS and EU Login stand-ins, its task pump), backed by the test
process's AWS emulator with tables, a task queue and a bucket of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools import site_process
from devtools.site_process import free_ports


@dataclass(frozen=True)
class Site:
    url: str
    gsis_url: str
    endpoint: str
    table_name: str
    eulogin_url: str = ""
    demo_url: str = ""
    """The demo application (``devtools/demo_rp.py``), when the site was asked for one."""

    def realm(self, realm: str, path: str = "") -> str:
        return f"{self.url}/realms/{realm}{path}"

    def account(
        self,
        realm: str,
        *,
        username: str,
        email: str,
        roles: tuple[str, ...] = (),
        password: str | None = None,
        identity: Any = None,
    ) -> str:
        """An active account written straight into the site's table (as a registrar or an
        operator would have made it); its id."""
        import uuid
        from datetime import UTC, datetime

        from chalicelib.adapters.argon2_hasher import Argon2Hasher
        from chalicelib.adapters.dynamodb.models import TableBinding, bind_models
        from chalicelib.adapters.dynamodb.repositories import DynamoAccountRepository
        from chalicelib.domain.accounts import Account, AccountStatus
        from tests.fakes import arranged

        now = datetime.now(UTC)
        account = Account(
            account_id=uuid.uuid4().hex,
            realm=realm,
            username=username,
            email=email,
            status=AccountStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            password_hash=Argon2Hasher(time_cost=1, memory_kib=8192, parallelism=1).hash(password)
            if password
            else None,
            roles=roles,
            identity=identity,
            gsis_verified=identity is not None,
        )
        models = bind_models(TableBinding(self.table_name, os.environ.get("AWS_REGION", "eu-west-1"), self.endpoint))
        DynamoAccountRepository(models).create(account, audit=arranged(realm, account.account_id))
        return account.account_id

    def oidc_client(
        self,
        realm: str,
        redirect_uris: tuple[str, ...],
        *,
        auth_method: str = "client_secret_basic",
        trusted: bool = True,
        **options: Any,
    ) -> tuple[str, str | None]:
        """A client registered straight into the site's table (as the operator CLI
        would register it); its id and secret."""
        import secrets
        import uuid
        from datetime import UTC, datetime

        from chalicelib.adapters.dynamodb.models import TableBinding, bind_models
        from chalicelib.adapters.dynamodb.oidc import DynamoOidcClientRepository
        from chalicelib.domain.oidc import OidcClient
        from chalicelib.domain.secrets import fingerprint

        now = datetime.now(UTC)
        secret = None if auth_method in ("none", "private_key_jwt") else secrets.token_urlsafe(32)
        client = OidcClient(
            realm=realm,
            client_id=uuid.uuid4().hex,
            name=options.pop("name", "Test application"),
            redirect_uris=redirect_uris,
            auth_method=auth_method,
            created_at=now,
            updated_at=now,
            secret_hash=fingerprint(secret) if secret else None,
            trusted=trusted,
            require_pkce=options.pop("require_pkce", auth_method == "none"),
            **options,
        )
        models = bind_models(TableBinding(self.table_name, os.environ.get("AWS_REGION", "eu-west-1"), self.endpoint))
        DynamoOidcClientRepository(models, cache_seconds=0).create(client)
        return client.client_id, secret

    def second_factor_passed(self, access_token: str, method: str = "otp") -> None:
        """Record on the token's session that it passed a second factor (as enrolling one
        in it would): staff in tests that are not about second factors reach the admin
        endpoints their role needs (SPEC §2.9) without a factor ceremony."""
        from datetime import UTC, datetime

        from chalicelib.adapters.dynamodb.models import TableBinding, bind_models
        from chalicelib.adapters.dynamodb.repositories import DynamoSessionRepository
        from tests.support.mfa import claims

        seen = claims(access_token)
        models = bind_models(TableBinding(self.table_name, os.environ.get("AWS_REGION", "eu-west-1"), self.endpoint))
        DynamoSessionRepository(models).add_authentication(
            seen["realm"], seen["sub"], seen["sid"], method, datetime.now(UTC)
        )


@contextmanager
def running_site(
    aws_endpoint: str, log: Path, *, name: str, demo: bool = False, host: str = "127.0.0.1"
) -> Iterator[Site]:
    """``python -m devtools.run`` on free ports until the block ends; its output goes to
    ``log``. ``name`` keeps its AWS resources apart from other sites on the emulator.
    ``host`` is the public URL's host: ``localhost`` for passkeys (browsers refuse an IP
    address as a WebAuthn RP ID); the site listens on 127.0.0.1 either way."""
    port, gsis_port, eulogin_port, demo_port = free_ports(4)
    demo_port = demo_port if demo else 0
    url = f"http://{host}:{port}"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MITROO_GSIS_", "MITROO_EULOGIN_", "PYTEST_")) and key != "MITROO_ENV"
    }
    env.update(
        {
            "AWS_ENDPOINT_URL": aws_endpoint,
            "MITROO_PUBLIC_URL": url,
            "MITROO_TABLE_NAME": f"mitroo-{name}-{worker}-main",
            "MITROO_IDEMPOTENCY_TABLE_NAME": f"mitroo-{name}-{worker}-idempotency",
            "MITROO_TASK_QUEUE_NAME": f"mitroo-{name}-{worker}-tasks",
            "MITROO_UPLOAD_BUCKET": f"mitroo-{name}-{worker}-uploads",
        }
    )
    with site_process.running(
        log,
        env,
        base_url=url,
        gsis_port=gsis_port,
        eulogin_port=eulogin_port,
        timeout=60,
        what="the site",
        demo_port=demo_port,
    ):
        yield Site(
            url=url,
            gsis_url=f"http://127.0.0.1:{gsis_port}",
            endpoint=aws_endpoint,
            table_name=env["MITROO_TABLE_NAME"],
            eulogin_url=f"http://127.0.0.1:{eulogin_port}",
            demo_url=f"http://127.0.0.1:{demo_port}" if demo_port else "",
        )
