"""The Chalice API of one region, with the IAM, logging, throttling, WAF and error shapes that
`chalice package` does not write itself."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import ArnFormat, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from chalice.cdk import Chalice
from constructs import Construct

from .chalice_package import packaging_for
from .config import InfraConfig, RegionConfig
from .data import Data, log_retention
from .identity import Identity

API_FUNCTION = "APIHandler"  # logical ids in the template `chalice package` writes
STREAM_FUNCTION = "TableStream"  # chalicelib/api/streams.py HANDLER_NAME "table_stream"
STREAM_EVENT = "TableStreamDynamodbEventSource"
# A failing change is delivered again from itself on (the handler's partial batch response), at most this
# many times, bisecting the batch, and never once it is older than STREAM_MAX_RECORD_AGE: then its range's
# metadata goes to the stream's dead-letter queue and the shard moves on. An hour leaves 23 of the stream's
# 24 hours of retention to re-drive the range (infra/README.md).
STREAM_MAX_RETRIES = 10
STREAM_MAX_RECORD_AGE = Duration.hours(1)
REST_API = "RestAPI"
PROBLEM_TYPE_BASE = "https://hybrid-care.example/problems/"  # chalicelib/api/problems.py

# Errors API Gateway answers itself, before our code runs, shaped like chalicelib/api/problems.py.
# An unknown path on a REST API is "Missing Authentication Token": it is a 404 to the caller.
# The DEFAULT_* types keep API Gateway's own status (415, 403, 502, ...): no status is forced on them.
GATEWAY_PROBLEMS: dict[str, tuple[int | None, str, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (404, "NOT_FOUND", "Not found"),
    "RESOURCE_NOT_FOUND": (404, "NOT_FOUND", "Not found"),
    "UNAUTHORIZED": (401, "UNAUTHENTICATED", "Authentication required"),
    "ACCESS_DENIED": (403, "FORBIDDEN", "Forbidden"),
    "WAF_FILTERED": (403, "FORBIDDEN", "Forbidden"),
    "THROTTLED": (429, "RATE_LIMITED", "Too many requests"),
    "QUOTA_EXCEEDED": (429, "RATE_LIMITED", "Too many requests"),
    "REQUEST_TOO_LARGE": (413, "PAYLOAD_TOO_LARGE", "Request body too large"),
    "INTEGRATION_TIMEOUT": (504, "UPSTREAM_TIMEOUT", "The request took too long"),
    "DEFAULT_4XX": (None, "BAD_REQUEST", "The request was refused"),
    "DEFAULT_5XX": (None, "INTERNAL_ERROR", "Internal error"),
}


def problem_template(status: int | None, code: str, title: str) -> str:
    """A mapping template: $context.error.messageString is API Gateway's own quoted message, never input."""
    problem: dict[str, object] = {"type": PROBLEM_TYPE_BASE + code.lower().replace("_", "-"), "title": title}
    if status is not None:
        problem["status"] = status
    body = json.dumps({**problem, "code": code, "detail": "@DETAIL@", "errors": []})
    return body.replace('"@DETAIL@"', "$context.error.messageString")


