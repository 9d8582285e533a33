"""Second factors' libraries, and ua-parser (the account centre's device names), load on
first use only (SPEC §5): ``import app`` and a whole password login (of an account without
a factor, from a new browser, whose notice names the device in the mail worker) pull in
none of them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MFA_LIBRARIES = ("webauthn", "cbor2", "segno", "pyotp", "ua_parser")

_SCRIPT = """
import sys
import app  # the API handler, as Lambda imports it
from tests.fakes import build_flows, make_identity, afm_with_check_digit

kit = build_flows("eiep")
kit.activated(make_identity(afm_with_check_digit("12345678")), "maria@example.gr")
kit.tasks.refuse = True  # the new-device notice stays queued: the worker, not the login, names the device
pair = kit.sessions.login(kit.realm, "maria@example.gr", "Passw0rd!")
assert pair.access_token
print("LOADED:" + " ".join(sorted(name for name in {names!r} if name in sys.modules)))
"""


def test_a_password_login_imports_no_second_factor_library() -> None:
    # Given a fresh interpreter that imports the app and signs a person in with a password
    script = _SCRIPT.format(names=MFA_LIBRARIES)

    # When it lists which second-factor libraries got loaded
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False)

    # Then none did
    assert result.returncode == 0, result.stderr
    assert _loaded(result.stdout) == []


def test_the_check_would_see_a_library_that_is_loaded() -> None:
    # The same listing after a TOTP code is checked names pyotp: the test above can fail.
    script = _SCRIPT.format(names=MFA_LIBRARIES).replace(
        "print(",
        "from chalicelib.flows.mfa.totp import matching_step\nimport datetime\n"
        "matching_step('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', '123456', datetime.datetime.now(datetime.UTC))\nprint(",
        1,
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "pyotp" in _loaded(result.stdout)


def _loaded(output: str) -> list[str]:
    """The libraries the child listed (its log lines go to standard output too)."""
    line = next(line for line in output.splitlines() if line.startswith("LOADED:"))
    return line.removeprefix("LOADED:").split()
