"""Assembling the flows from their ports: one place, for production and for tests.

``chalicelib.container`` fills :class:`Ports` with real adapters; the unit tests fill it
with in-memory fakes. Both get exactly the same flow objects, wired the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.flows import activation as activation_tasks
from chalicelib.flows import expiry as expiry_tasks
from chalicelib.flows import jobs as job_tasks
from chalicelib.flows import passwords as password_tasks
from chalicelib.flows import support as support_tasks
from chalicelib.flows.account import deletion as deletion_tasks
from chalicelib.flows.account import email_change as email_change_tasks
from chalicelib.flows.account import new_device as new_device_tasks
from chalicelib.flows.account.applications import AccountApplications
from chalicelib.flows.account.deletion import AccountDeletion
from chalicelib.flows.account.deletion_sweep import DeletionSweep
from chalicelib.flows.account.email_change import EmailChange
from chalicelib.flows.account.export import DataExport
from chalicelib.flows.account.new_device import NewDeviceNotices
from chalicelib.flows.account.password_change import PasswordChange
from chalicelib.flows.account.sessions import AccountSessions
from chalicelib.flows.activation import Activation
from chalicelib.flows.admin import accounts as admin_account_tasks
from chalicelib.flows.admin import helpdesk as helpdesk_tasks
from chalicelib.flows.admin.accounts import AccountAdministration
from chalicelib.flows.admin.audit_log import AuditLogReader
from chalicelib.flows.admin.directory import AccountFinder
from chalicelib.flows.admin.helpdesk import Helpdesk
from chalicelib.flows.certification import Certification
from chalicelib.flows.challenges import Challenges
from chalicelib.flows.devices import DeviceTrust
from chalicelib.flows.esep import projects as esep_project_tasks
from chalicelib.flows.esep import validation as esep_validation_tasks
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
from chalicelib.flows.links import Links
from chalicelib.flows.mfa import enrolment as mfa_tasks
from chalicelib.flows.mfa.enrolment import Enrolment
from chalicelib.flows.mfa.gate import SecondStepGate
from chalicelib.flows.mfa.notices import FactorNotices
from chalicelib.flows.mfa.reauthentication import Reauthentication
from chalicelib.flows.mfa.sign_in import SecondFactorSignIn
from chalicelib.flows.mfa.verification import Verifier
from chalicelib.flows.mfa.webauthn_rp import RelyingParty
from chalicelib.flows.oidc.authorization import Authorization
from chalicelib.flows.oidc.backchannel import BackchannelLogout
from chalicelib.flows.oidc.clients import ClientRegistry
from chalicelib.flows.oidc.provider import OidcProvider
from chalicelib.flows.oidc.tokens import OidcTokens
from chalicelib.flows.oidc.userinfo import Userinfo
from chalicelib.flows.passwords import Passwords
from chalicelib.flows.provisioning import Provisioning, Renewal
from chalicelib.flows.registrar import Registrar
from chalicelib.flows.registration import GsisRegistration
from chalicelib.flows.roles import RoleGrants
from chalicelib.flows.session_ending import BACKCHANNEL_LOGOUT, SessionEnding
from chalicelib.flows.sessions import Sessions
from chalicelib.flows.support import Support
from chalicelib.flows.tasks import TaskRunner
from chalicelib.flows.throttling import Throttle
from chalicelib.flows.tickets import Tickets
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


@dataclass(frozen=True)
class Flows:
    links: Links
    gsis_signin: GsisSignIn
    registration: GsisRegistration
    activation: Activation
    challenges: Challenges
    sessions: Sessions
    throttle: Throttle
    passwords: Passwords
    recovery: GsisRecovery
    certification: Certification
    flow_views: FlowViews
    support: Support
    legacy: LegacyImport
    expiry: Expiry
    registrar: Registrar
    jobs: Jobs
    tasks: TaskRunner
    eulogin_signin: EuLoginSignIn
    esep_registration: EsepRegistration
    esep_network: EsepNetwork
    esep_validation: EsepValidation
    esep_projects: EsepProjects
    esep_legacy: EsepLegacyImport
    session_ending: SessionEnding
    roles: RoleGrants
    oidc: OidcProvider
    mfa_enrolment: Enrolment
    mfa_sign_in: SecondFactorSignIn
    reauthentication: Reauthentication
    admin_accounts: AccountAdministration
    admin_directory: AccountFinder
    admin_audit: AuditLogReader
    helpdesk: Helpdesk
    email_change: EmailChange
    account_sessions: AccountSessions
    account_applications: AccountApplications
    password_change: PasswordChange
    data_export: DataExport
    account_deletion: AccountDeletion
    deletion_sweep: DeletionSweep


def assemble(ports: Ports, links: Links) -> Flows:
    clock, secrets, accounts = ports.clock, ports.secrets, ports.accounts
    ending = SessionEnding(
        sessions=ports.sessions, grants=ports.oidc_grants, tasks=ports.tasks, audit=ports.audit, clock=clock
    )
    throttle = Throttle(counters=ports.counters, attempts=ports.attempts, clock=clock)
    tickets = Tickets(repository=ports.tickets, clock=clock, secrets=secrets)
    signin = GsisSignIn(flows=ports.flows, provider=ports.gsis, tickets=ports.tickets, clock=clock, secrets=secrets)
    challenges = Challenges(repository=ports.challenges, attempts=ports.attempts, clock=clock, secrets=secrets)
    activation = Activation(
        accounts=accounts, challenges=challenges, mailer=ports.mailer, clock=clock, links=links, tasks=ports.tasks
    )
    registration = GsisRegistration(
        signin=signin,
        accounts=accounts,
        hasher=ports.hasher,
        activation=activation,
        clock=clock,
        secrets=secrets,
        throttle=throttle,
        flows=ports.flows,
    )
    sessions = Sessions(
        accounts=accounts,
        gate=ports.login_gate,
        sessions=ports.sessions,
        hasher=ports.hasher,
        signer=ports.signer,
        clock=clock,
        secrets=secrets,
        links=links,
        throttle=throttle,
        tickets=tickets,
        devices=DeviceTrust(sealer=ports.sealer, clock=clock, secrets=secrets),
        ending=ending,
        second_step=SecondStepGate(tickets=tickets, factors=ports.factors),
        new_device=NewDeviceNotices(
            accounts=accounts, sessions=ports.sessions, mailer=ports.mailer, tasks=ports.tasks, links=links
        ),
    )
    relying_party = RelyingParty(links.base_url)
    verifier = Verifier(
        factors=ports.factors,
        sealer=ports.sealer,
        throttle=throttle,
        clock=clock,
        tickets=ports.tickets,
        rp=relying_party,
    )
    reauthentication = Reauthentication(
        accounts=accounts,
        factors=ports.factors,
        sessions=ports.sessions,
        hasher=ports.hasher,
        verifier=verifier,
        rp=relying_party,
        clock=clock,
    )
    passwords = Passwords(
        accounts=accounts,
        sessions=ports.sessions,
        challenges=challenges,
        hasher=ports.hasher,
        mailer=ports.mailer,
        tasks=ports.tasks,
        clock=clock,
        links=links,
        ending=ending,
    )
    recovery = GsisRecovery(
        signin=signin,
        flows=ports.flows,
        accounts=accounts,
        tickets=tickets,
        passwords=passwords,
        clock=clock,
        links=links,
    )
    certification = Certification(
        signin=signin, accounts=accounts, tickets=tickets, sessions=sessions, clock=clock, links=links
    )
    support = Support(
        helpdesk=ports.helpdesk,
        sealer=ports.sealer,
        secrets=secrets,
        clock=clock,
        mailer=ports.mailer,
        tasks=ports.tasks,
    )
    expiry = Expiry(
        accounts=accounts,
        audit=ports.audit,
        tasks=ports.tasks,
        mailer=ports.mailer,
        clock=clock,
        links=links,
        ending=ending,
    )
    registrar = Registrar(
        accounts=accounts,
        registry=ports.registry,
        passwords=passwords,
        audit=ports.audit,
        clock=clock,
        secrets=secrets,
        ending=ending,
    )
    jobs = Jobs(
        jobs=ports.jobs,
        files=ports.files,
        tasks=ports.tasks,
        clock=clock,
        secrets=secrets,
        provisioning=Provisioning(
            registrar=registrar, accounts=accounts, audit=ports.audit, tasks=ports.tasks, clock=clock
        ),
        renewal=Renewal(accounts=accounts, clock=clock),
        audit=ports.audit,
    )
    eulogin_signin = EuLoginSignIn(
        flows=ports.flows, provider=ports.eulogin, accounts=accounts, clock=clock, secrets=secrets
    )
    esep_validation = EsepValidation(
        esep=ports.esep, accounts=accounts, audit=ports.audit, tasks=ports.tasks, mailer=ports.mailer, clock=clock
    )
    esep_projects = EsepProjects(
        esep=ports.esep,
        accounts=accounts,
        hasher=ports.hasher,
        files=ports.files,
        tasks=ports.tasks,
        mailer=ports.mailer,
        clock=clock,
        secrets=secrets,
        links=links,
    )
    oidc = _oidc(ports, links, ending)
    admin_accounts = AccountAdministration(
        accounts=accounts,
        registry=ports.registry,
        sessions=ports.sessions,
        ending=ending,
        audit_log=ports.audit,
        audit_search=ports.audit_search,
        passwords=passwords,
        activation=activation,
        challenges=challenges,
        throttle=throttle,
        mailer=ports.mailer,
        tasks=ports.tasks,
        clock=clock,
        links=links,
        factors=ports.factors,
    )
    helpdesk = Helpdesk(
        tickets=ports.helpdesk, sealer=ports.sealer, mailer=ports.mailer, tasks=ports.tasks, clock=clock
    )
    email_change = EmailChange(
        accounts=accounts,
        challenges=challenges,
        reauthentication=reauthentication,
        ending=ending,
        throttle=throttle,
        audit=ports.audit,
        mailer=ports.mailer,
        tasks=ports.tasks,
        clock=clock,
        links=links,
    )
    account_deletion = AccountDeletion(
        accounts=accounts,
        personal_data=ports.personal_data,
        reauthentication=reauthentication,
        tasks=ports.tasks,
        mailer=ports.mailer,
        clock=clock,
        links=links,
    )
    runner = TaskRunner(
        {
            email_change_tasks.SEND: email_change.deliver,
            email_change_tasks.APPLIED: email_change.deliver_applied,
            deletion_tasks.NOTICE_MAIL: account_deletion.deliver_notice,
            BACKCHANNEL_LOGOUT: oidc.backchannel.deliver,
            admin_account_tasks.ADMIN_RESET_MAIL: admin_accounts.deliver_password_reset,
            helpdesk_tasks.REPLY_MAIL: helpdesk.deliver_reply,
            esep_validation_tasks.DECISION_MAIL: esep_validation.deliver_decision,
            esep_project_tasks.INVITATION_MAIL: esep_projects.deliver_invitation,
            esep_project_tasks.ANSWER_MAIL: esep_projects.deliver_answer,
            activation_tasks.SEND: activation.deliver,
            activation_tasks.RESEND: activation.deliver_resend,
            password_tasks.RESET_MAIL: passwords.deliver_reset,
            password_tasks.SETUP_MAIL: passwords.deliver_setup,
            password_tasks.CHANGED_MAIL: passwords.deliver_changed,
            support_tasks.NOTIFY: support.notify,
            support_tasks.ACKNOWLEDGE: support.acknowledge,
            expiry_tasks.WARNING_MAIL: expiry.deliver_warning,
            job_tasks.RUN: jobs.run_task,
            mfa_tasks.CHANGED_MAIL: FactorNotices(accounts=accounts, mailer=ports.mailer, links=links).deliver,
            new_device_tasks.NEW_DEVICE_MAIL: sessions.new_device.deliver,
        }
    )
    return Flows(
        links=links,
        gsis_signin=signin,
        registration=registration,
        activation=activation,
        challenges=challenges,
        sessions=sessions,
        throttle=throttle,
        passwords=passwords,
        recovery=recovery,
        certification=certification,
        flow_views=FlowViews(signin=signin, accounts=accounts, recovery=recovery, certification=certification),
        support=support,
        legacy=LegacyImport(accounts=accounts, clock=clock, secrets=secrets),
        expiry=expiry,
        registrar=registrar,
        jobs=jobs,
        tasks=runner,
        eulogin_signin=eulogin_signin,
        esep_registration=EsepRegistration(
            signin=eulogin_signin,
            flows=ports.flows,
            esep=ports.esep,
            sessions=sessions,
            audit=ports.audit,
            clock=clock,
            secrets=secrets,
        ),
        esep_network=EsepNetwork(esep=ports.esep, clock=clock, secrets=secrets),
        esep_validation=esep_validation,
        esep_projects=esep_projects,
        esep_legacy=EsepLegacyImport(esep=ports.esep, accounts=accounts, clock=clock),
        session_ending=ending,
        roles=RoleGrants(accounts=accounts, audit=ports.audit, clock=clock, ending=ending),
        oidc=oidc,
        mfa_enrolment=Enrolment(
            accounts=accounts,
            factors=ports.factors,
            sessions=ports.sessions,
            verifier=verifier,
            reauthentication=reauthentication,
            rp=relying_party,
            tasks=ports.tasks,
            clock=clock,
            secrets=secrets,
        ),
        mfa_sign_in=SecondFactorSignIn(
            sessions=sessions,
            accounts=accounts,
            factors=ports.factors,
            tickets=tickets,
            verifier=verifier,
            rp=relying_party,
            devices=sessions.devices,
            clock=clock,
        ),
        reauthentication=reauthentication,
        admin_accounts=admin_accounts,
        admin_directory=AccountFinder(directory=ports.directory, accounts=accounts, sealer=ports.sealer),
        admin_audit=AuditLogReader(search=ports.audit_search, accounts=accounts, sealer=ports.sealer),
        helpdesk=helpdesk,
        email_change=email_change,
        account_sessions=AccountSessions(
            sessions=ports.sessions, clients=ports.oidc_clients, ending=ending, clock=clock
        ),
        account_applications=AccountApplications(
            consents=ports.consents,
            clients=ports.oidc_clients,
            grants=ports.oidc_grants,
            sessions=ports.sessions,
            tasks=ports.tasks,
            clock=clock,
        ),
        password_change=PasswordChange(
            accounts=accounts,
            passwords=passwords,
            reauthentication=reauthentication,
            throttle=throttle,
            hasher=ports.hasher,
            ending=ending,
            tasks=ports.tasks,
            clock=clock,
        ),
        data_export=DataExport(
            accounts=accounts,
            factors=ports.factors,
            sessions=ports.sessions,
            consents=ports.consents,
            audit=ports.audit,
            helpdesk=ports.helpdesk,
            esep=ports.esep,
            reauthentication=reauthentication,
            clock=clock,
        ),
        account_deletion=account_deletion,
        deletion_sweep=DeletionSweep(accounts=accounts, personal_data=ports.personal_data, ending=ending, clock=clock),
    )


def _oidc(ports: Ports, links: Links, ending: SessionEnding) -> OidcProvider:
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
