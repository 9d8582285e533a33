"""CDK entry point (not ``app.py``: Chalice imports a module named ``app`` while packaging).

    cd infra && npx cdk synth                       # every stage
    cd infra && npx cdk synth -c stage=staging      # one stage
    cd infra && npx cdk deploy -c stage=prod

``make synth`` runs the first with the pinned CLI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Chalice's packaging creates an AWS client (it never calls it): it needs a region name.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
# jsii's banner about this machine's Node version says nothing about the stack.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script by the CDK CLI
    sys.path.insert(0, str(ROOT))

import aws_cdk as cdk  # noqa: E402

from infra.stack import MitrooStack  # noqa: E402
from infra.stages import STAGES  # noqa: E402


def build(app: cdk.App, stages: list[str] | None = None) -> dict[str, MitrooStack]:
    """The stack of each stage named (all by default), in ``app``."""
    wanted = stages or list(STAGES)
    unknown = [name for name in wanted if name not in STAGES]
    if unknown:
        raise SystemExit(f"unknown stage {', '.join(unknown)} (known: {', '.join(STAGES)})")
    return {name: MitrooStack(app, STAGES[name]) for name in wanted}


def main() -> None:
    app = cdk.App()
    stage = app.node.try_get_context("stage")
    build(app, [stage] if stage else None)
    app.synth()


if __name__ == "__main__":
    main()
