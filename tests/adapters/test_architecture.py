"""The layering of STYLE.md holds: only web/ imports chalice, flows import no AWS or authlib."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "chalicelib"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _offenders(folder: str, forbidden: set[str]) -> dict[str, set[str]]:
    found = {}
    for path in (PACKAGE / folder).rglob("*.py") if folder else PACKAGE.rglob("*.py"):
        bad = _imports(path) & forbidden
        if bad:
            found[str(path.relative_to(PACKAGE))] = bad
    return found


def test_only_the_web_package_imports_chalice() -> None:
    offenders = {path: names for path, names in _offenders("", {"chalice"}).items() if not path.startswith("web/")}
    assert offenders == {}


def test_flows_domain_and_ports_pull_in_no_framework_sdk_or_oauth_library() -> None:
    # Importing them in a fresh interpreter must not load these, even transitively.
    forbidden = ("chalice", "boto3", "botocore", "pynamodb", "authlib", "joserfc", "requests")
    modules = ["chalicelib.ports"] + [
        f"chalicelib.{package}.{info.name}"
        for package in ("domain", "flows")
        for info in pkgutil.iter_modules([str(PACKAGE / package)])
    ]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(' '.join(sorted(m for m in {forbidden!r} if m in sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PACKAGE.parent, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_adapters_and_domain_import_nothing_from_the_flows() -> None:
    # Adapters implement ports and raise errors from chalicelib.errors: the flows sit
    # above them, so an import the other way round would be a cycle in the layering.
    offenders = {}
    for folder in ("adapters", "domain", "sheets"):
        for path in (PACKAGE / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            modules = {
                node.module
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chalicelib.flows")
            }
            if modules:
                offenders[str(path.relative_to(PACKAGE))] = modules
    assert offenders == {}


def test_app_py_only_wires() -> None:
    tree = ast.parse((PACKAGE.parent / "app.py").read_text(encoding="utf-8"))
    functions = [node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    assert functions == []


def test_deployed_stages_have_no_dev_mail_route() -> None:
    # Given the environment of a deployed stage (no MITROO_DEV_ROUTES)
    env = {"PATH": "/usr/bin:/bin", "MITROO_ENV": "deployed", "AWS_DEFAULT_REGION": "eu-west-1"}
    script = "import app; print(sorted(p for p in app.app.routes if p.startswith('/_dev')))"

    # When the app is imported, as Lambda and `chalice package` do
    result = subprocess.run([sys.executable, "-c", script], cwd=PACKAGE.parent, env=env, capture_output=True, text=True)

    # Then the dev routes do not exist at all
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
