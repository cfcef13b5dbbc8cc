"""The daily digest job against moto: one Object Lock object per tenant head, nothing else."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from infra.functions.audit_digest import write_digests

pytestmark = pytest.mark.integration


@mock_aws
def test_each_tenants_chain_head_lands_in_the_locked_bucket():
    # GIVEN two tenants' audit heads among other items
    ddb = boto3.client("dynamodb", region_name="ca-central-1")
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}])
    for tenant, seq in (("acme", 7), ("north", 2)):
        ddb.put_item(TableName="t", Item={"pk": {"S": f"T#{tenant}#AUDIT"}, "sk": {"S": "HEAD"},
                                          "seq": {"N": str(seq)}, "last_hash": {"S": f"h-{tenant}"}})
        ddb.put_item(TableName="t", Item={"pk": {"S": f"T#{tenant}#AUDIT"}, "sk": {"S": "SEQ#1"}})
    ddb.put_item(TableName="t", Item={"pk": {"S": "T#acme#DIR"}, "sk": {"S": "HEAD"}})  # not an audit head
    s3 = boto3.client("s3", region_name="ca-central-1")
    s3.create_bucket(Bucket="digests", ObjectLockEnabledForBucket=True,
                     CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})
    s3.put_object_lock_configuration(Bucket="digests", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}})

    # WHEN the job runs
    keys = write_digests(ddb, s3, "t", "digests", datetime(2026, 12, 2, 0, 15, tzinfo=UTC))

    # THEN one locked digest per tenant carries its head
    assert keys == ["digests/2026-12-02/acme.json", "digests/2026-12-02/north.json"]
    acme = s3.get_object(Bucket="digests", Key=keys[0])
    assert json.loads(acme["Body"].read())["seq"] == 7
    assert acme["ObjectLockMode"] == "COMPLIANCE"
    with pytest.raises(s3.exceptions.ClientError):
        s3.delete_object(Bucket="digests", Key=keys[0], VersionId=acme["VersionId"])
