"""moto's DynamoDB Query reads the whole table; DynamoDB reads one partition. Benchmark-only fix.

moto 5.x `Table.query` on the base table builds `all_items()` (every item of every partition,
sorted by key) and then keeps those of the queried partition: each Query costs O(items in the
table). With the 200-clinician calendar (~35 000 lock items in the single table) one Query takes
seconds, and a search makes ~220 of them, so an unpatched figure would measure moto's sort, not the
app. `partition_queries()` makes base-table queries start from the queried partition's own items
(same results, same order: moto sorts them by range key afterwards). Index (GSI) queries are left
alone. It changes moto in this process only, while the context is active, on one thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def partition_queries() -> Iterator[None]:
    from moto.dynamodb.models.table import Table

    original = Table.query
    if getattr(original, "_bench_partition_queries", False):  # already on (nested use)
        yield
        return

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = self.items.get(hash_key, {})
        self.__dict__["all_items"] = lambda: list(partition.values())  # shadows the method
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            self.__dict__.pop("all_items", None)

    query._bench_partition_queries = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = original  # type: ignore[method-assign]


@contextmanager
def plain_json_responses(operations: frozenset[str] = frozenset({"Query", "GetItem"}), verify_first: int = 25
                         ) -> Iterator[dict[str, int]]:
    """Serialize moto's DynamoDB read responses with json.dumps instead of its model-driven serializer.

    moto 5.x runs every response through a generic serializer that walks the botocore output
    shape attribute by attribute (~0.7 ms per returned lock item here); DynamoDB's own service
    time is not in our process at all. The first `verify_first` responses of each operation are
    serialized both ways and must parse to the same JSON (otherwise moto's answer is kept and
    counted as a mismatch). Yields counters: fast, verified, mismatched.
    """
    import json

    from moto.core.responses import ActionResult

    original = ActionResult.execute_result
    stats = {"fast": 0, "verified": 0, "mismatched": 0}
    if getattr(original, "_bench_plain_json", False):  # already on (nested use)
        yield stats
        return
    checked: dict[str, int] = {}

    def execute_result(self: Any, context: Any) -> Any:
        operation = str(context.operation_model.name)
        result = self.result
        if (context.service_model.service_name != "dynamodb" or operation not in operations
                or not isinstance(result, dict) or type(self).__name__ not in ("ActionResult", "DynamoResult")):
            return original(self, context)
        body = json.dumps(result, separators=(",", ":"))
        if checked.get(operation, 0) < verify_first:
            checked[operation] = checked.get(operation, 0) + 1
            status, headers, slow_body = original(self, context)
            if json.loads(slow_body) != json.loads(body) or status != 200:
                stats["mismatched"] += 1
                return status, headers, slow_body
            stats["verified"] += 1
        stats["fast"] += 1
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    execute_result._bench_plain_json = True  # type: ignore[attr-defined]
    ActionResult.execute_result = execute_result  # type: ignore[method-assign]
    try:
        yield stats
    finally:
        ActionResult.execute_result = original  # type: ignore[method-assign]


@contextmanager
def local_server_fixes() -> Iterator[None]:
    """Both fixes, for the local server's moto process (`python -m local.moto_server --setup
    bench.moto_query:local_server_fixes`, which bench/local_server.py asks for)."""
    with partition_queries(), plain_json_responses():
        yield
