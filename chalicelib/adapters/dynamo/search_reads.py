"""An availability search's reads in as few calls as DynamoDB allows.

The tenant's clinicians and sites come from a per-process snapshot of its directory partition (one Query when
the process has none). Every search then reads, in one BatchGetItem (100 keys a call, the calls concurrent):
the directory stamp shards, which prove the snapshot current (every clinician or site write sets a new stamp
in its own transaction: directory.py); the busy-week items of the clinicians, their sites and the patient;
and the patient's profile. A warm search is that one read; a stale snapshot costs one Query and a read of
the keys the new directory adds. A search reads window by window (services/availability.py) and each later
window reads only the week items not read yet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from pynamodb.connection import Connection

from ...domain.availability import BusyTime, SearchInputs
from ...domain.keyed_reads import KeyedRead
from ...domain.model import Clinician, Interval, Patient, Site
from . import keys
from .busy_weeks import blocks_by_partition, read_weeks, read_window, rooms_of, weeks_covering
from .codec import from_doc
from .directory import stamp_keys
from .models import DocumentItem

SNAPSHOT_TENANTS = 64
# The stamps prove a snapshot current; the age limit only bounds what a lost stamp write could leave stale.
SNAPSHOT_MAX_AGE_SECONDS = 900.0

ItemKey = tuple[str, str]
T = TypeVar("T")
Record = Clinician | Site | Patient


@dataclass(frozen=True)
class DirectorySnapshot:
    stamps: tuple[str | None, ...]  # by shard; None: no write has set that shard yet
    clinicians: dict[str, Clinician]
    sites: dict[str, Site]
    taken_at: float


class SearchReads:
    """SearchReader on DynamoDB."""

    def __init__(self, connection: Connection, remember: Callable[[str, Record], None] | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._connection = connection
        self._remember = remember or (lambda kind, record: None)  # the booking's record cache (directory.py)
        self._monotonic = monotonic
        self._snapshots: dict[str, DirectorySnapshot] = {}
        self._lock = threading.Lock()

    def open_search(self, tenant: str, *, patient_id: str | None = None, clinician_id: str | None = None,
                    wanted: Callable[[Clinician], bool] = lambda c: True,
                    also: Sequence[KeyedRead[Any]] = ()) -> _Session:
        return _Session(self, tenant, patient_id, clinician_id, wanted, also)

    def read_for_search(self, tenant: str, window: Interval, *, patient_id: str | None = None,
                        clinician_id: str | None = None,
                        wanted: Callable[[Clinician], bool] = lambda c: True) -> SearchInputs:
        return self.open_search(tenant, patient_id=patient_id, clinician_id=clinician_id, wanted=wanted).read(window)

    def forget(self, tenant: str) -> None:
        with self._lock:
            self._snapshots.pop(tenant, None)

    # --- the snapshot ----------------------------------------------------------------------------
    def _cached(self, tenant: str) -> DirectorySnapshot | None:
        with self._lock:
            hit = self._snapshots.get(tenant)
        if hit is None or self._monotonic() - hit.taken_at >= SNAPSHOT_MAX_AGE_SECONDS:
            return None
        return hit

    def _load(self, tenant: str) -> DirectorySnapshot:
        """The whole directory partition, consistent. The stamps sort first (keys.directory_stamp_sk), so a
        write that lands while the Query runs leaves an older stamp with newer records: the next search
        sees a new stamp and loads again, never the reverse."""
        stamps: dict[ItemKey, str] = {}
        clinicians: dict[str, Clinician] = {}
        sites: dict[str, Site] = {}
        for raw in self._partition(keys.directory_pk(tenant)):
            key = (raw["pk"]["S"], raw["sk"]["S"])
            if key[1].startswith("#STAMP#") and "S" in raw.get("stamp", {}):
                stamps[key] = raw["stamp"]["S"]
            elif key[1].startswith("CLIN#"):
                clinician = _decode(Clinician, raw)
                clinicians[clinician.clinician_id] = clinician
            elif key[1].startswith("SITE#"):
                site = _decode(Site, raw)
                sites[site.site_id] = site
        snapshot = DirectorySnapshot(tuple(stamps.get(k) for k in stamp_keys(tenant)), clinicians, sites,
                                     self._monotonic())
        for clinician in clinicians.values():
            self._remember("clinician", clinician)
        for site in sites.values():
            self._remember("site", site)
        with self._lock:
            if len(self._snapshots) >= SNAPSHOT_TENANTS:
                self._snapshots.clear()  # bounded: a warm Lambda serves a handful of tenants
            self._snapshots[tenant] = snapshot
        return snapshot

    def _partition(self, pk: str) -> Iterator[dict[str, Any]]:
        """Every item of one partition, raw (stamps and documents differ in shape), consistent, page by page."""
        page: dict[str, Any] = {"TableName": DocumentItem.Meta.table_name, "ConsistentRead": True,
                                "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": pk}}}
        while True:
            answer = self._connection.client.query(**page)
            yield from answer.get("Items", [])
            if "LastEvaluatedKey" not in answer:
                return
            page["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    # --- one search --------------------------------------------------------------------------------
    @staticmethod
    def _named(snapshot: DirectorySnapshot, clinician_id: str | None) -> list[Clinician]:
        if clinician_id is None:
            return sorted(snapshot.clinicians.values(), key=lambda c: c.clinician_id)
        found = snapshot.clinicians.get(clinician_id)
        return [found] if found is not None else []

    def _keys(self, tenant: str, snapshot: DirectorySnapshot, window: Interval, patient_id: str | None,
              clinician_id: str | None, wanted: Callable[[Clinician], bool]) -> list[ItemKey]:
        weeks = weeks_covering(*read_window(window.start, window.end))
        clinicians = [c for c in self._named(snapshot, clinician_id) if wanted(c)]
        pks = [keys.clinician_pk(tenant, c.clinician_id) for c in clinicians]
        pks += [keys.site_pk(tenant, s) for s in _site_ids(clinicians, snapshot)]
        if patient_id:
            pks.append(keys.patient_pk(tenant, patient_id))
        found = [(pk, sk) for pk in pks for sk in weeks]
        if patient_id:
            found.append((keys.patient_pk(tenant, patient_id), keys.PROFILE_SK))
        return found

    def _inputs(self, tenant: str, snapshot: DirectorySnapshot, window: Interval,
                raw: dict[ItemKey, dict[str, Any]], patient_id: str | None, clinician_id: str | None,
                wanted: Callable[[Clinician], bool]) -> SearchInputs:
        named = self._named(snapshot, clinician_id)
        clinicians = [c for c in named if wanted(c)]
        site_ids = _site_ids(clinicians, snapshot)
        per_pk = blocks_by_partition(raw, *read_window(window.start, window.end))
        busy = BusyTime(
            clinicians={c.clinician_id: frozenset(b for b, _ in per_pk.get(keys.clinician_pk(tenant, c.clinician_id),
                                                                            ()))
                        for c in clinicians},
            rooms={s: rooms_of(per_pk.get(keys.site_pk(tenant, s), ())) for s in site_ids},
            patient=frozenset(b for b, _ in per_pk.get(keys.patient_pk(tenant, patient_id), ()))
            if patient_id else frozenset())
        patient = None
        if patient_id:
            profile = raw.get((keys.patient_pk(tenant, patient_id), keys.PROFILE_SK))
            patient = _decode(Patient, profile) if profile is not None else None
            if patient is not None:
                self._remember("patient", patient)
        return SearchInputs(tuple(named), dict(snapshot.sites), patient, busy)


class _Session:
    """One search: its first read carries the stamps (and the profile); later windows read only the week items
    no earlier window of the search read."""

    def __init__(self, reads: SearchReads, tenant: str, patient_id: str | None, clinician_id: str | None,
                 wanted: Callable[[Clinician], bool], also: Sequence[KeyedRead[Any]] = ()) -> None:
        self._reads, self._tenant, self._patient_id = reads, tenant, patient_id
        self._also = also
        self._clinician_id, self._wanted = clinician_id, wanted
        self._snapshot: DirectorySnapshot | None = None
        self._raw: dict[ItemKey, dict[str, Any]] = {}
        self._asked: set[ItemKey] = set()

    def read(self, window: Interval) -> SearchInputs:
        r, tenant = self._reads, self._tenant
        if self._snapshot is None:
            cached = r._cached(tenant)
            snapshot = cached or r._load(tenant)
            stamps = stamp_keys(tenant)
            also_keys = [k for read in self._also for k in read.keys]
            self._fetch([*self._keys(snapshot, window), *(stamps if cached else []), *also_keys])  # type: ignore[list-item]
            for read in self._also:
                read.answer(self._raw)  # type: ignore[arg-type]
            if cached is not None and _stamps(self._raw, stamps) != cached.stamps:
                snapshot = r._load(tenant)  # another process changed the directory since this one cached it
            self._snapshot = snapshot
        self._fetch(self._keys(self._snapshot, window))
        return r._inputs(tenant, self._snapshot, window, self._raw, self._patient_id, self._clinician_id,
                         self._wanted)

    def _keys(self, snapshot: DirectorySnapshot, window: Interval) -> list[ItemKey]:
        return self._reads._keys(self._tenant, snapshot, window, self._patient_id, self._clinician_id, self._wanted)

    def _fetch(self, wanted: Sequence[ItemKey]) -> None:
        more = [k for k in dict.fromkeys(wanted) if k not in self._asked]
        if more:
            self._raw.update(read_weeks(self._reads._connection, more))
            self._asked.update(more)


def _site_ids(clinicians: Sequence[Clinician], snapshot: DirectorySnapshot) -> list[str]:
    return sorted({r.site_id for c in clinicians for r in c.availability.rules if r.site_id} & snapshot.sites.keys())


def _stamps(raw: dict[ItemKey, dict[str, Any]], stamps: Sequence[ItemKey]) -> tuple[str | None, ...]:
    return tuple(raw[k]["stamp"]["S"] if k in raw and "S" in raw[k].get("stamp", {}) else None for k in stamps)


def _decode(cls: type[T], raw: dict[str, Any]) -> T:
    item = DocumentItem.from_raw_data(raw)
    return replace(from_doc(cls, item.doc), version=int(item.version or 0))  # type: ignore[type-var]

