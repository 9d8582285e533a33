"""PynamoDB item classes of the main table, bound to a table name and endpoint at run time.

PynamoDB reads table name, region and host from a class-level ``Meta``; binding them at
import would freeze whatever environment happened to be present (Chalice imports
``app.py`` while packaging). :func:`bind_models` builds the classes for one binding and
caches them, the cookbook's ``_get_order_model()`` trick.

Key patterns (``r`` = realm, ``h`` = SHA-256 hex of a secret or unique value):

=====================  ===========================  ===================
item                   PK                           SK
=====================  ===========================  ===================
account                ``ACCOUNT#r#<account_id>``   ``PROFILE``  (GSI1: ``EXPIRY#r#<month>``)
uniqueness guard       ``UNIQUE#r#<kind>#h``        ``UNIQUE``  (username: also the login record)
OAuth state            ``OAUTHSTATE#h``             ``STATE``
identity flow          ``FLOW#h``                   ``FLOW``
challenge              ``ACCOUNT#r#<account_id>``   ``CHALLENGE#<purpose>``
challenge lookup       ``TOKEN#h``                  ``TOKEN``
session family         ``ACCOUNT#r#<account_id>``   ``SESSION#<family_id>``
refresh token          ``REFRESH#h``                ``REFRESH``
ticket                 ``TICKET#h``                 ``TICKET``
audit record           ``AUDIT#r#<account_id>``     ``<timestamp>#<random>``
job cursor             ``CURSOR#r#<job>``           ``CURSOR``
registry entry         ``REGISTRY#r#<number>``      ``REGISTRY``
spreadsheet job        ``JOB#r#<job_id>``           ``JOB``
job chunk outcomes     ``JOB#r#<job_id>``           ``CHUNK#<nnnnnn>``
rate counter           ``RATE#<key>#<window start>`` ``RATE``
failure record         ``FAILURES#<key>``           ``FAILURES``
=====================  ===========================  ===================

Every short-lived item carries ``purge_at`` (DynamoDB TTL); code still checks its own
``expires_at`` because TTL deletion runs late and emulators never run it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


@dataclass(frozen=True)
class TableBinding:
    table_name: str
    region: str
    host: str | None


class IdentityMap(MapAttribute[str, Any]):
    """GSIS identity fields, stored as GSIS gave them (trimmed)."""

    afm = UnicodeAttribute()
    last_name = UnicodeAttribute()
    first_name = UnicodeAttribute()
    father_name = UnicodeAttribute(null=True)
    mother_name = UnicodeAttribute(null=True)
    birth_year = UnicodeAttribute(null=True)
    userid = UnicodeAttribute(null=True)


@dataclass(frozen=True)
class BoundModels:
    Item: Any
    Account: Any
    Guard: Any
    OAuthStateItem: Any
    FlowItem: Any
    ChallengeItem: Any
    ChallengeLookup: Any
    SessionFamilyItem: Any
    RefreshTokenItem: Any
    RegistryItem: Any
    CursorItem: Any
    AuditItem: Any
    TicketItem: Any
    CounterItem: Any
    FailureItem: Any
    JobItem: Any
    JobChunkItem: Any


@functools.cache
def bind_models(binding: TableBinding) -> BoundModels:
    """Item classes for one table, created once per binding."""

    class ByExpiry(GlobalSecondaryIndex[Any]):
        """GSI1 as the expiry index: ``EXPIRY#r#<yyyy-mm>`` / ``<yyyy-mm-dd>#<account_id>``."""

        class Meta:
            index_name = "GSI1"
            projection = AllProjection()

        gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")

    class Item(Model):
        class Meta:
            table_name = binding.table_name
            region = binding.region
            host = binding.host
            max_retry_attempts = 3
            connect_timeout_seconds = 5
            read_timeout_seconds = 10

        pk = UnicodeAttribute(hash_key=True, attr_name="PK")
        sk = UnicodeAttribute(range_key=True, attr_name="SK")
        kind = DiscriminatorAttribute(attr_name="kind")
        purge_at = TTLAttribute(null=True)

    class Account(Item, discriminator="account"):
        account_id = UnicodeAttribute()
        realm = UnicodeAttribute()
        username = UnicodeAttribute()
        email = UnicodeAttribute()
        status = UnicodeAttribute()
        password_hash = UnicodeAttribute(null=True)
        identity = IdentityMap(null=True)
        gsis_verified = BooleanAttribute(default=False)
        gender = UnicodeAttribute(null=True)
        registry_number = UnicodeAttribute(null=True)
        mobile = UnicodeAttribute(null=True)
        language = UnicodeAttribute(default="el")
        roles = ListAttribute(of=UnicodeAttribute, default=list)
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()
        activated_at = UTCDateTimeAttribute(null=True)
        affiliation = UnicodeAttribute(null=True)
        expires_on = UnicodeAttribute(null=True)  # ISO date
        expiry_warnings = ListAttribute(of=UnicodeAttribute, null=True)
        extra = MapAttribute(default=dict)  # type: ignore[var-annotated]
        # GSI1 (sparse): accounts by expiry day, so the daily sweep never scans the table.
        gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
        by_expiry = ByExpiry()

    class Guard(Item, discriminator="guard"):
        """Holds a unique value for one account; the username guard is also the login record."""

        account_id = UnicodeAttribute()
        unique_kind = UnicodeAttribute()
        password_hash = UnicodeAttribute(null=True)
        status = UnicodeAttribute(null=True)
        roles = ListAttribute(of=UnicodeAttribute, null=True)
        gsis_verified = BooleanAttribute(null=True)
        expires_on = UnicodeAttribute(null=True)  # ISO date

    class OAuthStateItem(Item, discriminator="oauth_state"):
        realm = UnicodeAttribute()
        provider = UnicodeAttribute()
        intent = UnicodeAttribute()
        browser_hash = UnicodeAttribute()
        params = MapAttribute(default=dict)  # type: ignore[var-annotated]
        created_at = UTCDateTimeAttribute()
        expires_at = UTCDateTimeAttribute()

    class FlowItem(Item, discriminator="flow"):
        realm = UnicodeAttribute()
        intent = UnicodeAttribute()
        identity = IdentityMap()
        params = MapAttribute(default=dict)  # type: ignore[var-annotated]
        created_at = UTCDateTimeAttribute()
        expires_at = UTCDateTimeAttribute()
        used_at = UTCDateTimeAttribute(null=True)

    class ChallengeItem(Item, discriminator="challenge"):
        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        purpose = UnicodeAttribute()
        token_hash = UnicodeAttribute()
        code_hash = UnicodeAttribute()
        failed_attempts = NumberAttribute(default=0)
        created_at = UTCDateTimeAttribute()
        expires_at = UTCDateTimeAttribute()

    class ChallengeLookup(Item, discriminator="challenge_lookup"):
        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        purpose = UnicodeAttribute()

    class SessionFamilyItem(Item, discriminator="session"):
        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        family_id = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        expires_at = UTCDateTimeAttribute()
        revoked_at = UTCDateTimeAttribute(null=True)

    class RefreshTokenItem(Item, discriminator="refresh"):
        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        family_id = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        expires_at = UTCDateTimeAttribute()
        rotated_at = UTCDateTimeAttribute(null=True)

    class RegistryItem(Item, discriminator="registry"):
        """A student-registry entry: ``REGISTRY#r#<registry number>``."""

        realm = UnicodeAttribute()
        registry_number = UnicodeAttribute()
        level = UnicodeAttribute()
        status = UnicodeAttribute()
        account_id = UnicodeAttribute(null=True)
        updated_at = UTCDateTimeAttribute()

    class CursorItem(Item, discriminator="cursor"):
        """Where a recurring job got to (``CURSOR#r#<job>``), e.g. the expiry sweep's last day."""

        value = UnicodeAttribute()

    class AuditItem(Item, discriminator="audit"):
        """One audit record: ``AUDIT#r#<account_id>`` / ``<timestamp>#<random>``."""

        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        action = UnicodeAttribute()
        actor = UnicodeAttribute()
        at = UTCDateTimeAttribute()
        address = UnicodeAttribute(default="")
        details = MapAttribute(default=dict)  # type: ignore[var-annotated]

    class TicketItem(Item, discriminator="ticket"):
        """A reset request, certification ticket or support ticket (by the hash of its id)."""

        ticket_kind = UnicodeAttribute()  # not "kind": that is the item-type discriminator
        realm = UnicodeAttribute()
        data = MapAttribute(default=dict)  # type: ignore[var-annotated]
        created_at = UTCDateTimeAttribute()
        expires_at = UTCDateTimeAttribute()

    class CounterItem(Item, discriminator="counter"):
        """One fixed-window rate-limit counter."""

        hits = NumberAttribute(default=0)

    class FailureItem(Item, discriminator="failures"):
        """Consecutive failures of one key, for login back-off."""

        failed = NumberAttribute(default=0)
        last_at = UTCDateTimeAttribute(null=True)

    class JobItem(Item, discriminator="job"):
        """A spreadsheet job and its counters (``JOB#r#<job_id>`` / ``JOB``)."""

        job_id = UnicodeAttribute()
        realm = UnicodeAttribute()
        job_kind = UnicodeAttribute()
        status = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()
        created_by = UnicodeAttribute()
        dry_run = BooleanAttribute(default=False)
        affiliation = UnicodeAttribute()
        file_name = UnicodeAttribute(default="")
        awaiting_upload = BooleanAttribute(default=False)
        reason = UnicodeAttribute(default="")
        total = NumberAttribute(default=0)
        processed = NumberAttribute(default=0)
        accepted = NumberAttribute(default=0)
        rejected = NumberAttribute(default=0)
        already_applied = NumberAttribute(default=0)

    class JobChunkItem(Item, discriminator="job_chunk"):
        """The outcomes of one chunk of rows, as compact JSON ``[[status, reason], …]``."""

        outcomes = UnicodeAttribute()

    # Subclasses inherit the base class's connection: one botocore client per table.
    Item._get_connection()
    return BoundModels(
        Item=Item,
        Account=Account,
        Guard=Guard,
        OAuthStateItem=OAuthStateItem,
        FlowItem=FlowItem,
        ChallengeItem=ChallengeItem,
        ChallengeLookup=ChallengeLookup,
        SessionFamilyItem=SessionFamilyItem,
        RefreshTokenItem=RefreshTokenItem,
        RegistryItem=RegistryItem,
        CursorItem=CursorItem,
        AuditItem=AuditItem,
        TicketItem=TicketItem,
        CounterItem=CounterItem,
        FailureItem=FailureItem,
        JobItem=JobItem,
        JobChunkItem=JobChunkItem,
    )


def account_pk(realm: str, account_id: str) -> str:
    return f"ACCOUNT#{realm}#{account_id}"
