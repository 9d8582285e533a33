"""The embedded AWS emulator: moto's server with requests applied one at a time.

moto's DynamoDB is not safe under concurrent requests: ``transact_write_items`` snapshots
whole tables and restores them on a cancelled transaction, wiping writes other threads
made meanwhile, and conditional writes are check-then-act. Real DynamoDB serialises
conflicting writes per item; serialising every request here gives the same guarantees,
so concurrency tests exercise our conditions, not moto's races.

    python -m devtools.emulator --port 4566      # foreground, tables and sender created
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from chalicelib.adapters.dynamodb.bootstrap import ensure_table
from chalicelib.adapters.dynamodb.schema import IDEMPOTENCY_TABLE, MAIN_TABLE
from chalicelib.settings import Settings

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Serialized:
    """WSGI middleware: one request inside the wrapped app at a time.

    It also answers ``/_aws/ses`` the way LocalStack does (``GET``: sent mail as JSON,
    filtered by ``?id=`` and by ``?email=``, the source; ``DELETE``: forget the message
    ``?id=`` names, or all), read straight from moto's SES backend: moto's own
    ``/moto-api/data.json`` serialises every stored object of every service and grows
    slower with every DynamoDB item.
    """

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            if environ.get("PATH_INFO") == "/_aws/ses" and environ.get("REQUEST_METHOD") in ("GET", "DELETE"):
                query = {name: values[0] for name, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
                if environ["REQUEST_METHOD"] == "DELETE":
                    _forget_mail(query.get("id"))
                    start_response("204 No Content", [])
                    return []
                body = json.dumps({"messages": _sent_mail(query.get("id"), query.get("email"))}).encode()
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                return [body]
            return list(self._app(environ, start_response))


def _ses_backends() -> Iterable[tuple[str, Any]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID].items()


def _sent_mail(message_id: str | None = None, source: str | None = None) -> list[dict[str, Any]]:
    """Mail moto's SES accepted, oldest first, in LocalStack's ``/_aws/ses`` shape."""
    messages = []
    for region, backend in _ses_backends():
        for message in backend.sent_messages:
            if (message_id and message.id != message_id) or (source and message.source != source):
                continue
            messages.append(
                {
                    "Id": message.id,
                    "Region": region,
                    "Source": message.source,
                    "Destination": message.destinations,
                    "Subject": message.subject,
                    "Body": {"html_part": message.body, "text_part": None},
                }
            )
    return messages


def _forget_mail(message_id: str | None) -> None:
    """Drop one sent message (or every one) from moto's SES, as LocalStack's DELETE does."""
    for _region, backend in _ses_backends():
        backend.sent_messages[:] = [m for m in backend.sent_messages if message_id and m.id != message_id]


class RememberingDispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which service answers a host name.

    moto looks the host up on every request by listing its modules and trying each
    service's URL patterns, about 0.5 ms of the ~3.5 ms a DynamoDB call costs here; the
    answer for a host never changes while the server runs.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


class Emulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        self._host, self._port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call is noise
        cheap_transactions()
        keyed_queries()
        cheap_sqs_sends()
        app = Serialized(RememberingDispatcher(create_backend_app))
        self._server = make_server(self._host, self._port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        return self

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://{self._host}:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def cheap_transactions() -> None:
    """Make moto's TransactWriteItems cost what the transaction touches, not the table.

    moto deep-copies every table a transaction names before writing, to roll back on a
    cancelled condition: about 40 µs per stored item, so a transaction on a table of
    30 000 items takes over a second, and test suites and the provisioning benchmark slow
    down as the table grows. Requests to this emulator are serialised (see
    :class:`Serialized`), so keeping a copy of just the touched items and putting them
    back on failure gives the same results. LocalStack and DynamoDB are unaffected.
    """
    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend, DynamoType
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend.transact_write_items, "_touched_items_only", False):
        return
    original = DynamoDBBackend.transact_write_items

    class _CopyTablesByReference:
        """moto's module-level ``copy`` as moto's transaction code sees it."""

        copy = staticmethod(copy.copy)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op["Item"] if op_type == "Put" else op["Key"]
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            saved.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, before in reversed(saved):
                if table.get_item(hash_value, range_value) is not None:
                    table.delete_item(hash_value, range_value)
                if before is not None:
                    if range_value is None:
                        table.items[hash_value] = before
                    else:
                        table.items[hash_value][range_value] = before
            raise

    transact_write_items._touched_items_only = True  # type: ignore[attr-defined]
    dynamodb_models.copy = _CopyTablesByReference  # type: ignore[assignment]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def keyed_queries() -> None:
    """Make moto's Query read the partition it names, not the whole table.

    moto answers every Query by listing *and sorting* every item of the table, then
    keeping those of the requested partition, so a query's cost grows with the table
    (about 0.7 s at 50 000 items) where DynamoDB's grows with the partition. That would
    make the expiry-sweep benchmark measure moto, and slow the suites as tables fill.
    While a query runs, this hands moto only the candidate items, unsorted (moto sorts
    and filters its candidates itself, so results are unchanged): the partition's items
    for a table query, or for an index query the items an index of GSI hash-key values
    names; either narrowed to the sort-key range asked for. That index is built on a
    table's first index query and kept up to date by every put and update; entries are
    never removed eagerly, only skipped (and dropped) when the item no longer has that
    value, which keeps rolled-back transactions and deletions right without hooking them.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_keyed", False):
        return
    original_query, original_put, original_update = Table.query, Table.put_item, DynamoDBBackend.update_item
    original_delete = Table.delete_item

    def gsi_hash_names(table: Any) -> list[str]:
        return [
            key["AttributeName"] for index in table.global_indexes for key in index.schema if key["KeyType"] == "HASH"
        ]

    def note(table: Any, item: Any) -> None:
        index = table.__dict__.get("_gsi_keys")
        if index is None or item is None:
            return
        for name in gsi_hash_names(table):
            value = item.attrs.get(name)
            if value is not None:
                index.setdefault(name, {}).setdefault(value, set()).add((item.hash_key, item.range_key))

    def gsi_keys(table: Any) -> dict[str, dict[Any, set[Any]]]:
        index = table.__dict__.get("_gsi_keys")
        if index is None:
            index = table.__dict__["_gsi_keys"] = {}
            for item in Table.all_items(table):
                note(table, item)
        return index

    def stored(table: Any, key: Any) -> Any:
        partition = table.items.get(key[0])
        if partition is None:
            return None
        return partition.get(key[1]) if table.range_key_attr else partition

    def candidates(table: Any, hash_key: Any, index_name: Any, hash_conditions: Any) -> list[Any]:
        if not index_name:
            partition = table.items.get(hash_key)
            if partition is None:
                return []
            return list(partition.values()) if table.range_key_attr else [partition]
        wanted = dict(hash_conditions or [])
        names = [name for name in wanted if name in gsi_hash_names(table)]
        if not names:
            return Table.all_items(table)
        keys = gsi_keys(table).get(names[0], {}).get(wanted[names[0]], set())
        found = []
        for key in list(keys):
            item = stored(table, key)
            # moto's DynamoType cannot be compared with None: look before comparing.
            if item is None or (current := item.attrs.get(names[0])) is None or current != wanted[names[0]]:
                keys.discard(key)
            else:
                found.append(item)
        return found

    def range_name(table: Any, index_name: Any) -> str | None:
        if not index_name:
            return table.range_key_attr
        for index in [*table.global_indexes, *table.indexes]:
            if index.name == index_name:
                ranges = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
                return ranges[0] if len(ranges) == 1 else None
        return None

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        comparison, bounds = (args[0], args[1]) if len(args) > 1 else (None, None)
        if not index_name and self.range_key_attr and len(kwargs.get("range_key_conditions") or []) <= 1:
            window = sorted_window(self, hash_key, comparison, bounds, *args[2:5])
            if window is not None:
                self.all_items = lambda: window
                try:
                    return original_query(self, hash_key, *args, **kwargs)
                finally:
                    del self.all_items
        narrowed = candidates(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
        name = range_name(self, index_name) if len(kwargs.get("range_key_conditions") or []) <= 1 else None
        if comparison and name:
            # The sort-key condition, as moto applies it after sorting: DynamoDB reads only
            # the matching range, so only the matching items should cost a sort.
            narrowed = [
                item
                for item in narrowed
                if (value := item.attrs.get(name)) is not None and value.compare(comparison, bounds)
            ]
        self.all_items = lambda: narrowed
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = original_put(self, *args, **kwargs)
        note(self, item)
        self.__dict__.get("_sorted_ranges", {}).pop(item.hash_key, None)
        return item

    def delete_item(self: Any, hash_value: Any, *args: Any, **kwargs: Any) -> Any:
        self.__dict__.get("_sorted_ranges", {}).pop(hash_value, None)
        return original_delete(self, hash_value, *args, **kwargs)

    def update_item(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        item = original_update(self, table_name, *args, **kwargs)
        note(self.get_table(table_name), item)
        return item

    query._keyed = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign,assignment]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]


