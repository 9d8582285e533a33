"""Keep the Lambda package small: botocore's service models for services Mitroo never calls
are most of its size.

The deployment package is the app, its code dependencies and botocore, whose ``data/``
folder holds a JSON model for every AWS service (about 16 MB of the 29 MB zip). The app
calls a handful of services; the models of the others are removed from the zip after
``chalice package`` built it. Used by the CDK stack and by ``make package``.

    python -m infra.packaging dist/deployment.zip          # prune
    python -m infra.packaging --check dist/deployment.zip  # prove it still works
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SERVICES = frozenset(
    {
        "dynamodb",
        "s3",
        "sqs",
        "ses",
        "secretsmanager",
        "ssm",
        "sts",
        "xray",
        "lambda",
        "cloudwatch",
        "logs",
    }
)
"""Services the app (boto3, pynamodb, Powertools: tracer, parameters) may call."""

_DATA = "botocore/data/"


def keep(name: str) -> bool:
    """True for every entry except the model folders of services not in :data:`SERVICES`."""
    if not name.startswith(_DATA):
        return True
    rest = name[len(_DATA) :]
    if "/" not in rest:
        return True  # endpoints.json, partitions.json, sdk-default-configuration.json, …
    return rest.split("/", 1)[0] in SERVICES


def prune(zip_path: Path) -> tuple[int, int]:
    """Rewrite ``zip_path`` without the unused botocore models; (bytes before, after)."""
    before = zip_path.stat().st_size
    handle, temporary = tempfile.mkstemp(suffix=".zip", dir=zip_path.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if keep(info.filename):
                    target.writestr(info, source.read(info), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        shutil.move(temporary, zip_path)
        os.chmod(zip_path, 0o644)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return before, zip_path.stat().st_size


_CHECK = """
import sys
sys.path.insert(0, sys.argv[1])
import boto3
for service in sys.argv[2:]:
    boto3.client(service, region_name="eu-west-1")
import app
assert "run_tasks" in app.app.handler_map and "expire_accounts" in app.app.handler_map
print("ok:", len(app.app.routes), "routes")
"""


def check(zip_path: Path) -> str:
    """Unpack the package and, in an isolated interpreter that sees nothing else, import
    the app and create a client for every kept service: what Lambda will do."""
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(folder)
        result = subprocess.run(
            [sys.executable, "-I", "-c", _CHECK, folder, *sorted(SERVICES)],
            capture_output=True,
            text=True,
            env={"AWS_DEFAULT_REGION": "eu-west-1", "PATH": os.environ.get("PATH", "")},
            cwd=folder,
            timeout=120,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"the package does not work:\n{result.stderr[-3000:]}")
    return result.stdout.strip()


def main(argv: list[str]) -> int:
    checking = "--check" in argv
    paths = [arg for arg in argv if arg != "--check"] or ["dist/deployment.zip"]
    for path in paths:
        if checking:
            print(f"{path}: {check(Path(path))}")
        else:
            before, after = prune(Path(path))
            print(f"{path}: {before / 1e6:.1f} MB → {after / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
