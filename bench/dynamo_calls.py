"""Count and time the DynamoDB calls a block of code makes, through botocore's event hooks.

    from bench.dynamo_calls import DynamoCalls

    with DynamoCalls() as calls:
        services.booking.book(caller, body)
    calls.counts()   # {"GetItem": 3, "PutItem": 1, "Query": 1, "TransactWriteItems": 1, "total": 6}
    calls.seconds    # wall time spent inside those botocore calls
    calls.targets()  # ["GetItem main T#·#PAT#·/PROFILE", "TransactWriteItems main [Put T#·#CLIN#·/BLOCK#· x4, ...]"]
    calls.items_read # items DynamoDB read: ScannedCount of a Query/Scan, the items of a Get/BatchGet

How it sees every call: PynamoDB builds its own botocore session per connection (and per
thread), boto3 has its default session, and each session has its own event system. Handlers
listed in `botocore.handlers.BUILTIN_HANDLERS` are registered on every session created after
they are added (moto's mock uses the same door), so `install()` adds ours there once;
`watch(session_or_client)` adds them to a session that already existed. Outside a `with` block the
handlers return at once and record nothing; no code of the application is patched.

What a call's time covers: from `provide-client-params` (the first event of
`BaseClient._make_api_call`) to `after-call` / `after-call-error`: botocore's parameter
validation and serialization, signing, the round trip (moto in-process, a moto server, or
DynamoDB), and response parsing. It does not include PynamoDB's own model (de)serialization
around the call. `transport_seconds` is the part from `before-send` to `before-parse`: the round
trip alone (with moto in-process: moto's own work), so `seconds - transport_seconds` is botocore's
client-side work, which stays in our process in production too. Retries inside one call add up.
Recorders see calls from every thread while they are active.

`targets()` describes each call by its key *shapes*: the upper-case parts of `pk`/`sk` are kept,
everything else (ids, dates, hashes) becomes `·`, so no id ever reaches a report.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SERVICE = "dynamodb"
_START = "_bench_dynamo_calls_started"
_TARGET = "_bench_dynamo_calls_target"

_lock = threading.Lock()
_active: list[DynamoCalls] = []
_installed = False
_thread = threading.local()


@dataclass
class Call:
    operation: str
    seconds: float
    ok: bool
    transport_seconds: float = 0.0
    target: str = ""
    items_read: int = 0
    started: float = 0.0  # perf_counter at the call's start: overlapping calls (concurrent batches) are told apart


@dataclass(eq=False)
class DynamoCalls:
    """One recording, as a context manager. Recorders may nest or overlap; each sees every call."""

    calls: list[Call] = field(default_factory=list)

    def __enter__(self) -> DynamoCalls:
        install()
        with _lock:
            _active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            if self in _active:
                _active.remove(self)

    # --- results -----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Calls by operation name (botocore's, e.g. "GetItem"), sorted, plus "total"."""
        by_op = Counter(c.operation for c in self.calls)
        result = dict(sorted(by_op.items()))
        result["total"] = sum(by_op.values())
        return result

    def targets(self) -> list[str]:
        """Each call in order, by operation, table suffix and key shapes (ids removed)."""
        return [f"{c.operation} {c.target}{'' if c.ok else ' (failed)'}" for c in self.calls]

    @property
    def total(self) -> int:
        return len(self.calls)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.calls)

    @property
    def transport_seconds(self) -> float:
        return sum(c.transport_seconds for c in self.calls)

    @property
    def wall_seconds(self) -> float:
        """Wall time with at least one call in flight: `seconds` counts concurrent calls once each, so it can
        exceed the time they took together."""
        total, reach = 0.0, float("-inf")
        for begin, end in sorted((c.started, c.started + c.seconds) for c in self.calls):
            if end > reach:
                total += end - max(begin, reach)
                reach = end
        return total

    @property
    def wall_transport_seconds(self) -> float:
        """The transport share of `wall_seconds` (concurrent calls' transport scaled like their total)."""
        return self.transport_seconds * self.wall_seconds / self.seconds if self.seconds else 0.0

    @property
    def items_read(self) -> int:
        """Items DynamoDB read for these calls (what read capacity is charged on, before any filter)."""
        return sum(c.items_read for c in self.calls)

    @property
    def failed(self) -> int:
        """Calls that raised (conditional check failures, cancelled transactions, ...)."""
        return sum(1 for c in self.calls if not c.ok)

    def reset(self) -> None:
        with _lock:
            self.calls.clear()


# --- the handlers ------------------------------------------------------------------------------
def _on_start(params: Any = None, model: Any = None, context: dict[str, Any] | None = None, **_: Any) -> None:
    if _active and context is not None:
        _thread.transport = 0.0
        _thread.sent = None
        context[_TARGET] = describe(getattr(model, "name", ""), params)
        context[_START] = time.perf_counter()


def _before_send(**_: Any) -> None:
    if _active:
        _thread.sent = time.perf_counter()


def _before_parse(**_: Any) -> None:
    sent = getattr(_thread, "sent", None)
    if _active and sent is not None:
        _thread.transport = getattr(_thread, "transport", 0.0) + time.perf_counter() - sent
        _thread.sent = None


def items_read(operation: str, parsed: Any) -> int:
    """From a parsed response: ScannedCount (Query/Scan read that many before filtering), else Count,
    else the items a GetItem, BatchGetItem or TransactGetItems returned."""
    if not isinstance(parsed, dict):
        return 0
    for name in ("ScannedCount", "Count"):
        if isinstance(parsed.get(name), int):
            return int(parsed[name])
    if operation == "GetItem":
        return 1 if parsed.get("Item") else 0
    if operation == "BatchGetItem":
        return sum(len(rows) for rows in (parsed.get("Responses") or {}).values())
    if operation == "TransactGetItems":
        return sum(1 for row in parsed.get("Responses") or [] if row.get("Item"))
    return 0


