"""Storage of one region: the KMS key, the tables, the key secrets (pseudonym, cursor, link signing), the audit
digest bucket."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .config import InfraConfig, RegionConfig
from .job_grants import CURSOR_KEY_NAME, LINK_SIGNING_KEY_NAME, PSEUDONYM_KEY_NAME

TTL_ATTRIBUTE = "expires_at"  # chalicelib/adapters/dynamo/binding.py TTL_ATTRIBUTE
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"  # what Powertools' DynamoDBPersistenceLayer writes
# Seven years: the longest US state medical-record retention most health systems contract for.
AUDIT_DIGEST_RETENTION = Duration.days(7 * 365)


def log_retention(days: int) -> logs.RetentionDays:
    """The CloudWatch Logs retention of exactly `days` (the API only accepts its own list)."""
    by_days = {365: logs.RetentionDays.ONE_YEAR, 400: logs.RetentionDays.THIRTEEN_MONTHS,
               731: logs.RetentionDays.TWO_YEARS, 1827: logs.RetentionDays.FIVE_YEARS,
               2192: logs.RetentionDays.SIX_YEARS, 2557: logs.RetentionDays.SEVEN_YEARS}
    if days not in by_days:
        raise ValueError(f"log_retention_days must be one of {sorted(by_days)}")
    return by_days[days]


class Data(Construct):
    def __init__(self, scope: Construct, cid: str, *, config: InfraConfig, region: RegionConfig) -> None:
        super().__init__(scope, cid)
        stack = Stack.of(self)
        self.key = kms.Key(
            self, "DataKey", alias=f"alias/hco/{region.stage}/data", enable_key_rotation=True,
            description="Hybrid Care Orchestrator: PHI at rest (tables, secrets, logs, digests) in this region",
            removal_policy=RemovalPolicy.RETAIN)
        # CloudWatch Logs encrypts the API, Lambda and WAF log groups of this stack with the same key.
        self.key.add_to_resource_policy(iam.PolicyStatement(
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            resources=["*"],  # in a key policy "*" means this key
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                    f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"}}))

        # Tables restored from PITR come in under a new prefix and a new logical id, so `cdk import`
        # can adopt them while CloudFormation retains the old ones (infra/README.md, "Restore").
        suffix = "".join(ch for ch in (region.table_prefix or "").title() if ch.isalnum())
        self.main_table = dynamodb.Table(
            self, f"MainTable{suffix}", table_name=config.main_table(region),
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            deletion_protection=True, removal_policy=RemovalPolicy.RETAIN,
            time_to_live_attribute=TTL_ATTRIBUTE,
            # The audit chain and background work read the stream; both images, so a consumer can
            # tell what changed without reading the table again.
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
        for index in ("gsi1", "gsi2"):  # models.py: ClinicianScheduleIndex/AuditPatientIndex, PatientScheduleIndex
            self.main_table.add_global_secondary_index(
                index_name=index,
                partition_key=dynamodb.Attribute(name=f"{index}pk", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=f"{index}sk", type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL)

        self.idempotency_table = dynamodb.Table(
            self, f"IdempotencyTable{suffix}", table_name=config.idempotency_table(region),
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            deletion_protection=True, removal_policy=RemovalPolicy.RETAIN,
            time_to_live_attribute=IDEMPOTENCY_TTL_ATTRIBUTE)

        # HMAC key that turns member ids into key material: generated here, never seen by a person.
        self.pseudonym_secret = generated_key(
            self, "PseudonymKey", region, PSEUDONYM_KEY_NAME,
            "HMAC key for member-id pseudonyms in DynamoDB keys (HCO_PSEUDONYM_KEY)")
        # AES-GCM key of list cursors (chalicelib/services/paging.py): the API alone seals and opens them.
        self.cursor_secret = generated_key(
            self, "CursorKey", region, CURSOR_KEY_NAME, "AES-GCM key of the API's list cursors (HCO_CURSOR_KEY)")
        # HMAC key of reminders' confirm/decline links: the reminder job signs them, the API verifies them.
        self.link_signing_secret = generated_key(
            self, "LinkSigningKey", region, LINK_SIGNING_KEY_NAME,
            "HMAC key of reminder confirm/decline links (HCO_LINK_SIGNING_KEY)")

        self.access_log_bucket = s3.Bucket(
            self, "AccessLogBucket", encryption=s3.BucketEncryption.S3_MANAGED,  # S3 log delivery cannot use KMS
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True, versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(config.log_retention_days))],
            removal_policy=RemovalPolicy.RETAIN)
        self.audit_digest_bucket = s3.Bucket(
            self, "AuditDigestBucket", encryption=s3.BucketEncryption.KMS, encryption_key=self.key,
            bucket_key_enabled=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            versioned=True, object_lock_enabled=True,
            # Compliance mode: nobody, root included, can shorten or remove the retention of a digest.
            object_lock_default_retention=s3.ObjectLockRetention.compliance(AUDIT_DIGEST_RETENTION),
            server_access_logs_bucket=self.access_log_bucket, server_access_logs_prefix="audit-digests/",
            removal_policy=RemovalPolicy.RETAIN)

        # Backups beside PITR: a daily copy kept 35 days in a vault encrypted with the same key.
        self.backup_vault = backup.BackupVault(self, "BackupVault", backup_vault_name=f"hco-{region.stage}",
                                               encryption_key=self.key, removal_policy=RemovalPolicy.RETAIN)
        self.backup_plan = backup.BackupPlan.daily35_day_retention(self, "BackupPlan", self.backup_vault)
        self.backup_plan.add_selection("Tables", resources=[
            backup.BackupResource.from_dynamo_db_table(self.main_table),
            backup.BackupResource.from_dynamo_db_table(self.idempotency_table)])


def generated_key(scope: Data, cid: str, region: RegionConfig, name: str, description: str) -> secretsmanager.Secret:
    """A random key made by Secrets Manager at deploy, encrypted with the stack's key, never seen by a person;
    functions get its ARN (`*_SECRET_ARN`) and read it at first use (chalicelib/settings.py)."""
    return secretsmanager.Secret(
        scope, cid, secret_name=f"hco/{region.stage}/{name}", encryption_key=scope.key, description=description,
        generate_secret_string=secretsmanager.SecretStringGenerator(
            password_length=64, exclude_punctuation=True, include_space=False),
        removal_policy=RemovalPolicy.RETAIN)
