"""Every deployed stage's settings, in one place.

A stage is one CloudFormation stack (``Mitroo-<stage>``) with its own tables, queue,
bucket, secrets and API. Values here are not secret: secrets are created empty by the
stack and filled in by an operator (README, "Operations").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    public_url: str
    """Base of every link and redirect URI (the API's custom domain)."""
    mail_domain: str
    """The SES sending domain (verified with DKIM records the stack outputs)."""
    mail_sender: str
    gsis_base_url: str
    gsis_client_id: str
    eulogin_issuer: str
    eulogin_client_id: str
    mail_rate_per_second: int
    """The SES account's maximum send rate in this region."""
    alarm_email: str | None
    """Where alarms are mailed (an SNS subscription), if anywhere."""
    worker_concurrency: int = 2
    """Reserved concurrency of the task worker: together with the mail pacing it keeps
    bulk welcome mail within the SES rate."""
    log_retention_days: int = 90

    @property
    def stack_name(self) -> str:
        return f"Mitroo-{self.name}"

    @property
    def prefix(self) -> str:
        return f"mitroo-{self.name}"


STAGES: dict[str, Stage] = {
    "staging": Stage(
        name="staging",
        public_url="https://staging.mitroo.example",
        mail_domain="staging.mitroo.example",
        mail_sender="no-reply@staging.mitroo.example",
        gsis_base_url="https://test.gsis.gr/oauth2server",
        gsis_client_id="mitroo-staging",
        eulogin_issuer="https://ecas.acceptance.ec.europa.eu/cas/oauth2",
        eulogin_client_id="mitroo-staging",
        mail_rate_per_second=1,
        alarm_email=None,
    ),
    "prod": Stage(
        name="prod",
        public_url="https://mitroo.example",
        mail_domain="mitroo.example",
        mail_sender="no-reply@mitroo.example",
        gsis_base_url="https://oauth2.gsis.gr/oauth2server",
        gsis_client_id="mitroo",
        eulogin_issuer="https://ecas.ec.europa.eu/cas/oauth2",
        eulogin_client_id="mitroo",
        mail_rate_per_second=14,
        alarm_email="ops@mitroo.example",
        worker_concurrency=4,
        log_retention_days=365,
    ),
}
