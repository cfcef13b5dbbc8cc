"""cdk-nag (HIPAA Security + AWS Solutions) on every stack. cdk-nag 3 runs as CDK policy-validation
plugins: `app.synth()` raises on any finding that is not acknowledged here with a written reason,
and writes validation-report.json into the cloud assembly."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, App, Stack, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks
from constructs import IConstruct

from .config import RegionConfig


@dataclass(frozen=True)
class Suppression:
    path: str  # construct path inside the stack
    rule: str  # may name {control_region}
    reason: str


SUPPRESSIONS = (
    Suppression("Data/PseudonymKey/Resource", "AwsSolutions-SMG4",
                "The pseudonym key is an HMAC key baked into DynamoDB keys of payer rosters and eligibility "
                "caches: rotating it means re-keying those items, so it is rotated by the runbook procedure "
                "(infra/README.md), never by a scheduled Lambda."),
    Suppression("Data/PseudonymKey/Resource", "HIPAA.Security-SecretsManagerRotationEnabled",
                "Same as AwsSolutions-SMG4: rotation re-keys roster and cache items; runbook procedure."),
    Suppression("Data/CursorKey/Resource", "AwsSolutions-SMG4",
                "A random AES key with no rotation Lambda of its own (hosted rotation is for database "
                "credentials), and processes keep it in memory: a scheduled rotation would invalidate "
                "outstanding list cursors at a random hour. Rotated by the runbook procedure (infra/README.md)."),
    Suppression("Data/CursorKey/Resource", "HIPAA.Security-SecretsManagerRotationEnabled",
                "Same as AwsSolutions-SMG4: rotation invalidates outstanding cursors; runbook procedure."),
    Suppression("Data/LinkSigningKey/Resource", "AwsSolutions-SMG4",
                "A random HMAC key with no rotation Lambda of its own (hosted rotation is for database "
                "credentials), cached per process: a scheduled rotation would invalidate reminder links "
                "patients already hold. Rotated by the runbook procedure (infra/README.md)."),
    Suppression("Data/LinkSigningKey/Resource", "HIPAA.Security-SecretsManagerRotationEnabled",
                "Same as AwsSolutions-SMG4: rotation invalidates outstanding reminder links; runbook procedure."),
    Suppression("Data/AccessLogBucket/Resource", "HIPAA.Security-S3DefaultEncryptionKMS",
                "S3 server access log delivery cannot write to an SSE-KMS bucket; SSE-S3 is the only option "
                "for a log target. The logs hold request metadata of the digest bucket, no PHI."),
    Suppression("Data/AccessLogBucket/Resource", "HIPAA.Security-S3BucketReplicationEnabled",
                "Replication would copy data to a second region; each stack keeps its data in its own "
                "region (Canadian data stays in Canada). S3 stores objects across AZs in the region."),
    Suppression("Data/AuditDigestBucket/Resource", "HIPAA.Security-S3BucketReplicationEnabled",
                "Same residency reason; the digests are write-once (Object Lock compliance) in-region."),
    Suppression("Data/BackupPlan/Tables/Role/Resource",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSBackupServiceRolePolicyForBackup]",
                "AWS Backup's own service-role policy, maintained by AWS for the backup service principal."),
    Suppression("Api/ApiPolicy/Resource",
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:chime:{control_region}:<AWS::AccountId>:"
                "meeting/*]",
                "Meetings are created just in time (CreateMeeting) so their ids are unknown at deploy; "
                "the grant is limited to meetings of this account in this stack's Chime control region."),
    Suppression("Jobs/ConfirmationsReleasePolicy/Resource",
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:chime:{control_region}:<AWS::AccountId>:"
                "meeting/*]",
                "Releasing an unconfirmed visit cancels it, and a cancelled visit's meeting is deleted; meeting "
                "ids are made at join time. DeleteMeeting only, on this account's meetings in this stack's "
                "Chime control region."),
    Suppression("ApiGatewayLogsRole/Resource",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-level role API Gateway uses to write access and execution logs; AWS maintains "
                "it and API Gateway names its execution log groups itself."),
    Suppression("AuditDigest/Policy/Resource",
                "AwsSolutions-IAM5[Resource::<DataAuditDigestBucketC6C1C25C.Arn>/digests/*]",
                "The job writes one object per tenant and day; keys are made at run time, limited to the "
                "digests/ prefix of this stack's Object Lock bucket (PutObject only, no delete)."),
    Suppression("AuditDigest/Function/Resource", "AwsSolutions-L1",
                "The runtime is pinned in infra/regions.json (python3.12, the Python the app is packaged "
                "and tested for); moving to a newer runtime is a reviewed change of that one entry."),
    Suppression("AuditDigest/Function/Resource", "HIPAA.Security-LambdaInsideVPC",
                "The stack has no VPC and no private resources: the job reaches DynamoDB and S3 over TLS "
                "with IAM auth. A VPC would add NAT/endpoints without a resource to protect."),
    Suppression("Api/StreamDeadLetters/Resource", "AwsSolutions-SQS3",
                "This queue IS a dead-letter queue: the on-failure destination of the table stream's event "
                "source mapping (a SAM DestinationConfig, which cdk-nag does not see as a DLQ use). It holds "
                "range metadata for ops to re-drive (infra/README.md); its depth is alarmed."),
    Suppression("Api/WebAclAssociation", "CloudFormation-Validate::E3005",
                "RestAPIv1Stage is made by the SAM transform of the Chalice API, so it exists only after "
                "the transform; cfn-lint, which runs the transform, checks the DependsOn in `make synth`."),
)


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True))
    Validations.of(app).add_plugins(HIPAASecurityChecks(app, verbose=True,
                                                        write_suppressions_to_cloud_formation=True))


def suppress(stack: Stack, region: RegionConfig) -> None:
    for s in SUPPRESSIONS:
        Validations.of(_find(stack, s.path)).acknowledge(
            Acknowledgment(id=s.rule.format(control_region=region.chime_control_region), reason=s.reason))


def _find(stack: Stack, path: str) -> IConstruct:
    node: IConstruct = stack
    for part in path.split("/"):
        node = node.node.find_child(part)
    return node
