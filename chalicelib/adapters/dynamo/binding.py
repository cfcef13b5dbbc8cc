"""Point the PynamoDB models at a table and endpoint; create the tables (local stage, tests)."""

from __future__ import annotations

from pynamodb.connection import Connection

from ...settings import Settings
from .models import MAIN_TABLE_MODELS, TABLE_SCHEMA_MODEL

TTL_ATTRIBUTE = "expires_at"
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"


def bind_models(settings: Settings) -> Connection:
    """Process-wide (class attributes): only the composition root and table creation call it."""
    for model in MAIN_TABLE_MODELS:
        model.Meta.table_name = settings.main_table
        model.Meta.host = settings.dynamodb_endpoint
        model.Meta.region = settings.region
        model._connection = None  # rebuilt lazily against the new binding
    return connect(settings)


def connect(settings: Settings) -> Connection:
    """A PynamoDB connection for transactions; it makes its botocore client on first use."""
    return Connection(region=settings.region, host=settings.dynamodb_endpoint)


def create_tables(settings: Settings) -> None:
    """Idempotent: used by the local runtime and tests; deployed stacks create tables in infra/."""
    import boto3

    bind_models(settings)
    if not TABLE_SCHEMA_MODEL.exists():
        TABLE_SCHEMA_MODEL.create_table(wait=True)
    client = boto3.client("dynamodb", region_name=settings.region, endpoint_url=settings.dynamodb_endpoint)
    client.update_time_to_live(TableName=settings.main_table,
                               TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})
    # As deployed (infra/data.py): the stream its consumer (api/streams.py) reads; local/streams.py drives it.
    if not client.describe_table(TableName=settings.main_table)["Table"].get("StreamSpecification"):
        client.update_table(TableName=settings.main_table, StreamSpecification={
            "StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE})
    _create_idempotency_table(client, settings.idempotency_table)


def _create_idempotency_table(client: object, name: str) -> None:
    """The key schema Powertools' DynamoDBPersistenceLayer expects (partition key `id`)."""
    existing = client.list_tables()["TableNames"]  # type: ignore[attr-defined]
    if name in existing:
        return
    client.create_table(  # type: ignore[attr-defined]
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(  # type: ignore[attr-defined]
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"})
