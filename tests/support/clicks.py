"""Clicking in Playwright without racing the page a click leads to.

``locator.click()`` returns once the click is dispatched, not when the page it posts to
has loaded, and ``locator.count()`` does not wait: a count read straight after a form's
button can read the page being left (CI saw 0 factors listed where one was). A form post
often lands on the same address again, so ``wait_for_url`` would not wait either.
"""

from __future__ import annotations

from typing import Any


def press(page: Any, target: Any) -> None:
    """Click a form's button (or a link) and wait until the page it leads to has loaded."""
    with page.expect_navigation():
        target.click()
