"""Work outside a request: the daily audit digest to the Object Lock bucket, and the roles of the scheduled
jobs Chalice packages (chalicelib/api/jobs.py), each its own, made from its grant (infra/job_grants.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .config import InfraConfig, RegionConfig
from .data import Data, log_retention
from .job_grants import JOB_GRANTS, JobGrant

if TYPE_CHECKING:
    from .api import Api

FUNCTIONS_DIR = Path(__file__).with_name("functions")


class AuditDigestJob(Construct):
    def __init__(self, scope: Construct, cid: str, *, config: InfraConfig, region: RegionConfig,
                 data: Data) -> None:
        super().__init__(scope, cid)
        stack = Stack.of(self)
        self.function_name = f"{config.app_name}-{region.stage}-audit-digest"
        self.dead_letters = sqs.Queue(
            self, "DeadLetters", encryption=sqs.QueueEncryption.KMS, encryption_master_key=data.key,
            enforce_ssl=True, retention_period=Duration.days(14), removal_policy=RemovalPolicy.RETAIN)
        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=f"/aws/lambda/{self.function_name}", encryption_key=data.key,
            retention=log_retention(config.log_retention_days), removal_policy=RemovalPolicy.RETAIN)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description="audit digest job: read audit heads, write Object Lock digests")
        policy = iam.ManagedPolicy(self, "Policy", roles=[self.role], statements=[
            iam.PolicyStatement(sid="Logs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                resources=[self.log_group.log_group_arn]),
            iam.PolicyStatement(sid="ReadAuditHeads", actions=["dynamodb:Scan"],
                                resources=[data.main_table.table_arn]),
            iam.PolicyStatement(sid="WriteDigests", actions=["s3:PutObject"],
                                resources=[data.audit_digest_bucket.arn_for_objects("digests/*")]),
            iam.PolicyStatement(sid="DeadLetters", actions=["sqs:SendMessage"],
                                resources=[self.dead_letters.queue_arn]),
            iam.PolicyStatement(sid="DataKeyThroughServices",
                                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                                resources=[data.key.key_arn],
                                conditions={"StringEquals": {"kms:ViaService": [
                                    f"dynamodb.{stack.region}.amazonaws.com", f"s3.{stack.region}.amazonaws.com",
                                    f"sqs.{stack.region}.amazonaws.com"]}}),
        ])
        # Every permission is in the managed policy above: CDK's grants would add an inline policy.
        self.function = lambda_.Function(
            self, "Function", function_name=self.function_name,
            runtime=lambda_.Runtime(config.lambda_runtime, lambda_.RuntimeFamily.PYTHON),
            handler="audit_digest.handler",
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR), exclude=["__pycache__", "*.pyc", "__init__.py"]),
            role=self.role.without_policy_updates(), timeout=Duration.minutes(5), memory_size=256,
            log_group=self.log_group,
            reserved_concurrent_executions=1,  # one digest run at a time; never starves the API
            dead_letter_queue=self.dead_letters, retry_attempts=2,
            environment={"HCO_MAIN_TABLE": data.main_table.table_name,
                         "HCO_AUDIT_DIGEST_BUCKET": data.audit_digest_bucket.bucket_name,
                         "HCO_STAGE": region.stage})
        self.function.node.add_dependency(policy)
        events.Rule(self, "Daily", schedule=events.Schedule.cron(minute="15", hour="0"),
                    targets=[targets.LambdaFunction(self.function, retry_attempts=2,
                                                    dead_letter_queue=self.dead_letters)])


class ScheduledJobs(Construct):
    """Each scheduled job (and the Chime meeting events handler) runs under a role of its own, never the
    API's: the DynamoDB actions its code makes on the main table, limited by `dynamodb:LeadingKeys` to the
    partitions it touches (tenants' own and its job index), the table key through the services it calls,
    its log group, and the outside services it needs (SMS and email from the reminder sender, the
    escalation topic, the pseudonym key, the link-signing key, Chime meetings). tests/api/test_job_grants.py
    runs every job on moto and checks its calls stay inside its grant."""

    def __init__(self, scope: Construct, cid: str, *, config: InfraConfig, region: RegionConfig, data: Data,
                 api: Api) -> None:
        super().__init__(scope, cid)
        self.roles: dict[str, iam.Role] = {}
        self.function_names: dict[str, str] = {}
        for job, grant in JOB_GRANTS.items():
            name = f"{config.app_name}-{region.stage}-{job}"
            log_group = logs.LogGroup(
                self, f"{grant.function}Logs", log_group_name=f"/aws/lambda/{name}", encryption_key=data.key,
                retention=log_retention(config.log_retention_days), removal_policy=RemovalPolicy.RETAIN)
            role = iam.Role(self, f"{grant.function}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                            description=grant.description)
            policy = iam.ManagedPolicy(self, f"{grant.function}Policy", roles=[role],
                                       statements=job_statements(config, region, data, api, log_group, grant))
            function = api.chalice.get_resource(grant.function)
            function.add_property_override("Role", role.role_arn)
            function.add_property_override("FunctionName", name)
            for variable, value in job_environment(config, region, data, api, grant).items():
                function.add_property_override(f"Environment.Variables.{variable}", value)
            function.node.add_dependency(log_group)
            function.node.add_dependency(policy)
            self.roles[job], self.function_names[job] = role, name


def job_environment(config: InfraConfig, region: RegionConfig, data: Data, api: Api,
                    grant: JobGrant) -> dict[str, str]:
    env = {}
    if grant.sms or grant.email:
        env["HCO_REMINDER_FROM"] = config.reminder_sender
    if grant.escalations:
        env["HCO_ESCALATION_TOPIC_ARN"] = api.escalations.topic_arn
    if grant.pseudonym_key:  # the key itself is read from Secrets Manager at first use
        env["HCO_PSEUDONYM_KEY_SECRET_ARN"] = data.pseudonym_secret.secret_arn
    if grant.reminder_links:  # links point at the region's patient app and are signed with the link key
        env["HCO_LINK_BASE_URL"] = region.link_base_url
        env["HCO_LINK_SIGNING_KEY_SECRET_ARN"] = data.link_signing_secret.secret_arn
    return env


def job_statements(config: InfraConfig, region: RegionConfig, data: Data, api: Api, log_group: logs.LogGroup,
                   grant: JobGrant) -> list[iam.PolicyStatement]:
    stack, main = Stack.of(api), data.main_table
    statements = [
        iam.PolicyStatement(sid="Logs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                            resources=[log_group.log_group_arn]),
        # Every item of a transaction or a batch is authorized on its own partition key.
        iam.PolicyStatement(sid="MainTable", actions=list(grant.table_actions), resources=[main.table_arn],
                            conditions={"ForAllValues:StringLike": {
                                "dynamodb:LeadingKeys": list(grant.leading_keys)}}),
    ]
    if grant.indexes:
        statements.append(iam.PolicyStatement(
            sid="MainTableIndexes", actions=list(grant.index_actions),
            resources=[f"{main.table_arn}/index/{index}" for index in grant.indexes]))
    services = [f"dynamodb.{stack.region}.amazonaws.com"]
    if grant.sms:
        # A phone number has no ARN: everything but a topic (SMS only; topics are never published to here).
        statements.append(iam.PolicyStatement(sid="SmsToPatients", actions=["sns:Publish"],
                                              not_resources=[f"arn:{stack.partition}:sns:*:*:*"]))
    if grant.email:
        domain = config.reminder_sender.split("@", 1)[1]
        statements.append(iam.PolicyStatement(
            sid="EmailFromTheReminderSender", actions=["ses:SendEmail"],
            resources=[stack.format_arn(service="ses", resource="identity", resource_name=domain),
                       stack.format_arn(service="ses", resource="identity", resource_name=config.reminder_sender)],
            conditions={"StringEquals": {"ses:FromAddress": config.reminder_sender}}))
    if grant.escalations:
        statements.append(iam.PolicyStatement(sid="CrisisEscalations", actions=["sns:Publish"],
                                              resources=[api.escalations.topic_arn]))
        services.append(f"sns.{stack.region}.amazonaws.com")
    if grant.pseudonym_key:
        statements.append(iam.PolicyStatement(sid="PseudonymKey", actions=["secretsmanager:GetSecretValue"],
                                              resources=[data.pseudonym_secret.secret_arn]))
    if grant.reminder_links:
        statements.append(iam.PolicyStatement(sid="LinkSigningKey", actions=["secretsmanager:GetSecretValue"],
                                              resources=[data.link_signing_secret.secret_arn]))
    if grant.pseudonym_key or grant.reminder_links:
        services.append(f"secretsmanager.{stack.region}.amazonaws.com")
    if grant.video_meetings:
        statements.append(iam.PolicyStatement(sid="EndVideoMeetings", actions=["chime:DeleteMeeting"], resources=[
            stack.format_arn(service="chime", region=region.chime_control_region, resource="meeting",
                             resource_name="*")]))
    # The table (and the topic, the secret) are encrypted with the stack's key: only through those services.
    statements.append(iam.PolicyStatement(sid="DataKeyThroughServices",
                                          actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                                          resources=[data.key.key_arn],
                                          conditions={"StringEquals": {"kms:ViaService": services}}))
    return statements
