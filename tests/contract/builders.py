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
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.esep import (
    EsepRole,
    LegacyMember,
    Member,
    MemberStatus,
    Organisation,
    OrganisationStatus,
    Project,
    ProjectStatus,
)
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


# --- realm esep ---------------------------------------------------------------------------

ESEP = "esep"


def unique_country() -> str:
    """A country code no other test uses (not ISO: the repository does not check), so a
    per-country list (pending, search) holds only the records of the test at hand."""
    return "T" + unique()[:7].upper()


def unique_tag() -> str:
    """A word no other record's name holds: a search for it finds this test's records only."""
    return "z" + unique()[:9]


def esep_account(**changes: Any) -> Account:
    """An ESEP account: username = the EU Login ``sub``, no password, no GSIS identity."""
    base = Account(
        account_id=unique(),
        realm=ESEP,
        username=f"eu-{unique()}",
        email=unique_email(),
        status=AccountStatus.ACTIVE,
        created_at=NOW,
        updated_at=NOW,
        language="en",
    )
    return dataclasses.replace(base, **changes)


def esep_member(account: Account | None = None, **changes: Any) -> Member:
    """A registered teacher who joins eTwinning, for ``account`` (a fresh one if None)."""
    owner = account or esep_account()
    base = Member(
        account_id=owner.account_id,
        subject=owner.username,
        email=owner.email,
        given_name="Μαρία",
        family_name="Παπαδοπούλου",
        country="GR",
        role=EsepRole.TEACHER,
        join_etwinning=True,
        status=MemberStatus.REGISTERED,
        created_at=NOW,
        updated_at=NOW,
        organisation_ids=(unique(),),
        subjects=("mathematics",),
        languages=("el", "en"),
    )
    return dataclasses.replace(base, **changes)


def organisation(**changes: Any) -> Organisation:
    """A validated eTwinning school."""
    base = Organisation(
        organisation_id=unique(),
        name="1ο Γυμνάσιο Άνδρου",
        city="Άνδρος",
        country="GR",
        kind="school",
        etwinning=True,
        status=OrganisationStatus.VALIDATED,
        created_by=None,
        created_at=NOW,
        updated_at=NOW,
    )
    return dataclasses.replace(base, **changes)


def project(**changes: Any) -> Project:
    """A draft project between two teachers."""
    base = Project(
        project_id=unique(),
        owner_id=unique(),
        organisation_id=unique(),
        partner_id=unique(),
        title="Τα νησιά μας",
        description="Δύο σχολεία γνωρίζουν το ένα το νησί του άλλου.",
        language="en",
        pupils_count=24,
        pupils_age_min=12,
        pupils_age_max=14,
        subjects=("geography", "history"),
        goals="Γνωριμία",
        process="Εβδομαδιαίες συναντήσεις",
        outcomes="Ένας κοινός χάρτης",
        status=ProjectStatus.DRAFT,
        country="GR",
        created_at=NOW,
        updated_at=NOW,
    )
    return dataclasses.replace(base, **changes)


def legacy_member(**changes: Any) -> LegacyMember:
    """A record of the old platform, keyed by its (normalised) e-mail."""
    base = LegacyMember(
        email=unique_email(),
        given_name="Μαρία",
        family_name="Παπαδοπούλου",
        country="GR",
        role=EsepRole.TEACHER,
        created_at=NOW - timedelta(days=3000),
        organisation_ids=(unique(),),
        subjects=("mathematics",),
        languages=("el",),
        bio="Μαθηματικός",
        available_for_projects=True,
        extra={"seg_id": unique()[:8]},
    )
    return dataclasses.replace(base, **changes)


AUDIT = AuditEntry(REALM, "contract-tests", "arranged by the test", "test", NOW)
"""The audit entry the contract tests hand every account change (each suite checks what
is recorded where it matters)."""
