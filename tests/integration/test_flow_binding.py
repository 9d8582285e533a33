"""Identity flows belong to the browser that started them (SPEC §3, issue 11 §3).

A flow id travels in URLs (``?flow=F``). Before, it was a bearer value: another browser
opening an EU Login ``home?flow=F`` was signed in as the flow's owner (login CSRF, a
session swap), and an attacker could plant his own e-IEP registration link on a victim,
who registered under the attacker's GSIS identity — the attacker later reset that
password through GSIS with his own AFM and took the account over. Now the flow keeps the
hash of the binding cookie of the browser whose round trip made it, and every read, use
or consumption needs that cookie; a login flow is consumed only by a POST.
"""

from __future__ import annotations

from tests.support.browser import Browser, unique_email

EIEP = "/api/v1/realms/eiep"
ESEP = "/api/v1/realms/esep"


def _stranger(browser: Browser) -> Browser:
    """Another person's browser: same site, no cookies, another address."""
    return Browser(browser.client, browser.gsis, browser.pump, browser.eulogin)


def test_opening_someone_elses_eulogin_login_flow_signs_nobody_in(browser: Browser) -> None:
    # Given a registered eTwinning member whose new sign-in produced a login flow
    person = browser.new_eulogin_person()
    flow, _ = browser.eulogin_flow(person)
    assert browser.post(f"{ESEP}/registrations", json={"flow": flow, "role": "other", "country": "GR"}).status == 201
    browser.jar.clear()
    login_flow, home = browser.eulogin_flow(person)
    victim = _stranger(browser)

    # When another browser opens the link, or posts the flow to the sessions endpoint
    page = victim.get(f"{home}?flow={login_flow}", html=True)
    api = victim.post(f"{ESEP}/sessions", json={"flow": login_flow})

    # Then it is not signed in as the member (and gets no session cookie)
    assert page.status == 404 and "mitroo_session" not in victim.jar
    assert api.status == 404 and api.json["code"] == "flow_not_found"
    assert victim.get(f"{ESEP}/me").status == 401
    # and the flow still works for its owner, by the page's button
    assert browser.post(f"{ESEP}/sessions", json={"flow": login_flow}).status == 201


def test_a_get_of_the_login_page_consumes_nothing(browser: Browser) -> None:
    person = browser.new_eulogin_person()
    flow, _ = browser.eulogin_flow(person)
    browser.post(f"{ESEP}/registrations", json={"flow": flow, "role": "other", "country": "GR"})
    browser.jar.pop("mitroo_session", None)
    login_flow, home = browser.eulogin_flow(person)

    for _ in range(3):  # a mail scanner, a prefetch, a reload
        assert browser.get(f"{home}?flow={login_flow}", html=True).status == 200
    assert browser.get(f"{ESEP}/me").status == 401
    assert browser.post(f"{ESEP}/sessions", json={"flow": login_flow}).status == 201


def test_a_planted_eiep_registration_link_cannot_register_the_victim_under_the_attackers_identity(
    browser: Browser,
) -> None:
    # Given an attacker's own GSIS flow, sent to a victim as a link
    attacker_flow = browser.gsis_flow()
    victim = _stranger(browser)

    # When the victim opens the page and submits the form (or an API client posts it)
    page = victim.get(f"/realms/eiep/register?flow={attacker_flow}", html=True)
    posted = victim.register(attacker_flow, unique_email("victim"))

    # Then neither works: the flow is the attacker's browser's only
    assert page.status == 404
    assert posted.status == 404 and posted.json["code"] == "flow_not_found"
    assert "another browser" in posted.json["detail"]
    # and the attacker's own browser can still use it
    assert browser.register(attacker_flow, unique_email("attacker")).status == 201


def test_reading_a_flow_needs_its_browser(browser: Browser) -> None:
    flow = browser.gsis_flow()
    assert browser.get(f"{EIEP}/flows/{flow}").status == 200
    assert _stranger(browser).get(f"{EIEP}/flows/{flow}").status == 404


def test_a_recovery_flow_is_refused_in_another_browser(browser: Browser) -> None:
    flow = browser.gsis_flow(intent="recover-email")
    own = browser.get(f"/realms/eiep/recover-email?flow={flow}", html=True)
    assert own.status == 200 and 'data-field="status"' in own.text  # nobody has this AFM: said, not a 500
    assert _stranger(browser).get(f"/realms/eiep/recover-email?flow={flow}", html=True).status == 404


def test_the_binding_cookie_is_httponly_and_reaches_the_api(browser: Browser) -> None:
    start = browser.get("/realms/eiep/gsis/start?intent=register", html=True)
    [cookie] = [c for c in start.cookies() if c.startswith("mitroo_browser=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/;" in cookie + ";"
