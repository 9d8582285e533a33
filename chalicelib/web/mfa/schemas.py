"""Request and response models of the second-factor API (SPEC §2.9, §2.10)."""

from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Code = Annotated[str, Field(max_length=32)]
Credential = Annotated[
    dict[str, Any] | str,
    Field(description="The PublicKeyCredential as its toJSON() gives it (an object, or that object as JSON text)."),
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class _Output(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


class TotpStartInput(_Input):
    label: Annotated[str, Field(max_length=64, description="A name for the authenticator (optional).")] = ""


class TotpStartOutput(_Output):
    factor_id: str
    secret: str
    otpauth_uri: str
    qr_svg: str


class TotpConfirmInput(_Input):
    code: Annotated[str, Field(min_length=1, max_length=16)]


class WebAuthnRegistrationInput(_Input):
    credential: Credential
    label: Annotated[str, Field(max_length=64)] = ""


class FactorOutput(_Output):
    factor_id: str
    type: str
    label: str
    created_at: str
    last_used_at: str | None = None


class EnrolledOutput(FactorOutput):
    recovery_codes: list[str] | None = Field(
        None, description="The account's first recovery codes, when this factor brought them (shown once)."
    )


class MfaOverviewOutput(_Output):
    factors: list[FactorOutput]
    recovery_codes_left: int
    required: bool


class RecoveryCodesOutput(_Output):
    recovery_codes: list[str]


class ReauthenticateInput(_Input):
    password: Annotated[str | None, Field(None, max_length=1024)] = None
    totp: Code | None = None
    webauthn: Credential | None = None
    next: Annotated[
        str | None,
        Field(None, max_length=2048, description="A page of this realm to go back to (browser forms)."),
    ] = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if sum(bool(value) for value in (self.password, self.totp, self.webauthn)) != 1:
            raise ValueError("give exactly one of password, totp, webauthn")
        return self


class ReauthenticatedOutput(_Output):
    method: str
    valid_for: int


class SecondStepInput(_Input):
    mfa_token: Annotated[
        str | None, Field(None, max_length=256, description="From mfa_required; browsers send it as a cookie.")
    ] = None
    next: Annotated[
        str | None, Field(None, max_length=4096, description="A page of this realm to continue to (browsers).")
    ] = None
    totp: Code | None = None
    recovery_code: Code | None = None
    webauthn: Credential | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if sum(bool(value) for value in (self.totp, self.recovery_code, self.webauthn)) != 1:
            raise ValueError("give exactly one of totp, recovery_code, webauthn")
        return self


class MfaTokenInput(_Input):
    mfa_token: Annotated[str | None, Field(None, max_length=256)] = None


class PasskeyInput(_Input):
    credential: Credential


class EmptyInput(_Input):
    pass


class OptionsOutput(_Output):
    challenge: str
