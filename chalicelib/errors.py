"""Errors the flows raise, each carrying its SPEC §6 problem code.

The web layer maps a code to an HTTP status in one table (``web/problems.py``); flows
never think in HTTP. Messages here are safe to show: they never reveal whether an
account exists where SPEC asks for enumeration safety.
"""

from __future__ import annotations

from typing import Any


class FlowError(Exception):
    """Base class: ``code`` is the stable problem code clients branch on."""

    code = "invalid_input"
    title = "The request could not be processed."

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors or {}
        self.extra = extra or {}
        self.retry_after = retry_after


class InvalidInput(FlowError):
    """Some fields are invalid."""

    code = "invalid_input"
    title = "Some fields are invalid."


class PasswordPolicyViolation(FlowError):
    """The password does not meet the policy."""

    code = "password_policy"
    title = "The password does not meet the policy."


class PasswordsMismatch(FlowError):
    """The two passwords differ."""

    code = "passwords_mismatch"
    title = "The two passwords differ."


class InvalidEmail(FlowError):
    """The e-mail address is not valid."""

    code = "invalid_email"
    title = "The e-mail address is not valid."


class EmailTaken(FlowError):
    """An account with this e-mail address already exists."""

    code = "email_taken"
    title = "An account with this e-mail address already exists."


class AfmRegistered(FlowError):
    """An account for this tax number already exists."""

    code = "afm_registered"
    title = "An account for this tax number already exists."


class UsernameTaken(FlowError):
    """This username is taken."""

    code = "username_taken"
    title = "This username is taken."


class RegistryNumberTaken(FlowError):
    """The registry number has a live undergraduate account, or has graduated."""

    code = "registry_number_taken"
    title = "This registry number already has its undergraduate account, or has graduated."


class FlowNotFound(FlowError):
    """This flow does not exist."""

    code = "flow_not_found"
    title = "This flow does not exist."


class FlowExpired(FlowError):
    """This flow has expired; please start again."""

    code = "flow_expired"
    title = "This flow has expired; please start again."


class FlowUsed(FlowError):
    """This flow has already been used."""

    code = "flow_used"
    title = "This flow has already been used."


class StateInvalid(FlowError):
    """The sign-in attempt is unknown, expired or already used."""

    code = "state_invalid"
    title = "The sign-in attempt is unknown, expired or already used."


class IdentityProviderError(FlowError):
    """The identity provider did not confirm your identity."""

    code = "idp_error"
    title = "The identity provider did not confirm your identity."


class TokenInvalid(FlowError):
    """The link or code is not valid."""

    code = "token_invalid"
    title = "The link or code is not valid."


class TokenExpired(FlowError):
    """The link or code has expired."""

    code = "token_expired"
    title = "The link or code has expired."


class InvalidCredentials(FlowError):
    """Wrong username or password."""

    code = "invalid_credentials"
    title = "Wrong username or password."


class NotActivated(FlowError):
    """The account has not been activated yet."""

    code = "not_activated"
    title = "The account has not been activated yet."


class AccountDisabled(FlowError):
    """The account is disabled."""

    code = "account_disabled"
    title = "The account is disabled."


class AccountExpired(FlowError):
    """The account has expired."""

    code = "account_expired"
    title = "The account has expired."


class Unauthorized(FlowError):
    """Authentication is required."""

    code = "unauthorized"
    title = "Authentication is required."


class Forbidden(FlowError):
    """You may not do this."""

    code = "forbidden"
    title = "You may not do this."


class NotFound(FlowError):
    """Not found."""

    code = "not_found"
    title = "Not found."


class TooManyAttempts(FlowError):
    """Too many attempts; try again later."""

    code = "too_many_attempts"
    title = "Too many attempts; please try again later."


class IdentityMismatch(FlowError):
    """The tax number on record differs from the one GSIS confirmed."""

    code = "identity_mismatch"
    title = "The tax number on record differs from the one GSIS confirmed."


class CertificationRequired(FlowError):
    """The account must be certified through GSIS once before it is used."""

    code = "certification_required"
    title = "Please confirm your identity through GSIS once to continue."


class MfaRequired(FlowError):
    """The password was right; the account's second factor must follow (SPEC §2.9).

    ``extra`` carries the ``mfa_token`` for ``POST /sessions/mfa`` and the ``factors``
    the person may offer."""

    code = "mfa_required"
    title = "A second factor is required to finish signing in."


class MfaInvalid(FlowError):
    """The second factor was wrong, spent, or not the account's."""

    code = "mfa_invalid"
    title = "The code or security key was not accepted."


class MfaEnrolmentRequired(FlowError):
    """This account's role needs a second factor before it may do this."""

    code = "mfa_enrolment_required"
    title = "Add a second factor (an authenticator app or a passkey) to continue."


class ReauthenticationRequired(FlowError):
    """The change needs a password or factor check within the last five minutes."""

    code = "reauthentication_required"
    title = "Please confirm it is you (password or second factor) and try again."


class DeletionScheduled(FlowError):
    """The account's deletion is scheduled already (SPEC §2.10): the first request stands."""

    code = "deletion_scheduled"
    title = "The deletion of this account is already scheduled."


class DuplicateValue(Exception):
    """Raised by repositories: another account already holds a unique value."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class FlowAlreadyUsed(Exception):
    """Raised by repositories: the flow consumed in a transaction was used already."""


class StaleRecord(Exception):
    """A versioned record changed since it was read (the caller reads it again and retries)."""


class NotEligible(FlowError):
    """A person who may not join a project; ``errors["rules"]`` names each failed rule."""

    code = "not_eligible"
    title = "This person cannot be added to the project."


class MailDeliveryError(Exception):
    """Raised by mailers: the provider refused or could not be reached."""


class TaskQueueError(Exception):
    """Raised by task queues: the task could not be queued."""


class SpreadsheetInvalid(FlowError):
    """The uploaded file cannot be processed as a whole (or its job failed for that)."""

    code = "spreadsheet_invalid"
    title = "The spreadsheet cannot be processed."


class PayloadTooLarge(FlowError):
    """The body is beyond what this endpoint takes directly."""

    code = "payload_too_large"
    title = "The request body is too large."


class FileTooLarge(Exception):
    """Raised by file stores: the stored object is beyond the size the caller accepts."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class OAuthRefused(Exception):
    """An OAuth 2.0 / OpenID Connect request refused with an RFC 6749 error code
    (``invalid_grant``, ``invalid_scope``, ``invalid_token``…); the provider's endpoints
    answer it as ``{"error", "error_description"}``, not as problem details."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(description or error)
        self.error = error
        self.description = description


class OutboundRefused(Exception):
    """Raised by the outbound HTTP adapter: the address is not one Mitroo calls (a
    loopback, link-local or private address in a deployed stage, a bad scheme)."""


class OutboundFailed(Exception):
    """Raised by the outbound HTTP adapter: no answer, or one other than 2xx."""
