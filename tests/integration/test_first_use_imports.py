"""A password sign-in through the app's own route, with the real adapters on the AWS
emulator, loads none of the libraries or flows that belong to other capabilities (SPEC
§5: each capability's heavy libraries load on its first use only).

``tests/adapters/test_lazy_imports.py`` proves it for the flows over fakes; this one
runs what Lambda runs — ``import app``, the container built with its boto3 and pynamodb
adapters, the route, the middleware — in a fresh interpreter, where a module-level import
anywhere on that path (an adapter, a page helper, the device-name parser) shows up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path

from tests.support.arrange import account_in

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Passw0rd!first-use"

LOADED_ON_FIRST_USE = {
    "webauthn": "passkeys",
    "cbor2": "passkeys",
    "pyotp": "TOTP",
    "segno": "the TOTP enrolment's QR code",
    "ua_parser": "the device names of the sessions page and the new-device notice",
    "openpyxl": "spreadsheet provisioning and exports",
    "babel": "country and language names",
    "zxcvbn": "the password strength check of a new password",
}

OTHER_CAPABILITIES_FLOWS = (
    "chalicelib.flows.oidc.provider",
    "chalicelib.flows.esep.registration",
    "chalicelib.flows.esep.projects",
    "chalicelib.flows.admin.accounts",
    "chalicelib.flows.account.export",
    "chalicelib.flows.account.email_change",
    "chalicelib.flows.jobs",
    "chalicelib.flows.registrar",
    "chalicelib.flows.registration",
    "chalicelib.flows.mfa.enrolment",
    "chalicelib.flows.tasks",
)
"""Flows a password sign-in does not use: assembled, and imported, on first use."""

_SCRIPT = """
import json, sys
from devtools.local_gateway import install
install()
import app
from chalice.test import Client

body = json.dumps({{"username": {username!r}, "password": {password!r}}}).encode()
with Client(app.app, stage_name="test") as client:
    answer = client.http.post(
        "/api/v1/realms/eiep/sessions", headers={{"Content-Type": "application/json"}}, body=body
    )
assert answer.status_code == 201, (answer.status_code, answer.body)
print("LOADED:" + " ".join(sorted(name for name in {names!r} if name in sys.modules)))

from chalicelib.container import services
print("CLIENTS:" + " ".join(services().aws_clients.created()))
try:
    services().ports.gsis.authorization_url  # GSIS's first use reads its secret
except Exception as exc:
    print("GSIS:" + type(exc).__name__)
"""


def test_a_password_sign_in_through_the_route_loads_no_other_capability_s_library(aws_endpoint: str) -> None:
    # Given an active account, and a fresh interpreter on this test's emulator that
    # imports nothing but the app (the account is stored from this process)
    username = f"first.use.{uuid.uuid4().hex[:8]}@example.gr"
    account_in("eiep", username=username, email=username, password=PASSWORD)
    names = (*LOADED_ON_FIRST_USE, *OTHER_CAPABILITIES_FLOWS, "argon2")
    script = _SCRIPT.format(username=username, password=PASSWORD, names=names)

    # When it imports the app and signs the person in with a password, from a new browser
    result = _run(script, os.environ)

    # Then the sign-in loaded the hash it needs (so the listing sees a loaded library)
    # and nothing of passkeys, TOTP, QR codes, spreadsheets, locale names or device
    # names, nor the flows of the provider, eTwinning, the consoles or the account centre
    assert result.returncode == 0, result.stderr[-3000:]
    assert _listed("LOADED:", result.stdout) == ["argon2"]


def test_a_password_sign_in_creates_only_the_clients_it_calls_and_reads_no_provider_secret(
    aws_endpoint: str,
) -> None:
    # Given a deployment whose GSIS and EU Login client secrets are named in Secrets
    # Manager but cannot be read (here: they do not exist)
    username = f"first.use.{uuid.uuid4().hex[:8]}@example.gr"
    account_in("eiep", username=username, email=username, password=PASSWORD)
    script = _SCRIPT.format(username=username, password=PASSWORD, names=IDENTITY_PROVIDER_MODULES)
    missing = f"mitroo/test/missing-{uuid.uuid4().hex}"
    env = {**os.environ, "MITROO_GSIS_CLIENT_SECRET_NAME": missing, "MITROO_EULOGIN_CLIENT_SECRET_NAME": missing}

    # When a fresh process signs a person in with a password, from a new browser
    result = _run(script, env)

    # Then the sign-in succeeded without the providers' secrets or modules, created the
    # table's client and SQS's (the new-device notice) and no S3, SES or idempotency
    # client, and GSIS's first use is what reads its secret (and fails here)
    assert result.returncode == 0, result.stderr[-3000:]
    assert _listed("LOADED:", result.stdout) == []
    assert _listed("CLIENTS:", result.stdout) == ["dynamodb", "sqs"]
    assert _listed("GSIS:", result.stdout) == ["GetParameterError"]


IDENTITY_PROVIDER_MODULES = (
    "chalicelib.adapters.gsis_client",
    "chalicelib.adapters.eulogin_client",
    "authlib.integrations.requests_client",
    "aws_lambda_powertools.utilities.idempotency",
)


def _run(script: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=dict(env), capture_output=True, text=True)


def _listed(prefix: str, output: str) -> list[str]:
    """What the child listed after ``prefix`` (its log lines go to standard output too)."""
    line = next(line for line in output.splitlines() if line.startswith(prefix))
    return line.removeprefix(prefix).split()
