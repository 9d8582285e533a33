"""Test session set-up shared by every suite.

The environment is fixed before ``app`` is imported (Powertools and the dev-route switch
read it), an AWS emulator and the GSIS stand-in run once per test process over real
HTTP, and every test gets a Chalice test client with its own cookie jar.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Defaults for every test process, before anything imports the app or boto3.
os.environ.update(
    {
        "MITROO_ENV": "test",
        "MITROO_DEV_ROUTES": "1",
        "MITROO_PUBLIC_URL": "http://127.0.0.1:8000",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "POWERTOOLS_SERVICE_NAME": "mitroo",
        "POWERTOOLS_METRICS_NAMESPACE": "Mitroo",
        "POWERTOOLS_DEV": "false",
        # Two attempts per AWS call (deployed: four): a fault test that outlasts botocore's
        # retries then waits through at most ~1 s of backoff instead of ~7 s.
        "MITROO_AWS_MAX_ATTEMPTS": "2",
    }
)
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)

# Every AWS name is this test process's own: with moto each process has an emulator of
# its own anyway, but one LocalStack serves every xdist worker, and a worker must neither
# drain another's task queue nor see its sender unverified (test_mail_failures). Set at
# import, before anything reads them.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
os.environ.update(
    {
        "MITROO_TABLE_NAME": f"mitroo-test-{_worker}-main",
        "MITROO_IDEMPOTENCY_TABLE_NAME": f"mitroo-test-{_worker}-idempotency",
        "MITROO_TASK_QUEUE_NAME": f"mitroo-test-{_worker}-tasks",
        "MITROO_UPLOAD_BUCKET": f"mitroo-test-{_worker}-uploads",
        "MITROO_MAIL_SENDER": f"no-reply-{_worker}@mitroo.local",
    }
)


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """An AWS emulator for this test process: ``MITROO_TEST_AWS_ENDPOINT_URL`` if given
    (LocalStack: ``make test-localstack``), else moto. An external emulator outlives test
    runs, so this process's tables, queues, bucket and mail are emptied first: every run
    starts from nothing, as it does on a fresh moto."""
    from chalicelib.container import reset_services
    from chalicelib.settings import Settings
    from devtools.emulator import Emulator, prepare, reset

    external = os.environ.get("MITROO_TEST_AWS_ENDPOINT_URL")
    emulator = None if external else Emulator(port=0).start()
    endpoint = external or emulator.endpoint_url  # type: ignore[union-attr]
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    reset_services()
    settings = Settings.from_environ(os.environ)
    if external:
        reset(settings)
    prepare(settings)
    yield endpoint
    if emulator is not None:
        emulator.stop()


@pytest.fixture(scope="session")
def gsis(aws_endpoint: str) -> Iterator[object]:
    """The GSIS stand-in over HTTP, registered for the app's callback URI."""
    from chalicelib.container import reset_services
    from standins.gsis import Client, GsisStandIn

    standin = GsisStandIn(
        quiet=True,
        clients={
            "mitroo-test": Client(
                "mitroo-test", "mitroo-test-secret", ("http://127.0.0.1:8000/realms/eiep/gsis/callback",)
            )
        },
    ).start()
    os.environ.update(
        {
            "MITROO_GSIS_BASE_URL": standin.base_url,
            "MITROO_GSIS_CLIENT_ID": "mitroo-test",
            "MITROO_GSIS_CLIENT_SECRET": "mitroo-test-secret",
        }
    )
    reset_services()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def eulogin(aws_endpoint: str) -> Iterator[object]:
    """The EU Login stand-in over HTTP, registered for the app's callback URI."""
    from chalicelib.container import reset_services
    from standins.eulogin import Client, EuLoginStandIn

    secret = "mitroo-test-eulogin-secret-0123456789"  # HS256 wants 32 bytes or more
    standin = EuLoginStandIn(
        quiet=True,
        clients={"mitroo-test": Client("mitroo-test", secret, ("http://127.0.0.1:8000/realms/esep/eulogin/callback",))},
    ).start()
    os.environ.update(
        {
            "MITROO_EULOGIN_ISSUER": standin.issuer,
            "MITROO_EULOGIN_CLIENT_ID": "mitroo-test",
            "MITROO_EULOGIN_CLIENT_SECRET": secret,
        }
    )
    reset_services()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def chalice_app(gsis: object, eulogin: object) -> object:
    from devtools.local_gateway import install

    install()
    import app

    return app.app


@pytest.fixture
def browser(chalice_app: object, gsis: object, eulogin: object) -> Iterator[object]:
    """A person with a browser at an address of its own: a Chalice test client with a
    cookie jar and helpers; queued tasks run (as Lambda's SQS trigger would) on demand."""
    import boto3
    from chalice.test import Client

    from chalicelib.container import services
    from devtools.task_pump import TaskPump
    from tests.support.browser import Browser

    settings = services().settings
    sqs = boto3.client("sqs", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    with Client(chalice_app, stage_name="test", project_dir=str(ROOT)) as client:
        browser = Browser(client, gsis, TaskPump(sqs, settings.task_queue_name, client.lambda_), eulogin)
        browser.run_tasks()  # start with an empty queue: no test runs another's tasks
        yield browser
        browser.run_tasks()