class Api(Construct):
    def __init__(self, scope: Construct, cid: str, *, config: InfraConfig, region: RegionConfig, data: Data,
                 identity: Identity, source_dir: str, workdir: Path) -> None:
        super().__init__(scope, cid)
        stack = Stack.of(self)
        self.function_name = f"{config.app_name}-{region.stage}"
        self.api_stage = config.api_stage
        # The Chalice stage is the name of the construct's scope: the stack id is the stage name.
        # autogen_policy is off (PynamoDB calls are invisible to Chalice's policy generator) and the
        # role is ours: exactly the calls the code makes, on this region's resources, as a
        # customer-managed policy (the HIPAA pack refuses inline policies).
        self.role = iam.Role(self, "FunctionRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description="API function: tables, key secrets, Chime meetings")
        with packaging_for(region.region, config.lambda_runtime, workdir):
            self.chalice = Chalice(stack, "ChaliceApp", source_dir=source_dir, stage_config={
                "autogen_policy": False, "manage_iam_role": False,
                "iam_role_arn": "arn:aws:iam::000000000000:role/replaced-by-the-stack"})
        function = self.chalice.get_resource(API_FUNCTION)
        self.rest_api = self.chalice.get_resource(REST_API)

        # Our log group, created before the function can create one without encryption or retention.
        self.function_log_group = logs.LogGroup(
            self, "FunctionLogs", log_group_name=f"/aws/lambda/{self.function_name}",
            encryption_key=data.key, retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN)
        # Crisis escalations (routing) are published here for on-call paging; no PHI in a message.
        self.escalations = sns.Topic(self, "Escalations", display_name=f"hco {region.stage} crisis escalations",
                                     master_key=data.key, enforce_ssl=True)
        self.policy = iam.ManagedPolicy(self, "ApiPolicy", roles=[self.role], document=api_policy(
            stack, config, region, data, self.function_log_group, self.escalations))
        function.add_property_override("Role", self.role.role_arn)
        function.add_property_override("FunctionName", self.function_name)
        function.node.add_dependency(self.function_log_group)
        function.node.add_dependency(self.policy)
        environment = {
            "HCO_JWT_ISSUER": identity.user_pool.user_pool_provider_url,
            "HCO_COGNITO_JWKS_URL": f"{identity.user_pool.user_pool_provider_url}/.well-known/jwks.json",
            # ID tokens of the staff and patient apps; the app checks roles and ids from the claims.
            "HCO_JWT_AUDIENCE": Fn.join(",", [identity.staff_client.user_pool_client_id,
                                              identity.patient_client.user_pool_client_id]),
            # The keys themselves are read from Secrets Manager at first use, never put in the environment.
            "HCO_PSEUDONYM_KEY_SECRET_ARN": data.pseudonym_secret.secret_arn,
            # Seals list cursors: without it every list with a next page would refuse to answer.
            "HCO_CURSOR_KEY_SECRET_ARN": data.cursor_secret.secret_arn,
            # Verifies reminders' confirm/decline links (the reminder job signs them); the API makes no link,
            # so it has no HCO_LINK_BASE_URL.
            "HCO_LINK_SIGNING_KEY_SECRET_ARN": data.link_signing_secret.secret_arn,
            "HCO_ESCALATION_TOPIC_ARN": self.escalations.topic_arn,
        }
        for name, value in environment.items():
            function.add_property_override(f"Environment.Variables.{name}", value)

        self.access_log_group = logs.LogGroup(
            self, "AccessLogs", encryption_key=data.key, retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN)
        self.rest_api.add_property_override("EndpointConfiguration", "REGIONAL")  # no edge hop out of region
        self.rest_api.add_property_override("TracingEnabled", True)
        self.rest_api.add_property_override("AccessLogSetting", {
            "DestinationArn": self.access_log_group.log_group_arn,
            "Format": json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":"))})
        self.rest_api.add_property_override("MethodSettings", [{
            "ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
            # ERROR, never INFO: execution logs at INFO carry request bodies (PHI).
            "LoggingLevel": "ERROR", "DataTraceEnabled": False,
            "ThrottlingRateLimit": config.throttle_rate_limit, "ThrottlingBurstLimit": config.throttle_burst_limit,
        }])
        self._gateway_responses()
        self.web_acl = self._web_acl(config, region, data)
        self._stream_consumer(config, region, data)

    def _stream_consumer(self, config: InfraConfig, region: RegionConfig, data: Data) -> None:
        """The main table's stream -> chalicelib/api/streams.py, with its own role: read this table's stream,
        chain audit entries, and follow each committed visit change (services/visit_followers.py: reminders,
        confirmations and no-show tallies, the waitlist's freed slots, eligibility after commit). No Scan,
        no Chime, no SNS/SES: reminders and offers are sent by the scheduled jobs, not here."""
        stack, main = Stack.of(self), data.main_table
        name = f"{config.app_name}-{region.stage}-table-stream"
        log_group = logs.LogGroup(self, "StreamLogs", log_group_name=f"/aws/lambda/{name}", encryption_key=data.key,
                                  retention=log_retention(config.log_retention_days),
                                  removal_policy=RemovalPolicy.RETAIN)
        # Where Lambda sends a range it gave up on: stream metadata only (shard, sequence numbers), never
        # a record, so no PHI; still encrypted with the stack's key. Re-driven by ops (infra/README.md).
        self.stream_dead_letters = sqs.Queue(
            self, "StreamDeadLetters", encryption=sqs.QueueEncryption.KMS, encryption_master_key=data.key,
            enforce_ssl=True, retention_period=Duration.days(14), removal_policy=RemovalPolicy.RETAIN)
        self.stream_function_name = name
        self.stream_role = iam.Role(self, "StreamRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                                    description="table stream consumer: chain audit entries, follow visit changes")
        policy = iam.ManagedPolicy(self, "StreamPolicy", roles=[self.stream_role], statements=[
            iam.PolicyStatement(sid="Logs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                resources=[log_group.log_group_arn]),
            # The event source mapping sends a given-up range's metadata with the function's role.
            iam.PolicyStatement(sid="DeadLetters", actions=["sqs:SendMessage"],
                                resources=[self.stream_dead_letters.queue_arn]),
            iam.PolicyStatement(sid="ReadTheStream", actions=[
                "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                "dynamodb:ListStreams"], resources=[main.table_stream_arn]),
            # Head claim (conditional Put), entries' places (Update), links (BatchWrite), entries (BatchGet).
            iam.PolicyStatement(sid="ChainAuditEntries", actions=[
                "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem"], resources=[main.table_arn]),
            # Visit followers: an appointment's reminders (Query of its own partition), their due pointers
            # (Delete in a transaction when a visit moves or ends), the eligibility result (conditional Update).
            iam.PolicyStatement(sid="FollowVisits", actions=["dynamodb:Query", "dynamodb:DeleteItem",
                                                             "dynamodb:ConditionCheckItem"],
                                resources=[main.table_arn]),
            # Eligibility after commit: member ids are keyed and audited by their pseudonym (HMAC key).
            iam.PolicyStatement(sid="PseudonymKey", actions=["secretsmanager:GetSecretValue"],
                                resources=[data.pseudonym_secret.secret_arn]),
            iam.PolicyStatement(sid="DataKeyThroughServices", actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                resources=[data.key.key_arn],
                                conditions={"StringEquals": {"kms:ViaService": [
                                    f"dynamodb.{stack.region}.amazonaws.com",
                                    f"secretsmanager.{stack.region}.amazonaws.com",
                                    f"sqs.{stack.region}.amazonaws.com"]}}),
        ])
        function = self.chalice.get_resource(STREAM_FUNCTION)
        function.add_property_override("Role", self.stream_role.role_arn)
        function.add_property_override("FunctionName", name)
        # The payer is asked from here (eligibility after commit): the pseudonym key's secret, never the key.
        function.add_property_override("Environment.Variables.HCO_PSEUDONYM_KEY_SECRET_ARN",
                                       data.pseudonym_secret.secret_arn)
        events = f"Events.{STREAM_EVENT}.Properties"
        function.add_property_override(f"{events}.Stream", main.table_stream_arn)
        # The handler answers a partial batch response (services/streams.py): the stream comes again from
        # the first change not finished. A poison change costs its range bounded retries, not the shard:
        # the audit chain and the other visits go on, and the range waits in the dead-letter queue (an
        # alarm, infra/monitoring.py) to be re-driven. Its unchained audit entries, if any, make
        # GET /v1/audit/verify fail past its bound until then.
        function.add_property_override(f"{events}.FunctionResponseTypes", ["ReportBatchItemFailures"])
        function.add_property_override(f"{events}.MaximumRetryAttempts", STREAM_MAX_RETRIES)
        function.add_property_override(f"{events}.BisectBatchOnFunctionError", True)
        function.add_property_override(f"{events}.MaximumRecordAgeInSeconds",
                                       int(STREAM_MAX_RECORD_AGE.to_seconds()))
        function.add_property_override(f"{events}.DestinationConfig", {"OnFailure": {
            "Type": "SQS", "Destination": self.stream_dead_letters.queue_arn}})
        function.node.add_dependency(log_group)
        function.node.add_dependency(policy)

    @property
    def stage_arn(self) -> str:
        stack = Stack.of(self)
        return (f"arn:{stack.partition}:apigateway:{stack.region}::/restapis/{self.rest_api.ref}"
                f"/stages/{self.api_stage}")

    def _gateway_responses(self) -> None:
        from aws_cdk import aws_apigateway as apigateway

        for response_type, (status, code, title) in GATEWAY_PROBLEMS.items():
            apigateway.CfnGatewayResponse(
                self, f"Problem{response_type.title().replace('_', '')}", rest_api_id=self.rest_api.ref,
                response_type=response_type, status_code=None if status is None else str(status),
                response_parameters={"gatewayresponse.header.Content-Type": "'application/problem+json'"},
                response_templates={"application/json": problem_template(status, code, title)})

    def _web_acl(self, config: InfraConfig, region: RegionConfig, data: Data) -> wafv2.CfnWebACL:
        def managed(name: str, priority: int, count_only: tuple[str, ...] = ()) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name, priority=priority, override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=name,
                        rule_action_overrides=[wafv2.CfnWebACL.RuleActionOverrideProperty(
                            name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}))
                            for rule in count_only] or None)),
                visibility_config=_visibility(name))

        acl = wafv2.CfnWebACL(
            self, "WebAcl", scope="REGIONAL", default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"hco-{region.stage}"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="RatePerIp", priority=0, action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=config.waf_rate_limit, aggregate_key_type="IP", evaluation_window_sec=300)),
                    visibility_config=_visibility("RatePerIp")),
                managed("AWSManagedRulesAmazonIpReputationList", 1),
                # Roster uploads may reach the API's own 64 KiB limit; the 8 KiB body rule would block them.
                managed("AWSManagedRulesCommonRuleSet", 2, count_only=("SizeRestrictions_BODY",)),
                managed("AWSManagedRulesKnownBadInputsRuleSet", 3),
            ])
        association = wafv2.CfnWebACLAssociation(self, "WebAclAssociation", resource_arn=self.stage_arn,
                                                 web_acl_arn=acl.attr_arn)
        # The stage is made by the SAM transform from RestAPI (logical id RestAPI<StageName>Stage).
        association.add_override("DependsOn", [f"{REST_API}{config.api_stage}Stage"])
        waf_logs = logs.LogGroup(
            self, "WafLogs", log_group_name=f"aws-waf-logs-hco-{region.stage}", encryption_key=data.key,
            retention=log_retention(config.log_retention_days), removal_policy=RemovalPolicy.RETAIN)
        wafv2.CfnLoggingConfiguration(
            self, "WafLogging", resource_arn=acl.attr_arn,
            log_destination_configs=[Stack.of(self).format_arn(
                service="logs", resource="log-group", resource_name=waf_logs.log_group_name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME)],
            # Headers can carry bearer tokens: never log them.
            redacted_fields=[wafv2.CfnLoggingConfiguration.FieldToMatchProperty(
                single_header={"Name": "authorization"})])
        return acl


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True)


