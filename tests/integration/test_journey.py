"""The whole e-IEP journey over real HTTP parts: GSIS stand-in, moto, SES, Chalice.

start → GSIS → callback → flow → register → mail → activate → login → /me → refresh →
logout, as a JSON client and as a browser posting forms.
"""

from __future__ import annotations

from tests.support.browser import STRONG_PASSWORD, Browser, unique_email

API = "/api/v1/realms/eiep"


def test_a_teacher_registers_through_gsis_activates_by_link_and_signs_in(browser: Browser) -> None:
    # Given a Taxisnet user whose surname GSIS sends as character entities
    identity = browser.new_identity(last_name="ΚΩΝΣΤΑΝΤΙΝΙΔΟΥ", first_name="ΑΝΝΑ", entity_fields=("lastname",))

    # When she proves her identity through GSIS
    flow = browser.gsis_flow(identity)
    shown = browser.get(f"{API}/flows/{flow}")

    # Then the flow shows GSIS's data, trimmed and decoded
    assert shown.status == 200
    assert shown.json["intent"] == "register"
    assert shown.json["identity"] == {
        "afm": identity.afm,
        "last_name": "ΚΩΝΣΤΑΝΤΙΝΙΔΟΥ",
        "first_name": "ΑΝΝΑ",
        "father_name": "ΓΕΩΡΓΙΟΣ",
        "mother_name": "ΕΛΕΝΗ",
        "birth_year": "1984",
    }

    # When she registers with her e-mail and no registry number
    email = unique_email("anna")
    registered = browser.register(flow, email, mobile="6912345678")

    # Then the account waits for activation and a mail with link and code went out
    assert registered.status == 201, registered.text
    assert registered.json["status"] == "pending_activation"
    token, code = browser.activation_mail(email)
    assert len(token) >= 43 and len(code) == 6

    # When she follows the link's button
    activated = browser.post(f"{API}/activations", json={"token": token})
    assert activated.status == 200 and activated.json == {"status": "active"}

    # And signs in with her e-mail as username
    login = browser.login(email.upper())
    assert login.status == 201, login.text
    tokens = login.json
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    assert any(c.startswith("mitroo_session=") and "HttpOnly" in c for c in login.cookies())

    # Then /me shows her account, with the registry number defaulted to the AFM
    me = browser.get(f"{API}/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status == 200
    assert me.json["email"] == email
    assert me.json["registry_number"] == identity.afm
    assert me.json["gsis_verified"] is True
    assert me.json["identity"]["last_name"] == "ΚΩΝΣΤΑΝΤΙΝΙΔΟΥ"

    # When she refreshes, the pair rotates
    refreshed = browser.post(f"{API}/sessions/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status == 200
    assert refreshed.json["refresh_token"] != tokens["refresh_token"]

    # And when she signs out, neither her access token nor her refresh token work any more
    out = browser.delete(
        f"{API}/sessions/current", headers={"Authorization": f"Bearer {refreshed.json['access_token']}"}
    )
    assert out.status == 204
    again = browser.post(f"{API}/sessions/refresh", json={"refresh_token": refreshed.json["refresh_token"]})
    assert again.status == 400 and again.json["code"] == "token_invalid"
    me_after = browser.get(f"{API}/me", headers={"Authorization": f"Bearer {refreshed.json['access_token']}"})
    assert me_after.status == 401 and me_after.json["code"] == "unauthorized"


def test_a_browser_goes_through_the_pages_with_form_posts_and_303s(browser: Browser) -> None:
    # Given a GSIS flow and the registration page it leads to
    flow = browser.gsis_flow()
    page = browser.get(f"/realms/eiep/register?flow={flow}", html=True)
    assert page.status == 200 and 'class="gsis"' in page.text
    csrf = browser.jar["mitroo_csrf"]
    email = unique_email("form")

    # When the form is posted as a browser does
    form = {
        "csrf_token": csrf,
        "flow": flow,
        "email": email,
        "password": STRONG_PASSWORD,
        "password_confirmation": STRONG_PASSWORD,
        "gender": "male",
        "registry_number": "",
        "mobile": "",
    }
    posted = browser.post(f"{API}/registrations", form=form, html=True)

    # Then the browser is sent on to the next page
    assert posted.status == 303, posted.text
    assert posted.location.endswith("/realms/eiep/registered")

    # When the mailed link is opened, nothing is consumed until the button is pressed
    token, _ = browser.activation_mail(email)
    landing = browser.get(f"/realms/eiep/activate?token={token}", html=True)
    assert landing.status == 200 and token in landing.text
    assert browser.login(email).json["code"] == "not_activated"
    pressed = browser.post(f"{API}/activations", form={"csrf_token": csrf, "token": token}, html=True)
    assert pressed.status == 303 and pressed.location.endswith("/realms/eiep/activated")

    # And signing in through the login form lands on the home page with a session cookie
    signed_in = browser.post(
        f"{API}/sessions", form={"csrf_token": csrf, "username": email, "password": STRONG_PASSWORD}, html=True
    )
    assert signed_in.status == 303 and signed_in.location.endswith("/realms/eiep/home")
    home = browser.get("/realms/eiep/home", html=True)
    assert home.status == 200 and email in home.text

    # And the logout form ends the session
    out = browser.post("/realms/eiep/logout", form={"csrf_token": csrf}, html=True)
    assert out.status == 303
    assert "mitroo_session" not in browser.jar
    assert browser.get("/realms/eiep/home", html=True).status == 303


def test_activation_by_email_and_code_instead_of_the_link(browser: Browser) -> None:
    # Given a registered, pending account
    email = unique_email()
    assert browser.register(browser.gsis_flow(), email).status == 201
    _, code = browser.activation_mail(email)

    # When the person types e-mail and code
    response = browser.post(f"{API}/activations", json={"email": email, "code": code})

    # Then the account is active and login works
    assert response.status == 200 and response.json["status"] == "active"
    assert browser.login(email).status == 201


def test_resend_sends_a_new_mail_and_only_the_newest_link_works(browser: Browser) -> None:
    # Given a pending account and its first activation mail
    email = unique_email()
    browser.register(browser.gsis_flow(), email)
    first_token, _ = browser.activation_mail(email)

    # When the person asks for the mail again
    resent = browser.post(f"{API}/activations/resend", json={"email": email})

    # Then a second mail arrives, the old link is dead and the new one works
    assert resent.status == 202
    assert len(browser.mail_to(email)) == 2
    new_token, _ = browser.activation_mail(email)
    assert new_token != first_token
    old = browser.post(f"{API}/activations", json={"token": first_token})
    assert old.status == 400 and old.json["code"] == "token_invalid"
    assert browser.post(f"{API}/activations", json={"token": new_token}).status == 200


def test_recover_email_flow_shows_the_address_on_record_for_the_afm(browser: Browser) -> None:
    # Given a registered account
    identity = browser.new_identity()
    email = unique_email()
    browser.register(browser.gsis_flow(identity), email)

    # When the same person goes through GSIS to recover the registry e-mail
    flow = browser.gsis_flow(identity, intent="recover-email")
    view = browser.get(f"{API}/flows/{flow}")

    # Then the flow shows that e-mail; someone without an account is told so
    assert view.json["email"] == email
    stranger = browser.get(f"{API}/flows/{browser.gsis_flow(intent='recover-email')}")
    assert stranger.json["status"] == "no_account" and "email" not in stranger.json


def test_jwks_verifies_the_access_token_signature(browser: Browser) -> None:
    # Given an active account's access token
    email = unique_email()
    browser.register(browser.gsis_flow(), email)
    token, _ = browser.activation_mail(email)
    browser.post(f"{API}/activations", json={"token": token})
    access = browser.login(email).json["access_token"]

    # When a relying party fetches the realm's JWKS
    jwks = browser.get("/realms/eiep/.well-known/jwks.json")

    # Then the token verifies with that public key alone
    from joserfc import jwt
    from joserfc.jwk import KeySet

    decoded = jwt.decode(access, KeySet.import_key_set(jwks.json))
    assert decoded.claims["iss"] == "http://127.0.0.1:8000/realms/eiep"
    assert decoded.header["alg"] == "RS256" and "d" not in jwks.json["keys"][0]
