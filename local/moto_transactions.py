"""moto's TransactWriteItems without a copy of the whole table (the local moto server only).

moto 5 backs up every table a transaction names with `copy.deepcopy` before it writes, so that a
cancelled transaction can be rolled back: each TransactWriteItems costs O(items in the table), and
the local moto server runs one request at a time (local/moto_server.py). Measured on the bench's
local server with the demo tenant seeded: ~95 ms per TransactWriteItems against 2-4 ms per GetItem,
growing with the table. At 32 concurrent booking clients the transactions alone held the lock for
29 s, so clients timed out (and the collapse looked like connection errors).

`journal_transactions()` makes moto's backup a no-op and keeps its own: a deep copy of each item
the transaction names (or the fact that it did not exist) and the length of each named table's
stream shard. A cancelled transaction puts those items back and drops the stream records it
added. A transaction writes only the items its operations name, so the outcome is moto's own.
It relies on the moto server's lock: no other request runs while a transaction is in progress.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Journal:
    items: dict[tuple[str, Any, Any], Any] = field(default_factory=dict)  # (table, hash, range) -> Item | None
    streams: dict[str, tuple[Any, int]] = field(default_factory=dict)  # table -> (shard, records before)

    @classmethod
    def before(cls, backend: Any, transact_items: list[dict[str, Any]]) -> _Journal:
        from moto.dynamodb.models.dynamo_type import DynamoType

        journal = cls()
        for entry in transact_items:
            try:
                op_type, op = next(iter(entry.items()))
                table = backend.tables.get(op.get("TableName"))
                if table is None or op_type == "ConditionCheck":
                    continue
                key = op["Item"] if op_type == "Put" else op["Key"]
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            except (AttributeError, KeyError, StopIteration, TypeError):
                continue  # moto rejects a malformed operation before it writes anything of it
            slot = (table.name, hash_value, range_value)
            if slot not in journal.items:  # the first copy is the state before the transaction
                journal.items[slot] = copy.deepcopy(table.get_item(hash_value, range_value))
            if table.name not in journal.streams and table.stream_shard is not None:
                journal.streams[table.name] = (table.stream_shard, len(table.stream_shard.items))
        return journal

    def roll_back(self, backend: Any) -> None:
        for (table_name, hash_value, range_value), saved in self.items.items():
            table = backend.tables[table_name]
            if range_value is None:
                if saved is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = saved
                continue
            partition = table.items[hash_value]
            if saved is None:
                partition.pop(range_value, None)
                if not partition:
                    del table.items[hash_value]
            else:
                partition[range_value] = saved
        for table_name, (shard, length) in self.streams.items():
            table = backend.tables.get(table_name)
            if table is not None and table.stream_shard is shard and len(shard.items) >= length:
                del shard.items[length:]


def _same_table(table: Any, memo: dict[int, Any]) -> Any:
    return table


def journal_transactions() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_journaled", False):
        return

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        journal = _Journal.before(self, transact_items)
        Table.__deepcopy__ = _same_table  # type: ignore[attr-defined]  # moto's whole-table backup
        try:
            return original(self, transact_items)
        except BaseException:
            journal.roll_back(self)
            raise
        finally:
            del Table.__deepcopy__  # type: ignore[attr-defined]

    transact_write_items._journaled = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