SORTED_WINDOW_MIN = 128
"""Partitions at least this large are read through their sorted keys (smaller ones are
cheap to scan, and keep moto's own path)."""


def sorted_window(
    table: Any, hash_key: Any, comparison: str | None, bounds: Any, limit: Any, start_key: Any, forward: Any
) -> list[Any] | None:
    """The items a table Query can reach, found as DynamoDB finds them: by binary search in
    the partition's sorted sort keys (the sort-key condition and ExclusiveStartKey), then
    only ``Limit`` + 1 of them (one more, so moto still sees that the page is not the
    last). moto would otherwise sort and test the whole partition on every Query, so a
    prefix search in a partition of 30 000 entries would cost what the partition holds,
    not what the page reads. None when the query is not one this can narrow (moto's own
    path answers it); the results are moto's either way, only its candidates are fewer.

    The sorted keys of a partition are cached until a put or delete touches it (or the
    partition's size or identity changes: a restored table, a rolled-back transaction).
    """
    import bisect

    from moto.dynamodb.models import DynamoType

    partition = table.items.get(hash_key)
    if not isinstance(partition, dict) or len(partition) < SORTED_WINDOW_MIN:
        return None
    cache = table.__dict__.setdefault("_sorted_ranges", {})
    cached = cache.get(hash_key)
    if cached is None or cached[0] is not partition or cached[1] != len(partition):
        cached = (partition, len(partition), sorted(partition))
        cache[hash_key] = cached
    keys: list[Any] = cached[2]
    low, high = 0, len(keys)
    operator = (comparison or "").upper()
    values = list(bounds or [])
    if operator in ("EQ", "="):
        low, high = bisect.bisect_left(keys, values[0]), bisect.bisect_right(keys, values[0])
    elif operator in ("LT", "<"):
        high = bisect.bisect_left(keys, values[0])
    elif operator in ("LE", "<="):
        high = bisect.bisect_right(keys, values[0])
    elif operator in ("GT", ">"):
        low = bisect.bisect_right(keys, values[0])
    elif operator in ("GE", ">="):
        low = bisect.bisect_left(keys, values[0])
    elif operator == "BETWEEN":
        low, high = bisect.bisect_left(keys, values[0]), bisect.bisect_right(keys, values[1])
    elif operator == "BEGINS_WITH" and values and values[0].type == "S":
        prefix = values[0].value
        low = bisect.bisect_left(keys, values[0])
        high = bisect.bisect_left(keys, DynamoType({"S": prefix + "\U0010ffff"}))
    elif operator:
        return None
    if start_key and table.range_key_attr in start_key:
        start = DynamoType(start_key[table.range_key_attr])
        if forward is False:
            high = min(high, bisect.bisect_left(keys, start, low, high))
        else:
            low = max(low, bisect.bisect_right(keys, start, low, high))
    if isinstance(limit, int) and limit > 0 and high - low > limit + 1:
        if forward is False:
            low = high - (limit + 1)
        else:
            high = low + limit + 1
    return [partition[key] for key in keys[low:high]]


