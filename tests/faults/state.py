"""Reading the final state after a fault: tables through the app's repositories, mail
through ``/_dev/mail`` (without running queued tasks, unlike ``Browser.mail_to``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from chalicelib.container import services
from chalicelib.domain.accounts import Account, UniqueKind
from chalicelib.domain.tokens import Purpose
from tests.support.browser import Browser

API = "/api/v1/realms/eiep"


def mails(browser: Browser, address: str) -> list[dict[str, Any]]:
    """Mail SES accepted for ``address``, newest first."""
    response = browser.get(f"/_dev/mail?{urlencode({'to': address})}")
    assert response.status == 200, response.text
    return list(response.json["messages"])


def link_token(message: dict[str, Any], page: str = "activate") -> str:
    found = re.search(rf"/{page}\?token=([A-Za-z0-9_-]+)", message["html"] or "")
    assert found, message["html"]
    return found.group(1)


def account_with_email(realm: str, email: str) -> Account | None:
    return services().ports.accounts.find_by_unique(realm, UniqueKind.EMAIL, email.casefold())


def live_challenge(account: Account, purpose: Purpose = Purpose.ACTIVATION) -> Any:
    """The account's one live challenge of ``purpose`` (what its latest mail's link redeems)."""
    return services().ports.challenges.find_for_account(account.realm, account.account_id, purpose)


def flow_used(flow: str) -> bool:
    """Whether the identity flow behind the id in a ``?flow=`` link was consumed."""
    from chalicelib.domain.secrets import fingerprint

    stored = services().ports.flows.get_flow(fingerprint(flow))
    assert stored is not None, "the flow itself must survive"
    return stored.used_at is not None


def guards(realm: str, values: list[tuple[UniqueKind, str]]) -> dict[tuple[UniqueKind, str], str]:
    """Which of ``values`` a uniqueness guard holds, and for which account."""
    return services().ports.accounts.holders(realm, values)