def _on_end(ok: bool, model: Any = None, context: dict[str, Any] | None = None, parsed: Any = None) -> None:
    if context is None:
        return
    started = context.pop(_START, None)
    if not _active or started is None:  # the call began before any recorder was active
        return
    elapsed = time.perf_counter() - started
    operation = getattr(model, "name", None) or str(context.get("operation_name", "?"))
    call = Call(operation, elapsed, ok, getattr(_thread, "transport", 0.0), str(context.get(_TARGET, "")),
                items_read(operation, parsed) if ok else 0, started)
    _thread.transport = 0.0
    with _lock:
        for recorder in _active:
            recorder.calls.append(call)


def _after_call(http_response: Any = None, parsed: Any = None, model: Any = None,
                context: dict[str, Any] | None = None, **_: Any) -> None:
    status = getattr(http_response, "status_code", 200)
    _on_end(status < 300, model, context, parsed)


def _after_call_error(context: dict[str, Any] | None = None, **_: Any) -> None:
    _on_end(False, None, context)


def _remember_operation(model: Any = None, context: dict[str, Any] | None = None, **_: Any) -> None:
    # after-call-error carries no model: keep the operation name where it can find it.
    if _active and context is not None and model is not None:
        context["operation_name"] = model.name


def _handlers() -> list[tuple[Any, ...]]:
    from botocore import handlers

    return [
        (f"provide-client-params.{SERVICE}", _on_start, handlers.REGISTER_FIRST),
        (f"before-call.{SERVICE}", _remember_operation),
        (f"before-send.{SERVICE}", _before_send, handlers.REGISTER_FIRST),  # before moto answers
        (f"before-parse.{SERVICE}", _before_parse, handlers.REGISTER_FIRST),
        (f"after-call.{SERVICE}", _after_call, handlers.REGISTER_LAST),
        (f"after-call-error.{SERVICE}", _after_call_error, handlers.REGISTER_LAST),
    ]


def install() -> None:
    """Add the handlers for every botocore session created from now on (idempotent)."""
    global _installed
    if _installed:
        return
    from botocore import handlers

    with _lock:
        if not _installed:
            handlers.BUILTIN_HANDLERS.extend(_handlers())
            _installed = True
    try:  # boto3's default session may already exist
        import boto3

        if boto3.DEFAULT_SESSION is not None:
            watch(boto3.DEFAULT_SESSION)
    except ImportError:
        pass


def watch(target: Any) -> None:
    """Add the handlers to an existing botocore/boto3 session or client."""
    from botocore import handlers

    events = getattr(getattr(target, "meta", None), "events", None)  # a client
    if events is None:
        core = getattr(target, "_session", target)  # boto3.Session wraps a botocore session
        events = core.get_component("event_emitter")
    for spec in _handlers():
        name, handler = spec[0], spec[1]
        unique_id = f"bench-dynamo-calls-{name}"
        if len(spec) == 3 and spec[2] is handlers.REGISTER_FIRST:
            events.register_first(name, handler, unique_id=unique_id)
        elif len(spec) == 3 and spec[2] is handlers.REGISTER_LAST:
            events.register_last(name, handler, unique_id=unique_id)
        else:
            events.register(name, handler, unique_id=unique_id)


# --- key shapes ----------------------------------------------------------------------------------
_WORD = re.compile(r"^[A-Z][A-Z0-9_]*$")


def shape(value: Any) -> str:
    """'T#demo#PAT#pat_ny' -> 'T#·#PAT#·': keep the upper-case markers, hide everything else."""
    text = value.get("S", "·") if isinstance(value, dict) else str(value)
    return "#".join(part if _WORD.match(part) else "·" for part in text.split("#"))


def _key_shape(key: Any) -> str:
    if not isinstance(key, dict):
        return "?"
    names = [n for n in ("pk", "sk", "id") if n in key] or sorted(key)[:2]
    return "/".join(shape(key[n]) for n in names)


def _table(name: Any) -> str:
    return str(name or "?").rsplit("-", 1)[-1]  # hco-bench-main -> main


def describe(operation: str, params: Any) -> str:
    if not isinstance(params, dict):
        return ""
    if operation == "TransactWriteItems":
        parts: Counter[str] = Counter()
        for entry in params.get("TransactItems", []):
            for action, body in entry.items():
                key = body.get("Key") or body.get("Item") or {}
                parts[f"{action} {_table(body.get('TableName'))}:{_key_shape(key)}"] += 1
        return "[" + ", ".join(f"{p}{f' x{n}' if n > 1 else ''}" for p, n in parts.items()) + "]"
    if operation == "BatchGetItem":
        got: Counter[str] = Counter()
        for name, request in (params.get("RequestItems") or {}).items():
            for key in request.get("Keys", []):
                got[f"{_table(name)}:{_key_shape(key)}"] += 1
        return "[" + ", ".join(f"{p}{f' x{n}' if n > 1 else ''}" for p, n in got.items()) + "]"
    table = _table(params.get("TableName"))
    if operation == "Query":
        values = params.get("ExpressionAttributeValues") or {}
        first = next(iter(values.values()), None)
        index = params.get("IndexName")
        return f"{table}{f'/{index}' if index else ''} {shape(first) if first else '?'}"
    key = params.get("Key") or params.get("Item")
    return f"{table} {_key_shape(key)}" if key is not None else table
