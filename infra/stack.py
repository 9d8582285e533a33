"""One stage of Mitroo: the Chalice API and functions, and everything they use.

Tables come from the same definitions the app and the tests use
(``chalicelib/adapters/dynamodb/schema.py``). The functions run under one role that
may do exactly what the code does: item reads and writes on the two tables (never a
scan, never ``dynamodb:*``), the task queue's send/receive, mail through the stage's
identity and configuration set, the upload bucket's ``jobs/`` and ``projects/`` prefixes, and the three
secrets. The task worker is fed by an SQS event source mapping declared here (the app
needs no queue name at import); the daily expiry schedule is the app's own
``@app.schedule``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.adapters.dynamodb.schema import IDEMPOTENCY_TABLE, MAIN_TABLE, TableSpec
from infra.deployment_package import check, package
from infra.stages import Stage

ROOT = Path(__file__).resolve().parent.parent

API_FUNCTION = "APIHandler"
WORKER_FUNCTION = "RunTasks"
EXPIRY_FUNCTION = "ExpireAccounts"
SESSION_SWEEP_FUNCTION = "EndExpiredSessions"
FUNCTIONS = (API_FUNCTION, WORKER_FUNCTION, EXPIRY_FUNCTION, SESSION_SWEEP_FUNCTION)

WORKER_TIMEOUT = Duration.minutes(5)
"""Long enough for a job slice (``Jobs.slice_seconds`` = 240 s) and a batch of mail."""

ITEM_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
]
"""What the repositories do (transactions need the item actions they contain)."""


TASK_MAX_RECEIVES = 5
"""Deliveries of a task before SQS dead-letters it; the worker is told the same number
(``MITROO_TASK_MAX_RECEIVES``) so it can count a back-channel logout that gave up."""


class PrunedChalice(Chalice):
    """Chalice's construct, packaging a clean snapshot of the sources one packager at a
    time, with botocore's unused service models removed (:func:`infra.deployment_package.package`),
    and refusing to synthesize a package Lambda could not run (:func:`infra.deployment_package.check`:
    a library Chalice left out, a compiled part needing a newer glibc)."""

    def _package_app(self) -> None:
        check(package(Path(self._sam_package_dir), stage=self.stage_name, chalice_config=self.stage_config))


class MitrooStack(Stack):
    def __init__(self, scope: Construct, stage: Stage, **kwargs: Any) -> None:
        super().__init__(scope, stage.stack_name, **kwargs)
        self.stage = stage

        self.main_table = self._table(MAIN_TABLE, f"{stage.prefix}-main", protect=True)
        self.idempotency_table = self._table(IDEMPOTENCY_TABLE, f"{stage.prefix}-idempotency", protect=False)

        self.dead_letters = sqs.Queue(
            self,
            "TaskDeadLetters",
            queue_name=f"{stage.prefix}-tasks-dlq",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.tasks = sqs.Queue(
            self,
            "Tasks",
            queue_name=f"{stage.prefix}-tasks",
            visibility_timeout=Duration.minutes(15),
            retention_period=Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=TASK_MAX_RECEIVES, queue=self.dead_letters),
        )

        self.uploads = s3.Bucket(
            self,
            "Uploads",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                # Sheets and reports hold personal data: kept as long as their job (90 days).
                s3.LifecycleRule(prefix="jobs/", expiration=Duration.days(90)),
                s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.PUT],
                    allowed_origins=[stage.public_url],
                    allowed_headers=["content-type"],
                    max_age=3600,
                )
            ],
        )

        self.mail_configuration = ses.ConfigurationSet(
            self,
            "MailConfiguration",
            configuration_set_name=f"{stage.prefix}-mail",
            reputation_metrics=True,
            sending_enabled=True,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        self.mail_identity = ses.EmailIdentity(
            self,
            "MailDomain",
            identity=ses.Identity.domain(stage.mail_domain),
            configuration_set=self.mail_configuration,
        )

        self.secrets = {
            "jwt": self._secret("JwtPrivateKey", "jwt-private-key", "PEM of the RSA key that signs access tokens"),
            "gsis": self._secret("GsisClientSecret", "gsis-client-secret", "Client secret KE.D issued for GSIS"),
            "eulogin": self._secret("EuLoginClientSecret", "eulogin-client-secret", "EU Login client secret"),
        }

        self.role = self._role()
        self.chalice = PrunedChalice(self, "App", source_dir=str(ROOT), stage_config=self._stage_config())
        self._tune_functions()
        self._wire_worker()
        self._log_groups()
        self.alarm_topic = self._alarms()

        CfnOutput(self, "TaskQueueUrl", value=self.tasks.queue_url)
        CfnOutput(self, "UploadBucket", value=self.uploads.bucket_name)
        for number in (1, 2, 3):
            CfnOutput(
                self,
                f"DkimRecord{number}",
                value=getattr(self.mail_identity, f"dkim_dns_token_name{number}")
                + " CNAME "
                + getattr(self.mail_identity, f"dkim_dns_token_value{number}"),
                description="Publish in the sending domain's DNS (SES DKIM)",
            )

    # -- data ---------------------------------------------------------------------------------

    def _table(self, spec: TableSpec, name: str, *, protect: bool) -> dynamodb.Table:
        string = dynamodb.AttributeType.STRING
        table = dynamodb.Table(
            self,
            f"{spec.logical_name.title()}Table",
            table_name=name,
            partition_key=dynamodb.Attribute(name=spec.partition_key, type=string),
            sort_key=dynamodb.Attribute(name=spec.sort_key, type=string) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=spec.ttl_attribute,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=protect,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.RETAIN if protect else RemovalPolicy.DESTROY,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=dynamodb.Attribute(name=index.partition_key, type=string),
                sort_key=dynamodb.Attribute(name=index.sort_key, type=string),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    def _secret(self, construct_id: str, name: str, description: str) -> secretsmanager.Secret:
        # Created with a random placeholder; an operator puts the real value (README).
        return secretsmanager.Secret(
            self,
            construct_id,
            secret_name=f"{self.stage.prefix}/{name}",
            description=f"{description} ({self.stage.name}); set by an operator",
            removal_policy=RemovalPolicy.RETAIN,
        )

    # -- permissions --------------------------------------------------------------------------

    def _role(self) -> iam.Role:
        role = iam.Role(
            self,
            "FunctionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Mitroo functions: exactly what the code does",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaBasicExecutionRole")
            ],
        )
        tables = [self.main_table.table_arn, self.idempotency_table.table_arn]
        role.add_to_policy(
            iam.PolicyStatement(actions=ITEM_ACTIONS, resources=[*tables, f"{self.main_table.table_arn}/index/*"])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "sqs:SendMessage",
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                ],
                resources=[self.tasks.queue_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[
                    self.mail_identity.email_identity_arn,
                    self.format_arn(
                        service="ses",
                        resource="configuration-set",
                        resource_name=self.mail_configuration.configuration_set_name,
                    ),
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"],
                # Spreadsheets and reports of jobs; images of eTwinning projects.
                resources=[self.uploads.arn_for_objects("jobs/*"), self.uploads.arn_for_objects("projects/*")],
            )
        )
        role.add_to_policy(
            # Without ListBucket a missing object answers 403, not 404 (presigned uploads).
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self.uploads.bucket_arn],
                conditions={"StringLike": {"s3:prefix": ["jobs/*"]}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                resources=[secret.secret_arn for secret in self.secrets.values()],
            )
        )
        role.add_to_policy(
            # X-Ray accepts no narrower resource for these two actions.
            iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
        )
        return role

    # -- the app ------------------------------------------------------------------------------

    def function_environment(self) -> dict[str, str]:
        """Every variable the functions need (``chalicelib/settings.py`` reads them)."""
        stage = self.stage
        return {
            "MITROO_ENV": "deployed",
            "MITROO_PUBLIC_URL": stage.public_url,
            "MITROO_TABLE_NAME": self.main_table.table_name,
            "MITROO_IDEMPOTENCY_TABLE_NAME": self.idempotency_table.table_name,
            "MITROO_TASK_QUEUE_NAME": self.tasks.queue_name,
            "MITROO_TASK_MAX_RECEIVES": str(TASK_MAX_RECEIVES),
            "MITROO_UPLOAD_BUCKET": self.uploads.bucket_name,
            "MITROO_MAIL_SENDER": stage.mail_sender,
            "MITROO_SES_CONFIGURATION_SET": self.mail_configuration.configuration_set_name,
            "MITROO_MAIL_RATE_PER_SECOND": str(stage.mail_rate_per_second),
            "MITROO_GSIS_BASE_URL": stage.gsis_base_url,
            "MITROO_GSIS_CLIENT_ID": stage.gsis_client_id,
            "MITROO_GSIS_CLIENT_SECRET_NAME": self.secrets["gsis"].secret_name,
            "MITROO_EULOGIN_ISSUER": stage.eulogin_issuer,
            "MITROO_EULOGIN_CLIENT_ID": stage.eulogin_client_id,
            "MITROO_EULOGIN_CLIENT_SECRET_NAME": self.secrets["eulogin"].secret_name,
            "MITROO_JWT_PRIVATE_KEY_SECRET": self.secrets["jwt"].secret_name,
            "POWERTOOLS_SERVICE_NAME": "mitroo",
            "POWERTOOLS_METRICS_NAMESPACE": "Mitroo",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }

    def _stage_config(self) -> dict[str, Any]:
        return {
            "api_gateway_stage": "api",
            "manage_iam_role": False,
            "iam_role_arn": self.role.role_arn,
            "environment_variables": self.function_environment(),
            "lambda_memory_size": 512,
            "lambda_timeout": 29,
            "xray": True,
            "tags": {"app": "mitroo", "stage": self.stage.name},
        }

    def _tune_functions(self) -> None:
        """Per-function settings. Chalice reads those only from a stage in
        ``.chalice/config.json``, and CDK stages are not there, so they are set on the
        packaged template instead."""
        worker = self.chalice.get_resource(WORKER_FUNCTION)
        worker.add_property_override("Timeout", int(WORKER_TIMEOUT.to_seconds()))
        worker.add_property_override("ReservedConcurrentExecutions", self.stage.worker_concurrency)
        self.chalice.get_resource(EXPIRY_FUNCTION).add_property_override("Timeout", 900)

    def _wire_worker(self) -> None:
        lambda_.EventSourceMapping(
            self,
            "TaskEvents",
            target=self.chalice.get_function(WORKER_FUNCTION),
            event_source_arn=self.tasks.queue_arn,
            batch_size=10,
            report_batch_item_failures=True,
        )

    def _log_groups(self) -> None:
        for function in FUNCTIONS:
            logs.LogGroup(
                self,
                f"{function}Logs",
                log_group_name=f"/aws/lambda/{self.chalice.get_resource(function).ref}",
                retention=_retention(self.stage.log_retention_days),
                removal_policy=RemovalPolicy.RETAIN,
            )

    # -- alarms -------------------------------------------------------------------------------

    def _alarms(self) -> sns.Topic:
        topic = sns.Topic(self, "Alarms", display_name=f"Mitroo {self.stage.name} alarms")
        if self.stage.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(self.stage.alarm_email))
        action = cloudwatch_actions.SnsAction(topic)
        five_minutes = Duration.minutes(5)

        def alarm(construct_id: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> None:
            created = cloudwatch.Alarm(
                self,
                construct_id,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
            created.add_alarm_action(action)

        api_name = f"{self.stage.prefix}-api"
        self.chalice.get_resource("RestAPI").add_property_override("Name", api_name)
        alarm(
            "Api5xxRate",
            cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name="5XXError",
                dimensions_map={"ApiName": api_name, "Stage": "api"},
                statistic="Average",
                period=five_minutes,
            ),
            0.02,
            "More than 2 % of API requests answered 5xx in five minutes",
        )
        for function in FUNCTIONS:
            name = self.chalice.get_resource(function).ref
            alarm(
                f"{function}Throttles",
                cloudwatch.Metric(
                    namespace="AWS/Lambda",
                    metric_name="Throttles",
                    dimensions_map={"FunctionName": name},
                    statistic="Sum",
                    period=five_minutes,
                ),
                1,
                f"{function} was throttled",
            )
        alarm(
            "ExpiryErrors",
            cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="Errors",
                dimensions_map={"FunctionName": self.chalice.get_resource(EXPIRY_FUNCTION).ref},
                statistic="Sum",
                period=Duration.hours(1),
            ),
            1,
            "The daily expiry job failed",
        )
        alarm(
            "DeadLetters",
            self.dead_letters.metric_approximate_number_of_messages_visible(period=five_minutes, statistic="Maximum"),
            1,
            "Tasks (mail, jobs) failed five times and wait in the dead-letter queue",
        )
        alarm(
            "SessionSweepErrors",
            cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="Errors",
                dimensions_map={"FunctionName": self.chalice.get_resource(SESSION_SWEEP_FUNCTION).ref},
                statistic="Sum",
                period=Duration.hours(1),
            ),
            1,
            "The sweep of sessions that ran out failed (their applications are not told)",
        )
        alarm(
            "BackchannelLogoutDeadLetters",
            cloudwatch.Metric(
                namespace="Mitroo",
                metric_name="BackchannelLogoutDeadLettered",
                dimensions_map={"service": "mitroo"},
                statistic="Sum",
                period=five_minutes,
            ),
            1,
            "A back-channel logout failed its last delivery: an application was not told that a session ended",
        )
        alarm(
            "MailBounceRate",
            cloudwatch.Metric(
                namespace="AWS/SES", metric_name="Reputation.BounceRate", statistic="Maximum", period=Duration.hours(1)
            ),
            0.05,
            "SES bounce rate at 5 % (SES reviews accounts at 5 % and may pause sending at 10 %)",
        )
        return topic


_RETENTIONS = (
    (30, logs.RetentionDays.ONE_MONTH),
    (90, logs.RetentionDays.THREE_MONTHS),
    (180, logs.RetentionDays.SIX_MONTHS),
    (365, logs.RetentionDays.ONE_YEAR),
    (731, logs.RetentionDays.TWO_YEARS),
)


def _retention(days: int) -> logs.RetentionDays:
    """The shortest CloudWatch Logs retention that keeps ``days`` (two years at most)."""
    return next((retention for limit, retention in _RETENTIONS if limit >= days), logs.RetentionDays.TWO_YEARS)
