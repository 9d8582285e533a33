"""Assembling the flows from their ports: one place, for production and for tests.

``chalicelib.container`` fills :class:`Ports` with real adapters; the unit tests fill it
with in-memory fakes. Both get exactly the same flow objects, wired the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.flows.activation import RESEND, SEND, Activation
from chalicelib.flows.challenges import Challenges
from chalicelib.flows.gsis_signin import GsisSignIn
from chalicelib.flows.links import Links
from chalicelib.flows.registration import GsisRegistration
from chalicelib.flows.sessions import Sessions
from chalicelib.flows.tasks import TaskRunner
from chalicelib.flows.throttling import Throttle
from chalicelib.ports import (
    AccountRepository,
    ChallengeRepository,
    Clock,
    Counters,
    FlowRepository,
    GsisProvider,
    Mailer,
    PasswordHasher,
    SecretSource,
    SessionRepository,
    TaskQueue,
    TokenSigner,
)


@dataclass(frozen=True)
class Ports:
    """Everything the flows need from the outside world."""

    clock: Clock
    secrets: SecretSource
    hasher: PasswordHasher
    accounts: AccountRepository
    flows: FlowRepository
    challenges: ChallengeRepository
    sessions: SessionRepository
    counters: Counters
    mailer: Mailer
    tasks: TaskQueue
    gsis: GsisProvider
    signer: TokenSigner


@dataclass(frozen=True)
class Flows:
    links: Links
    gsis_signin: GsisSignIn
    registration: GsisRegistration
    activation: Activation
    challenges: Challenges
    sessions: Sessions
    throttle: Throttle
    tasks: TaskRunner


def assemble(ports: Ports, links: Links) -> Flows:
    clock, secrets = ports.clock, ports.secrets
    throttle = Throttle(counters=ports.counters, clock=clock)
    signin = GsisSignIn(flows=ports.flows, accounts=ports.accounts, provider=ports.gsis, clock=clock, secrets=secrets)
    challenges = Challenges(repository=ports.challenges, clock=clock, secrets=secrets)
    activation = Activation(
        accounts=ports.accounts, challenges=challenges, mailer=ports.mailer, clock=clock, links=links, tasks=ports.tasks
    )
    registration = GsisRegistration(
        signin=signin, accounts=ports.accounts, hasher=ports.hasher, activation=activation, clock=clock, secrets=secrets
    )
    sessions = Sessions(
        accounts=ports.accounts,
        sessions=ports.sessions,
        hasher=ports.hasher,
        signer=ports.signer,
        clock=clock,
        secrets=secrets,
        links=links,
        throttle=throttle,
    )
    runner = TaskRunner({SEND: activation.deliver, RESEND: activation.deliver_resend})
    return Flows(
        links=links,
        gsis_signin=signin,
        registration=registration,
        activation=activation,
        challenges=challenges,
        sessions=sessions,
        throttle=throttle,
        tasks=runner,
    )