def cheap_sqs_sends() -> None:
    """Make moto's SendMessage cost the same whatever the queue holds.

    To read one setting (content-based deduplication) moto builds every attribute of the
    queue, message counts included, and counting walks every message with two clock
    reads each: about 18 ms a message with 1 000 queued, 75 ms with 3 000, so queueing
    10 000 welcome mails takes many minutes where SQS takes seconds. During a send the
    counts are left out of that attribute list; GetQueueAttributes still reports them.
    """
    from moto.sqs.models import Queue, SQSBackend

    if getattr(SQSBackend.send_message, "_cheap", False):
        return
    original = SQSBackend.send_message
    uncounted = [name for name in Queue.BASE_ATTRIBUTES if not name.startswith("ApproximateNumberOf")]

    def send_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        queue = self.get_queue(queue_name)
        queue.BASE_ATTRIBUTES = uncounted
        try:
            return original(self, queue_name, *args, **kwargs)
        finally:
            del queue.BASE_ATTRIBUTES

    send_message._cheap = True  # type: ignore[attr-defined]
    SQSBackend.send_message = send_message  # type: ignore[method-assign]


def prepare(settings: Settings) -> None:
    """Create the tables, the task queue (with its DLQ) and the upload bucket and verify
    the mail sender, on the emulator ``settings`` names (moto or LocalStack alike)."""
    session = boto3.session.Session(region_name=settings.aws_region)
    dynamodb = session.client("dynamodb", endpoint_url=settings.aws_endpoint_url)
    ensure_table(dynamodb, MAIN_TABLE, settings.table_name)
    ensure_table(dynamodb, IDEMPOTENCY_TABLE, settings.idempotency_table_name)
    ses = session.client("ses", endpoint_url=settings.aws_endpoint_url)
    ses.verify_email_identity(EmailAddress=settings.mail_sender)
    ensure_task_queue(session.client("sqs", endpoint_url=settings.aws_endpoint_url), settings.task_queue_name)
    ensure_bucket(_s3(session, settings), settings.upload_bucket, settings.aws_region)


