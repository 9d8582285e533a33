"""One GSIS flow must not be an oracle of which e-mail addresses have accounts (issue 11
§4): before, a flow could probe e-mails without end (each refusal ``email_taken``) and
was never spent by a refusal. Now a flow is spent after a few refused addresses, and one
client address is held to a limit of registration attempts."""

from __future__ import annotations

from chalicelib.realms import get_realm
from tests.support.browser import Browser, unique_email

API = "/api/v1/realms/eiep"


def _taken(browser: Browser) -> str:
    email = unique_email("holder")
    assert browser.register(browser.gsis_flow(), email).status == 201
    return email


def test_a_flow_is_spent_after_a_few_refused_addresses(browser: Browser) -> None:
    # Given accounts that hold some addresses, and a prober with one GSIS flow
    taken = [_taken(browser) for _ in range(4)]
    flow = browser.gsis_flow()

    # When the prober tries the held addresses one after another
    answers = [browser.register(flow, email) for email in taken]

    # Then the first refusals say the address is taken, and then the flow is spent
    codes = [answer.json["code"] for answer in answers]
    assert codes == ["email_taken", "email_taken", "email_taken", "flow_used"]
    assert browser.register(flow, unique_email("fresh")).json["code"] == "flow_used"


def test_one_address_is_held_to_its_registration_limit(browser: Browser) -> None:
    # Given the realm's limit of registration attempts per client address
    limit = get_realm("eiep").throttling.actions["registration"].per_address.count
    flows = [browser.gsis_flow() for _ in range(limit // 5 + 1)]

    # When one address keeps trying, spreading its attempts over flows (each below the
    # per-flow limit; what it sends need not even be valid: every attempt counts)
    statuses = [browser.register(flows[n // 5], "not-an-address").status for n in range(limit)]
    refused = browser.register(flows[-1], unique_email())

    # Then the attempts beyond the limit are refused before anything is looked at
    assert statuses == [422] * limit
    assert refused.status == 429 and refused.json["code"] == "too_many_attempts"
