"""XML bombs and external entities from GSIS (SPEC §3: defusedxml): a userinfo document
behind a DTD, as a compromised or spoofed GSIS could send it, is refused as
``idp_error`` (400) at once, reads no local file, and stores no flow.

The stand-in serves them with its ``xml_bomb`` ("billion laughs": ``&lol9;`` expands to
about 3 GB) and ``xxe`` (``<!ENTITY xxe SYSTEM "file:///etc/passwd">``) faults; every
attribute of the document is a valid identity's, so nothing but the DTD is wrong.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

import pytest

from standins.gsis import render_hostile_xml
from tests.abuse.conftest import Ledger
from tests.support.browser import Browser


@pytest.mark.parametrize("fault", ["xml_bomb", "xxe"])
def test_a_userinfo_document_with_a_dtd_is_an_idp_error_and_stores_nothing(
    browser: Browser, written: Callable[[], Ledger], fault: str
) -> None:
    # Given a person whose userinfo GSIS answers with a hostile document
    identity = browser.new_identity(fault=fault)
    document = render_hostile_xml(identity, fault)
    assert "<!DOCTYPE root [" in document and ("&lol9;" in document or "file:///etc/passwd" in document)
    callback = browser.choose_at_gsis(browser.start_gsis(), identity.key)
    ledger = written()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    # When the callback is processed
    started = time.perf_counter()
    answer = browser.callback(callback)
    elapsed = time.perf_counter() - started

    # Then the person sees GSIS's error, 400, promptly and without the memory a bomb takes
    assert answer.status == 400, answer.text
    assert 'data-code="idp_error"' in answer.text
    assert elapsed < 5
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mib < 50, f"peak RSS grew by {grown_mib:.0f} MiB"
    # and no flow (nor anything else) was stored, no local file shown
    assert not answer.location
    assert ledger.changes() == []
    assert "root:" not in answer.text and "lollol" not in answer.text
