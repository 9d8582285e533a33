"""``import app`` (a Lambda cold start) loads no capability's flows: the eTwinning flows,
the spreadsheet jobs, the NTUA registrar, e-IEP registration and certification,
second-factor enrolment and the provider's OpenAPI paths load with the first request that
uses them (SPEC §5: cold import ≤ 1.5 × ``import boto3``). The routes that name their
values (roles, limits, a viewer) find them in ``domain/``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CAPABILITY_MODULES = (
    "chalicelib.flows.esep.network",
    "chalicelib.flows.esep.projects",
    "chalicelib.flows.esep.registration",
    "chalicelib.flows.esep.validation",
    "chalicelib.flows.jobs",
    "chalicelib.flows.provisioning",
    "chalicelib.sheets",
    "chalicelib.flows.registrar",
    "chalicelib.flows.registration",
    "chalicelib.flows.certification",
    "chalicelib.flows.wiring",
    "chalicelib.flows.mfa.enrolment",  # with WebAuthn's relying party: enrolling is no sign-in
    "chalicelib.flows.mfa.webauthn_rp",
    "chalicelib.web.oidc.openapi",  # the provider's OpenAPI paths: built when the document is asked for
)

_SCRIPT = """
import sys
import app
{extra}
print("LOADED:" + " ".join(name for name in {names!r} if name in sys.modules))
"""


def _loaded(extra: str = "") -> list[str]:
    script = _SCRIPT.format(names=CAPABILITY_MODULES, extra=extra)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("LOADED:"))
    return line.removeprefix("LOADED:").split()


def test_import_app_loads_no_capabilitys_flows() -> None:
    # Given a fresh interpreter, When it imports the API handler as Lambda does
    loaded = _loaded()

    # Then none of the capabilities' flows came with it
    assert loaded == []


def test_the_check_sees_a_flow_once_it_is_used() -> None:
    # The same listing after an eTwinning view is drawn names its flow: the test above can fail.
    loaded = _loaded("from chalicelib.web.esep.api import project_view")
    assert loaded == []
    assert "chalicelib.flows.esep.projects" in _loaded("from chalicelib.flows.esep.projects import project_view")
