"""KeyedReads on the main table: the items of several stores' reads in one BatchGetItem.

Each read's keys are (pk, sk) of main-table items; its answer gets the raw items found (attribute
values as DynamoDB sends them), read consistently, 100 keys per call, unprocessed keys retried.
"""

from __future__ import annotations

from typing import Any

from pynamodb.connection import Connection

from ...domain.keyed_reads import KeyedRead
from .busy_weeks import read_weeks as read_raw_items  # raw items by (pk, sk): any main-table item, not only weeks


class MainTableReads:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def read_all(self, *reads: KeyedRead[Any]) -> list[Any]:
        wanted = [key for read in reads for key in read.keys]
        found = read_raw_items(self._connection, wanted) if wanted else {}  # type: ignore[arg-type]
        return [read.answer(found) for read in reads]
