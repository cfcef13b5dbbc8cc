"""The audit chain: each entry carries the hash of the one before it, so an edit, a removal or a
cut-off tail is detectable by walking the chain. Pure: the hashing and the verification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "at", "tenant_id", "actor", "action", "resource", "patient_id", "outcome", "request_id",
                 "prev_hash")


# Hashed when present (payer-side entries), so entries written before they existed keep their hashes.
OPTIONAL_HASHED_FIELDS = ("member", "asking_tenant")


def entry_hash(entry: Mapping[str, Any]) -> str:
    fields = {k: entry.get(k) for k in HASHED_FIELDS} | {k: entry[k] for k in OPTIONAL_HASHED_FIELDS if k in entry}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str | None = None
    parked: int = 0  # entries written under contention and not chained yet (not tampering: a backlog)


def verify_chain(entries: Iterable[Mapping[str, Any]], head_seq: int, head_hash: str) -> ChainReport:
    """Walk entries in sequence order; every link and every hash must hold, and the end must be the head."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for entry in entries:
        seq = int(entry["seq"])
        if seq != expected_seq:
            return ChainReport(False, count, expected_seq, f"entry {expected_seq} is missing")
        if entry.get("prev_hash") != expected_prev:
            return ChainReport(False, count, seq, f"entry {seq} does not link to entry {seq - 1}")
        if entry_hash(entry) != entry.get("hash"):
            return ChainReport(False, count, seq, f"entry {seq} was altered after it was written")
        expected_prev, expected_seq, count = str(entry["hash"]), seq + 1, count + 1
    if count != head_seq or expected_prev != (head_hash if head_seq else GENESIS):
        return ChainReport(False, count, count + 1, f"the chain ends at {count} but the head says {head_seq}")
    return ChainReport(True, count)
