"""Keep the Lambda package small: botocore's service models for services Mitroo never calls
are most of its size (and Babel's data of languages no page speaks).

The deployment package is the app, its code dependencies and botocore, whose ``data/``
folder holds a JSON model for every AWS service (about 16 MB of the 29 MB zip). The app
calls a handful of services; the models of the others are removed from the zip after
``chalice package`` built it. Used by the CDK stack and by ``make package``.

Chalice packages a project folder and caches the zip under ``.chalice/deployments/``,
keyed on a hash of every file in ``chalicelib/`` — ``__pycache__`` included — and writes
that cache in place. Packaging the working tree directly therefore ships the developer's
bytecode, misses the cache whenever a test run compiled something, and, when two
packagers (the CDK CLI, the test suite, ``make package``) meet, one can copy the zip the
other is still writing. So :func:`package` packages a clean snapshot of the sources,
one packager at a time (a file lock beside the cache), and checks the zip it got.

    python -m infra.deployment_package package dist/deployment.zip  # package the dev stage, pruned
    python -m infra.deployment_package --check dist/deployment.zip  # prove it still works
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".chalice" / "deployments"
SOURCES = ("app.py", "requirements.txt", "chalicelib", ".chalice/config.json")
"""What Chalice packages (the app, its package, its requirements) and reads (the config)."""

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

BABEL_LANGUAGES = frozenset({"el", "en"})
"""Languages whose Babel (CLDR) data the pages read (country and language names): the
realms' page languages (``chalicelib.i18n.LANGUAGES``). The other thousand locales are
about 9 MB of the zip."""

_BABEL = "babel/locale-data/"


def keep(name: str) -> bool:
    """True for every entry except the model folders of services not in :data:`SERVICES`
    and Babel's data of languages not in :data:`BABEL_LANGUAGES` (``root`` is every
    locale's parent and stays)."""
    if name.startswith(_BABEL):
        locale = name[len(_BABEL) :].split(".", 1)[0]
        return locale == "root" or locale.split("_", 1)[0] in BABEL_LANGUAGES
    if not name.startswith(_DATA):
        return True
    rest = name[len(_DATA) :]
    if "/" not in rest:
        return True  # endpoints.json, partitions.json, sdk-default-configuration.json, …
    return rest.split("/", 1)[0] in SERVICES


def prune(zip_path: Path) -> tuple[int, int]:
    """Rewrite ``zip_path`` without the unused botocore models and Babel locales; (bytes
    before, after)."""
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


@contextlib.contextmanager
def _one_packager_at_a_time() -> Iterator[None]:
    """Hold an exclusive lock beside Chalice's cache (across processes) while packaging."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _snapshot(folder: Path, root: Path = ROOT) -> None:
    """Copy the packaged sources of ``root`` into ``folder`` without bytecode; share
    ``root``'s zip cache."""
    for name in SOURCES:
        source = root / name
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)
    cache = root / ".chalice" / "deployments"
    cache.mkdir(parents=True, exist_ok=True)
    (folder / ".chalice" / "deployments").symlink_to(cache, target_is_directory=True)


def _intact(zip_path: Path) -> bool:
    try:
        with zipfile.ZipFile(zip_path) as archive:
            return archive.testzip() is None
    except (zipfile.BadZipFile, OSError):
        return False


def package(output_dir: Path, stage: str, chalice_config: dict[str, Any] | None = None) -> Path:
    """``chalice package`` of a clean snapshot into ``output_dir``, pruned; the zip's path.

    A cached zip that turns out damaged (a packager killed mid-write) is dropped and the
    package built again once.
    """
    from chalice import api

    saved_path = list(sys.path)
    saved_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # Chalice imports the app from the snapshot
    try:
        with _one_packager_at_a_time(), tempfile.TemporaryDirectory(prefix="mitroo-package-") as folder:
            _snapshot(Path(folder))
            zip_path = output_dir / "deployment.zip"
            for attempt in range(2):
                api.package_app(
                    project_dir=folder, output_dir=str(output_dir), stage=stage, chalice_config=chalice_config
                )
                if _intact(zip_path):
                    break
                if attempt == 1:
                    raise RuntimeError(f"chalice package wrote a damaged zip twice: {zip_path}")
                for cached in CACHE.glob("*.zip"):
                    cached.unlink()
    finally:
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
    prune(zip_path)
    return zip_path


_CHECK = """
import importlib, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import boto3
for service in sys.argv[2].split(","):
    boto3.client(service, region_name="eu-west-1")
import app
assert "run_tasks" in app.app.handler_map and "expire_accounts" in app.app.handler_map
from chalicelib.web.esep.names import country_name, language_name
assert (country_name("GR", "el"), language_name("es", "en")) == ("Ελλάδα", "Spanish")
import chalicelib
modules = [found.name for found in pkgutil.walk_packages(chalicelib.__path__, "chalicelib.")]
for name in modules + [name for name in sys.argv[3].split(",") if name]:
    importlib.import_module(name)
print("ok:", len(app.app.routes), "routes,", len(modules), "modules")
"""


