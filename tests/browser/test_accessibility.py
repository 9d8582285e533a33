"""Every page, in both languages: AA contrast for its text, a label for every field, the
right ``lang``, the security headers, and no script error."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Site

PAGES = [
    "/",
    "/realms/eiep",
    "/realms/eiep/login",
    "/realms/eiep/forgot-password",
    "/realms/eiep/support",
    "/realms/eiep/registered",
    "/realms/eiep/activate?token=not-a-token",
    "/realms/ntua/login",
    "/realms/ntua/forgot-password",
    "/realms/ntua/set-password?token=not-a-token",
    "/realms/ntua/reset-password?token=not-a-token",
    "/realms/eiep/no-such-page",
    "/_dev/mailbox",
]

# WCAG 2.1 contrast (1.4.3): the ratio of each text's colour to the background it sits on.
CONTRAST_SCRIPT = """
() => {
  function rgb(value) {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(",").map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  }
  function lum(c) {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  }
  function background(el) {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  }
  const low = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || el.closest("[hidden]")) continue;
    const fg = rgb(style.color), bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) low.push(node.textContent.trim().slice(0, 40) + " (" + ratio.toFixed(2) + ")");
  }
  return low;
}
"""

UNLABELLED_SCRIPT = """
() => Array.from(document.querySelectorAll("input:not([type=hidden]), select, textarea"))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label"))
  .map(el => el.name || el.id)
"""


@pytest.mark.parametrize("language", ["el", "en"])
def test_every_page_is_readable_labelled_and_served_safely(site: Site, page: Any, language: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in PAGES:
        separator = "&" if "?" in path else "?"
        answer = page.goto(f"{site.url}{path}{separator}lang={language}")
        assert answer is not None
        headers = answer.headers
        assert (
            "script-src 'self'" in headers["content-security-policy"]
            and "unsafe-inline" not in headers["content-security-policy"]
        ), path
        assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "no-referrer", path
        assert page.locator("html").get_attribute("lang") == language, path
        assert page.evaluate(CONTRAST_SCRIPT) == [], path
        assert page.evaluate(UNLABELLED_SCRIPT) == [], path
        assert page.get_by_role("heading", level=1).count() == 1, path
    assert errors == []


@pytest.mark.parametrize("language", ["el", "en"])
def test_the_address_make_run_prints_lists_the_realms_and_leads_to_each(site: Site, page: Any, language: str) -> None:
    from chalicelib.realms import all_realms

    # Given a newcomer opening the site's address
    answer = page.goto(f"{site.url}/?lang={language}")
    assert answer is not None and answer.status == 200

    # Then every realm is a link named in the page's language
    for realm_id, realm in all_realms().items():
        link = page.get_by_role("link", name=getattr(realm.name, language), exact=True)
        assert link.get_attribute("href") == f"/realms/{realm_id}"

    # And following one opens that realm's page
    page.get_by_role("link", name=getattr(all_realms()["ntua"].name, language), exact=True).click()
    page.wait_for_url(f"{site.url}/realms/ntua")
    assert page.get_by_role("heading", level=1).inner_text() == getattr(all_realms()["ntua"].name, language)
