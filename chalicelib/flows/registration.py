"""Registration in a GSIS realm (e-IEP): a GSIS flow plus what the person types.

The identity fields come only from the stored flow, never from the request (Keycloak
#26111). The account, its uniqueness guards (e-mail, AFM, username) and the flow's
"used" mark are written in one transaction, so concurrent attempts cannot produce two
accounts or use one flow twice. The activation mail is sent after the account is stored.

``email_taken`` tells whether an address has an account, so the form must not become an
oracle: registration attempts are limited per flow and per client address, and a flow
is spent after :data:`REFUSALS_PER_FLOW` refused addresses (the person goes through GSIS
again, which a prober cannot script).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.audit import audit
from chalicelib.domain.emails import valid_email
from chalicelib.domain.flows import IdentityFlow, Intent
from chalicelib.errors import (
    AfmRegistered,
    DuplicateValue,
    EmailTaken,
    FlowAlreadyUsed,
    FlowUsed,
    InvalidInput,
    PasswordPolicyViolation,
    PasswordsMismatch,
    UsernameTaken,
)
from chalicelib.flows.activation import Activation
from chalicelib.flows.gsis_signin import GsisSignIn
from chalicelib.flows.password_policy import check_password
from chalicelib.flows.throttling import Throttle
from chalicelib.ports import AccountRepository, Clock, FlowRepository, PasswordHasher, SecretSource
from chalicelib.realms import RealmConfig

log = logging.getLogger(__name__)

GENDERS = ("female", "male", "other")
REFUSALS_PER_FLOW = 3
"""Addresses refused as taken before a flow is spent."""
_REGISTRY_NUMBER = re.compile(r"^[0-9A-Za-z-]{1,20}$")
_MOBILE = re.compile(r"^\+?[0-9]{10,15}$")


@dataclass(frozen=True)
class RegistrationRequest:
    flow: str
    email: str
    password: str
    password_confirmation: str
    gender: str
    registry_number: str | None = None
    mobile: str | None = None
    language: str | None = None
    browser_binding: str | None = None
    """The binding cookie of the browser presenting the flow (it must be the one that made it)."""
    address: str = ""
    """The client's address (registration attempts are limited per address)."""


@dataclass(frozen=True)
class _OtherFields:
    """The typed-in fields, checked and normalised."""

    gender: str
    registry_number: str | None
    mobile: str | None
    language: str


@dataclass(frozen=True)
class Registered:
    account_id: str
    status: AccountStatus
    mail_queued: bool


@dataclass(frozen=True)
class GsisRegistration:
    signin: GsisSignIn
    accounts: AccountRepository
    hasher: PasswordHasher
    activation: Activation
    clock: Clock
    secrets: SecretSource
    throttle: Throttle
    flows: FlowRepository

    def register(self, realm: RealmConfig, request: RegistrationRequest) -> Registered:
        """Create a pending account from a register flow and send the activation mail.

        Raises
        ------
        FlowNotFound, FlowExpired, FlowUsed
            the flow cannot be used (checked first: nothing else matters then).
        InvalidEmail, PasswordsMismatch, PasswordPolicyViolation, InvalidInput
            field problems.
        EmailTaken, AfmRegistered
            another account holds the e-mail or the tax number.
        """
        flow = self.signin.load(realm, request.flow, request.browser_binding)
        if flow.used_at is not None:
            raise FlowUsed()
        if flow.intent is not Intent.REGISTER:
            raise InvalidInput(errors={"flow": ["this flow was not started for registration"]})
        self.throttle.limit(realm, "registration", flow.flow_hash, request.address)
        email = valid_email(request.email)
        fields = self._other_fields(realm, request)
        self._check_password(realm, request, [email, flow.gsis.first_name, flow.gsis.last_name])

        now = self.clock.now()
        account = Account(
            account_id=self.secrets.identifier(),
            realm=realm.id,
            username=email.casefold(),
            email=email,
            status=AccountStatus.PENDING_ACTIVATION,
            created_at=now,
            updated_at=now,
            password_hash=self.hasher.hash(request.password),
            identity=flow.gsis,
            gsis_verified=True,
            gender=fields.gender,
            # Seed 000, note 2: teachers without a registry number enter their AFM.
            registry_number=fields.registry_number or flow.gsis.afm,
            mobile=fields.mobile,
            language=fields.language,
        )
        try:
            entry = audit(
                realm.id, account.account_id, "account_registered", actor=account.account_id, at=now, via="gsis"
            )
            self.accounts.create(account, audit=entry, consume_flow=flow.flow_hash, now=now)
        except DuplicateValue as exc:
            if exc.kind == "email":
                self._count_refusal(realm, flow)
            raise {"email": EmailTaken, "afm": AfmRegistered}.get(exc.kind, UsernameTaken)() from None
        except FlowAlreadyUsed:
            raise FlowUsed() from None
        log.info("account registered", extra={"account_id": account.account_id, "realm": realm.id})
        mail_queued = self.activation.request_mail(realm, account.account_id)
        return Registered(account.account_id, account.status, mail_queued)

    def _count_refusal(self, realm: RealmConfig, flow: IdentityFlow) -> None:
        """One more address refused for ``flow``; past the allowance the flow is spent.

        Raises
        ------
        FlowUsed
            this refusal spent the flow.
        """
        refusals = self.throttle.counters.increment(
            f"{realm.id}#registration-refusals#{flow.flow_hash}", window=realm.lifetimes.flow, now=self.clock.now()
        )
        if refusals > REFUSALS_PER_FLOW:
            self.flows.mark_flow_used(flow.flow_hash, self.clock.now())
            log.info("registration flow spent after refused addresses", extra={"realm": realm.id})
            raise FlowUsed("Too many addresses were refused: prove your identity through GSIS again.")

    @staticmethod
    def _other_fields(realm: RealmConfig, request: RegistrationRequest) -> _OtherFields:
        errors: dict[str, list[str]] = {}
        gender = (request.gender or "").strip().lower()
        if gender not in GENDERS:
            errors["gender"] = [f"must be one of {', '.join(GENDERS)}"]
        registry_number = (request.registry_number or "").strip() or None
        if registry_number and not _REGISTRY_NUMBER.match(registry_number):
            errors["registry_number"] = ["must be up to 20 letters, digits or dashes"]
        mobile = re.sub(r"[\s-]", "", request.mobile or "") or None
        if mobile and not _MOBILE.match(mobile):
            errors["mobile"] = ["must be a phone number of 10 to 15 digits, optionally starting with +"]
        language = request.language or realm.default_language
        if language not in realm.languages:
            errors["language"] = [f"must be one of {', '.join(realm.languages)}"]
        if errors:
            raise InvalidInput(errors=errors)
        return _OtherFields(gender, registry_number, mobile, language)

    @staticmethod
    def _check_password(realm: RealmConfig, request: RegistrationRequest, user_inputs: list[str]) -> None:
        if request.password != request.password_confirmation:
            raise PasswordsMismatch(errors={"password_confirmation": ["does not match the password"]})
        assert realm.password_policy is not None
        result = check_password(realm.password_policy, request.password, user_inputs)
        if not result.acceptable:
            raise PasswordPolicyViolation(
                errors={"password": list(result.messages)}, extra={"violations": list(result.violations)}
            )
