"""The audit chain: each chained entry carries the hash of the one before it, so an edit, a removal or a
cut-off tail is detectable by walking the chain. Pure: ordering a batch, linking it, verifying.

Requests write their entries unchained; a stream consumer links them in batches afterwards
(adapters/dynamo/audit.py). An entry that waits longer than the stated bound fails verification:
chaining that stopped is a fault, not a backlog to live with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "entry_id", "at", "tenant_id", "actor", "action", "resource", "patient_id", "outcome",
                 "request_id", "prev_hash")


# Hashed when present (payer-side entries).
OPTIONAL_HASHED_FIELDS = ("member", "asking_tenant")


def entry_hash(entry: Mapping[str, Any]) -> str:
    fields = {k: entry.get(k) for k in HASHED_FIELDS} | {k: entry[k] for k in OPTIONAL_HASHED_FIELDS if k in entry}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain_order(entry: Mapping[str, Any]) -> tuple[str, str]:
    """The order a batch is chained in: by time, ties broken by id, so a redelivered batch links the same way."""
    return str(entry["at"]), str(entry["entry_id"])


@dataclass(frozen=True)
class Link:
    entry_id: str
    seq: int
    prev_hash: str
    hash: str


def link_batch(entries: Iterable[Mapping[str, Any]], head_seq: int, head_hash: str) -> list[Link]:
    """The links of `entries` after a head at (head_seq, head_hash), in chain_order."""
    links, prev, seq = [], head_hash if head_seq else GENESIS, head_seq
    for entry in sorted(entries, key=chain_order):
        seq += 1
        digest = entry_hash({**entry, "seq": seq, "prev_hash": prev})
        links.append(Link(str(entry["entry_id"]), seq, prev, digest))
        prev = digest
    return links


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int  # chained entries that verified
    first_bad_seq: int | None = None
    problem: str | None = None
    waiting: int = 0  # written, not chained yet
    oldest_waiting_seconds: int | None = None
    max_wait_seconds: int | None = None


def verify_chain(links: Iterable[tuple[Mapping[str, Any], Mapping[str, Any] | None]], head_seq: int,
                 head_hash: str) -> ChainReport:
    """Walk (link, entry document) pairs in sequence order: every place filled, every link and hash holding,
    every entry as it was when chained, and the end where the head says."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for link, doc in links:
        seq = int(link["seq"])
        if seq != expected_seq:
            return ChainReport(False, count, expected_seq, f"entry {expected_seq} is missing")
        if link.get("prev_hash") != expected_prev:
            return ChainReport(False, count, seq, f"entry {seq} does not link to entry {seq - 1}")
        if doc is None:
            return ChainReport(False, count, seq, f"entry {seq} is missing")
        if entry_hash({**doc, "seq": seq, "prev_hash": link["prev_hash"]}) != link.get("hash"):
            return ChainReport(False, count, seq, f"entry {seq} was altered after it was written")
        expected_prev, expected_seq, count = str(link["hash"]), seq + 1, count + 1
    if count != head_seq or expected_prev != (head_hash if head_seq else GENESIS):
        return ChainReport(False, count, count + 1, f"the chain ends at {count} but the head says {head_seq}")
    return ChainReport(True, count)


def with_waiting(report: ChainReport, waiting_ages: Sequence[int], max_wait_seconds: int) -> ChainReport:
    """Add the entries not chained yet; an entry older than the bound fails the report (chaining stopped)."""
    oldest = max(waiting_ages, default=None)
    base = ChainReport(report.ok, report.entries, report.first_bad_seq, report.problem, len(waiting_ages), oldest,
                       max_wait_seconds)
    if not report.ok or oldest is None or oldest <= max_wait_seconds:
        return base
    late = sum(1 for age in waiting_ages if age > max_wait_seconds)
    return ChainReport(False, report.entries, None,
                       f"{late} entries have waited more than {max_wait_seconds} s to be chained "
                       f"(oldest {oldest} s)", len(waiting_ages), oldest, max_wait_seconds)