def reset(settings: Settings) -> None:
    """Take back to nothing what :func:`prepare` makes for ``settings`` on a long-lived
    emulator (a LocalStack that served earlier runs): drop both tables, the task queue and
    its DLQ, empty the upload bucket and forget the mail the sender sent. Only these names
    are touched: other users of the same emulator keep their state.
    """
    if not settings.aws_endpoint_url:
        raise ValueError("reset() empties an emulator, never AWS: AWS_ENDPOINT_URL is not set")
    session = boto3.session.Session(region_name=settings.aws_region)
    dynamodb = session.client("dynamodb", endpoint_url=settings.aws_endpoint_url)
    for table in (settings.table_name, settings.idempotency_table_name):
        try:
            dynamodb.delete_table(TableName=table)
        except dynamodb.exceptions.ResourceNotFoundException:
            continue
        dynamodb.get_waiter("table_not_exists").wait(TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    # Queues are deleted, not purged: moto (like SQS) allows one purge a minute, while
    # neither emulator (LocalStack by default) makes a deleted queue's name wait a minute.
    sqs = session.client("sqs", endpoint_url=settings.aws_endpoint_url)
    for queue in (settings.task_queue_name, f"{settings.task_queue_name}-dlq"):
        try:
            sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])
        except sqs.exceptions.QueueDoesNotExist:
            continue
    s3 = _s3(session, settings)
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.upload_bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=settings.upload_bucket, Delete={"Objects": keys, "Quiet": True})
    except s3.exceptions.NoSuchBucket:
        pass
    mail = f"{settings.aws_endpoint_url.rstrip('/')}/_aws/ses"
    sent = requests.get(mail, params={"email": settings.mail_sender}, timeout=10)
    if sent.status_code == 404:
        return  # LocalStack adds /_aws/ses when its SES starts, at the first SES call: no mail yet
    sent.raise_for_status()
    for message in sent.json()["messages"]:
        requests.delete(mail, params={"id": message["Id"]}, timeout=10).raise_for_status()


def _s3(session: Any, settings: Settings) -> Any:
    """Path-style, as the app's client: an emulator's host name has no bucket subdomains."""
    return session.client("s3", endpoint_url=settings.aws_endpoint_url, config=Config(s3={"addressing_style": "path"}))


def ensure_bucket(s3: Any, name: str, region: str) -> None:
    """The upload bucket (spreadsheets and reports); an existing one is kept."""
    try:
        s3.head_bucket(Bucket=name)
        return
    except ClientError:
        pass
    options = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **options)


def ensure_task_queue(sqs: Any, name: str) -> str:
    """The task queue and its dead-letter queue (5 receives, then dead-lettered)."""
    dead = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": "5"})
    attributes = {"VisibilityTimeout": "30", "RedrivePolicy": redrive}
    return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    args = parser.parse_args(argv)
    # Clients that create the tables need some credentials; the emulator accepts any.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local-emulator")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local-emulator")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    emulator = Emulator(args.host, args.port).start()
    environ = {**os.environ, "AWS_ENDPOINT_URL": emulator.endpoint_url}
    prepare(Settings.from_environ(environ))
    print(f"AWS emulator (moto, serialised) on {emulator.endpoint_url}", flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
