"""PynamoDB item classes of the main table, bound to a table name and endpoint at run time.

PynamoDB reads table name, region and host from a class-level ``Meta``; binding them at
import would freeze whatever environment happened to be present (Chalice imports
``app.py`` while packaging). :func:`bind_models` builds the classes for one binding and
caches them, the cookbook's ``_get_order_model()`` trick.

Key patterns (``r`` = realm, ``h`` = SHA-256 hex of a secret or unique value):

=====================  ===========================  ===================
item                   PK                           SK
=====================  ===========================  ===================
account                ``ACCOUNT#r#<account_id>``   ``PROFILE``  (GSI1: ``EXPIRY#r#<month>``,
                                                                  GSI2 while a deletion is due: ``DELETION#r``)
uniqueness guard       ``UNIQUE#r#<kind>#h``        ``UNIQUE``  (username: also the login record)
OAuth state            ``OAUTHSTATE#h``             ``STATE``
identity flow          ``FLOW#h``                   ``FLOW``
challenge              ``ACCOUNT#r#<account_id>``   ``CHALLENGE#<purpose>``
challenge lookup       ``TOKEN#h``                  ``TOKEN``
session family         ``ACCOUNT#r#<account_id>``   ``SESSION#<family_id>``
refresh token          ``REFRESH#h``                ``REFRESH``
ticket                 ``TICKET#h``                 ``TICKET``
audit record           ``AUDIT#r#<account_id>``     ``<timestamp>#<random>``  (GSI1 ``AUDITBY#r#<actor>``,
                                                                              GSI2 ``AUDITDO#r#<action>``)
directory entry        ``FIND#r#<first character>`` ``<folded key>⇥<account_id>``
role listing           ``ROLE#r#<role>``            ``<folded username>⇥<account_id>``
support ticket         ``SUPPORT#r#h``              ``TICKET``  (GSI1: ``TICKETS#r#<status>``,
                                                                  GSI2: ``SUPPORTBY#r#h(e-mail)``)
ticket reply           ``SUPPORT#r#h``              ``REPLY#<timestamp>#<random>``
job cursor             ``CURSOR#r#<job>``           ``CURSOR``
registry entry         ``REGISTRY#r#<number>``      ``REGISTRY``
spreadsheet job        ``JOB#r#<job_id>``           ``JOB``
job chunk outcomes     ``JOB#r#<job_id>``           ``CHUNK#<nnnnnn>``
rate counter           ``RATE#<key>#<window start>`` ``RATE``
attempt reservations   ``ATTEMPTS#<key>``           ``ATTEMPTS``
ESEP member            ``ACCOUNT#esep#<account_id>`` ``MEMBER``  (GSI1 if searchable: ``PEOPLE#<country>``)
ESEP organisation      ``ORG#<organisation_id>``    ``ORG``  (GSI1 unless rejected: ``ORGS#<country>``)
ESEP project           ``PROJECT#<project_id>``     ``PROJECT``
ESEP pending marker    the record's PK              ``PENDING``  (GSI1: ``PENDING#<country>``)
ESEP project link      ``ACCOUNT#esep#<account_id>`` ``PROJECT#<project_id>``
ESEP legacy member     ``LEGACY#esep#h(e-mail)``    ``LEGACY``
ESEP countries seen    ``ESEP#COUNTRIES``           ``COUNTRIES``
OIDC client            ``OIDCCLIENTS#r``            ``CLIENT#<client_id>``
OIDC grant             ``OIDCGRANT#<grant_id>``     ``GRANT``
OIDC consent           ``ACCOUNT#r#<account_id>``   ``CONSENT#<client_id>``
client assertion seen  ``ASSERTION#<client>#h(jti)`` ``ASSERTION``
second factor          ``ACCOUNT#r#<account_id>``   ``MFA#FACTOR#<factor_id>``
recovery codes         ``ACCOUNT#r#<account_id>``   ``MFA#RECOVERY``
WebAuthn credential    ``WEBAUTHN#h(credential id)`` ``CREDENTIAL``  (one account per credential)
=====================  ===========================  ===================

A session family that signed a client in is filed in GSI1 under the hour it ends
(``SESSIONEND#<yyyy-mm-ddThh>``), so the sweep that tells clients about sessions that ran
out (``SessionEnding.sweep``) reads only those, never the table.

OpenID Provider (:mod:`chalicelib.adapters.dynamodb.oidc`): a realm's clients share one
partition, so listing them is one query. A grant is one item from its authorization code
to its last refresh token (``chalicelib.domain.oidc``); every transition is one
conditional update of it. The session family it was issued under lists its clients and
grants (string sets, ``ADD``), so ending the session finds what to revoke and whom to
tell without a query. A private_key_jwt assertion's ``jti`` is remembered until the
assertion expires, so a replayed assertion is refused.

Second factors (:mod:`chalicelib.adapters.dynamodb.factors`) sit in their account's
partition, so one query (``begins_with(SK, "MFA#")``) lists an account's factors and
recovery codes and nothing of another realm's. The account and its username guard (the
login record) carry ``second_factors``, the number of confirmed factors, moved in the
transaction that confirms, adds or removes one: a password login learns from the one
read it makes anyway whether a second step follows. The login record also keeps the
factors' copy (``totp_keys``: the confirmed TOTP factors' sealed secrets by factor id;
``recovery_codes``: how many are left, lowered by the sign-in that spends one), so the
password step of an account with a factor reads no factor list. A TOTP factor keeps its secret
sealed (never in the clear) and the time step of the last code it accepted, which a
conditional update moves forward (a code is accepted once); recovery codes are a string
set of salted fingerprints, each spent by a conditional ``DELETE`` from the set. The
``mfa_token`` of a sign-in and WebAuthn challenges are tickets (``TICKET#h``).

ESEP (realm ``esep``, :mod:`chalicelib.adapters.dynamodb.esep`): member, organisation
and project carry a ``version`` checked by a condition on every write. Searchable
members and organisations that are not rejected have GSI1SK ``<search text>⇥<id>`` (a
tab: it sorts below every character of a search text, so the order is by name); a
search queries the GSI1 partition of one country with a ``contains`` filter on
``search_text``, and without a country one such partition per country of the
``countries seen`` set, which a write extends *before* it files a record under a
country. A pending marker (GSI1SK ``<created_at, UTC, fixed width>#<KIND>#<id>``, oldest
first) exists exactly while its record waits for the national support organisation
(members ``registered``, organisations that ``awaits_nso``, projects ``accepted``); it
sits at a fixed key next to its record, so the write that changes the record puts or
deletes it in the same transaction without reading the old state first. A project link
sits in the partition of each person of a project (owner, invited partner, members
added later), written in the transaction that puts them in the project, so "my
projects" and "my invitations" are one Query of the person's partition, never a scan.

Administration (:mod:`chalicelib.adapters.dynamodb.directory`, ``.audit``, ``.helpdesk``):
an account is filed in the directory under the folded form of its username, e-mail,
registry number and surname (``domain/directory.py``), one entry per distinct key, in
the partition of the key's first character and sorted by key (``⇥`` is a tab, as
above), so a prefix search is one ``begins_with`` Query of one partition; and under each
of its roles. The entries are written in the account's create transaction (and by
``grant_roles``/``certify`` when roles or names change); an erasure of the account must
delete them (``directory_entries(account)`` names them), they hold its e-mail and
surname. Audit records carry two index keys, so the log is read by account (the
table), by actor (GSI1) or by action (GSI2), each sorted by time; every audit item gets
them from ``audit_item``, whichever transaction writes it. A support ticket and its
replies share a partition (one Query reads the conversation); the ticket is filed by
status on GSI1, oldest first, and carries its id only sealed (``domain/helpdesk.py``).

Self-deletion (:mod:`chalicelib.adapters.dynamodb.erasure`, SPEC §2.10): an account whose
deletion is scheduled carries ``deletion_due`` and is filed on GSI2 under ``DELETION#r``
sorted by ``<due day>#<account_id>`` (GSI1 already files it by expiry), so the daily sweep
queries the days up to today and reads only the accounts due, never the table; a cancel
removes both. A support ticket is filed on GSI2 under the fingerprint of its e-mail
address, so the person's export and erasure find the tickets they opened in one query.

Every short-lived item carries ``purge_at`` (DynamoDB TTL); code still checks its own
``expires_at`` because TTL deletion runs late and emulators never run it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


@dataclass(frozen=True)
class TableBinding:
    table_name: str
    region: str
    host: str | None
    max_attempts: int = 4
    """Attempts per call (botocore standard retry mode, which pynamodb configures)."""


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
    DirectoryEntryItem: Any
    SupportTicketItem: Any
    SupportReplyItem: Any
    CounterItem: Any
    AttemptItem: Any
    JobItem: Any
    JobChunkItem: Any
    EsepMemberItem: Any
    EsepOrganisationItem: Any
    EsepProjectItem: Any
    EsepPendingItem: Any
    EsepProjectLinkItem: Any
    EsepLegacyItem: Any
    EsepCountriesItem: Any
    OidcClientItem: Any
    OidcGrantItem: Any
    ConsentItem: Any
    AssertionItem: Any
    FactorItem: Any
    RecoveryCodesItem: Any
    CredentialItem: Any


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

    class ByDeletion(GlobalSecondaryIndex[Any]):
        """GSI2 as the index of scheduled deletions: ``DELETION#r`` / ``<yyyy-mm-dd>#<account_id>``."""

        class Meta:
            index_name = "GSI2"
            projection = AllProjection()

        gsi2pk = UnicodeAttribute(hash_key=True, attr_name="GSI2PK")
        gsi2sk = UnicodeAttribute(range_key=True, attr_name="GSI2SK")

    class Item(Model):
        class Meta:
            table_name = binding.table_name
            region = binding.region
            host = binding.host
            max_retry_attempts = binding.max_attempts - 1
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
        subject = UnicodeAttribute(null=True)  # EU Login sub, exact case (absent on older esep accounts)
        second_factors = NumberAttribute(null=True)
        # GSI1 (sparse): accounts by expiry day, so the daily sweep never scans the table.
        gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
        by_expiry = ByExpiry()
        # GSI2 (sparse): accounts whose deletion is due, by day (adapters/dynamodb/erasure.py).
        deletion_due = UnicodeAttribute(null=True)  # ISO date
        erasing_at = UTCDateTimeAttribute(null=True)
        gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
        gsi2sk = UnicodeAttribute(null=True, attr_name="GSI2SK")
        by_deletion = ByDeletion()

    class Guard(Item, discriminator="guard"):
        """Holds a unique value for one account; the username guard is also the login record."""

        account_id = UnicodeAttribute()
        unique_kind = UnicodeAttribute()
        password_hash = UnicodeAttribute(null=True)
        status = UnicodeAttribute(null=True)
        roles = ListAttribute(of=UnicodeAttribute, null=True)
        gsis_verified = BooleanAttribute(null=True)
        expires_on = UnicodeAttribute(null=True)  # ISO date
        second_factors = NumberAttribute(null=True)
        # The second factors' copy (domain.mfa.FactorCopy; adapters/dynamodb/factors.py):
        # confirmed TOTP factors' sealed secrets by factor id, and the recovery codes left.
        totp_keys = MapAttribute(null=True)  # type: ignore[var-annotated]
        recovery_codes = NumberAttribute(null=True)

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
        identity = IdentityMap(null=True)  # GSIS flows
        eulogin = MapAttribute(null=True)  # type: ignore[var-annotated]  # EU Login flows
        params = MapAttribute(default=dict)  # type: ignore[var-annotated]
        created_at = UTCDateTimeAttribute()
        expires_at = UTCDateTimeAttribute()
        used_at = UTCDateTimeAttribute(null=True)
        browser_hash = UnicodeAttribute(default="")

    class ChallengeItem(Item, discriminator="challenge"):
        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        purpose = UnicodeAttribute()
        token_hash = UnicodeAttribute()
        code_hash = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        expires_at = UTCDateTimeAttribute()
        subject = UnicodeAttribute(null=True)  # an e-mail change's requested address

    class ChallengeLookup(Item, discriminator="challenge_lookup"):
        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        purpose = UnicodeAttribute()

    class BySessionEnd(GlobalSecondaryIndex[Any]):
        """GSI1 as the index of sessions that signed clients in, by the hour they end:
        ``SESSIONEND#<yyyy-mm-ddThh>`` / ``<expires_at>#<realm>#<account>#<session>``."""

        class Meta:
            index_name = "GSI1"
            projection = AllProjection()

        gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")

    class SessionFamilyItem(Item, discriminator="session"):
        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        family_id = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        expires_at = UTCDateTimeAttribute()
        revoked_at = UTCDateTimeAttribute(null=True)
        auth_time = UTCDateTimeAttribute(null=True)
        amr = ListAttribute(of=UnicodeAttribute, null=True)
        browser_hash = UnicodeAttribute(null=True)
        clients = UnicodeSetAttribute(null=True)
        grants = UnicodeSetAttribute(null=True)
        linked = UnicodeSetAttribute(null=True)
        user_agent = UnicodeAttribute(null=True)
        address = UnicodeAttribute(null=True)
        last_used_at = UTCDateTimeAttribute(null=True)
        # GSI1 (sparse): set when the first client gets a code, so the session's natural
        # end can be told to its clients (session_end_index_key).
        gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
        by_end = BySessionEnd()

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

    class ByGsi1(GlobalSecondaryIndex[Any]):
        """GSI1 for the ESEP look-ups: search partitions and the NSO's pending list."""

        class Meta:
            index_name = "GSI1"
            projection = AllProjection()

        gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")

    class BySender(GlobalSecondaryIndex[Any]):
        """GSI2 as the support tickets by sender: ``SUPPORTBY#r#h(e-mail)`` / ``<created_at>⇥h``."""

        class Meta:
            index_name = "GSI2"
            projection = AllProjection()

        gsi2pk = UnicodeAttribute(hash_key=True, attr_name="GSI2PK")
        gsi2sk = UnicodeAttribute(range_key=True, attr_name="GSI2SK")

    class AuditByActor(GlobalSecondaryIndex[Any]):
        """GSI1 as the audit log by actor: ``AUDITBY#r#<actor>`` / ``<timestamp>#<random>``."""

        class Meta:
            index_name = "GSI1"
            projection = AllProjection()

        gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")

    class AuditByAction(GlobalSecondaryIndex[Any]):
        """GSI2 as the audit log by action: ``AUDITDO#r#<action>`` / ``<timestamp>#<random>``."""

        class Meta:
            index_name = "GSI2"
            projection = AllProjection()

        gsi2pk = UnicodeAttribute(hash_key=True, attr_name="GSI2PK")
        gsi2sk = UnicodeAttribute(range_key=True, attr_name="GSI2SK")

    class AuditItem(Item, discriminator="audit"):
        """One audit record: ``AUDIT#r#<account_id>`` / ``<timestamp>#<random>``, filed
        by actor (GSI1) and by action (GSI2) under the same sort key."""

        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        action = UnicodeAttribute()
        actor = UnicodeAttribute()
        at = UTCDateTimeAttribute()
        address = UnicodeAttribute(default="")
        details = MapAttribute(default=dict)  # type: ignore[var-annotated]
        gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
        gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
        gsi2sk = UnicodeAttribute(null=True, attr_name="GSI2SK")
        by_actor = AuditByActor()
        by_action = AuditByAction()

    class TicketItem(Item, discriminator="ticket"):
        """A reset request, certification ticket or support ticket (by the hash of its id)."""

        ticket_kind = UnicodeAttribute()  # not "kind": that is the item-type discriminator
        realm = UnicodeAttribute()
        data = MapAttribute(default=dict)  # type: ignore[var-annotated]
        created_at = UTCDateTimeAttribute()
        expires_at = UTCDateTimeAttribute()

    class DirectoryEntryItem(Item, discriminator="directory"):
        """Files an account under one folded key (``FIND#…``) or one role (``ROLE#…``)."""

        account_id = UnicodeAttribute()
        fields = ListAttribute(of=UnicodeAttribute, null=True)  # which values made the key

    class SupportTicketItem(Item, discriminator="support_ticket"):
        """A helpdesk ticket (``SUPPORT#r#h`` / ``TICKET``), filed by status on GSI1."""

        realm = UnicodeAttribute()
        topic = UnicodeAttribute()
        email = UnicodeAttribute()
        afm = UnicodeAttribute(default="")
        description = UnicodeAttribute()
        language = UnicodeAttribute()
        status = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()
        sealed_id = UnicodeAttribute(default="")
        gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
        by_status = ByGsi1()
        gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
        gsi2sk = UnicodeAttribute(null=True, attr_name="GSI2SK")
        by_sender = BySender()

    class SupportReplyItem(Item, discriminator="support_reply"):
        """One reply of the helpdesk, kept with its ticket."""

        at = UTCDateTimeAttribute()
        author = UnicodeAttribute()
        message = UnicodeAttribute()

    class CounterItem(Item, discriminator="counter"):
        """One fixed-window rate-limit counter."""

        hits = NumberAttribute(default=0)

    class AttemptItem(Item, discriminator="attempts"):
        """Attempt reservations of one key (``domain/attempts.py``), epoch seconds.

        Back-off keys: ``n`` unsettled attempts, ``at`` the last one, ``retry_at`` when
        the next one may be granted. Window keys: ``n`` attempts in the fixed window
        that starts at ``w``, ``p`` in the window before it.
        """

        n = NumberAttribute(default=0)
        at = NumberAttribute(null=True)
        retry_at = NumberAttribute(null=True)
        w = NumberAttribute(null=True)
        p = NumberAttribute(null=True)

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

    class EsepMemberItem(Item, discriminator="esep_member"):
        """What eTwinning knows about an ESEP account, in the account's partition."""

        account_id = UnicodeAttribute()
        subject = UnicodeAttribute()
        email = UnicodeAttribute()
        given_name = UnicodeAttribute()
        family_name = UnicodeAttribute()
        country = UnicodeAttribute()
        role = UnicodeAttribute()
        join_etwinning = BooleanAttribute()
        status = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()
        organisation_ids = ListAttribute(of=UnicodeAttribute, default=list)
        available_for_projects = BooleanAttribute(default=False)
        searchable = BooleanAttribute(default=True)
        subjects = ListAttribute(of=UnicodeAttribute, default=list)
        languages = ListAttribute(of=UnicodeAttribute, default=list)
        bio = UnicodeAttribute(default="")
        contacts = ListAttribute(of=UnicodeAttribute, default=list)
        reason = UnicodeAttribute(null=True)
        version = NumberAttribute(default=0)
        search_text = UnicodeAttribute(null=True)
        gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
        by_gsi1 = ByGsi1()

    class EsepOrganisationItem(Item, discriminator="esep_organisation"):
        organisation_id = UnicodeAttribute()
        name = UnicodeAttribute()
        city = UnicodeAttribute()
        country = UnicodeAttribute()
        org_kind = UnicodeAttribute()  # Organisation.kind; "kind" is the item-type discriminator
        etwinning = BooleanAttribute()
        status = UnicodeAttribute()
        created_by = UnicodeAttribute(null=True)
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()
        etwinning_requested = BooleanAttribute(default=False)
        reason = UnicodeAttribute(null=True)
        version = NumberAttribute(default=0)
        search_text = UnicodeAttribute(null=True)
        gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
        by_gsi1 = ByGsi1()

    class EsepProjectItem(Item, discriminator="esep_project"):
        project_id = UnicodeAttribute()
        owner_id = UnicodeAttribute()
        organisation_id = UnicodeAttribute()
        partner_id = UnicodeAttribute()
        title = UnicodeAttribute()
        description = UnicodeAttribute(default="")
        language = UnicodeAttribute()
        pupils_count = NumberAttribute()
        pupils_age_min = NumberAttribute()
        pupils_age_max = NumberAttribute()
        subjects = ListAttribute(of=UnicodeAttribute, default=list)
        goals = UnicodeAttribute(default="")
        process = UnicodeAttribute(default="")
        outcomes = UnicodeAttribute(default="")
        status = UnicodeAttribute()
        country = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()
        vocational_subjects = ListAttribute(of=UnicodeAttribute, default=list)
        image_key = UnicodeAttribute(null=True)
        members = ListAttribute(of=UnicodeAttribute, default=list)
        pupils = ListAttribute(of=UnicodeAttribute, default=list)
        reason = UnicodeAttribute(null=True)
        version = NumberAttribute(default=0)

    class EsepPendingItem(Item, discriminator="esep_pending"):
        """Files a record in its country's pending list while it waits for the NSO."""

        record_kind = UnicodeAttribute()  # member, organisation, project
        record_id = UnicodeAttribute()
        gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
        gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
        by_gsi1 = ByGsi1()

    class EsepProjectLinkItem(Item, discriminator="esep_project_link"):
        """Files a project under one of its people (their account's partition)."""

        project_id = UnicodeAttribute()

    class EsepLegacyItem(Item, discriminator="esep_legacy"):
        """An account of the old eTwinning platform, keyed by the hash of its e-mail."""

        email = UnicodeAttribute()
        given_name = UnicodeAttribute()
        family_name = UnicodeAttribute()
        country = UnicodeAttribute()
        role = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        organisation_ids = ListAttribute(of=UnicodeAttribute, default=list)
        subjects = ListAttribute(of=UnicodeAttribute, default=list)
        languages = ListAttribute(of=UnicodeAttribute, default=list)
        bio = UnicodeAttribute(default="")
        available_for_projects = BooleanAttribute(default=False)
        declined_by = UnicodeAttribute(null=True)
        extra = MapAttribute(default=dict)  # type: ignore[var-annotated]

    class EsepCountriesItem(Item, discriminator="esep_countries"):
        """The countries that have a search partition: a search without country reads each."""

        countries = UnicodeSetAttribute(default=set)

    class OidcClientItem(Item, discriminator="oidc_client"):
        """A registered OpenID Connect client (``OIDCCLIENTS#r`` / ``CLIENT#<client_id>``)."""

        realm = UnicodeAttribute()
        client_id = UnicodeAttribute()
        name = UnicodeAttribute()
        redirect_uris = ListAttribute(of=UnicodeAttribute, default=list)
        auth_method = UnicodeAttribute()
        secret_hash = UnicodeAttribute(null=True)
        trusted = BooleanAttribute(default=False)
        require_pkce = BooleanAttribute(default=False)
        scopes = ListAttribute(of=UnicodeAttribute, default=list)
        post_logout_redirect_uris = ListAttribute(of=UnicodeAttribute, default=list)
        backchannel_logout_uri = UnicodeAttribute(null=True)
        jwks_uri = UnicodeAttribute(null=True)
        refresh_tokens = BooleanAttribute(default=True)
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()

    class OidcGrantItem(Item, discriminator="oidc_grant"):
        """Code, then refresh token, of one client's authorization (``OIDCGRANT#<id>``)."""

        grant_id = UnicodeAttribute()
        realm = UnicodeAttribute()
        client_id = UnicodeAttribute()
        account_id = UnicodeAttribute()
        session_id = UnicodeAttribute()
        scopes = UnicodeSetAttribute(null=True)
        redirect_uri = UnicodeAttribute()
        auth_time = UTCDateTimeAttribute()
        amr = ListAttribute(of=UnicodeAttribute, null=True)
        acr = UnicodeAttribute(default="1")
        nonce = UnicodeAttribute(null=True)
        created_at = UTCDateTimeAttribute()
        expires_at = UTCDateTimeAttribute()
        code_hash = UnicodeAttribute()
        code_expires_at = UTCDateTimeAttribute()
        code_challenge = UnicodeAttribute(null=True)
        code_challenge_method = UnicodeAttribute(null=True)
        code_used_at = UTCDateTimeAttribute(null=True)
        refresh_hash = UnicodeAttribute(null=True)
        refresh_expires_at = UTCDateTimeAttribute(null=True)
        spent_refresh = MapAttribute(null=True)  # type: ignore[var-annotated]  # slot -> hash
        revoked_at = UTCDateTimeAttribute(null=True)

    class ConsentItem(Item, discriminator="oidc_consent"):
        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        client_id = UnicodeAttribute()
        scopes = UnicodeSetAttribute(null=True)
        granted_at = UTCDateTimeAttribute()

    class AssertionItem(Item, discriminator="oidc_assertion"):
        """A client assertion's ``jti``, kept until the assertion expires (replay guard)."""

        expires_at = UTCDateTimeAttribute()

    class FactorItem(Item, discriminator="mfa_factor"):
        """One second factor (``domain/mfa.py``); unconfirmed TOTP factors carry a TTL."""

        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        factor_id = UnicodeAttribute()
        factor_kind = UnicodeAttribute()  # not "kind": that is the item-type discriminator
        label = UnicodeAttribute(default="")
        created_at = UTCDateTimeAttribute()
        confirmed = BooleanAttribute(default=True)
        expires_at = UTCDateTimeAttribute(null=True)
        last_used_at = UTCDateTimeAttribute(null=True)
        sealed_secret = UnicodeAttribute(null=True)
        last_step = NumberAttribute(default=0)
        credential_id = UnicodeAttribute(null=True)
        public_key = UnicodeAttribute(null=True)
        sign_count = NumberAttribute(default=0)
        transports = ListAttribute(of=UnicodeAttribute, null=True)
        multi_device = BooleanAttribute(default=False)

    class RecoveryCodesItem(Item, discriminator="mfa_recovery"):
        """The unused recovery codes of one account, as salted fingerprints."""

        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        hashes = UnicodeSetAttribute(null=True)
        created_at = UTCDateTimeAttribute()

    class CredentialItem(Item, discriminator="webauthn_credential"):
        """Holds a WebAuthn credential id for the one account (and factor) that registered it."""

        realm = UnicodeAttribute()
        account_id = UnicodeAttribute()
        factor_id = UnicodeAttribute()

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
        DirectoryEntryItem=DirectoryEntryItem,
        SupportTicketItem=SupportTicketItem,
        SupportReplyItem=SupportReplyItem,
        CounterItem=CounterItem,
        AttemptItem=AttemptItem,
        JobItem=JobItem,
        JobChunkItem=JobChunkItem,
        EsepMemberItem=EsepMemberItem,
        EsepOrganisationItem=EsepOrganisationItem,
        EsepProjectItem=EsepProjectItem,
        EsepPendingItem=EsepPendingItem,
        EsepProjectLinkItem=EsepProjectLinkItem,
        EsepLegacyItem=EsepLegacyItem,
        EsepCountriesItem=EsepCountriesItem,
        OidcClientItem=OidcClientItem,
        OidcGrantItem=OidcGrantItem,
        ConsentItem=ConsentItem,
        AssertionItem=AssertionItem,
        FactorItem=FactorItem,
        RecoveryCodesItem=RecoveryCodesItem,
        CredentialItem=CredentialItem,
    )


def account_pk(realm: str, account_id: str) -> str:
    return f"ACCOUNT#{realm}#{account_id}"


def session_end_index_key(realm: str, account_id: str, family_id: str, expires_at: Any) -> tuple[str, str]:
    """GSI1 keys of a session that signed clients in: the hour it ends, then when exactly."""
    moment = expires_at.astimezone(UTC)
    return f"SESSIONEND#{moment:%Y-%m-%dT%H}", f"{moment:%Y-%m-%dT%H:%M:%S}#{realm}#{account_id}#{family_id}"
