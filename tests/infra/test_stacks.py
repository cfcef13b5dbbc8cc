"""The synthesized per-region templates hold the controls issue 14 asks for."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.config import InfraConfig
from infra.data import AUDIT_DIGEST_RETENTION

from .conftest import resources

pytestmark = pytest.mark.integration

REGIONS = ("us-east-1", "us-west-2", "ca-central-1")
REGION_NAME = re.compile(r"\b(?:us|ca|eu|ap|sa|me|af|il|mx)(?:-gov)?-(?:north|south|east|west|central|northeast|"
                         r"southeast|northwest|southwest)-\d\b")


def test_one_stack_per_configured_region_with_the_stage_as_its_id(infra_config: InfraConfig, synthesized):
    assert set(REGIONS) <= {r.region for r in infra_config.regions}
    assert set(synthesized) == {r.region for r in infra_config.regions}


@pytest.mark.parametrize("region", REGIONS)
def test_main_table_matches_the_pynamodb_models(synthesized, region):
    from chalicelib.adapters.dynamo.binding import TTL_ATTRIBUTE
    from chalicelib.adapters.dynamo.models import TABLE_SCHEMA_MODEL

    schema = TABLE_SCHEMA_MODEL._get_schema()
    tables = [t["Properties"] for t in resources(synthesized[region], "AWS::DynamoDB::Table").values()
              if t["Properties"]["TableName"] == "hco-prod-main"]
    assert len(tables) == 1
    table = tables[0]
    assert table["KeySchema"] == schema["key_schema"]
    assert {(i["IndexName"], json.dumps(i["KeySchema"]), i["Projection"]["ProjectionType"])
            for i in table["GlobalSecondaryIndexes"]} == {
        (i["index_name"], json.dumps(i["key_schema"]), i["projection"]["ProjectionType"])
        for i in schema["global_secondary_indexes"]}
    declared = {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]}
    assert declared == {(a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]}
    assert table["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


@pytest.mark.parametrize("region", REGIONS)
def test_every_table_is_kms_encrypted_with_pitr_and_deletion_protection(synthesized, region):
    tables = resources(synthesized[region], "AWS::DynamoDB::Table")
    assert {t["Properties"]["TableName"] for t in tables.values()} == {"hco-prod-main", "hco-prod-idempotency"}
    keys = resources(synthesized[region], "AWS::KMS::Key")
    for table in tables.values():
        props = table["Properties"]
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["SSESpecification"]["SSEType"] == "KMS"
        assert props["SSESpecification"]["KMSMasterKeyId"]["Fn::GetAtt"][0] in keys  # ours, not AWS-owned
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == "Retain"
    assert all(k["Properties"]["EnableKeyRotation"] is True for k in keys.values())


@pytest.mark.parametrize("region", REGIONS)
def test_every_function_runs_the_pinned_python(synthesized, infra_config: InfraConfig, region):
    functions = {**resources(synthesized[region], "AWS::Lambda::Function"),
                 **resources(synthesized[region], "AWS::Serverless::Function")}
    assert "APIHandler" in functions and len(functions) >= 2
    assert {f["Properties"]["Runtime"] for f in functions.values()} == {infra_config.lambda_runtime} == {"python3.12"}


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in resources(template, kind).values():
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    for role in resources(template, "AWS::IAM::Role").values():
        for inline in role["Properties"].get("Policies", []):
            found += inline["PolicyDocument"]["Statement"]
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("region", REGIONS)
def test_no_identity_policy_allows_a_wildcard_action_or_a_wildcard_resource(synthesized, region):
    statements = _statements(synthesized[region])
    assert len(statements) >= 10
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]):
            assert "*" not in action, statement
        if "NotResource" in statement:  # SMS to a phone number (no ARN): anything but a topic, nothing else
            assert statement["Action"] == "sns:Publish" and statement["NotResource"] == {
                "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sns:*:*:*"]]}, statement
            continue
        for resource in _as_list(statement["Resource"]):
            assert resource != "*", statement
            if isinstance(resource, str):
                assert ":*:" not in resource and not resource.endswith(":*"), statement


@pytest.mark.parametrize("region", REGIONS)
def test_roles_use_managed_policies_only_and_the_api_role_reaches_its_own_tables(synthesized, region):
    template = synthesized[region]
    for role in resources(template, "AWS::IAM::Role").values():
        assert "Policies" not in role["Properties"]  # HIPAA pack: no inline policies
    text = json.dumps(_statements(template))
    assert "hco-prod-main" not in text  # table ARNs come from the stack's own tables, not name patterns
    api_function = synthesized[region]["Resources"]["APIHandler"]["Properties"]
    role_ref = api_function["Role"]["Fn::GetAtt"][0]
    policies = [p for p in resources(template, "AWS::IAM::ManagedPolicy").values()
                if {"Ref": role_ref} in p["Properties"].get("Roles", [])]
    actions = {a for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]
               for a in _as_list(s["Action"])}
    assert {"dynamodb:Query", "dynamodb:PutItem", "secretsmanager:GetSecretValue", "chime:CreateMeeting"} <= actions
    assert "dynamodb:Scan" not in actions  # no scans on the request path


def test_the_plain_chalice_deploy_policy_grants_what_the_stacks_api_role_grants(synthesized):
    """`.chalice/policy.json` is the API's policy for a plain `chalice deploy`: it must not lag behind the stack's
    role (the key secrets were once missing there), nor grant what the role does not, nor a wildcard action."""
    template = synthesized[REGIONS[0]]
    _, role = _role_statements(template, "APIHandler")
    stack_actions = {a for s in role for a in _as_list(s["Action"])}
    plain = json.loads((Path(__file__).resolve().parents[2] / ".chalice" / "policy.json").read_text())
    plain_actions = {a for s in plain["Statement"] for a in _as_list(s["Action"])}
    # A plain deploy makes its own log group; the stack makes it (encrypted, kept) and the stream's reads
    # belong to the stream consumer's role.
    own = {"logs:CreateLogGroup", "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
           "dynamodb:ListStreams"}
    assert stack_actions <= plain_actions, stack_actions - plain_actions
    assert plain_actions - stack_actions <= own, plain_actions - stack_actions
    assert all("*" not in a for a in plain_actions)
    kms = [s for s in plain["Statement"] if any(a.startswith("kms:") for a in _as_list(s["Action"]))]
    assert kms and all("kms:ViaService" in json.dumps(s.get("Condition", {})) for s in kms)


@pytest.mark.parametrize("region", REGIONS)
def test_audit_digest_bucket_has_object_lock_in_compliance_mode(synthesized, region):
    buckets = [b["Properties"] for b in resources(synthesized[region], "AWS::S3::Bucket").values()
               if b["Properties"].get("ObjectLockEnabled")]
    assert len(buckets) == 1
    lock = buckets[0]["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Days": AUDIT_DIGEST_RETENTION.to_days()}
    assert buckets[0]["VersioningConfiguration"] == {"Status": "Enabled"}
    encryption = buckets[0]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_the_canadian_stack_names_only_ca_central_1(synthesized, infra_config: InfraConfig):
    canada = infra_config.region("ca-central-1")
    assert (canada.chime_control_region, canada.chime_media_region) == ("ca-central-1", "ca-central-1")
    text = json.dumps(synthesized["ca-central-1"])
    assert set(REGION_NAME.findall(text)) == {"ca-central-1"}
    # and the US stacks do not name Canada
    assert "ca-central-1" not in json.dumps(synthesized["us-east-1"])


@pytest.mark.parametrize("region", REGIONS)
def test_chime_control_region_reaches_the_function_and_its_policy(synthesized, infra_config: InfraConfig, region):
    from chalicelib.adapters.chime import CONTROL_REGIONS

    control = infra_config.region(region).chime_control_region
    assert control in CONTROL_REGIONS
    env = synthesized[region]["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert env["HCO_CHIME_CONTROL_REGION"] == control
    chime = [s for s in _statements(synthesized[region]) if "chime:CreateMeeting" in _as_list(s["Action"])]
    assert f":chime:{control}:" in json.dumps(chime)


# Environment variable -> the name its secret has (hco/<stage>/<name>, infra/data.py).
KEY_SECRETS = {"HCO_PSEUDONYM_KEY": "pseudonym-key", "HCO_CURSOR_KEY": "cursor-key",
               "HCO_LINK_SIGNING_KEY": "link-signing-key"}


def _secret_refs(template: dict[str, Any], region: str) -> dict[str, dict[str, str]]:
    """Environment variable (HCO_..._KEY) -> {"Ref": its secret's logical id}."""
    by_name = {s["Properties"]["Name"]: name for name, s in resources(template, "AWS::SecretsManager::Secret").items()}
    return {var: {"Ref": by_name[f"hco/prod-{region}/{name}"]} for var, name in KEY_SECRETS.items()}


@pytest.mark.parametrize("region", REGIONS)
def test_the_keys_are_generated_secrets_not_environment_values(synthesized, region):
    template = synthesized[region]
    secrets = resources(template, "AWS::SecretsManager::Secret")
    assert len(secrets) == len(KEY_SECRETS)
    data_key = next(iter(resources(template, "AWS::KMS::Key")))
    for secret in secrets.values():
        assert secret["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [data_key, "Arn"]}  # the stack's key
        assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 64  # nobody types it
        assert "SecretString" not in secret["Properties"]
        assert secret["DeletionPolicy"] == "Retain"
    refs = _secret_refs(template, region)
    env = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    # The API seals cursors, verifies reminder links and keys member ids: all three secrets, no key itself.
    for var, ref in refs.items():
        assert var not in env
        assert env[f"{var}_SECRET_ARN"] == ref
    assert "HCO_LINK_BASE_URL" not in env  # the API makes no link
    _, statements = _role_statements(template, "APIHandler")
    readable = [s["Resource"] for s in statements if "secretsmanager:GetSecretValue" in _as_list(s["Action"])]
    assert sorted(map(str, readable)) == sorted(map(str, refs.values()))  # one secret a statement, these only
    assert {a for s in statements for a in _as_list(s["Action"]) if a.startswith("secretsmanager:")} == {
        "secretsmanager:GetSecretValue"}


@pytest.mark.parametrize("region", REGIONS)
def test_every_function_reads_only_the_key_secrets_it_is_given(synthesized, region):
    """A function's role reads a secret iff its environment names that secret, and nothing reads a key
    secret by pattern: least privilege per function (API, stream consumer, each job)."""
    template = synthesized[region]
    refs = _secret_refs(template, region)
    functions = resources(template, "AWS::Serverless::Function")
    chalice = {name: f for name, f in functions.items() if "Role" in f["Properties"]}
    assert {"APIHandler", "TableStream", "RemindersSend"} <= set(chalice)
    for name in chalice:
        env = chalice[name]["Properties"].get("Environment", {}).get("Variables", {})
        named = {str(env[f"{var}_SECRET_ARN"]) for var in refs if f"{var}_SECRET_ARN" in env}
        _, statements = _role_statements(template, name)
        readable = {str(r) for s in statements if "secretsmanager:GetSecretValue" in _as_list(s["Action"])
                    for r in _as_list(s["Resource"])}
        assert readable == named, name
    stream_env = chalice["TableStream"]["Properties"]["Environment"]["Variables"]
    assert "HCO_CURSOR_KEY_SECRET_ARN" not in stream_env and "HCO_LINK_SIGNING_KEY_SECRET_ARN" not in stream_env


@pytest.mark.parametrize("region", REGIONS)
def test_crisis_escalations_have_an_encrypted_topic_only_the_api_and_its_job_may_publish_to(synthesized, region):
    env = synthesized[region]["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    topics = resources(synthesized[region], "AWS::SNS::Topic")
    escalation = [name for name in topics if "Escalations" in name]
    assert len(escalation) == 1 and "KmsMasterKeyId" in topics[escalation[0]]["Properties"]
    assert env["HCO_ESCALATION_TOPIC_ARN"] == {"Ref": escalation[0]}
    publish = [s for s in _statements(synthesized[region])
               if "sns:Publish" in _as_list(s["Action"]) and "NotResource" not in s]  # not the SMS grant
    assert len(publish) == 2 and all(s["Resource"] == {"Ref": escalation[0]} for s in publish)
    publishers = {role["Ref"] for p in resources(synthesized[region], "AWS::IAM::ManagedPolicy").values()
                  if any(s in publish for s in p["Properties"]["PolicyDocument"]["Statement"])
                  for role in p["Properties"]["Roles"]}
    functions = synthesized[region]["Resources"]
    assert publishers == {functions[f]["Properties"]["Role"]["Fn::GetAtt"][0]
                          for f in ("APIHandler", "EscalationsOverdue")}
    job_env = functions["EscalationsOverdue"]["Properties"]["Environment"]["Variables"]
    assert job_env["HCO_ESCALATION_TOPIC_ARN"] == {"Ref": escalation[0]}
    # Both apps' ID tokens are accepted audiences (staff and patients)
    assert "Fn::Join" in env["HCO_JWT_AUDIENCE"] and len(env["HCO_JWT_AUDIENCE"]["Fn::Join"][1]) == 2


def test_user_pool_groups_are_the_api_roles_with_id_attributes_and_three_clients(templates, synthesized):
    from aws_cdk.assertions import Match

    from chalicelib.domain.access import ROLES

    template = templates["ca-central-1"]
    groups = resources(synthesized["ca-central-1"], "AWS::Cognito::UserPoolGroup")
    assert {g["Properties"]["GroupName"] for g in groups.values()} == set(ROLES)
    pool = next(iter(resources(synthesized["ca-central-1"], "AWS::Cognito::UserPool").values()))["Properties"]
    custom = {a["Name"] for a in pool["Schema"]}
    assert custom >= {"tenant_id", "patient_id", "clinician_id", "payer_id"}
    assert pool["MfaConfiguration"] == "ON" and pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 14
    template.has_resource_properties("AWS::Cognito::UserPoolClient", {
        "ClientName": "insurers", "GenerateSecret": True, "AllowedOAuthFlows": ["client_credentials"],
        "AllowedOAuthScopes": Match.any_value()})
    for client in resources(synthesized["ca-central-1"], "AWS::Cognito::UserPoolClient").values():
        props = client["Properties"]
        scopes = json.dumps(props.get("AllowedOAuthScopes", []))
        if props["ClientName"] == "insurers":
            assert "/eligibility.read" in scopes and "ExplicitAuthFlows" not in props
        else:  # people sign in with SRP; no OAuth flows, no client secret
            assert props["GenerateSecret"] is False and props["AllowedOAuthFlowsUserPoolClient"] is False
    names = {c["Properties"]["ClientName"]
             for c in resources(synthesized["ca-central-1"], "AWS::Cognito::UserPoolClient").values()}
    assert names == {"staff", "patients", "insurers"}


@pytest.mark.parametrize("region", REGIONS)
def test_api_has_access_logs_throttling_waf_and_problem_json_gateway_responses(synthesized, region):
    template = synthesized[region]
    api = template["Resources"]["RestAPI"]["Properties"]
    assert api["EndpointConfiguration"] == "REGIONAL"
    assert api["AccessLogSetting"]["DestinationArn"]
    settings = api["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    assert settings["DataTraceEnabled"] is False  # no request bodies (PHI) in execution logs
    association = next(iter(resources(template, "AWS::WAFv2::WebACLAssociation").values()))
    assert "/stages/v1" in json.dumps(association["Properties"]["ResourceArn"])
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()}
    assert {"MISSING_AUTHENTICATION_TOKEN", "UNAUTHORIZED", "THROTTLED", "REQUEST_TOO_LARGE"} <= set(responses)
    unknown_path = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert unknown_path["StatusCode"] == "404"
    assert unknown_path["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
    assert '"code": "NOT_FOUND"' in unknown_path["ResponseTemplates"]["application/json"]
    assert responses["THROTTLED"]["StatusCode"] == "429"
    # API Gateway's own status is kept for everything else (415, 502, ...), still as problem+json
    assert "StatusCode" not in responses["DEFAULT_4XX"] and "StatusCode" not in responses["DEFAULT_5XX"]
    assert json.loads(responses["DEFAULT_5XX"]["ResponseTemplates"]["application/json"].replace(
        "$context.error.messageString", '"x"'))["code"] == "INTERNAL_ERROR"


@pytest.mark.parametrize("region", REGIONS)
def test_alarms_cover_5xx_throttles_latency_dead_letters_and_audit_chain_lag(synthesized, region):
    alarms = resources(synthesized[region], "AWS::CloudWatch::Alarm").values()
    metrics = {a["Properties"]["MetricName"] for a in alarms}
    assert {"5XXError", "Throttles", "Latency", "ApproximateNumberOfMessagesVisible", "AuditChainAnchored",
            "IteratorAge"} <= metrics
    # Each dead-letter queue has a depth alarm: the digest job's and the table stream's.
    queues = {name for name, q in resources(synthesized[region], "AWS::SQS::Queue").items()}
    watched = {d["Value"]["Fn::GetAtt"][0] for a in alarms
               if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
               for d in a["Properties"]["Dimensions"] if d["Name"] == "QueueName"}
    assert len(queues) >= 2 and watched == queues
    assert all(a["Properties"]["AlarmActions"] for a in alarms)
    lag = next(a["Properties"] for a in alarms if a["Properties"]["MetricName"] == "AuditChainAnchored")
    assert lag["TreatMissingData"] == "breaching"  # a job that stopped emits nothing
    assert len(resources(synthesized[region], "AWS::CloudWatch::Dashboard")) == 1


@pytest.mark.parametrize("region", REGIONS)
def test_log_groups_are_encrypted_and_kept(synthesized, region):
    groups = resources(synthesized[region], "AWS::Logs::LogGroup").values()
    assert len(groups) >= 4
    for group in groups:
        assert "KmsKeyId" in group["Properties"] and group["Properties"]["RetentionInDays"] >= 365


@pytest.mark.parametrize("region", REGIONS)
def test_the_table_stream_feeds_the_stream_handler_with_a_role_of_its_own(synthesized, region):
    from infra.api import STREAM_EVENT, STREAM_FUNCTION

    template = synthesized[region]
    function = template["Resources"][STREAM_FUNCTION]["Properties"]
    assert function["Handler"] == "chalicelib.api.streams.table_stream"
    source = function["Events"][STREAM_EVENT]
    main = next(name for name, t in resources(template, "AWS::DynamoDB::Table").items()
                if t["Properties"]["TableName"] == "hco-prod-main")
    assert source["Type"] == "DynamoDB"
    assert source["Properties"]["Stream"] == {"Fn::GetAtt": [main, "StreamArn"]}  # not the code's placeholder
    # A poison change costs its range bounded retries, then its metadata goes to the dead-letter queue.
    props = source["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]  # the handler's partial batch response
    assert 0 < props["MaximumRetryAttempts"] <= 10 and props["BisectBatchOnFunctionError"] is True
    assert 60 <= props["MaximumRecordAgeInSeconds"] <= 6 * 3600  # leaves most of the 24 h to re-drive it
    queue_ref = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert props["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    queue = template["Resources"][queue_ref]
    assert queue["Type"] == "AWS::SQS::Queue" and queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert "KmsMasterKeyId" in queue["Properties"]
    queue_policy = next(p["Properties"]["PolicyDocument"]["Statement"]
                        for p in resources(template, "AWS::SQS::QueuePolicy").values()
                        if {"Ref": queue_ref} in p["Properties"]["Queues"])
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in queue_policy)
    role_ref = function["Role"]["Fn::GetAtt"][0]
    api_role = template["Resources"]["APIHandler"]["Properties"]["Role"]["Fn::GetAtt"][0]
    assert role_ref != api_role
    statements = [s for p in resources(template, "AWS::IAM::ManagedPolicy").values()
                  if {"Ref": role_ref} in p["Properties"].get("Roles", [])
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["ReadTheStream"]["Resource"] == {"Fn::GetAtt": [main, "StreamArn"]}
    assert by_sid["DeadLetters"]["Action"] == "sqs:SendMessage"
    assert by_sid["DeadLetters"]["Resource"] == {"Fn::GetAtt": [queue_ref, "Arn"]}  # this queue only
    assert [s for s in statements if "sqs:SendMessage" in _as_list(s["Action"])] == [by_sid["DeadLetters"]]
    via = by_sid["DataKeyThroughServices"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert f"sqs.{region}.amazonaws.com" in via  # the queue is encrypted with the stack's key
    actions = {a for s in statements for a in _as_list(s["Action"])}
    assert {"dynamodb:GetRecords", "dynamodb:PutItem", "dynamodb:BatchWriteItem"} <= actions
    # The visit's followers (reminders, waitlist, eligibility after commit) run here too.
    assert {"dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "secretsmanager:GetSecretValue"} <= actions
    assert by_sid["FollowVisits"]["Resource"] == {"Fn::GetAtt": [main, "Arn"]}  # the table, not its indexes
    secret = by_sid["PseudonymKey"]["Resource"]
    assert function["Environment"]["Variables"]["HCO_PSEUDONYM_KEY_SECRET_ARN"] == secret
    # Sending is the scheduled jobs' work: no SNS or SES here, and never a Scan or a meeting.
    assert not {"dynamodb:Scan", "chime:CreateMeeting", "sns:Publish", "ses:SendEmail"} & actions


def _role_statements(template: dict[str, Any], function: str) -> tuple[str, list[dict[str, Any]]]:
    role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    return role, [s for p in resources(template, "AWS::IAM::ManagedPolicy").values()
                  if {"Ref": role} in p["Properties"].get("Roles", [])
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]


@pytest.mark.parametrize("region", REGIONS)
def test_each_job_function_runs_under_a_role_of_its_own_limited_to_its_partitions(synthesized, infra_config, region):
    from infra.job_grants import JOB_GRANTS

    template = synthesized[region]
    main = next(name for name, t in resources(template, "AWS::DynamoDB::Table").items()
                if t["Properties"]["TableName"] == "hco-prod-main")
    scheduled = {name for name, f in resources(template, "AWS::Serverless::Function").items()
                 if any(e["Type"] == "Schedule" for e in f["Properties"].get("Events", {}).values())}
    # Every job of chalicelib/api/jobs.py, and the Chime meeting events handler (EventBridge).
    assert scheduled | {"ChimeMeetingEvents"} == {g.function for g in JOB_GRANTS.values()}
    api_role, _ = _role_statements(template, "APIHandler")
    stream_role, _ = _role_statements(template, "TableStream")
    roles = set()
    for job, grant in JOB_GRANTS.items():
        function = template["Resources"][grant.function]["Properties"]
        assert function["FunctionName"] == f"hybrid-care-orchestrator-prod-{region}-{job}"
        role, statements = _role_statements(template, grant.function)
        roles.add(role)
        by_sid = {s["Sid"]: s for s in statements}
        table = by_sid["MainTable"]
        assert sorted(_as_list(table["Action"])) == sorted(grant.table_actions)
        assert table["Resource"] == {"Fn::GetAtt": [main, "Arn"]}  # the table: no index, no other table
        assert table["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(grant.leading_keys)}}
        actions = {a for s in statements for a in _as_list(s["Action"])}
        assert {a for a in actions if a.startswith("dynamodb:")} == set(grant.table_actions)
        assert not {"dynamodb:Scan", "chime:CreateMeeting", "dynamodb:GetRecords"} & actions
        # Logs into its own log group only.
        group = next(g for g in resources(template, "AWS::Logs::LogGroup").values()
                     if g["Properties"].get("LogGroupName") == f"/aws/lambda/{function['FunctionName']}")
        assert "KmsKeyId" in group["Properties"]
        assert by_sid["Logs"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
        # Only the outside services its grant names.
        assert ("SmsToPatients" in by_sid) == grant.sms and ("EmailFromTheReminderSender" in by_sid) == grant.email
        assert ("CrisisEscalations" in by_sid) == grant.escalations
        assert ("PseudonymKey" in by_sid) == grant.pseudonym_key
        assert ("EndVideoMeetings" in by_sid) == grant.video_meetings
        if grant.email:
            email = by_sid["EmailFromTheReminderSender"]
            assert email["Condition"] == {"StringEquals": {"ses:FromAddress": "reminders@hybrid-care.example"}}
            assert function["Environment"]["Variables"]["HCO_REMINDER_FROM"] == "reminders@hybrid-care.example"
        if grant.pseudonym_key:
            secret = by_sid["PseudonymKey"]["Resource"]
            assert function["Environment"]["Variables"]["HCO_PSEUDONYM_KEY_SECRET_ARN"] == secret
        # Reminder links: signed with the link key's secret, pointing at the region's patient app. No job
        # seals list cursors.
        env = function.get("Environment", {}).get("Variables", {})
        assert ("LinkSigningKey" in by_sid) == grant.reminder_links
        assert ("HCO_LINK_SIGNING_KEY_SECRET_ARN" in env) == grant.reminder_links
        assert env.get("HCO_LINK_BASE_URL") == (infra_config.region(region).link_base_url
                                                if grant.reminder_links else None)
        if grant.reminder_links:
            assert env["HCO_LINK_SIGNING_KEY_SECRET_ARN"] == by_sid["LinkSigningKey"]["Resource"]
            assert f"secretsmanager.{region}.amazonaws.com" in by_sid["DataKeyThroughServices"]["Condition"][
                "StringEquals"]["kms:ViaService"]
        assert "HCO_CURSOR_KEY_SECRET_ARN" not in env
        kms = by_sid["DataKeyThroughServices"]
        assert sorted(_as_list(kms["Action"])) == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
        assert f"dynamodb.{region}.amazonaws.com" in kms["Condition"]["StringEquals"]["kms:ViaService"]
    assert len(roles) == len(JOB_GRANTS) and not roles & {api_role, stream_role}  # one role per job, none shared
    # No function is left on the placeholder role `chalice package` was given.
    assert all(f["Properties"]["Role"] != "arn:aws:iam::000000000000:role/replaced-by-the-stack"
               for f in resources(template, "AWS::Serverless::Function").values())
