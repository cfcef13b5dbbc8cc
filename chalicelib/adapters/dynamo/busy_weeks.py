"""Busy-week items: the 15-minute blocks one holder (clinician, patient, site rooms) holds in one UTC ISO week.

One item per holder and week (pk = the holder's partition, sk=WEEK#{monday}); each held block is a top-level
attribute named by its place in the week (keys.block_attr: b{isoweekday}{HHMM}, rooms r{isoweekday}{HHMM}#{room})
whose value is the holder: an appointment id, or "{expires epoch:010d}|{hold id}" for a waitlist hold. Writes
are Path(name) updates in the caller's transaction, one per item, each block under its own condition; reads are
raw (no model can declare the attributes), 100 items per BatchGetItem.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.expressions.operand import Path

from ...domain.errors import DependencyUnavailable
from ...domain.model import Appointment, Modality
from ...domain.timeblocks import blocks_covering
from . import keys
from .models import BusyWeekItem


@dataclass(frozen=True)
class Lock:
    """One held 15-minute block: attribute `attr` of the busy-week item (pk, sk)."""

    holder: str  # clinician | patient | room
    pk: str
    sk: str
    attr: str
    room: str | None = None

    @property
    def item(self) -> tuple[str, str]:
        return self.pk, self.sk

    @property
    def key(self) -> tuple[str, str, str]:
        return self.pk, self.sk, self.attr


def block_lock(holder: str, pk: str, block: datetime, room: str | None = None) -> Lock:
    return Lock(holder, pk, keys.week_sk(keys.week_of(block)), keys.block_attr(block, room), room)


def locks_for(appointment: Appointment) -> list[Lock]:
    """Every block an active appointment holds."""
    t = appointment.tenant_id
    held_until = appointment.end + timedelta(minutes=appointment.buffer_minutes)
    locks = [block_lock("clinician", keys.clinician_pk(t, appointment.clinician_id), b)
             for b in blocks_covering(appointment.start, held_until)]
    locks += [block_lock("patient", keys.patient_pk(t, appointment.patient_id), b)
              for b in blocks_covering(appointment.start, appointment.end)]
    if appointment.modality is Modality.IN_PERSON and appointment.site_id and appointment.room:
        locks += [block_lock("room", keys.site_pk(t, appointment.site_id), b, appointment.room)
                  for b in blocks_covering(appointment.start, appointment.end)]
    return locks


def hold_locks(tenant: str, clinician_id: str, start: datetime, held_until: datetime) -> tuple[Lock, ...]:
    """The clinician blocks a waitlist offer holds (start up to held_until), owned by its hold id."""
    pk = keys.clinician_pk(tenant, clinician_id)
    return tuple(block_lock("clinician", pk, b) for b in blocks_covering(start, held_until))


def hold_value(expires_epoch: int, hold_id: str) -> str:
    """A waitlist hold's block value: digits first, so that it sorts below any later `now` once expired and
    below every appointment id ("apt_…") always."""
    return f"{expires_epoch:010d}|{hold_id}"


def now_value(moment: datetime) -> str:
    return f"{int(moment.timestamp()):010d}"


def is_free(attr: str, now: str, hold_id: str | None = None) -> Any:
    """Condition: the block is not held, or held by a hold that has expired, or (`hold_id`) by that hold.

    Only a hold's value has a "|": an appointment id that happened to sort below `now` is never free."""
    path = Path([attr])
    free = path.does_not_exist() | ((path < now) & path.contains("|"))
    return free | path.contains(f"|{hold_id}") if hold_id else free


def held_by(attr: str, holder: str) -> Any:
    return Path([attr]) == holder


def held_by_hold(attr: str, hold_id: str) -> Any:
    return Path([attr]).contains(f"|{hold_id}")


def _all(conditions: Sequence[Any]) -> Any:
    condition = conditions[0]
    for more in conditions[1:]:
        condition = condition & more
    return condition


