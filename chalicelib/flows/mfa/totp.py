"""RFC 6238 codes with ``pyotp``: 6 digits, 30-second steps, one step of drift either side.

The accepted code's *step* is what single use is decided on: the factor keeps the last
step it accepted and a conditional write moves it only forward, so a code seen over a
shoulder (or sent twice by a double click) cannot be replayed in its window.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from chalicelib.domain.mfa import TOTP_DIGITS, TOTP_PERIOD, TOTP_WINDOW


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (within the window around ``now``) whose code is ``code``, or None.

    Every step of the window is compared, in constant time, whatever matched first, so
    the time taken says nothing about which step (or how many digits) matched.
    """
    import pyotp  # second factors' library: not at cold start

    typed = "".join(code.split())
    if len(typed) != TOTP_DIGITS or not typed.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD)
    current = totp.timecode(now)
    found = None
    for offset in range(-TOTP_WINDOW, TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(current + offset), typed) and found is None:
            found = current + offset
    return found


def otpauth_uri(secret: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://totp/…`` URI authenticator apps read from the QR code."""
    import pyotp

    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code (drawn here: no third party ever sees the secret)."""
    import segno

    return str(segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", title="QR"))
