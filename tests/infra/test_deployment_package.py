"""The packager survives what shared caches suffer (a damaged zip left in Chalice's cache),
and refuses a package Lambda could not run: a dependency left out, a compiled part
needing a newer glibc than the runtime's."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from infra import deployment_package

pytestmark = pytest.mark.xdist_group("infra")


def test_a_damaged_cached_package_is_rebuilt_not_shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a packaged app, and then its cached zip cut in half (a packager killed mid-write)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for stale in deployment_package.CACHE.glob("*.zip"):
        stale.unlink()
    deployment_package.package(tmp_path / "first", stage="dev")
    (cached,) = list(deployment_package.CACHE.glob("*.zip"))
    data = cached.read_bytes()
    cached.write_bytes(data[: len(data) // 2] + b"\0" * 64 + data[-2000:])

    # When the app is packaged again
    built = deployment_package.package(tmp_path / "second", stage="dev")

    # Then the package is whole (every member reads back) and the cache was rebuilt
    with zipfile.ZipFile(built) as archive:
        assert archive.testzip() is None
        assert "app.py" in archive.namelist()
    with zipfile.ZipFile(cached) as archive:
        assert archive.testzip() is None


def test_the_snapshot_leaves_out_bytecode_and_shares_the_cache(tmp_path: Path) -> None:
    # Given a working tree whose chalicelib has compiled bytecode, as any test run leaves
    root = tmp_path / "tree"
    for name, text in {
        "app.py": "app = None\n",
        "requirements.txt": "chalice\n",
        ".chalice/config.json": "{}\n",
        "chalicelib/__init__.py": "",
        "chalicelib/web/pages.py": "PAGES = 1\n",
        "chalicelib/__pycache__/__init__.cpython-311.pyc": "bytecode",
        "chalicelib/web/__pycache__/pages.cpython-311.pyc": "bytecode",
        "tests/test_x.py": "",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)

    # When the packaged sources are snapshotted
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    deployment_package._snapshot(snapshot, root)

    # Then the snapshot has the app, its package and the config, no bytecode, no tests,
    # and Chalice's cache is the tree's own
    files = sorted(str(path.relative_to(snapshot)) for path in snapshot.rglob("*") if path.is_file())
    assert files == [
        ".chalice/config.json",
        "app.py",
        "chalicelib/__init__.py",
        "chalicelib/web/pages.py",
        "requirements.txt",
    ]
    assert (snapshot / ".chalice" / "deployments").resolve() == (root / ".chalice" / "deployments").resolve()


def test_pruning_keeps_babel_data_of_the_page_languages_only() -> None:
    # Given the entries of Babel's locale data in a package
    from chalicelib.i18n import LANGUAGES

    # Then the pages' languages (with their regional variants) and the root stay
    for kept in ("babel/locale-data/root.dat", "babel/locale-data/el.dat", "babel/locale-data/en_GB.dat"):
        assert deployment_package.keep(kept), kept
    assert set(LANGUAGES) <= deployment_package.BABEL_LANGUAGES
    # And the others go, while Babel's code and global data stay
    assert not deployment_package.keep("babel/locale-data/fr.dat") and not deployment_package.keep(
        "babel/locale-data/ell.dat"
    )
    assert deployment_package.keep("babel/global.dat") and deployment_package.keep("babel/core.py")


def _distribution(folder: Path, name: str, version: str, *requires: str) -> None:
    info = folder / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = [f"Name: {name}", f"Version: {version}", *(f"Requires-Dist: {line}" for line in requires)]
    (info / "METADATA").write_text("Metadata-Version: 2.1\n" + "\n".join(lines) + "\n")


def test_a_dependency_chalice_left_out_is_named_before_lambda_meets_it(tmp_path: Path) -> None:
    # Given a package whose passkey library needs a CBOR library that is absent, one whose
    # version is too old, and needs that are another platform's or an unused extra's
    _distribution(tmp_path, "webauthn", "3.0.1", "cbor2>=6.1.2", "pyasn1>=0.6", "pywin32; sys_platform == 'win32'")
    _distribution(tmp_path, "pyasn1", "0.5.0")
    _distribution(tmp_path, "authlib", "1.9.9", "requests; extra == 'client'")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("webauthn==3.0.1  # passkeys\nauthlib==1.9.9\n")

    # When the package's requirements are checked
    missing = deployment_package.missing_requirements(tmp_path, requirements)

    # Then the absent and the too-old library are named, with who needs them; nothing else
    assert missing == [
        "webauthn 3.0.1 needs cbor2>=6.1.2: not in the package",
        "webauthn 3.0.1 needs pyasn1>=0.6: 0.5.0 in the package",
    ]


def test_a_runtime_requirement_nothing_else_needs_is_named_when_left_out(tmp_path: Path) -> None:
    # Given a package with the app's password library but not its strength meter, which no
    # other library requires (the app imports it on first use only)
    _distribution(tmp_path, "argon2-cffi", "25.1.0")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# runtime\nargon2-cffi==25.1.0\nzxcvbn==4.5.0  # the meter\n")

    # When the package's requirements are checked
    missing = deployment_package.missing_requirements(tmp_path, requirements)

    # Then the requirements file's own need is named
    assert missing == ["requirements.txt needs zxcvbn==4.5.0: not in the package"]


@pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("objdump") is None, reason="needs gcc and objdump")
def test_a_compiled_library_needing_a_newer_glibc_than_lambdas_is_refused(tmp_path: Path) -> None:
    # Given two compiled modules: one calling stat(), which Debian's glibc versions 2.33,
    # one calling only memcpy()
    source = tmp_path / "src"
    source.mkdir()
    (source / "new.c").write_text("#include <sys/stat.h>\nint f(const char *p){struct stat s;return stat(p,&s);}\n")
    (source / "old.c").write_text("#include <string.h>\nvoid g(char *a,const char *b,size_t n){memcpy(a,b,n);}\n")
    package = tmp_path / "package"
    (package / "lib").mkdir(parents=True)
    for name in ("new", "old"):
        target = package / "lib" / f"_{name}.cpython-311-x86_64-linux-gnu.so"
        subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(target), str(source / f"{name}.c")], check=True)

    # When the package is checked for the python3.11 runtime (Amazon Linux 2, glibc 2.26)
    too_new = deployment_package.glibc_too_new(package, runtime="cp311")

    # Then the module needing 2.33 is named, and the other passes; on AL2023 both would
    assert too_new == ["lib/_new.cpython-311-x86_64-linux-gnu.so needs glibc 2.33 (the runtime has 2.26)"]
    assert deployment_package.glibc_too_new(package, runtime="cp313") == []


def test_the_package_carries_and_loads_every_library_its_capabilities_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the app packaged as the stacks package it
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    built = deployment_package.package(tmp_path, stage="dev")

    # When it is checked as Lambda would load it (nothing but the zip and the stdlib)
    report = deployment_package.check(built)

    # Then every requirement is in it, every compiled part loads on the runtime's glibc,
    # and the app, each chalicelib module and each runtime library (webauthn with its
    # CBOR decoder, pyotp, segno, openpyxl, ua-parser…) import from it
    assert report.startswith("ok:") and " modules" in report
    with zipfile.ZipFile(built) as archive:
        names = archive.namelist()
    assert any(name.startswith("cbor2/") for name in names) and any(name.startswith("webauthn/") for name in names)
