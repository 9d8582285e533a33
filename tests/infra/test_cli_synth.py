"""`cdk synth` with the pinned CLI (infra/package.json), offline, as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

INFRA = Path(__file__).resolve().parents[2] / "infra"
CLI = INFRA / "node_modules" / ".bin" / "cdk"

pytestmark = pytest.mark.xdist_group("infra")


def test_the_pinned_cli_synthesizes_a_stage_offline(tmp_path: Path) -> None:
    assert CLI.exists(), "run `make test` (it installs the pinned CDK CLI with npm)"
    pinned = json.loads((INFRA / "package.json").read_text())["devDependencies"]["aws-cdk"]
    version = subprocess.run([str(CLI), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith(pinned), version

    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1"}
    result = subprocess.run(
        [str(CLI), "synth", "-c", "stage=staging", "-o", str(tmp_path), "-q"],
        cwd=INFRA,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    template = json.loads((tmp_path / "Mitroo-staging.template.json").read_text())
    tables = [resource for resource in template["Resources"].values() if resource["Type"] == "AWS::DynamoDB::Table"]
    assert {table["Properties"]["TableName"] for table in tables} == {
        "mitroo-staging-main",
        "mitroo-staging-idempotency",
    }
