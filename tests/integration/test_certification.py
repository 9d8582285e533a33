"""One-time GSIS certification of legacy e-IEP accounts (seed 000 §3, SPEC §2.3)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from chalicelib.container import services
from chalicelib.domain.accounts import UniqueKind
from chalicelib.domain.identity import GsisIdentity
from tests.support.arrange import account_in
from tests.support.browser import Browser, unique_email

API = "/api/v1/realms/eiep"
PASSWORD = "Pal1os!Kodikos"


def _legacy(browser: Browser, *, afm: str = "", **names: str) -> tuple[str, object]:
    """A person at GSIS and their legacy account (registry names may differ in form)."""
    person = browser.new_identity(last_name="ΠΑΠΑΔΟΠΟΥΛΟΥ", first_name="ΜΑΡΙΑ")
    registry = {
        "last_name": "Παπαδοπούλου",
        "first_name": "Μαρία",
        "father_name": "Γεώργιος",
        "mother_name": "",
        **names,
    }
    email = unique_email("legacy")
    account_in(
        "eiep",
        username=email,
        email=email,
        password=PASSWORD,
        identity=GsisIdentity(afm=afm, birth_year="", **registry),
        gsis_verified=False,
    )
    return email, person


def _certify_flow(browser: Browser, login: dict[str, object], person: object) -> str:
    url = urlsplit(str(login["certify_url"]))
    response = browser.get(f"{url.path}?{url.query}", html=True)
    assert response.status == 302
    authorize = {k: v[0] for k, v in parse_qs(urlsplit(response.location).query).items()}
    callback = browser.callback(browser.choose_at_gsis(authorize, person.key))  # type: ignore[attr-defined]
    assert callback.status == 303 and "/realms/eiep/certify?flow=" in callback.location
    return parse_qs(urlsplit(callback.location).query)["flow"][0]


def test_a_legacy_teacher_certifies_once_and_signs_in(browser: Browser) -> None:
    # Given a legacy account whose registry names differ from GSIS's only in accents and case,
    # and whose mother's name is missing
    email, person = _legacy(browser)

    # When she signs in with her old password
    login = browser.login(email, PASSWORD)

    # Then she is asked to certify through GSIS, with a ticket
    assert login.status == 403 and login.json["code"] == "certification_required"
    assert login.json["certify_url"].startswith("http://127.0.0.1:8000/realms/eiep/gsis/start?intent=certify&ticket=")

    # When she goes through GSIS, the flow shows registry and GSIS side by side
    flow = _certify_flow(browser, login.json, person)
    view = browser.get(f"{API}/flows/{flow}").json
    assert view["registry"]["last_name"] == "Παπαδοπούλου"
    fields = {difference["field"] for difference in view["differences"]}
    assert fields == {"afm", "mother_name"}  # accents and case are not differences
    page = browser.get(f"/realms/eiep/certify?flow={flow}", html=True)
    assert 'data-different="mother_name"' in page.text and 'data-different="last_name"' not in page.text

    # When she certifies
    certified = browser.post(f"{API}/certifications", json={"flow": flow, "decision": "certify"})

    # Then she is signed in, her identity comes from GSIS, and the next login is ordinary
    assert certified.status == 201 and certified.json["token_type"] == "Bearer"
    me = browser.get(f"{API}/me", headers={"Authorization": f"Bearer {certified.json['access_token']}"}).json
    assert me["gsis_verified"] is True and me["identity"]["afm"] == person.afm  # type: ignore[attr-defined]
    assert me["identity"]["last_name"] == "ΠΑΠΑΔΟΠΟΥΛΟΥ"
    assert browser.login(email, PASSWORD).status == 201
    account = services().ports.accounts.find_by_unique("eiep", UniqueKind.AFM, person.afm)  # type: ignore[attr-defined]
    assert account is not None and account.email == email

    # And the certification happens once
    again = browser.post(f"{API}/certifications", json={"flow": flow, "decision": "certify"})
    assert again.status == 409 and again.json["code"] == "flow_used"


def test_return_changes_nothing_and_points_to_support(browser: Browser) -> None:
    email, person = _legacy(browser)
    flow = _certify_flow(browser, browser.login(email, PASSWORD).json, person)
    returned = browser.post(f"{API}/certifications", json={"flow": flow, "decision": "return"})
    assert returned.status == 200
    assert returned.json == {
        "status": "cancelled",
        "support_url": "https://www.iep.edu.gr/helpdesk/open.php?topicId=14",
    }
    account = services().ports.accounts.find_by_unique("eiep", UniqueKind.EMAIL, email.casefold())
    assert account is not None and account.gsis_verified is False
    assert account.identity is not None and account.identity.last_name == "Παπαδοπούλου"
    assert browser.login(email, PASSWORD).json["code"] == "certification_required"


def test_an_afm_on_record_that_differs_from_gsis_is_409_identity_mismatch(browser: Browser) -> None:
    email, person = _legacy(browser, afm="068933130")
    flow = _certify_flow(browser, browser.login(email, PASSWORD).json, person)
    refused = browser.post(f"{API}/certifications", json={"flow": flow, "decision": "certify"})
    assert refused.status == 409 and refused.json["code"] == "identity_mismatch"
    account = services().ports.accounts.find_by_unique("eiep", UniqueKind.EMAIL, email.casefold())
    assert account is not None and account.gsis_verified is False


def test_a_gsis_afm_already_registered_elsewhere_is_409_afm_registered(browser: Browser) -> None:
    email, person = _legacy(browser)
    # Someone already registered with this person's AFM through GSIS
    browser.register(browser.gsis_flow(person), unique_email())  # type: ignore[arg-type]
    flow = _certify_flow(browser, browser.login(email, PASSWORD).json, person)
    refused = browser.post(f"{API}/certifications", json={"flow": flow, "decision": "certify"})
    assert refused.status == 409 and refused.json["code"] == "afm_registered"


def test_a_browser_login_goes_straight_to_gsis_for_certification(browser: Browser) -> None:
    email, _ = _legacy(browser)
    browser.get("/realms/eiep/login", html=True)
    response = browser.post(
        f"{API}/sessions",
        form={"csrf_token": browser.jar["mitroo_csrf"], "username": email, "password": PASSWORD},
        html=True,
    )
    assert response.status == 303 and "/realms/eiep/gsis/start?intent=certify&ticket=" in response.location


def test_a_wrong_password_on_a_legacy_account_is_just_invalid_credentials(browser: Browser) -> None:
    email, _ = _legacy(browser)
    assert browser.login(email, "Wr0ng!pass").json["code"] == "invalid_credentials"
