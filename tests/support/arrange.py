"""Arranging states that take time to reach (expired flows and links) straight in DynamoDB.

Tests write them through the same repository adapters the app uses, so the items look
exactly like the app's own.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.container import services
from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.flows import IdentityFlow, Intent
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.secrets import code_fingerprint, fingerprint
from chalicelib.domain.tokens import Challenge, Purpose
from tests.fakes import arranged


def expired_flow(browser: Any, afm: str, intent: Intent = Intent.REGISTER) -> str:
    """A register flow of ``browser`` that expired a minute ago; returns its id."""
    flow_id = secrets.token_urlsafe(32)
    binding = browser.jar.setdefault("mitroo_browser", secrets.token_urlsafe(32))
    now = datetime.now(UTC)
    services().flows.gsis_signin.flows.save_flow(
        IdentityFlow(
            flow_hash=fingerprint(flow_id),
            realm="eiep",
            intent=intent,
            identity=GsisIdentity(afm, "ΤΕΣΤ", "ΤΕΣΤΗΣ", "ΠΑΤΗΡ", "ΜΗΤΗΡ", "1980"),
            created_at=now - timedelta(minutes=16),
            expires_at=now - timedelta(minutes=1),
            browser_hash=fingerprint(binding),
        )
    )
    return flow_id


def expired_activation(email: str) -> tuple[str, str]:
    """Replace the pending account's activation with one that expired; (token, code)."""
    account = services().flows.sessions.accounts.find_by_unique("eiep", UniqueKind.EMAIL, email.casefold())
    assert account is not None
    token, code = secrets.token_urlsafe(32), "424242"
    now = datetime.now(UTC)
    services().flows.activation.challenges.repository.replace(
        Challenge(
            realm="eiep",
            account_id=account.account_id,
            purpose=Purpose.ACTIVATION,
            token_hash=fingerprint(token),
            code_hash=code_fingerprint(code, salt=fingerprint(token)),
            created_at=now - timedelta(days=2),
            expires_at=now - timedelta(days=1),
        )
    )
    return token, code


def account_in(
    realm: str,
    *,
    username: str,
    email: str,
    password: str | None,
    identity: GsisIdentity | None = None,
    gsis_verified: bool = True,
    roles: tuple[str, ...] = (),
) -> str:
    """An active account stored directly (registrar accounts, legacy imports); its id."""
    from chalicelib.domain.accounts import Account, AccountStatus

    ports = services().ports
    now = datetime.now(UTC)
    account = Account(
        account_id=ports.secrets.identifier(),
        realm=realm,
        username=username.casefold(),
        email=email,
        status=AccountStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        password_hash=ports.hasher.hash(password) if password else None,
        identity=identity,
        gsis_verified=gsis_verified,
        roles=roles,
    )
    ports.accounts.create(account, audit=arranged(account.realm, account.account_id))
    return account.account_id


def second_factor_passed(access_token: str, method: str = "otp") -> None:
    """Record on the token's session that it passed a second factor, as enrolling one in
    it or a sign-in's second step would: staff in tests that are not about second factors
    reach the admin endpoints their role needs (SPEC §2.9) without a factor ceremony."""
    import base64
    import json

    payload = access_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    services().ports.sessions.add_authentication(
        claims["realm"], claims["sub"], claims["sid"], method, datetime.now(UTC)
    )
