"""The packager survives what shared caches suffer: a damaged zip left in Chalice's cache."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from infra import packaging

pytestmark = pytest.mark.xdist_group("infra")


def test_a_damaged_cached_package_is_rebuilt_not_shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a packaged app, and then its cached zip cut in half (a packager killed mid-write)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for stale in packaging.CACHE.glob("*.zip"):
        stale.unlink()
    packaging.package(tmp_path / "first", stage="dev")
    (cached,) = list(packaging.CACHE.glob("*.zip"))
    data = cached.read_bytes()
    cached.write_bytes(data[: len(data) // 2] + b"\0" * 64 + data[-2000:])

    # When the app is packaged again
    built = packaging.package(tmp_path / "second", stage="dev")

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
    packaging._snapshot(snapshot, root)

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
        assert packaging.keep(kept), kept
    assert set(LANGUAGES) <= packaging.BABEL_LANGUAGES
    # And the others go, while Babel's code and global data stay
    assert not packaging.keep("babel/locale-data/fr.dat") and not packaging.keep("babel/locale-data/ell.dat")
    assert packaging.keep("babel/global.dat") and packaging.keep("babel/core.py")
