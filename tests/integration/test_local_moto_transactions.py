"""The local moto server's journaled TransactWriteItems (local/moto_transactions.py) keeps moto's outcome:
a cancelled transaction leaves every item and the table's stream as they were; a committed one writes."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from local.moto_transactions import journal_transactions

pytestmark = pytest.mark.integration

TABLE = "journal-test"


@pytest.fixture
def ddb() -> Iterator[object]:
    journal_transactions()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}],
                            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        client.create_table(TableName=f"{TABLE}-flat", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        client.put_item(TableName=TABLE, Item={"pk": {"S": "A"}, "sk": {"S": "1"}, "n": {"N": "1"}})
        client.put_item(TableName=TABLE, Item={"pk": {"S": "A"}, "sk": {"S": "2"}, "n": {"N": "2"}})
        client.put_item(TableName=f"{TABLE}-flat", Item={"id": {"S": "x"}, "v": {"S": "old"}})
        yield client


def _stream_records(client) -> int:  # type: ignore[no-untyped-def]
    """The records moto's stream shard of the table holds (what a stream reader would get)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return len(dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[TABLE].stream_shard.items)


def _everything(client) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def]
    return {name: sorted(client.scan(TableName=name)["Items"], key=str) for name in (TABLE, f"{TABLE}-flat")}


def test_a_cancelled_transaction_leaves_items_and_stream_as_they_were(ddb):
    before, records = _everything(ddb), _stream_records(ddb)

    with pytest.raises(ddb.exceptions.TransactionCanceledException) as cancelled:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "B"}, "sk": {"S": "1"}}}},  # a new partition
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "A"}, "sk": {"S": "3"}}}},  # new in an old one
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "A"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET n = :n", "ExpressionAttributeValues": {":n": {"N": "9"}}}},
            {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "A"}, "sk": {"S": "2"}}}},
            {"Put": {"TableName": f"{TABLE}-flat", "Item": {"id": {"S": "x"}, "v": {"S": "new"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "Z"}, "sk": {"S": "9"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ])

    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None"] * 5 + ["ConditionalCheckFailed"]
    assert _everything(ddb) == before
    assert _stream_records(ddb) == records


def test_a_committed_transaction_writes_every_item_and_its_stream_records(ddb):
    records = _stream_records(ddb)

    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "B"}, "sk": {"S": "1"}}}},
        {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "A"}, "sk": {"S": "1"}},
                    "UpdateExpression": "SET n = :n", "ExpressionAttributeValues": {":n": {"N": "9"}}}},
        {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "A"}, "sk": {"S": "2"}}}},
        {"Put": {"TableName": f"{TABLE}-flat", "Item": {"id": {"S": "x"}, "v": {"S": "new"}}}},
    ])

    items = _everything(ddb)
    assert [(i["pk"]["S"], i["sk"]["S"], i.get("n")) for i in sorted(items[TABLE], key=lambda i: (i["pk"]["S"],
                                                                                                   i["sk"]["S"]))] \
        == [("A", "1", {"N": "9"}), ("B", "1", None)]
    assert items[f"{TABLE}-flat"] == [{"id": {"S": "x"}, "v": {"S": "new"}}]
    assert _stream_records(ddb) == records + 3  # the flat table has no stream


def test_two_operations_on_one_item_are_refused_and_nothing_is_written(ddb):
    before = _everything(ddb)

    with pytest.raises(ddb.exceptions.ClientError):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "C"}, "sk": {"S": "1"}}}},
            {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "C"}, "sk": {"S": "1"}}}},
        ])

    assert _everything(ddb) == before


def test_the_backup_no_longer_copies_the_table(ddb):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    table = backend.tables[TABLE]
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "A"}, "sk": {"S": "1"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}}])

    assert backend.tables[TABLE] is table  # moto's rollback would have swapped in a deep copy
