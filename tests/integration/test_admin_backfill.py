"""The one-off backfill (``cli backfill-admin-indexes``), run as operators run it: items
stored before the consoles — an account without directory entries, an audit record
without index keys, a support ticket of the old store — become findable, and a second
run changes nothing more."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from chalicelib.adapters.dynamodb.helpdesk import DynamoHelpdeskRepository
from chalicelib.adapters.dynamodb.models import TableBinding, bind_models
from chalicelib.adapters.dynamodb.repositories import DynamoAccountRepository
from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.audit import AuditQuery
from chalicelib.domain.helpdesk import SupportTicket, TicketStatus
from chalicelib.domain.identity import GsisIdentity
from chalicelib.domain.secrets import fingerprint
from tests.integration.test_cli import run_cli
from tests.support.admin import tag
from tests.support.browser import Browser


def _models() -> object:
    return bind_models(
        TableBinding(os.environ["MITROO_TABLE_NAME"], os.environ["AWS_REGION"], os.environ["AWS_ENDPOINT_URL"])
    )


def test_old_items_become_findable_and_a_rerun_is_harmless(browser: Browser) -> None:
    from chalicelib.container import services

    m = _models()
    now = datetime.now(UTC)
    surname = tag("Ωμέγα")
    # Given an account item written as before the directory (no entries beside it)
    old = Account(
        account_id=tag("old"),
        realm="ntua",
        username=tag("olduser"),
        email=f"{tag('old')}@example.gr",
        status=AccountStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        identity=GsisIdentity("", surname, "Όνομα", "", "", ""),
        roles=("secretariat",),
    )
    DynamoAccountRepository(m)._to_item(old).save()  # type: ignore[arg-type]
    # and an audit record without index keys, and a support ticket of the old store
    actor = tag("actor")
    record = m.AuditItem(f"AUDIT#ntua#{old.account_id}", f"{now.isoformat()}#0000")  # type: ignore[attr-defined]
    record.realm, record.account_id, record.action, record.actor, record.at = (
        "ntua",
        old.account_id,
        "x_done",
        actor,
        now,
    )
    record.save()
    ticket_hash = fingerprint(tag("ticket"))
    legacy_ticket = m.TicketItem(f"TICKET#{ticket_hash}", "TICKET")  # type: ignore[attr-defined]
    legacy_ticket.ticket_kind, legacy_ticket.realm = "support", "eiep"
    legacy_ticket.data = {
        "topic": "technical",
        "email": "old@example.gr",
        "description": "παλιό αίτημα",
        "language": "el",
    }
    legacy_ticket.created_at, legacy_ticket.expires_at = now, now + timedelta(days=30)
    legacy_ticket.save()
    # and a queued ticket opened before tickets were filed under their sender's address
    sender = f"{tag('sender')}@example.gr"
    queued_hash = fingerprint(tag("queued"))
    DynamoHelpdeskRepository(m).open(  # type: ignore[arg-type]
        SupportTicket(
            ticket_hash=queued_hash,
            realm="eiep",
            topic="technical",
            email=sender,
            description="χωρίς αποστολέα",
            language="el",
            status=TicketStatus.OPEN,
            created_at=now,
            updated_at=now,
        )
    )
    m.SupportTicketItem(f"SUPPORT#eiep#{queued_hash}", "TICKET").update(  # type: ignore[attr-defined]
        actions=[m.SupportTicketItem.gsi2pk.remove(), m.SupportTicketItem.gsi2sk.remove()]  # type: ignore[attr-defined]
    )
    ports = services().ports
    assert ports.helpdesk.sent_from("eiep", sender) == []
    assert ports.directory.search("ntua", surname.lower().replace("έ", "ε"), limit=5).hits == []

    # When the operator runs the backfill (first as a dry run)
    dry = run_cli("backfill-admin-indexes", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert ports.directory.search("ntua", surname.lower().replace("έ", "ε"), limit=5).hits == []
    first = run_cli("backfill-admin-indexes")
    assert first.returncode == 0, first.stderr

    # Then the account is found by surname and listed under its role, the record by its
    # actor and action, and the ticket is in the helpdesk's queue
    hits = ports.directory.search("ntua", surname.lower().replace("έ", "ε"), limit=5).hits
    assert [hit.account_id for hit in hits] == [old.account_id]
    assert ports.audit_search.search("ntua", AuditQuery(actor=actor), limit=5).entries[0].action == "x_done"
    assert ports.audit_search.search("ntua", AuditQuery(action="x_done"), limit=50).entries
    queued = ports.helpdesk.get("eiep", ticket_hash)
    assert queued is not None and queued.status is TicketStatus.OPEN and queued.description == "παλιό αίτημα"
    # and the later ticket is found under its sender's address (export, erasure)
    assert [ticket.ticket_hash for ticket in ports.helpdesk.sent_from("eiep", sender)] == [queued_hash]
    # And running it again finds nothing more to file for the audit record and the ticket
    second = run_cli("backfill-admin-indexes", "--realm", "eiep")
    assert second.returncode == 0 and " 0 support tickets, 0 tickets under their sender" in second.stdout, second.stdout
