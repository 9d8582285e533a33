"""Assembling the flows from their ports: one place, for production and for tests.

``chalicelib.container`` fills :class:`Ports` with real adapters; the unit tests fill it
with in-memory fakes. Both get exactly the same flow objects, wired the same way.

Each flow is assembled, and its module imported, when it is first asked for: a cold
Lambda container's first request (a sign-in, most often) waits for the flows it uses,
not for the sixty modules of every capability. The queue worker's task runner asks for
every flow that delivers a task.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.flows.links import Links
from chalicelib.ports import (
    AccountDirectory,
    AccountRepository,
    AttemptLedger,
    AuditLog,
    AuditSearch,
    ChallengeRepository,
    Clock,
    ConsentRepository,
    Counters,
    EsepRepository,
    EuLoginProvider,
    FactorRepository,
    FileStore,
    FlowRepository,
    GsisProvider,
    HelpdeskRepository,
    JobRepository,
    LoginGate,
    Mailer,
    OidcClientRepository,
    OidcGrantRepository,
    OidcLookup,
    OutboundHttp,
    PasswordHasher,
    PersonalDataRepository,
    RegistryRepository,
    Sealer,
    SecretSource,
    SessionRepository,
    TaskQueue,
    TicketRepository,
    TokenSigner,
)

if TYPE_CHECKING:  # each flow's module is imported when the flow is first assembled
    from chalicelib.flows.account.applications import AccountApplications
    from chalicelib.flows.account.deletion import AccountDeletion
    from chalicelib.flows.account.deletion_sweep import DeletionSweep
    from chalicelib.flows.account.email_change import EmailChange
    from chalicelib.flows.account.export import DataExport
    from chalicelib.flows.account.password_change import PasswordChange
    from chalicelib.flows.account.sessions import AccountSessions
    from chalicelib.flows.activation import Activation
    from chalicelib.flows.admin.accounts import AccountAdministration
    from chalicelib.flows.admin.audit_log import AuditLogReader
    from chalicelib.flows.admin.directory import AccountFinder
    from chalicelib.flows.admin.helpdesk import Helpdesk
    from chalicelib.flows.certification import Certification
    from chalicelib.flows.challenges import Challenges
    from chalicelib.flows.esep.legacy import EsepLegacyImport
    from chalicelib.flows.esep.network import EsepNetwork
    from chalicelib.flows.esep.projects import EsepProjects
    from chalicelib.flows.esep.registration import EsepRegistration
    from chalicelib.flows.esep.validation import EsepValidation
    from chalicelib.flows.eulogin_signin import EuLoginSignIn
    from chalicelib.flows.expiry import Expiry
    from chalicelib.flows.flow_views import FlowViews
    from chalicelib.flows.gsis_recovery import GsisRecovery
    from chalicelib.flows.gsis_signin import GsisSignIn
    from chalicelib.flows.jobs import Jobs
    from chalicelib.flows.legacy import LegacyImport
    from chalicelib.flows.mfa.enrolment import Enrolment
    from chalicelib.flows.mfa.reauthentication import Reauthentication
    from chalicelib.flows.mfa.sign_in import SecondFactorSignIn
    from chalicelib.flows.mfa.verification import Verifier
    from chalicelib.flows.mfa.webauthn_rp import RelyingParty
    from chalicelib.flows.oidc.provider import OidcProvider
    from chalicelib.flows.passwords import Passwords
    from chalicelib.flows.registrar import Registrar
    from chalicelib.flows.registration import GsisRegistration
    from chalicelib.flows.roles import RoleGrants
    from chalicelib.flows.session_ending import SessionEnding
    from chalicelib.flows.sessions import Sessions
    from chalicelib.flows.support import Support
    from chalicelib.flows.tasks import TaskRunner
    from chalicelib.flows.throttling import Throttle
    from chalicelib.flows.tickets import Tickets


@dataclass(frozen=True)
class Ports:
    """Everything the flows need from the outside world."""

    clock: Clock
    secrets: SecretSource
    hasher: PasswordHasher
    accounts: AccountRepository
    login_gate: LoginGate
    attempts: AttemptLedger
    sealer: Sealer
    flows: FlowRepository
    challenges: ChallengeRepository
    sessions: SessionRepository
    tickets: TicketRepository
    audit: AuditLog
    registry: RegistryRepository
    counters: Counters
    mailer: Mailer
    tasks: TaskQueue
    gsis: GsisProvider
    signer: TokenSigner
    jobs: JobRepository
    files: FileStore
    eulogin: EuLoginProvider
    esep: EsepRepository
    oidc_clients: OidcClientRepository
    oidc_grants: OidcGrantRepository
    consents: ConsentRepository
    oidc_lookup: OidcLookup
    outbound: OutboundHttp
    factors: FactorRepository
    directory: AccountDirectory
    audit_search: AuditSearch
    helpdesk: HelpdeskRepository
    personal_data: PersonalDataRepository


class Flows:
    """The flows of one set of ports, each assembled on first use and kept.

    A flow that others use (the throttle, the tickets, session ending, passwords…) is
    assembled once and shared, as when everything was built at once. ``functools.
    cached_property`` computes each under a lock on Python 3.11; on later versions two
    threads asking for the same flow at its very first use could assemble it twice,
    which is harmless: a flow holds its ports and no state of its own.
    """

    def __init__(self, ports: Ports, links: Links) -> None:
        self._ports = ports
        self.links = links

    # --- shared by many --------------------------------------------------------------

    @cached_property
    def session_ending(self) -> SessionEnding:
        from chalicelib.flows.session_ending import SessionEnding

        p = self._ports
        return SessionEnding(sessions=p.sessions, grants=p.oidc_grants, tasks=p.tasks, audit=p.audit, clock=p.clock)

    @cached_property
    def throttle(self) -> Throttle:
        from chalicelib.flows.throttling import Throttle

        return Throttle(counters=self._ports.counters, attempts=self._ports.attempts, clock=self._ports.clock)

    @cached_property
    def _tickets(self) -> Tickets:
        from chalicelib.flows.tickets import Tickets

        p = self._ports
        return Tickets(repository=p.tickets, clock=p.clock, secrets=p.secrets)

    @cached_property
    def challenges(self) -> Challenges:
        from chalicelib.flows.challenges import Challenges

        p = self._ports
        return Challenges(repository=p.challenges, attempts=p.attempts, clock=p.clock, secrets=p.secrets)

    @cached_property
    def _relying_party(self) -> RelyingParty:
        from chalicelib.flows.mfa.webauthn_rp import RelyingParty

        return RelyingParty(self.links.base_url)

    @cached_property
    def _verifier(self) -> Verifier:
        from chalicelib.flows.mfa.verification import Verifier

        p = self._ports
        return Verifier(
            factors=p.factors,
            sealer=p.sealer,
            throttle=self.throttle,
            clock=p.clock,
            tickets=p.tickets,
            rp=self._relying_party,
        )

    # --- sign-in and sessions --------------------------------------------------------

    @cached_property
    def sessions(self) -> Sessions:
        from chalicelib.flows.account.new_device import NewDeviceNotices
        from chalicelib.flows.devices import DeviceTrust
        from chalicelib.flows.mfa.gate import SecondStepGate
        from chalicelib.flows.sessions import Sessions

        p = self._ports
        return Sessions(
            accounts=p.accounts,
            gate=p.login_gate,
            sessions=p.sessions,
            hasher=p.hasher,
            signer=p.signer,
            clock=p.clock,
            secrets=p.secrets,
            links=self.links,
            throttle=self.throttle,
            tickets=self._tickets,
            devices=DeviceTrust(sealer=p.sealer, clock=p.clock, secrets=p.secrets),
            ending=self.session_ending,
            second_step=SecondStepGate(tickets=self._tickets, factors=p.factors),
            new_device=NewDeviceNotices(
                accounts=p.accounts, sessions=p.sessions, mailer=p.mailer, tasks=p.tasks, links=self.links
            ),
        )

    @cached_property
    def reauthentication(self) -> Reauthentication:
        from chalicelib.flows.mfa.reauthentication import Reauthentication

        p = self._ports
        return Reauthentication(
            accounts=p.accounts,
            factors=p.factors,
            sessions=p.sessions,
            hasher=p.hasher,
            verifier=self._verifier,
            rp=self._relying_party,
            clock=p.clock,
        )

    @cached_property
    def mfa_enrolment(self) -> Enrolment:
        from chalicelib.flows.mfa.enrolment import Enrolment

        p = self._ports
        return Enrolment(
            accounts=p.accounts,
            factors=p.factors,
            sessions=p.sessions,
            verifier=self._verifier,
            reauthentication=self.reauthentication,
            rp=self._relying_party,
            tasks=p.tasks,
            clock=p.clock,
            secrets=p.secrets,
        )

    @cached_property
    def mfa_sign_in(self) -> SecondFactorSignIn:
        from chalicelib.flows.mfa.sign_in import SecondFactorSignIn

        p = self._ports
        return SecondFactorSignIn(
            sessions=self.sessions,
            accounts=p.accounts,
            factors=p.factors,
            tickets=self._tickets,
            verifier=self._verifier,
            rp=self._relying_party,
            devices=self.sessions.devices,
            clock=p.clock,
        )

    @cached_property
    def roles(self) -> RoleGrants:
        from chalicelib.flows.roles import RoleGrants

        p = self._ports
        return RoleGrants(accounts=p.accounts, audit=p.audit, clock=p.clock, ending=self.session_ending)

    @cached_property
    def oidc(self) -> OidcProvider:
        return _oidc(self._ports, self.links, self.session_ending)

    # --- e-IEP: GSIS, activation, passwords ------------------------------------------

    @cached_property
    def gsis_signin(self) -> GsisSignIn:
        from chalicelib.flows.gsis_signin import GsisSignIn

        p = self._ports
        return GsisSignIn(flows=p.flows, provider=p.gsis, tickets=p.tickets, clock=p.clock, secrets=p.secrets)

    @cached_property
    def activation(self) -> Activation:
        from chalicelib.flows.activation import Activation

        p = self._ports
        return Activation(
            accounts=p.accounts,
            challenges=self.challenges,
            mailer=p.mailer,
            clock=p.clock,
            links=self.links,
            tasks=p.tasks,
        )

    @cached_property
    def registration(self) -> GsisRegistration:
        from chalicelib.flows.registration import GsisRegistration

        p = self._ports
        return GsisRegistration(
            signin=self.gsis_signin,
            accounts=p.accounts,
            hasher=p.hasher,
            activation=self.activation,
            clock=p.clock,
            secrets=p.secrets,
            throttle=self.throttle,
            flows=p.flows,
        )

    @cached_property
    def passwords(self) -> Passwords:
        from chalicelib.flows.passwords import Passwords

        p = self._ports
        return Passwords(
            accounts=p.accounts,
            sessions=p.sessions,
            challenges=self.challenges,
            hasher=p.hasher,
            mailer=p.mailer,
            tasks=p.tasks,
            clock=p.clock,
            links=self.links,
            ending=self.session_ending,
        )

    @cached_property
    def recovery(self) -> GsisRecovery:
        from chalicelib.flows.gsis_recovery import GsisRecovery

        p = self._ports
        return GsisRecovery(
            signin=self.gsis_signin,
            flows=p.flows,
            accounts=p.accounts,
            tickets=self._tickets,
            passwords=self.passwords,
            clock=p.clock,
            links=self.links,
        )

    @cached_property
    def certification(self) -> Certification:
        from chalicelib.flows.certification import Certification

        p = self._ports
        return Certification(
            signin=self.gsis_signin,
            accounts=p.accounts,
            tickets=self._tickets,
            sessions=self.sessions,
            clock=p.clock,
            links=self.links,
        )

    @cached_property
    def flow_views(self) -> FlowViews:
        from chalicelib.flows.flow_views import FlowViews

        return FlowViews(
            signin=self.gsis_signin,
            accounts=self._ports.accounts,
            recovery=self.recovery,
            certification=self.certification,
        )

    @cached_property
    def support(self) -> Support:
        from chalicelib.flows.support import Support

        p = self._ports
        return Support(
            helpdesk=p.helpdesk, sealer=p.sealer, secrets=p.secrets, clock=p.clock, mailer=p.mailer, tasks=p.tasks
        )

    @cached_property
    def legacy(self) -> LegacyImport:
        from chalicelib.flows.legacy import LegacyImport

        p = self._ports
        return LegacyImport(accounts=p.accounts, clock=p.clock, secrets=p.secrets)

    # --- NTUA: registrar, provisioning, expiry ---------------------------------------

    @cached_property
    def expiry(self) -> Expiry:
        from chalicelib.flows.expiry import Expiry

        p = self._ports
        return Expiry(
            accounts=p.accounts,
            audit=p.audit,
            tasks=p.tasks,
            mailer=p.mailer,
            clock=p.clock,
            links=self.links,
            ending=self.session_ending,
        )

    @cached_property
    def registrar(self) -> Registrar:
        from chalicelib.flows.registrar import Registrar

        p = self._ports
        return Registrar(
            accounts=p.accounts,
            registry=p.registry,
            passwords=self.passwords,
            audit=p.audit,
            clock=p.clock,
            secrets=p.secrets,
            ending=self.session_ending,
        )

    @cached_property
    def jobs(self) -> Jobs:
        from chalicelib.flows.jobs import Jobs
        from chalicelib.flows.provisioning import Provisioning, Renewal

        p = self._ports
        return Jobs(
            jobs=p.jobs,
            files=p.files,
            tasks=p.tasks,
            clock=p.clock,
            secrets=p.secrets,
            provisioning=Provisioning(
                registrar=self.registrar, accounts=p.accounts, audit=p.audit, tasks=p.tasks, clock=p.clock
            ),
            renewal=Renewal(accounts=p.accounts, clock=p.clock),
            audit=p.audit,
        )

    # --- eTwinning: EU Login, organisations, validation, projects -------------------

    @cached_property
    def eulogin_signin(self) -> EuLoginSignIn:
        from chalicelib.flows.eulogin_signin import EuLoginSignIn

        p = self._ports
        return EuLoginSignIn(flows=p.flows, provider=p.eulogin, accounts=p.accounts, clock=p.clock, secrets=p.secrets)

    @cached_property
    def esep_registration(self) -> EsepRegistration:
        from chalicelib.flows.esep.registration import EsepRegistration

        p = self._ports
        return EsepRegistration(
            signin=self.eulogin_signin,
            flows=p.flows,
            esep=p.esep,
            sessions=self.sessions,
            audit=p.audit,
            clock=p.clock,
            secrets=p.secrets,
        )

    @cached_property
    def esep_network(self) -> EsepNetwork:
        from chalicelib.flows.esep.network import EsepNetwork

        p = self._ports
        return EsepNetwork(esep=p.esep, clock=p.clock, secrets=p.secrets)

    @cached_property
    def esep_validation(self) -> EsepValidation:
        from chalicelib.flows.esep.validation import EsepValidation

        p = self._ports
        return EsepValidation(
            esep=p.esep, accounts=p.accounts, audit=p.audit, tasks=p.tasks, mailer=p.mailer, clock=p.clock
        )

    @cached_property
    def esep_projects(self) -> EsepProjects:
        from chalicelib.flows.esep.projects import EsepProjects

        p = self._ports
        return EsepProjects(
            esep=p.esep,
            accounts=p.accounts,
            hasher=p.hasher,
            files=p.files,
            tasks=p.tasks,
            mailer=p.mailer,
            clock=p.clock,
            secrets=p.secrets,
            links=self.links,
        )

    @cached_property
    def esep_legacy(self) -> EsepLegacyImport:
        from chalicelib.flows.esep.legacy import EsepLegacyImport

        p = self._ports
        return EsepLegacyImport(esep=p.esep, accounts=p.accounts, clock=p.clock)

    # --- administration --------------------------------------------------------------

    @cached_property
    def admin_accounts(self) -> AccountAdministration:
        from chalicelib.flows.admin.accounts import AccountAdministration

        p = self._ports
        return AccountAdministration(
            accounts=p.accounts,
            registry=p.registry,
            sessions=p.sessions,
            ending=self.session_ending,
            audit_log=p.audit,
            audit_search=p.audit_search,
            passwords=self.passwords,
            activation=self.activation,
            challenges=self.challenges,
            throttle=self.throttle,
            mailer=p.mailer,
            tasks=p.tasks,
            clock=p.clock,
            links=self.links,
            factors=p.factors,
        )

    @cached_property
    def admin_directory(self) -> AccountFinder:
        from chalicelib.flows.admin.directory import AccountFinder

        p = self._ports
        return AccountFinder(directory=p.directory, accounts=p.accounts, sealer=p.sealer)

    @cached_property
    def admin_audit(self) -> AuditLogReader:
        from chalicelib.flows.admin.audit_log import AuditLogReader

        p = self._ports
        return AuditLogReader(search=p.audit_search, accounts=p.accounts, sealer=p.sealer)

    @cached_property
    def helpdesk(self) -> Helpdesk:
        from chalicelib.flows.admin.helpdesk import Helpdesk

        p = self._ports
        return Helpdesk(tickets=p.helpdesk, sealer=p.sealer, mailer=p.mailer, tasks=p.tasks, clock=p.clock)

    # --- the account centre ----------------------------------------------------------

    @cached_property
    def email_change(self) -> EmailChange:
        from chalicelib.flows.account.email_change import EmailChange

        p = self._ports
        return EmailChange(
            accounts=p.accounts,
            challenges=self.challenges,
            reauthentication=self.reauthentication,
            ending=self.session_ending,
            throttle=self.throttle,
            audit=p.audit,
            mailer=p.mailer,
            tasks=p.tasks,
            clock=p.clock,
            links=self.links,
        )

    @cached_property
    def account_sessions(self) -> AccountSessions:
        from chalicelib.flows.account.sessions import AccountSessions

        p = self._ports
        return AccountSessions(sessions=p.sessions, clients=p.oidc_clients, ending=self.session_ending, clock=p.clock)

    @cached_property
    def account_applications(self) -> AccountApplications:
        from chalicelib.flows.account.applications import AccountApplications

        p = self._ports
        return AccountApplications(
            consents=p.consents,
            clients=p.oidc_clients,
            grants=p.oidc_grants,
            sessions=p.sessions,
            tasks=p.tasks,
            clock=p.clock,
        )

    @cached_property
    def password_change(self) -> PasswordChange:
        from chalicelib.flows.account.password_change import PasswordChange

        p = self._ports
        return PasswordChange(
            accounts=p.accounts,
            passwords=self.passwords,
            reauthentication=self.reauthentication,
            throttle=self.throttle,
            hasher=p.hasher,
            ending=self.session_ending,
            tasks=p.tasks,
            clock=p.clock,
        )

    @cached_property
    def data_export(self) -> DataExport:
        from chalicelib.flows.account.export import DataExport

        p = self._ports
        return DataExport(
            accounts=p.accounts,
            factors=p.factors,
            sessions=p.sessions,
            consents=p.consents,
            audit=p.audit,
            helpdesk=p.helpdesk,
            esep=p.esep,
            reauthentication=self.reauthentication,
            clock=p.clock,
        )

    @cached_property
    def account_deletion(self) -> AccountDeletion:
        from chalicelib.flows.account.deletion import AccountDeletion

        p = self._ports
        return AccountDeletion(
            accounts=p.accounts,
            personal_data=p.personal_data,
            reauthentication=self.reauthentication,
            tasks=p.tasks,
            mailer=p.mailer,
            clock=p.clock,
            links=self.links,
        )

    @cached_property
    def deletion_sweep(self) -> DeletionSweep:
        from chalicelib.flows.account.deletion_sweep import DeletionSweep

        p = self._ports
        return DeletionSweep(
            accounts=p.accounts, personal_data=p.personal_data, ending=self.session_ending, clock=p.clock
        )

    # --- the queue worker ------------------------------------------------------------

    @cached_property
    def tasks(self) -> TaskRunner:
        """Every task kind, with the flow that delivers it."""
        from chalicelib.flows import activation as activation_tasks
        from chalicelib.flows import expiry as expiry_tasks
        from chalicelib.flows import jobs as job_tasks
        from chalicelib.flows import passwords as password_tasks
        from chalicelib.flows import support as support_tasks
        from chalicelib.flows.account import deletion as deletion_tasks
        from chalicelib.flows.account import email_change as email_change_tasks
        from chalicelib.flows.account import new_device as new_device_tasks
        from chalicelib.flows.admin import accounts as admin_account_tasks
        from chalicelib.flows.admin import helpdesk as helpdesk_tasks
        from chalicelib.flows.esep import projects as esep_project_tasks
        from chalicelib.flows.esep import validation as esep_validation_tasks
        from chalicelib.flows.mfa import enrolment as mfa_tasks
        from chalicelib.flows.mfa.notices import FactorNotices
        from chalicelib.flows.session_ending import BACKCHANNEL_LOGOUT
        from chalicelib.flows.tasks import TaskRunner

        p = self._ports
        return TaskRunner(
            {
                email_change_tasks.SEND: self.email_change.deliver,
                email_change_tasks.APPLIED: self.email_change.deliver_applied,
                deletion_tasks.NOTICE_MAIL: self.account_deletion.deliver_notice,
                BACKCHANNEL_LOGOUT: self.oidc.backchannel.deliver,
                admin_account_tasks.ADMIN_RESET_MAIL: self.admin_accounts.deliver_password_reset,
                helpdesk_tasks.REPLY_MAIL: self.helpdesk.deliver_reply,
                esep_validation_tasks.DECISION_MAIL: self.esep_validation.deliver_decision,
                esep_project_tasks.INVITATION_MAIL: self.esep_projects.deliver_invitation,
                esep_project_tasks.ANSWER_MAIL: self.esep_projects.deliver_answer,
                activation_tasks.SEND: self.activation.deliver,
                activation_tasks.RESEND: self.activation.deliver_resend,
                password_tasks.RESET_MAIL: self.passwords.deliver_reset,
                password_tasks.SETUP_MAIL: self.passwords.deliver_setup,
                password_tasks.CHANGED_MAIL: self.passwords.deliver_changed,
                support_tasks.NOTIFY: self.support.notify,
                support_tasks.ACKNOWLEDGE: self.support.acknowledge,
                expiry_tasks.WARNING_MAIL: self.expiry.deliver_warning,
                job_tasks.RUN: self.jobs.run_task,
                mfa_tasks.CHANGED_MAIL: FactorNotices(accounts=p.accounts, mailer=p.mailer, links=self.links).deliver,
                new_device_tasks.NEW_DEVICE_MAIL: self.sessions.new_device.deliver,
            }
        )


def assemble(ports: Ports, links: Links) -> Flows:
    """The flows over ``ports``; each is assembled when first asked for."""
    return Flows(ports, links)


def _oidc(ports: Ports, links: Links, ending: SessionEnding) -> OidcProvider:
    from chalicelib.flows.oidc.authorization import Authorization
    from chalicelib.flows.oidc.backchannel import BackchannelLogout
    from chalicelib.flows.oidc.clients import ClientRegistry
    from chalicelib.flows.oidc.provider import OidcProvider
    from chalicelib.flows.oidc.tokens import OidcTokens
    from chalicelib.flows.oidc.userinfo import Userinfo

    clock, secrets = ports.clock, ports.secrets
    tokens = OidcTokens(grants=ports.oidc_grants, signer=ports.signer, clock=clock, secrets=secrets, links=links)
    return OidcProvider(
        clients=ClientRegistry(
            clients=ports.oidc_clients, outbound=ports.outbound, audit=ports.audit, clock=clock, secrets=secrets
        ),
        authorization=Authorization(
            lookup=ports.oidc_lookup,
            grants=ports.oidc_grants,
            consents=ports.consents,
            clients=ports.oidc_clients,
            clock=clock,
            secrets=secrets,
        ),
        tokens=tokens,
        userinfo=Userinfo(
            tokens=tokens, lookup=ports.oidc_lookup, clients=ports.oidc_clients, esep=ports.esep, clock=clock
        ),
        backchannel=BackchannelLogout(
            clients=ports.oidc_clients,
            signer=ports.signer,
            outbound=ports.outbound,
            audit=ports.audit,
            clock=clock,
            secrets=secrets,
            links=links,
        ),
        ending=ending,
        consents=ports.consents,
        client_store=ports.oidc_clients,
        grants=ports.oidc_grants,
        signer=ports.signer,
        clock=clock,
    )
