"""Realm definitions: one TOML data file per institution, validated when first loaded.

A realm decides how accounts are born (identity source), what the username is, which
password policy applies, how long each kind of token lives and which languages its pages
and mail speak. Code branches on these fields, never on the realm id.
"""

import functools
import tomllib
from datetime import timedelta
from importlib import resources
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

REALM_IDS = ("eiep", "esep", "ntua")

Language = Literal["el", "en"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalisedText(_Strict):
    el: str
    en: str


class CompositionPolicy(_Strict):
    """Character-class rules, as the e-IEP guide states them (seed 000, note 1)."""

    kind: Literal["composition"]
    min_length: Annotated[int, Field(ge=1)]
    max_length: Annotated[int, Field(ge=1)]
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_digit: bool = True
    symbols: str = "!@#$%^&*()"
    require_symbol: bool = True
    latin_only: bool = True
    """Only ASCII letters, digits and ``symbols`` are allowed at all."""

    @model_validator(mode="after")
    def _satisfiable(self) -> Self:
        if self.min_length > self.max_length:
            raise ValueError("min_length exceeds max_length")
        if self.require_symbol and not self.symbols:
            raise ValueError("require_symbol needs at least one symbol")
        required = sum((self.require_lowercase, self.require_uppercase, self.require_digit, self.require_symbol))
        if self.max_length < required:
            raise ValueError("max_length is shorter than the required character classes")
        return self


class StrengthPolicy(_Strict):
    """Length plus an estimated-guessability floor (NIST SP 800-63B-4, zxcvbn)."""

    kind: Literal["strength"]
    min_length: Annotated[int, Field(ge=8)]
    max_length: Annotated[int, Field(ge=8)]
    min_score: Annotated[int, Field(ge=0, le=4)]

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        if self.min_length > self.max_length:
            raise ValueError("min_length exceeds max_length")
        return self


PasswordPolicyConfig = Annotated[CompositionPolicy | StrengthPolicy, Field(discriminator="kind")]


class Lifetimes(_Strict):
    """How long each short-lived item may be used; code checks these, TTL only cleans up."""

    oauth_state: timedelta = timedelta(minutes=10)
    flow: timedelta = timedelta(minutes=15)
    activation: timedelta = timedelta(hours=24)
    password_reset: timedelta = timedelta(hours=1)
    password_setup: timedelta = timedelta(days=7)
    email_change: timedelta = timedelta(hours=24)
    """The links of an e-mail change: confirm (to the new address) and cancel (to the old)."""
    access_token: timedelta = timedelta(minutes=15)
    refresh_token: timedelta = timedelta(days=14)
    session_max: timedelta = timedelta(days=30)


class Limit(_Strict):
    """At most ``count`` requests per ``window`` (fixed windows)."""

    count: Annotated[int, Field(ge=1)]
    window: timedelta


class ActionLimits(_Strict):
    """Limits of one action, per key (the e-mail or username it names) and per address."""

    per_key: Limit
    per_address: Limit


class Throttling(_Strict):
    """Login back-off and per-action limits (SPEC §3).

    Per account: ``login_free_failures`` attempts, then one per waiting period that
    doubles from ``login_backoff_base`` to ``login_backoff_ceiling``; forgotten after
    ``login_failure_memory``. A browser that signed in to the account before (its device
    cookie, valid for ``device_trust``) has a back-off of its own instead, so a stranger
    guessing cannot lock the owner out. Per client address (an IPv6 /64): at most
    ``login_address_limit`` attempts by unknown browsers in any sliding window, high
    enough for a school's or a campus's NAT.
    """

    login_free_failures: Annotated[int, Field(ge=1)] = 5
    login_backoff_base: timedelta = timedelta(seconds=30)
    login_backoff_ceiling: timedelta = timedelta(minutes=15)
    login_failure_memory: timedelta = timedelta(days=1)
    login_address_limit: Limit = Limit(count=100, window=timedelta(minutes=15))
    device_trust: timedelta = timedelta(days=180)
    actions: dict[str, ActionLimits] = {}

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.login_backoff_base > self.login_backoff_ceiling:
            raise ValueError("login_backoff_base exceeds login_backoff_ceiling")
        return self


class RegistrarConfig(_Strict):
    """Realms whose accounts a registrar creates (NTUA, seed 004)."""

    institutional_domains: tuple[str, ...] = ()
    """E-mail domains of the institution itself: never accepted as the external address."""
    max_renewal: timedelta = timedelta(days=730)
    """How far ahead a renewal may move an expiry (seed 004: at most two years)."""


class AccountCentreConfig(_Strict):
    """What a person may do to their own account in the account centre (SPEC §2.10)."""

    email_change: Literal["self", "secretariat", "eulogin"] = "self"
    """``self``: the person changes it, confirmed from the new address (eiep);
    ``secretariat``: only the registrar's secretariat does (ntua, seed 004: the external
    e-mail is where recovery links go); ``eulogin``: the address is EU Login's, changed in
    the person's EU Login account (esep)."""

    grace_days: Annotated[int, Field(ge=1, le=365)] = 14
    """Days between a requested deletion and the sweep that erases the account: a sign-in
    meanwhile can still cancel it."""
    self_deletion: bool = True
    """False where accounts are not the person's to delete (ntua: the registrar's)."""


class SupportConfig(_Strict):
    mailbox: str
    url: str
    topics: dict[str, LocalisedText] = {}


class RealmConfig(_Strict):
    id: str
    name: LocalisedText
    identity_source: Literal["gsis", "eulogin", "registrar"]
    username: Literal["email", "eulogin_sub", "assigned"]
    languages: tuple[Language, ...] = ("el", "en")
    default_language: Language = "el"
    password_policy: PasswordPolicyConfig | None = None
    """``None`` for realms without local passwords (EU Login only)."""
    lifetimes: Lifetimes = Lifetimes()
    activation_code_attempts: Annotated[int, Field(ge=1, le=10)] = 5
    recovery: Literal["gsis", "mail", "none"] = "none"
    """How a forgotten password is reset: through GSIS (eiep), by mail link (ntua)."""
    throttling: Throttling = Throttling()
    support: SupportConfig | None = None
    registrar: RegistrarConfig | None = None
    account_centre: AccountCentreConfig = AccountCentreConfig()
    mfa_required_roles: tuple[str, ...] = ("admin", "secretariat", "nso", "helpdesk")
    """SPEC §2.9: accounts with one of these roles must have a second factor; without one
    they sign in only to enrol one (admin endpoints answer ``mfa_enrolment_required``)."""
    mfa_required_for_all: bool = False
    """Every account of the realm must have a second factor (a realm may demand it)."""

    def requires_second_factor(self, roles: tuple[str, ...] | list[str]) -> bool:
        """Whether an account with ``roles`` must have a second factor in this realm."""
        return self.mfa_required_for_all or bool(set(roles) & set(self.mfa_required_roles))

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.default_language not in self.languages:
            raise ValueError("default_language must be one of languages")
        if self.username == "eulogin_sub" and self.identity_source != "eulogin":
            raise ValueError("username eulogin_sub needs identity_source eulogin")
        if self.identity_source != "eulogin" and self.password_policy is None:
            raise ValueError("realms with local passwords need a password_policy")
        if self.recovery == "gsis" and self.identity_source != "gsis":
            raise ValueError("recovery through GSIS needs identity_source gsis")
        if (self.identity_source == "registrar") != (self.registrar is not None):
            raise ValueError("a [registrar] section goes with identity_source registrar, and only with it")
        return self


class UnknownRealm(LookupError):
    """The path names a realm this deployment does not serve."""


class RealmConfigError(ValueError):
    """A realm data file does not validate."""


def _load(realm_id: str) -> RealmConfig:
    text = resources.files(__name__).joinpath(f"{realm_id}.toml").read_text(encoding="utf-8")
    try:
        config = RealmConfig.model_validate(tomllib.loads(text))
    except (ValidationError, tomllib.TOMLDecodeError) as exc:
        raise RealmConfigError(f"realm file {realm_id}.toml: {exc}") from exc
    if config.id != realm_id:
        raise RealmConfigError(f"realm file {realm_id}.toml declares id {config.id!r}")
    return config


@functools.cache
def all_realms() -> dict[str, RealmConfig]:
    """Every shipped realm, validated (loaded once per process)."""
    return {realm_id: _load(realm_id) for realm_id in REALM_IDS}


def get_realm(realm_id: str) -> RealmConfig:
    """The realm called ``realm_id``, or :class:`UnknownRealm`."""
    try:
        return all_realms()[realm_id]
    except KeyError:
        raise UnknownRealm(realm_id) from None
