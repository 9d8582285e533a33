"""Second factors in tests: TOTP codes from ``pyotp``, reading a session's claims."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pyotp


def code(secret: str, *, steps_ahead: int = 0) -> str:
    """The TOTP code of ``secret`` ``steps_ahead`` 30-second steps from now (±1 is accepted)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def claims(access_token: str) -> dict[str, Any]:
    """The (unverified) claims of an access token: what the session says of itself."""
    payload = access_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