def week_updates(takes: Iterable[tuple[Lock, Any]], value: str, releases: Iterable[tuple[Lock, Any]] = (),
                 release_label: str = "appointment") -> list[tuple[BusyWeekItem, list[Any], str, Any]]:
    """One update per busy-week item: SET `value` on the blocks taken, REMOVE the blocks released, each under
    its own condition (a transaction may touch an item only once). Its label names what a failed condition
    most likely means: the holder whose blocks were being taken, else `release_label`."""
    grouped: dict[tuple[str, str], tuple[list[tuple[Lock, Any]], list[tuple[Lock, Any]]]] = {}
    for lock, condition in takes:
        grouped.setdefault(lock.item, ([], []))[0].append((lock, condition))
    for lock, condition in releases:
        grouped.setdefault(lock.item, ([], []))[1].append((lock, condition))
    updates = []
    for (pk, sk), (taken, released) in grouped.items():
        actions: list[Any] = [Path([lock.attr]).set(value) for lock, _ in taken]
        actions += [Path([lock.attr]).remove() for lock, _ in released]
        if taken:
            actions.append(BusyWeekItem.kind.set("busy_week"))
        label = taken[0][0].holder if taken else release_label
        updates.append((BusyWeekItem(pk, sk), actions, label, _all([c for _, c in taken + released])))
    return updates


def weeks_covering(start: datetime, end: datetime) -> list[str]:
    """sk of every week item a read of [start, end) needs."""
    monday, last = keys.week_of(start), keys.week_of(end)
    weeks = []
    while monday <= last:
        weeks.append(keys.week_sk(monday))
        monday += timedelta(days=7)
    return weeks


BATCH_KEYS = 100  # BatchGetItem's limit
_READERS = 4
_pool: ThreadPoolExecutor | None = None


def _readers() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:  # lazily, once per process: most requests read one batch and need no thread
        _pool = ThreadPoolExecutor(_READERS, thread_name_prefix="busy-weeks")
    return _pool


def read_weeks(connection: Connection, item_keys: Sequence[tuple[str, str]], *, attempts: int = 8,
               ) -> dict[tuple[str, str], dict[str, Any]]:
    """Raw busy-week items by (pk, sk), consistent, 100 keys per BatchGetItem (the batches concurrently);
    unprocessed keys are retried with backoff. Raw: the block attributes are named by position and no
    model can declare them."""
    client = connection.client
    unique = list(dict.fromkeys(item_keys))
    batches = [unique[i:i + BATCH_KEYS] for i in range(0, len(unique), BATCH_KEYS)]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    answers = (_readers().map(lambda b: _read_batch(client, b, attempts), batches) if len(batches) > 1
               else map(lambda b: _read_batch(client, b, attempts), batches))
    for answer in answers:
        found.update(answer)
    return found


def _read_batch(client: Any, batch: Sequence[tuple[str, str]], attempts: int) -> dict[tuple[str, str], dict[str, Any]]:
    table = BusyWeekItem.Meta.table_name
    found: dict[tuple[str, str], dict[str, Any]] = {}
    pending: list[dict[str, Any]] = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in batch]
    for attempt in range(attempts):
        answer = client.batch_get_item(RequestItems={table: {"Keys": pending, "ConsistentRead": True}})
        for raw in answer.get("Responses", {}).get(table, []):
            found[(raw["pk"]["S"], raw["sk"]["S"])] = raw
        pending = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        if not pending:
            return found
        time.sleep(min(0.05 * 2 ** attempt, 1.0))  # DynamoDB throttled part of the batch: back off
    raise DependencyUnavailable("The booking store is busy; retry.", headers={"Retry-After": "1"})


def blocks_of(raw: dict[str, Any]) -> Iterator[tuple[datetime, str | None, str]]:
    """(block, room, holder) of every block a raw busy-week item holds."""
    monday = date.fromisoformat(raw["sk"]["S"].removeprefix("WEEK#"))
    for name, value in raw.items():
        parsed = keys.parse_block_attr(monday, name)
        if parsed is not None and "S" in value:
            yield parsed[0], parsed[1], value["S"]


def read_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The span a read of [start, end) covers: a day wider each side, so buffers that reach into it count."""
    return start - timedelta(days=1), end + timedelta(days=1)


def blocks_by_partition(raw: Mapping[tuple[str, str], dict[str, Any]], low: datetime, high: datetime,
                        ) -> dict[str, list[tuple[datetime, str | None]]]:
    """(block, room) of every block held in [low, high), per holder partition, from raw week items."""
    out: dict[str, list[tuple[datetime, str | None]]] = defaultdict(list)
    for (pk, sk), item in raw.items():
        if sk.startswith("WEEK#"):
            out[pk] += [(block, room) for block, room, _ in blocks_of(item) if low <= block < high]
    return out


def rooms_of(blocks: Iterable[tuple[datetime, str | None]]) -> dict[datetime, frozenset[str]]:
    """The rooms taken in each block."""
    per_block: dict[datetime, set[str]] = defaultdict(set)
    for block, room in blocks:
        if room:
            per_block[block].add(room)
    return {b: frozenset(r) for b, r in per_block.items()}
