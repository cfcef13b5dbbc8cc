"""One self-contained stack per region: nothing in it refers to another region's resources."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Environment, Stack, Tags
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from constructs import Construct

from .api import Api
from .config import InfraConfig, RegionConfig
from .data import Data
from .identity import Identity
from .jobs import AuditDigestJob, ScheduledJobs
from .monitoring import Monitoring


class RegionStack(Stack):
    def __init__(self, scope: Construct, *, config: InfraConfig, region: RegionConfig, source_dir: str,
                 workdir: Path) -> None:
        # The construct id is the Chalice stage: chalice.cdk packages the stage named after its scope.
        super().__init__(scope, region.stage, stack_name=region.stack_name,
                         env=Environment(region=region.region),
                         termination_protection=True,
                         description=f"Hybrid Care Orchestrator {region.stage} (residency {region.residency})")
        Tags.of(self).add("app", "hybrid-care-orchestrator")
        Tags.of(self).add("stage", region.stage)
        self.data = Data(self, "Data", config=config, region=region)
        self.identity = Identity(self, "Identity", region=region)
        self.api = Api(self, "Api", config=config, region=region, data=self.data, identity=self.identity,
                       source_dir=source_dir, workdir=workdir)
        self.digest = AuditDigestJob(self, "AuditDigest", config=config, region=region, data=self.data)
        self.jobs = ScheduledJobs(self, "Jobs", config=config, region=region, data=self.data, api=self.api)
        self.monitoring = Monitoring(self, "Monitoring", config=config, region=region, data=self.data,
                                     api=self.api, digest=self.digest)
        self._gateway_logging_role()
        for name, value in {
            "UserPoolId": self.identity.user_pool.user_pool_id,
            "StaffClientId": self.identity.staff_client.user_pool_client_id,
            "PatientClientId": self.identity.patient_client.user_pool_client_id,
            "InsurerClientId": self.identity.insurer_client.user_pool_client_id,
            "MainTableName": self.data.main_table.table_name,
            "AuditDigestBucket": self.data.audit_digest_bucket.bucket_name,
            "PseudonymKeySecretArn": self.data.pseudonym_secret.secret_arn,
            "CursorKeySecretArn": self.data.cursor_secret.secret_arn,
            "LinkSigningKeySecretArn": self.data.link_signing_secret.secret_arn,
            "DataKeyArn": self.data.key.key_arn,
            "AlarmTopicArn": self.monitoring.topic.topic_arn,
            "ChimeControlRegion": region.chime_control_region,
            "ChimeMediaRegion": region.chime_media_region,
        }.items():
            CfnOutput(self, name, value=value)

    def _gateway_logging_role(self) -> None:
        """API Gateway writes access and execution logs through one role per account and region."""
        role = iam.Role(self, "ApiGatewayLogsRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
                        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                            "service-role/AmazonAPIGatewayPushToCloudWatchLogs")])
        account = apigateway.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        self.api.rest_api.node.add_dependency(account)
