"""The consoles' pages over the test client: each role's start page, search, the account
page's forms (CSRF, a refusal shown next to its own form with the values kept, 303 back
with a notice), the audit page, the helpdesk's ticket page and the registrar's forms."""

from __future__ import annotations

import re
from datetime import date, timedelta

from tests.support.admin import PASSPHRASE, person, tag
from tests.support.browser import Browser, Response


def _sign_in(browser: Browser, realm: str, *roles: str) -> str:
    """A member of staff signed in through the login page (session cookie); their id."""
    account = person(realm, roles=roles)
    browser.get(f"/realms/{realm}/login", html=True)
    form = {"csrf_token": browser.jar["mitroo_csrf"], "username": account.username, "password": PASSPHRASE}
    answer = browser.post(f"/api/v1/realms/{realm}/sessions", form=form, html=True)
    assert answer.status == 303, answer.text
    if roles:  # staff roles need a second factor (SPEC §2.9): as passing one in this session would
        from tests.support.arrange import second_factor_passed

        second_factor_passed(browser.jar["mitroo_session"])
    return account.account_id


def _token(page: Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def _form_page(page: Response, form: str) -> str:
    match = re.search(rf'name="form_page" value="([^"]*\?form={form})"', page.text)
    assert match, f"no {form} form"
    return match.group(1).replace("&amp;", "&")


def test_each_role_s_start_page_shows_what_it_may_do(browser: Browser) -> None:
    assert browser.get("/realms/ntua/admin", html=True).location.endswith("/realms/ntua/login")
    _sign_in(browser, "ntua", "secretariat")
    page = browser.get("/realms/ntua/admin", html=True)
    assert page.status == 200
    shown = set(re.findall(r'data-capability="([a-z]+)"', page.text))
    assert shown == {"accounts", "audit", "registrar"} and "/admin/jobs" in page.text
    assert browser.get("/realms/ntua/admin/", html=True).status == 200

    helpdesk = Browser(browser.client, browser.gsis, browser.pump, browser.eulogin)
    _sign_in(helpdesk, "eiep", "helpdesk")
    page = helpdesk.get("/realms/eiep/admin?lang=en", html=True)
    assert set(re.findall(r'data-capability="([a-z]+)"', page.text)) == {"tickets"}
    assert helpdesk.get("/realms/eiep/admin/accounts", html=True).status == 403

    nobody = Browser(browser.client, browser.gsis, browser.pump, browser.eulogin)
    _sign_in(nobody, "ntua")
    assert nobody.get("/realms/ntua/admin", html=True).status == 403


def test_staff_without_a_second_factor_are_sent_to_enrol_one(browser: Browser) -> None:
    account = person("ntua", roles=("secretariat",))
    browser.get("/realms/ntua/login", html=True)
    form = {"csrf_token": browser.jar["mitroo_csrf"], "username": account.username, "password": PASSPHRASE}
    login = browser.post("/api/v1/realms/ntua/sessions", form=form, html=True)
    assert login.status == 303 and login.location.endswith("/realms/ntua/account/security")
    for path in ("/realms/ntua/admin", "/realms/ntua/admin/accounts", "/realms/ntua/admin/audit?action=x"):
        answer = browser.get(path, html=True)
        assert answer.status == 303 and answer.location.endswith("/account/security"), path


def test_search_then_disable_with_a_refusal_kept_next_to_its_form(browser: Browser) -> None:
    family = tag("Ζ")
    student = person("ntua", surname=f"Αλεξίου{family}")
    _sign_in(browser, "ntua", "secretariat")
    # Search without accents, in capitals
    results = browser.get(f"/realms/ntua/admin/accounts?q=ΑΛΕΞΙΟΥ{family.upper()}", html=True)
    assert results.status == 200 and f'data-account="{student.account_id}"' in results.text
    page = browser.get(f"/realms/ntua/admin/accounts/{student.account_id}", html=True)
    assert page.status == 200 and 'data-code="active"' in page.text
    action = f"/api/v1/realms/ntua/admin/accounts/{student.account_id}/disable"
    # A disable without a reason comes back as the page, the problem next to that form only
    refused = browser.post(
        action, form={"csrf_token": _token(page), "form_page": _form_page(page, "disable"), "reason": "x"}, html=True
    )
    assert refused.status == 422
    assert 'id="disable-reason-error"' in refused.text and 'id="unlock-reason-error"' not in refused.text
    assert ">x</textarea>" in refused.text
    # With a reason: 303 back to the page, which says it is done and why
    done = browser.post(
        action,
        form={"csrf_token": _token(page), "form_page": _form_page(page, "disable"), "reason": "left the programme"},
        html=True,
    )
    assert done.status == 303 and done.location.endswith("?done=disabled")
    after = browser.get(done.location, html=True)
    assert 'data-done="disabled"' in after.text and 'data-code="disabled"' in after.text
    assert "left the programme" in after.text
    # Without the token the same post is refused
    forged = browser.post(action, form={"csrf_token": "forged", "reason": "left the programme"}, html=True)
    assert forged.status == 403


def test_the_audit_page_filters_and_links_its_csv(browser: Browser) -> None:
    me = _sign_in(browser, "ntua", "secretariat")
    student = person("ntua")
    page = browser.get(f"/realms/ntua/admin/accounts/{student.account_id}", html=True)
    browser.post(
        f"/api/v1/realms/ntua/admin/accounts/{student.account_id}/unlock",
        form={"csrf_token": _token(page), "form_page": _form_page(page, "unlock"), "reason": "@SUM(1+1)"},
        html=True,
    )
    audit = browser.get(f"/realms/ntua/admin/audit?actor={me}", html=True)
    assert audit.status == 200 and 'data-action="account_unlocked"' in audit.text
    csv_link = re.search(r'href="([^"]+format=csv)" data-csv', audit.text)
    assert csv_link
    exported = browser.get(csv_link.group(1).replace("&amp;", "&"))
    assert exported.status == 200 and "'@SUM(1+1)" in exported.body.decode("utf-8-sig")
    empty = browser.get("/realms/ntua/admin/audit?from=2025-01-01", html=True)
    assert empty.status == 422 and 'id="account-error"' in empty.text


def test_a_helpdesk_replies_from_the_ticket_page(browser: Browser) -> None:
    email = f"{tag('h')}@example.gr"
    opened = browser.post(
        "/api/v1/realms/eiep/support-tickets",
        json={"topic": "technical", "email": email, "description": "Ξέχασα ποιο email έδωσα στην εγγραφή."},
    )
    ticket_id = opened.json["ticket_id"]
    _sign_in(browser, "eiep", "helpdesk")
    queue = browser.get("/realms/eiep/admin/tickets?status=open", html=True)
    assert queue.status == 200 and email in queue.text
    assert browser.get("/realms/eiep/admin/tickets?status=lost", html=True).status == 422
    found = browser.get(f"/realms/eiep/admin/tickets?ticket={ticket_id}", html=True)
    assert found.status == 303
    page = browser.get(found.location, html=True)
    assert page.status == 200 and "Ξέχασα ποιο email" in page.text
    reply_action = re.search(r'action="([^"]+/replies)"', page.text)
    assert reply_action
    empty = browser.post(
        reply_action.group(1),
        form={"csrf_token": _token(page), "form_page": _form_page(page, "reply"), "message": ""},
        html=True,
    )
    assert empty.status == 422 and 'id="message-error"' in empty.text
    sent = browser.post(
        reply_action.group(1),
        form={"csrf_token": _token(page), "form_page": _form_page(page, "reply"), "message": "Είναι το " + email},
        html=True,
    )
    assert sent.status == 303 and sent.location.endswith("?done=replied")
    assert "data-reply" in browser.get(sent.location, html=True).text
    assert any(ticket_id in (m["subject"] or "") for m in browser.mail_to(email))


def test_the_registrar_creates_one_account_and_declares_a_graduation(browser: Browser) -> None:
    _sign_in(browser, "ntua", "secretariat")
    page = browser.get("/realms/ntua/admin/registrar", html=True)
    assert page.status == 200
    name = tag("x")
    fields = {
        "csrf_token": _token(page),
        "form_page": _form_page(page, "create"),
        "kind": "undergraduate",
        "last_name": "Νικολάου",
        "first_name": "Ελένη",
        "father_name": "Πέτρος",
        "mother_name": "Άννα",
        "external_email": f"{name}@gmail.com",
        "registry_number": name[1:],
        "username": f"enikolaou{name[1:]}",
        "mobile": "",
        "previous_username": "",
        "expires_on": "",
    }
    wrong = browser.post("/api/v1/realms/ntua/admin/accounts", form={**fields, "username": "nosurname"}, html=True)
    assert wrong.status == 422 and 'id="create-username-error"' in wrong.text and "Νικολάου" in wrong.text
    created = browser.post("/api/v1/realms/ntua/admin/accounts", form=fields, html=True)
    assert created.status == 303 and created.location.endswith("?done=created"), created.text
    account_page = browser.get(created.location, html=True)
    assert f"enikolaou{name[1:]}" in account_page.text
    # Declare the graduation in the registry: the undergraduate account retires
    graduate = browser.post(
        "/realms/ntua/admin/registry",
        form={"csrf_token": _token(page), "registry_number": name[1:], "level": "undergraduate", "status": "graduated"},
        html=True,
    )
    assert graduate.status == 303 and graduate.location.endswith("done=registry_graduated")
    assert 'data-code="retired"' in browser.get(created.location.split("?")[0], html=True).text
    bad = browser.post(
        "/realms/ntua/admin/registry",
        form={"csrf_token": _token(page), "registry_number": "no spaces allowed", "status": "graduated"},
        html=True,
    )
    assert bad.status == 422 and 'id="registry-registry_number-error"' in bad.text


def test_renewal_from_the_account_page(browser: Browser) -> None:
    student = person("ntua", expires_on=date.today() + timedelta(days=5))
    _sign_in(browser, "ntua", "secretariat")
    page = browser.get(f"/realms/ntua/admin/accounts/{student.account_id}", html=True)
    new_day = (date.today() + timedelta(days=400)).isoformat()
    renewed = browser.post(
        f"/api/v1/realms/ntua/admin/accounts/{student.account_id}/expiry",
        form={"csrf_token": _token(page), "form_page": _form_page(page, "expiry"), "expires_on": new_day, "reason": ""},
        html=True,
    )
    assert renewed.status == 303, renewed.text
    assert new_day in browser.get(renewed.location, html=True).text


def test_the_account_page_lists_factors_and_removes_them(browser: Browser) -> None:
    from chalicelib.container import services
    from chalicelib.domain.mfa import Factor, FactorKind
    from tests.fakes import arranged

    student = person("ntua")
    factor = Factor("ntua", student.account_id, tag("f"), FactorKind.WEBAUTHN, "YubiKey", student.created_at)
    factor = Factor(**{**factor.__dict__, "credential_id": tag("cred")})
    services().ports.factors.add(factor, login_key=student.login_key, audit=arranged("ntua", student.account_id))
    _sign_in(browser, "ntua", "admin")
    page = browser.get(f"/realms/ntua/admin/accounts/{student.account_id}", html=True)
    assert "YubiKey" in page.text and 'data-form="factors"' in page.text
    removed = browser.post(
        f"/api/v1/realms/ntua/admin/accounts/{student.account_id}/mfa/remove",
        form={"csrf_token": _token(page), "form_page": _form_page(page, "factors"), "reason": "lost the key"},
        html=True,
    )
    assert removed.status == 303 and removed.location.endswith("?done=factors_removed")
    assert "YubiKey" not in browser.get(removed.location, html=True).text
