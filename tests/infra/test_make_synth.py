"""``make synth`` on a clean checkout, the way the README says (issue 11 §6).

``infra/cdk.json`` ran the app as ``cd .. && .venv/bin/python infra/main.py``: the CLI hands
the app its output folder relative to ``infra/`` (``-o cdk.out``), the app wrote it relative
to the repository root, and the CLI then failed reading ``infra/cdk.out/manifest.json``
(ENOENT). A checkout that had ever synthesized some other way kept a stale
``infra/cdk.out`` and hid it, so this runs in a checkout with nothing but the tracked
files: those of this working tree (what a clone of it would hold), under a temporary
folder whose ``../shared`` is the real one.

What ``make`` installs first is reused, not downloaded again: the checkout's ``.venv`` and
``infra/node_modules`` point at this repository's (the state after ``make test`` or ``make
run``), and the requirement files are dated before their install stamps so ``make`` sees
nothing to reinstall. Slow (the app is packaged once per stage): about a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("infra")]
LONG_AGO = 946684800  # 2000-01-01: older than any install stamp


def _clean_checkout(parent: Path) -> Path:
    """The tracked files of this working tree under ``parent/mitroo``, and ``parent/shared``."""
    checkout = parent / "mitroo"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = ROOT / name
        if source.is_file() or source.is_symlink():
            target = checkout / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (parent / "shared").symlink_to(shared)
    return checkout


def test_make_synth_writes_the_templates_to_infra_cdk_out_on_a_clean_checkout(tmp_path: Path) -> None:
    cli = ROOT / "infra" / "node_modules" / ".bin" / "cdk"
    venv = Path(sys.prefix)
    assert cli.exists(), "run `make test` (it installs the pinned CDK CLI with npm)"
    assert (venv / ".installed").exists() or (ROOT / ".venv" / ".installed").exists(), "run `make test` first"
    checkout = _clean_checkout(tmp_path)
    assert not (checkout / "infra" / "cdk.out").exists() and not (checkout / "cdk.out").exists()
    # What `make` installs, already installed (see the module's doc).
    (checkout / ".venv").symlink_to(ROOT / ".venv" if (ROOT / ".venv").exists() else venv)
    (checkout / "infra" / "node_modules").symlink_to((ROOT / "infra" / "node_modules").resolve())
    for name in ("requirements.txt", "requirements-dev.txt", "infra/package.json", "infra/package-lock.json"):
        os.utime(checkout / name, (LONG_AGO, LONG_AGO))

    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("MITROO_", "PYTEST_", "AWS_ENDPOINT"))
    }
    result = subprocess.run(
        ["make", "synth"], cwd=checkout, env=env, capture_output=True, text=True, timeout=900, check=False
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    written = sorted(path.name for path in (checkout / "infra" / "cdk.out").glob("*.template.json"))
    assert written == ["Mitroo-prod.template.json", "Mitroo-staging.template.json"], written
    assert not (checkout / "cdk.out").exists(), "the app wrote its output beside the repository's root"
