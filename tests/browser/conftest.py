"""Browser tests: Debian's Chromium, driven by Playwright, against the site as `make run`
serves it (``python -m devtools.run`` in its own process: the app on a real port, its
GSIS stand-in, its task pump), backed by this test process's AWS emulator with tables
and a task queue of its own. A screenshot of each test's final page is kept under
``tests/artifacts/`` for people to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.site import Site, running_site

__all__ = ["Site"]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("MITROO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def site(aws_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(aws_endpoint, tmp_path_factory.mktemp("site") / "site.log", name="browser") as served:
        yield served


@pytest.fixture(scope="session")
def localhost_site(aws_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The site as ``http://localhost:<port>``: passkeys need a host name as RP ID."""
    log = tmp_path_factory.mktemp("localhost-site") / "site.log"
    with running_site(aws_endpoint, log, name="browser-localhost", host="localhost") as served:
        yield served


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page; its final state is photographed."""
    context = chromium.new_context(locale="el-GR", viewport={"width": 1000, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
