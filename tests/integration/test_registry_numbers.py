"""One undergraduate account per registry number (issue 11 §4, seed 004).

The student registry links a registry number to the undergraduate account issued under
it, and graduation retires that account. Before the guard, a second undergraduate account
with the same number relinked the entry, so graduation retired only the second and the
first stayed active for good; and an account made for an already-graduated number stayed
active. The link is now written in the account's create transaction, on condition that
the entry links no other account and is not graduated: the API answers 409
``registry_number_taken``, a provisioning sheet rejects the row.
"""

from __future__ import annotations

from typing import Any

from tests.integration.test_provisioning_api import _auth, _finished, _tag, _upload
from tests.integration.test_registrar_api import _body, _staff_token
from tests.support.browser import Browser, unique_email
from tests.support.sheets import provisioning_xlsx, read_report, student

API = "/api/v1/realms/ntua"


def _undergraduate(registry_number: str, **changes: Any) -> dict[str, Any]:
    seed = unique_email().split(".")[1].split("@")[0]
    body = _body(kind="undergraduate", username=f"papadopoulos{seed}", registry_number=registry_number, **changes)
    body.pop("expires_on")
    return body


def test_a_second_undergraduate_account_for_one_registry_number_is_refused_and_graduation_retires_the_first(
    browser: Browser,
) -> None:
    headers = _auth(_staff_token(browser, "admin"))
    number = f"U{_tag()}"
    # Given an undergraduate account issued under a registry number
    first = browser.post(f"{API}/admin/accounts", json=_undergraduate(number), headers=headers)
    assert first.status == 201, first.text

    # When a second undergraduate account is asked for the same number
    second = browser.post(f"{API}/admin/accounts", json=_undergraduate(number), headers=headers)

    # Then it is refused, naming the registry number, and the registry still links the first
    assert (second.status, second.json["code"]) == (409, "registry_number_taken"), second.text
    assert "registry_number" in second.json["errors"]
    marked = browser.put(
        f"{API}/admin/registry/{number}", json={"level": "undergraduate", "status": "graduated"}, headers=headers
    )
    assert marked.status == 200 and marked.json["account_id"] == first.json["account_id"]


def test_an_undergraduate_account_for_a_graduated_registry_number_is_refused(browser: Browser) -> None:
    headers = _auth(_staff_token(browser, "admin"))
    number = f"G{_tag()}"
    # Given a registry number the registry marked graduated (no account issued yet)
    marked = browser.put(
        f"{API}/admin/registry/{number}", json={"level": "undergraduate", "status": "graduated"}, headers=headers
    )
    assert marked.status == 200, marked.text

    # When an undergraduate account is asked for it
    refused = browser.post(f"{API}/admin/accounts", json=_undergraduate(number), headers=headers)

    # Then it is refused, and nothing was created under that username
    assert (refused.status, refused.json["code"]) == (409, "registry_number_taken"), refused.text
    body = _undergraduate(number)
    assert browser.post(f"{API}/admin/accounts", json=body, headers=headers).status == 409
    login = browser.post(f"{API}/sessions", json={"username": body["username"], "password": "whatever it is"})
    assert login.status == 401


def test_other_kinds_of_account_are_not_bound_by_the_undergraduate_registry(browser: Browser) -> None:
    headers = _auth(_staff_token(browser, "admin"))
    number = f"P{_tag()}"
    assert browser.post(f"{API}/admin/accounts", json=_undergraduate(number), headers=headers).status == 201
    # A postgraduate programme may record the same number (the registry's undergraduate rule only)
    postgraduate = browser.post(f"{API}/admin/accounts", json=_body(registry_number=number), headers=headers)
    assert postgraduate.status == 201, postgraduate.text


def test_a_provisioning_sheet_rejects_rows_for_a_live_or_graduated_registry_number(browser: Browser) -> None:
    token = _staff_token(browser)
    headers = _auth(_staff_token(browser, "admin"))
    tag = _tag()
    live, graduated = f"L{tag}", f"G{tag}"
    # Given a number with a live undergraduate account, and a graduated number
    assert browser.post(f"{API}/admin/accounts", json=_undergraduate(live), headers=headers).status == 201
    browser.put(
        f"{API}/admin/registry/{graduated}", json={"level": "undergraduate", "status": "graduated"}, headers=headers
    )
    rows = [
        student(0, tag, registry_number=live),
        student(1, tag, registry_number=graduated),
        student(2, tag),
        student(3, tag, registry_number=student(2, tag)["registry_number"]),
    ]
    sheet = provisioning_xlsx(rows)

    # When a secretariat provisions undergraduates from it, first as a dry run, then for real
    for query in ("?kind=undergraduate&dry_run=true", "?kind=undergraduate"):
        job = _finished(browser, token, _upload(browser, token, sheet, query=query).json["job_id"])
        report = browser.get(f"{API}/admin/jobs/{job['job_id']}/report", headers={**_auth(token), "Accept": "*/*"})
        outcome = [(row["status"], row["reason"] or "") for row in read_report(report.body)]

        # Then the rows of the live and the graduated number are rejected with the reason,
        # and of two rows sharing a number only the first goes through
        assert [status for status, _ in outcome] == [
            "rejected",
            "rejected",
            "valid" if "dry" in query else "created",
            "rejected",
        ], outcome
        assert "live undergraduate account" in outcome[0][1] and "graduated" in outcome[1][1], outcome
        assert "duplicate of row" in outcome[3][1], outcome
