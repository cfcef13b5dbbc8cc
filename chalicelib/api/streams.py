"""The main table's DynamoDB stream: one Lambda, its records dispatched by item kind (services/streams.py).

Deployed, infra/api.py points the event source at the table's stream (the ARN here is a placeholder
the stack replaces); locally, local/streams.py reads moto's stream and calls this same handler.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import DynamoDBEvent

from ..bootstrap import get_services

streams = Blueprint(__name__)

HANDLER_NAME = "table_stream"
STREAM_ARN_PLACEHOLDER = "arn:aws:dynamodb:us-east-1:000000000000:table/replaced-by-the-stack/stream/0"


@streams.on_dynamodb_record(stream_arn=STREAM_ARN_PLACEHOLDER, batch_size=100, starting_position="TRIM_HORIZON",
                            name=HANDLER_NAME, maximum_batching_window_in_seconds=1)
def table_stream(event: DynamoDBEvent) -> dict[str, Any]:
    """Answers Lambda's partial batch response: the first change not finished, or none (infra/api.py turns on
    ReportBatchItemFailures, bounded retries and the dead-letter queue of the event source)."""
    from ..adapters.dynamo.stream_records import changes

    raw: dict[str, Any] = event.to_dict()
    return get_services().stream.dispatch(changes(raw.get("Records", []))).response()
