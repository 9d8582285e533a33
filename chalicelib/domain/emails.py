"""E-mail address validation shared by every flow that accepts an address."""

from __future__ import annotations

from chalicelib.errors import InvalidEmail


def valid_email(raw: str, field: str = "email") -> str:
    """The normalised address, or :class:`InvalidEmail` with a message for ``field``.

    Syntax only: deliverability (DNS) checks would make requests slow and flaky, and the
    activation mail proves the address anyway.
    """
    from email_validator import EmailNotValidError, validate_email  # ~20 ms of regexes: not at cold start

    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(errors={field: [str(exc)]}) from None