# API Gateway access log: who-agnostic (no caller identity, no IP, no query string): ids in paths
# are opaque, the resource path is the route template.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId", "time": "$context.requestTimeEpoch", "method": "$context.httpMethod",
    "resource": "$context.resourcePath", "status": "$context.status", "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency", "responseBytes": "$context.responseLength",
    "waf": "$context.waf.status", "error": "$context.error.responseType", "xrayTraceId": "$context.xrayTraceId",
}


def api_policy(stack: Stack, config: InfraConfig, region: RegionConfig, data: Data,
               log_group: logs.LogGroup, escalations: sns.Topic) -> iam.PolicyDocument:
    """The calls chalicelib makes (see .chalice/policy.json for `chalice deploy`), on this stack's resources."""
    main, idem = data.main_table, data.idempotency_table
    chime_meetings = stack.format_arn(service="chime", region=region.chime_control_region, resource="meeting",
                                      resource_name="*")
    return iam.PolicyDocument(statements=[
        iam.PolicyStatement(sid="Logs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                            resources=[log_group.log_group_arn]),
        # Items, index queries and TransactWriteItems (IAM authorizes each item of a transaction); batch
        # writes of a list page's audit entries, batch reads of audit entries when verifying the chain.
        iam.PolicyStatement(sid="MainTable", actions=[
            "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
            "dynamodb:Query", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:BatchWriteItem",
            "dynamodb:BatchGetItem"],
            resources=[main.table_arn, f"{main.table_arn}/index/gsi1", f"{main.table_arn}/index/gsi2"]),
        iam.PolicyStatement(sid="IdempotencyRecords", actions=[
            "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            resources=[idem.table_arn]),
        iam.PolicyStatement(sid="PseudonymKey", actions=["secretsmanager:GetSecretValue"],
                            resources=[data.pseudonym_secret.secret_arn]),
        iam.PolicyStatement(sid="CursorKey", actions=["secretsmanager:GetSecretValue"],
                            resources=[data.cursor_secret.secret_arn]),
        iam.PolicyStatement(sid="LinkSigningKey", actions=["secretsmanager:GetSecretValue"],
                            resources=[data.link_signing_secret.secret_arn]),
        # The tables and the secrets are encrypted with the stack's key: use it only through those services.
        iam.PolicyStatement(sid="DataKeyThroughServices",
                            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                            resources=[data.key.key_arn],
                            conditions={"StringEquals": {"kms:ViaService": [
                                f"dynamodb.{stack.region}.amazonaws.com",
                                f"secretsmanager.{stack.region}.amazonaws.com",
                                f"sns.{stack.region}.amazonaws.com"]}}),
        iam.PolicyStatement(sid="CrisisEscalations", actions=["sns:Publish"], resources=[escalations.topic_arn]),
        # Meetings are created just in time in the stack's Chime control region only.
        iam.PolicyStatement(sid="VideoRooms", actions=[
            "chime:CreateMeeting", "chime:GetMeeting", "chime:DeleteMeeting", "chime:CreateAttendee",
            "chime:GetAttendee", "chime:ListAttendees", "chime:DeleteAttendee",
            "chime:UpdateAttendeeCapabilities"], resources=[chime_meetings]),
    ])
