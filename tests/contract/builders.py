"""Values for the contract tests, unique per call: the DynamoDB table is shared by every
test of the process, so no two tests may collide on an id, e-mail, AFM or hash."""

from __future__ import annotations

import dataclasses
import itertools
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.flows import IdentityFlow, Intent, OAuthState
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.secrets import fingerprint
from chalicelib.domain.tokens import Challenge, Purpose, RefreshToken, SessionFamily
from tests.fakes import afm_with_check_digit

# Microseconds on purpose: the DynamoDB adapter must keep them.
NOW = datetime.fromisoformat("2025-03-03T09:00:00.123456+00:00")
REALM = "eiep"


def unique() -> str:
    return uuid.uuid4().hex


def unique_hash() -> str:
    return fingerprint(unique())


_AFM_SEQUENCE = itertools.count(random.randrange(10**7, 9 * 10**7))


def unique_afm() -> str:
    """A valid AFM never handed out before in this process (the AFM space is small)."""
    return afm_with_check_digit(f"{next(_AFM_SEQUENCE):08d}")


def unique_email() -> str:
    return f"teacher.{unique()[:12]}@example.gr"


def identity(afm: str | None = None) -> GsisIdentity:
    return GsisIdentity(
        afm=afm or unique_afm(),
        last_name="ΠΑΠΑΔΟΠΟΥΛΟΥ",
        first_name="ΜΑΡΙΑ",
        father_name="ΓΕΩΡΓΙΟΣ",
        mother_name="ΕΛΕΝΗ",
        birth_year="1980",
        userid="mpapad",
    )


def account(*, email: str | None = None, afm: str | None = None, realm: str = REALM, **changes: Any) -> Account:
    """A pending GSIS-verified account with fresh unique values (override any field)."""
    address = email or unique_email()
    base = Account(
        account_id=unique(),
        realm=realm,
        username=address.casefold(),
        email=address,
        status=AccountStatus.PENDING_ACTIVATION,
        created_at=NOW,
        updated_at=NOW,
        password_hash="fake$" + unique(),
        identity=identity(afm),
        gsis_verified=True,
        gender="female",
        registry_number="A-1234",
        mobile="+306912345678",
        language="el",
    )
    return dataclasses.replace(base, **changes)


def oauth_state(**changes: Any) -> OAuthState:
    base = OAuthState(
        state_hash=unique_hash(),
        realm=REALM,
        provider="gsis",
        intent=Intent.REGISTER,
        browser_hash=unique_hash(),
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=10),
    )
    return dataclasses.replace(base, **changes)


def identity_flow(**changes: Any) -> IdentityFlow:
    base = IdentityFlow(
        flow_hash=unique_hash(),
        realm=REALM,
        intent=Intent.REGISTER,
        identity=identity(),
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )
    return dataclasses.replace(base, **changes)


def challenge(account_id: str | None = None, purpose: Purpose = Purpose.ACTIVATION, **changes: Any) -> Challenge:
    token_hash = unique_hash()
    base = Challenge(
        realm=REALM,
        account_id=account_id or unique(),
        purpose=purpose,
        token_hash=token_hash,
        code_hash=fingerprint(token_hash + "code"),
        created_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )
    return dataclasses.replace(base, **changes)


def session_family(account_id: str | None = None, **changes: Any) -> SessionFamily:
    base = SessionFamily(
        realm=REALM,
        account_id=account_id or unique(),
        family_id=unique(),
        created_at=NOW,
        expires_at=NOW + timedelta(days=30),
    )
    return dataclasses.replace(base, **changes)


def refresh_token(family: SessionFamily, **changes: Any) -> RefreshToken:
    base = RefreshToken(
        token_hash=unique_hash(),
        realm=family.realm,
        account_id=family.account_id,
        family_id=family.family_id,
        created_at=NOW,
        expires_at=NOW + timedelta(days=14),
    )
    return dataclasses.replace(base, **changes)
