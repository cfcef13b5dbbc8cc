"""Daily: write each tenant's audit chain head (sequence number and hash) to the Object Lock bucket.

The audit chain (chalicelib/domain/audit_chain.py) proves its entries follow one another; these
write-once digests prove the chain was not rewritten as a whole afterwards: re-verifying the
chain must reach, at each digested sequence number, exactly the digested hash (infra/README.md).
Runs as an admin job, so a Scan for the head items is allowed here and nowhere on a request path.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import Any

METRIC_NAMESPACE = "HybridCareOrchestrator"
ANCHORED_METRIC = "AuditChainAnchored"  # the audit-chain lag alarm fires when a day passes without it


def heads(client: Any, table: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table, "FilterExpression": "sk = :head AND begins_with(pk, :tenant)",
        "ProjectionExpression": "pk, seq, last_hash",
        "ExpressionAttributeValues": {":head": {"S": "HEAD"}, ":tenant": {"S": "T#"}}}
    while True:
        page = client.scan(**kwargs)
        for item in page.get("Items", []):
            pk = item["pk"]["S"]  # T#{tenant}#AUDIT
            if pk.endswith("#AUDIT"):
                found.append({"tenant": pk[2:-len("#AUDIT")], "seq": int(item["seq"]["N"]),
                              "head_hash": item["last_hash"]["S"]})
        if "LastEvaluatedKey" not in page:
            return sorted(found, key=lambda h: h["tenant"])
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def write_digests(dynamodb: Any, s3: Any, table: str, bucket: str, now: datetime) -> list[str]:
    day = now.strftime("%Y-%m-%d")
    keys = []
    for head in heads(dynamodb, table):
        body = json.dumps({**head, "digested_at": now.isoformat(), "table": table}, sort_keys=True).encode()
        key = f"digests/{day}/{head['tenant']}.json"
        # The bucket's default retention (compliance mode) applies; Object Lock needs a checksum.
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json",
                      ChecksumAlgorithm="SHA256")
        keys.append(key)
    return keys


def handler(event: Any, context: Any) -> dict[str, Any]:
    import boto3

    keys = write_digests(boto3.client("dynamodb"), boto3.client("s3"), os.environ["HCO_MAIN_TABLE"],
                         os.environ["HCO_AUDIT_DIGEST_BUCKET"], datetime.now(UTC))
    # CloudWatch embedded metric format: a metric from a log line, no PutMetricData permission needed.
    print(json.dumps({"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
        "Namespace": METRIC_NAMESPACE, "Dimensions": [["Stage"]],
        "Metrics": [{"Name": ANCHORED_METRIC, "Unit": "Count"}, {"Name": "AuditDigestTenants", "Unit": "Count"}]}]},
        "Stage": os.environ.get("HCO_STAGE", ""), ANCHORED_METRIC: 1, "AuditDigestTenants": len(keys)}))
    return {"digests": len(keys)}
