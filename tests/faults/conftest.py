"""Fault tests: the app's own AWS clients with fault rules, and an SQS event source that
leaves redelivery to the test (see ``tests/support/faults.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from chalicelib.container import services
from tests.support.browser import Browser
from tests.support.faults import Faults, FaultyPump, LambdaRuntime


@pytest.fixture
def faults(browser: Browser) -> Iterator[Faults]:
    """Fault rules on every AWS client the app built; lifted after the test."""
    injector = Faults(services().aws_clients).install()
    try:
        yield injector
    finally:
        injector.clear()
        injector.uninstall()


@pytest.fixture
def pump(browser: Browser, faults: Faults, chalice_app: object) -> Iterator[FaultyPump]:
    """The browser's task pump, replaced by one whose failed deliveries wait for the test
    to let their visibility timeout pass; nothing is left in flight afterwards."""
    settings = services().settings
    sqs = boto3.client("sqs", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    faulty = FaultyPump(sqs, settings.task_queue_name, LambdaRuntime(chalice_app))
    browser.pump = faulty
    yield faulty
    faults.clear()
    faulty.lose_deletes = False
    if faulty.in_flight:
        faulty.visibility_timeout_passes()
    faulty.drain()
