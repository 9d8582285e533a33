"""Second factors (SPEC §2.9): enrolment, the second step of a sign-in, passkey sign-in,
re-authentication and the policy that requires them. ``pyotp``, ``webauthn`` and
``segno`` are imported on first use only: a password login loads none of them."""
