"""An authorization code is redeemed once under 20 concurrent redemptions, over real
HTTP to several containers (SPEC §2.8, RFC 6749 §4.1.2): exactly one token response;
the others are ``invalid_grant``, and since the code was replayed, the grant the winner
got is revoked (its access token no longer opens userinfo)."""

from __future__ import annotations

import base64
from collections import Counter
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.races.cluster import PASSPHRASE, Cluster, race, unique

pytestmark = pytest.mark.xdist_group("races")

REDEMPTIONS = 20
APP = "https://app.example/cb"


def test_twenty_redemptions_of_one_code_give_tokens_once(cluster: Cluster) -> None:
    # Given a signed-in person and a code for a registered client
    username = unique("oidcrace")
    cluster.site.account("ntua", username=username, email=f"{username}@example.gr", password=PASSPHRASE)
    client_id, secret = cluster.site.oidc_client("ntua", (APP,))
    person = cluster.visitor()
    person.login("ntua", username, PASSPHRASE)
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": APP, "scope": "openid"})
    answer = person.get(f"/realms/ntua/oidc/authorize?{query}", html=True)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(APP), answer.text[:300]
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]

    # When twenty redemptions of it arrive at once, spread over the containers
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
    form = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": APP})
    answers = race(
        [
            person.call("POST", "/realms/ntua/oidc/token", container=i, data=form, headers=headers)
            for i in range(REDEMPTIONS)
        ]
    )

    # Then exactly one got tokens and every other one invalid_grant
    outcomes = Counter(
        "200" if answer.status_code == 200 else f"{answer.status_code} {answer.json().get('error')}"
        for answer in answers
    )
    assert outcomes == Counter({"200": 1, "400 invalid_grant": REDEMPTIONS - 1}), outcomes
    [winner] = [answer.json() for answer in answers if answer.status_code == 200]

    # And the winner's grant is revoked: the code was replayed
    userinfo = requests.get(
        f"{cluster.base(0)}/realms/ntua/oidc/userinfo",
        headers={"Authorization": f"Bearer {winner['access_token']}"},
        timeout=30,
    )
    assert userinfo.status_code == 401
    [grant] = cluster.items("oidc_grant", client_id=client_id)
    assert grant.get("revoked_at") and grant.get("code_used_at")
