"""The CDK app, synthesized once per test process that runs these tests (in-process:
``aws_cdk.assertions`` reads the stacks; cfn-lint and the CLI read the files).

A developer without the time (each stage packages the app) sets ``MITROO_SKIP_INFRA=1``;
CI never does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("MITROO_SKIP_INFRA") != "1":
        return
    skip = pytest.mark.skip(reason="MITROO_SKIP_INFRA=1")
    for item in items:
        if "tests/infra/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    """(stacks by stage name, the cloud assembly's folder)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    import aws_cdk as cdk

    from infra.main import build

    outdir = tmp_path_factory.mktemp("cdk.out")
    # Chalice's packaging puts the stage's environment variables into os.environ while it
    # imports the app (MITROO_ENV=deployed…): keep them out of the other tests.
    saved = dict(os.environ)
    try:
        app = cdk.App(outdir=str(outdir))
        stacks = build(app)
        app.synth()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    yield stacks, outdir
