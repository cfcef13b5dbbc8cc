"""The main table's stream, dispatched by item kind: each consumer gets the changes of the kinds it follows.

One stream, one Lambda (api/streams.py): a consumer registers for item kinds ("audit": the chain;
"appointment": the visit's followers, services/visit_followers.py). Changes of kinds nobody follows are
skipped. Kinds run in the order they were registered (the audit chain first: a slow or failing follower
never holds it), and every consumer gets the whole batch even when another failed.

A failure is reported, not raised: the delivery names the first change of the batch that some consumer
did not finish (Lambda's partial batch response, `ReportBatchItemFailures`), and Lambda delivers the
stream again from that change on, a bounded number of times (infra/api.py), then sends the range's
metadata to the stream's dead-letter queue and moves on. A consumer must therefore be idempotent: the
changes after the failed one come again too, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..domain.changes import Change, ChangesFailed
from ..observability import logger

__all__ = ["Change", "ChangesFailed", "Consumer", "Delivery", "StreamDispatcher"]


Consumer = Callable[[Sequence[Change]], Mapping[str, int]]


@dataclass(frozen=True)
class Delivery:
    """What one delivery did: counts, and the first change not finished (None: the whole batch is done)."""

    totals: dict[str, int] = field(default_factory=dict)
    failed_from: str | None = None

    def response(self) -> dict[str, Any]:
        """Lambda's partial batch response: retry from `failed_from` on; an empty list checkpoints it all."""
        return {"batchItemFailures": [{"itemIdentifier": self.failed_from}] if self.failed_from else []}


class StreamDispatcher:
    def __init__(self, consumers: Mapping[str, Sequence[Consumer]] | None = None) -> None:
        self.consumers: dict[str, list[Consumer]] = {k: list(v) for k, v in (consumers or {}).items()}

    def follow(self, kind: str, consumer: Consumer) -> None:
        self.consumers.setdefault(kind, []).append(consumer)

    def dispatch(self, changes: Sequence[Change]) -> Delivery:
        """Each consumer once per delivery with its kinds' changes, in stream order."""
        by_kind: dict[str, list[Change]] = {kind: [] for kind in self.consumers}
        first_failed: int | None = None
        errors: list[str] = []
        for n, change in enumerate(changes):
            if change.unreadable:  # nobody can follow it: it fails at its place, the others go on
                first_failed = n if first_failed is None else first_failed
                errors.append("unreadable record")
            elif change.kind in by_kind:
                by_kind[change.kind].append(change)
        totals: dict[str, int] = {"records": len(changes), "skipped": len(changes) - sum(map(len, by_kind.values()))}
        position = {change.sequence: n for n, change in enumerate(changes)}
        for kind, mine in by_kind.items():
            if not mine:
                continue
            for consumer in self.consumers[kind]:
                try:
                    counts = consumer(mine)
                except Exception as exc:
                    errors.append(type(exc).__name__)
                    totals["failed_consumers"] = totals.get("failed_consumers", 0) + 1
                    # A consumer that names its failed changes had the others done; any other failure
                    # leaves all of its changes undone, so the stream comes again from its first one.
                    failed = exc.sequences if isinstance(exc, ChangesFailed) else (mine[0].sequence,)
                    at = min((position.get(s, position[mine[0].sequence]) for s in failed),
                             default=position[mine[0].sequence])
                    first_failed = at if first_failed is None else min(first_failed, at)
                    continue
                for key, value in counts.items():
                    totals[key] = totals.get(key, 0) + value
        delivery = Delivery(totals, None if first_failed is None else changes[first_failed].sequence)
        # Counts, sequence numbers and exception type names only: images carry PHI-adjacent ids.
        if delivery.failed_from is None:
            logger.info("stream batch", extra=totals)
        else:
            logger.warning("stream batch failed from a change on; the stream comes again from it",
                           extra={**totals, "failed_from": delivery.failed_from, "errors": sorted(set(errors))})
        return delivery
