"""The deployment package against SPEC §5's 30 MB (zipped), built as the stack builds it.

``chalice package`` of a clean snapshot of the sources, pruned of the botocore models and
Babel data the app never reads (``infra/deployment_package.py``), then checked the way Lambda
will use it: unpacked, imported in an isolated interpreter. Every new runtime library
(the provider's authlib server, webauthn with cbor2, segno, pyotp, ua-parser, Babel)
counts here.

    python -m bench.package
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bench.common import Result

BUDGET_MB = 30.0
MB = 1024 * 1024


def run() -> list[Result]:
    from infra.deployment_package import check, package

    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    with tempfile.TemporaryDirectory(prefix="mitroo-bench-package-") as folder:
        zip_path = package(Path(folder), stage="dev")
        size = zip_path.stat().st_size / MB
        works = check(zip_path)
    return [
        Result(
            name="deployment package (zipped)",
            measured=f"{size:.1f} MB",
            budget=1.0,
            ratio=size / BUDGET_MB,
            budget_label=f"≤ {BUDGET_MB:.0f} MB",
            notes=[f"pruned, then imported from the unpacked zip in an isolated interpreter: {works}"],
        )
    ]


if __name__ == "__main__":
    from bench.__main__ import print_report

    print_report(run())
    sys.exit(0)
