"""Work outside a request that the stack owns: the daily audit digest to the Object Lock bucket."""

from __future__ import annotations

from pathlib import Path

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
