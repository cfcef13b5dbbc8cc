"""The main table's stream, dispatched by item kind: each consumer gets the changes of the kinds it follows.

One stream, one Lambda (api/streams.py): a consumer registers for item kinds ("audit": the chain;
"appointment": the visit's followers, services/visit_followers.py). Changes of kinds nobody follows are
skipped. A consumer must be idempotent: when one raises, the others still run, then the batch fails and
Lambda delivers the whole batch again (to every consumer), in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..domain.changes import Change
from ..observability import logger

__all__ = ["Change", "Consumer", "StreamDispatcher"]


Consumer = Callable[[Sequence[Change]], Mapping[str, int]]


class StreamDispatcher:
    def __init__(self, consumers: Mapping[str, Sequence[Consumer]] | None = None) -> None:
        self.consumers: dict[str, list[Consumer]] = {k: list(v) for k, v in (consumers or {}).items()}

    def follow(self, kind: str, consumer: Consumer) -> None:
        self.consumers.setdefault(kind, []).append(consumer)

    def dispatch(self, changes: Sequence[Change]) -> dict[str, int]:
        """Each consumer once per delivery with its kinds' changes, in stream order; kinds in sorted order."""
        by_kind: dict[str, list[Change]] = {}
        for change in changes:
            if change.kind in self.consumers:
                by_kind.setdefault(change.kind, []).append(change)
        totals: dict[str, int] = {"records": len(changes), "skipped": len(changes) - sum(map(len, by_kind.values()))}
        failed: list[Exception] = []
        for kind in sorted(by_kind):
            for consumer in self.consumers[kind]:
                try:
                    counts = consumer(by_kind[kind])
                except Exception as exc:
                    # Every consumer still gets the batch (the audit chain does not wait on a visit follower);
                    # the first failure is raised afterwards, so Lambda delivers the whole batch again.
                    failed.append(exc)
                    totals["failed_consumers"] = totals.get("failed_consumers", 0) + 1
                    continue
                for key, value in counts.items():
                    totals[key] = totals.get(key, 0) + value
        logger.info("stream batch", extra=totals)  # counts only: images carry PHI-adjacent ids
        if failed:
            raise failed[0]
        return totals