def runtime_requirements(requirements: Path = ROOT / "requirements.txt") -> list[str]:
    """The requirement lines of the runtime requirements file, comments left out."""
    lines = (line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def missing_requirements(folder: Path, requirements: Path = ROOT / "requirements.txt") -> list[str]:
    """What ``requirements`` and the distributions unpacked in ``folder`` require and the
    folder lacks (or holds at a version the requirement excludes), for Lambda's Python
    on Linux.

    Chalice leaves out, with a warning the build goes past, a dependency for which it
    finds no wheel that runs on the Lambda runtime (cbor2 6 has ``manylinux_2_28`` wheels
    only, newer than the ``python3.11`` runtime's glibc 2.26): the app still imports, and
    the capability that needs it fails on its first use in production.
    """
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    present = {
        canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions(path=[str(folder)])
    }
    needs = [(requirements.name, line) for line in runtime_requirements(requirements)]
    for dist in metadata.distributions(path=[str(folder)]):
        needs += [(f"{dist.metadata['Name']} {dist.version}", line) for line in dist.requires or []]
    missing: list[str] = []
    for who, line in needs:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # an optional extra, or another platform's dependency
        version = present.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            found = f"{version} in the package" if version else "not in the package"
            missing.append(f"{who} needs {requirement}: {found}")
    return sorted(set(missing))


def glibc_too_new(folder: Path, runtime: str = f"cp{sys.version_info.major}{sys.version_info.minor}") -> list[str]:
    """The compiled files in ``folder`` that need a newer glibc than the Lambda runtime
    of this Python has (Chalice's own table: 2.26 for ``python3.11`` on Amazon Linux 2,
    2.34 from ``python3.12`` on AL2023), each with the version it needs.

    Such a file imports here (Debian's glibc is newer) and fails in Lambda.
    """
    from chalice.deploy.packager import DependencyBuilder

    limit = DependencyBuilder._RUNTIME_GLIBC.get(runtime, DependencyBuilder._DEFAULT_GLIBC)
    too_new: list[str] = []
    for library in sorted(folder.rglob("*.so*")):
        if not library.is_file() or not (library.suffix == ".so" or ".so." in library.name):
            continue
        dump = subprocess.run(["objdump", "-T", str(library)], capture_output=True, text=True, check=False).stdout
        needed = max(
            (
                tuple(int(part) for part in found.split("."))
                for found in re.findall(r"GLIBC_(\d+\.\d+(?:\.\d+)?)", dump)
            ),
            default=(0,),
        )
        if needed[:2] > limit:
            shown = ".".join(map(str, needed))
            too_new.append(f"{library.relative_to(folder)} needs glibc {shown} (the runtime has {limit[0]}.{limit[1]})")
    return too_new


def direct_imports(folder: Path, requirements: Path = ROOT / "requirements.txt") -> list[str]:
    """The top-level modules of every runtime requirement, as unpacked in ``folder``:
    the check imports each, so a compiled part that cannot load is found at build time
    (the app imports most of them only on a capability's first use)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    names: set[str] = set()
    for line in runtime_requirements(requirements):
        dist = next(iter(metadata.distributions(name=Requirement(line).name, path=[str(folder)])), None)
        if dist is None:
            continue  # reported by missing_requirements()
        top = dist.read_text("top_level.txt")
        names |= set(top.split()) if top else {_top_module(path) for path in dist.files or []} - {""}
    return sorted(
        name
        for name in names
        if not name.startswith("_") and ((folder / name).is_dir() or (folder / f"{name}.py").is_file())
    )


def _top_module(path: Any) -> str:
    first = str(path).split("/", 1)[0]
    if first.endswith((".dist-info", ".data")) or first == "..":
        return ""
    return first.removesuffix(".py")


def check(zip_path: Path) -> str:
    """Unpack the package and prove it whole: every requirement of every distribution in
    it present, then, in an interpreter that sees nothing but the package and the
    standard library (``-I -S``: not even this virtualenv's site-packages), import the
    app, every module of ``chalicelib`` and every runtime requirement, and create a
    client for every kept service: what Lambda will do."""
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(folder)
        missing = missing_requirements(Path(folder))
        if missing:
            raise RuntimeError("the package lacks what its libraries need:\n" + "\n".join(missing))
        too_new = glibc_too_new(Path(folder))
        if too_new:
            raise RuntimeError("the package has compiled parts Lambda cannot load:\n" + "\n".join(too_new))
        imports = ",".join(direct_imports(Path(folder)))
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _CHECK, folder, ",".join(sorted(SERVICES)), imports],
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
    if argv[:1] == ["package"]:
        target = Path(argv[1] if len(argv) > 1 else "dist/deployment.zip").resolve()
        with tempfile.TemporaryDirectory() as folder:
            built = package(Path(folder), stage=os.environ.get("MITROO_PACKAGE_STAGE", "dev"))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built, target)
        print(f"{target}: {target.stat().st_size / 1e6:.1f} MB (pruned)")
        return 0
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
