"""Sites, clinicians and patients.

Every clinician or site write also sets a new directory stamp (one of a few shards) in the same transaction:
an availability search caches the tenant's directory and proves it current by reading the stamps
(search_reads.py). Every record this process reads or writes is also kept in a small per-process cache with its version,
for one reader only: `booking_records`, whose write proves each cached record still current with a
condition on its version (adapters/dynamo/appointments.py). Every other read goes to the table.
A booking that needs the patient's latest screening (routing's guard) reads the patient afresh with it
in one Query of the patient's partition instead.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ...domain.errors import Conflict, DependencyUnavailable
from ...domain.model import Clinician, Patient, Site
from ...domain.records import BookingRecords, RecordVersion, version_of
from ...domain.retry import RetryPolicy
from ...domain.screening import ScreeningResult
from . import keys
from .codec import from_doc, to_doc
from .models import DirectoryStampItem, DocumentItem
from .versioning import save_versioned

T = TypeVar("T")
Record = Patient | Clinician | Site
CACHE_SECONDS = 300.0  # a cached record only saves reads: the booking's write checks its version anyway
CACHE_ENTRIES = 4096
# Writers of different records rarely meet on one stamp shard, so a bulk import runs in parallel; a
# search reads every shard (a few more keys in its one BatchGetItem).
STAMP_SHARDS = 8
STAMP_WRITE_RETRY = RetryPolicy(max_attempts=5, base_seconds=0.05, cap_seconds=0.5)


def record_key(kind: str, tenant: str, record_id: str) -> tuple[str, str]:
    """(pk, sk) of a directory record (patient | clinician | site)."""
    if kind == "patient":
        return keys.patient_pk(tenant, record_id), keys.PROFILE_SK
    if kind == "clinician":
        return keys.directory_pk(tenant), keys.clinician_sk(record_id)
    return keys.directory_pk(tenant), keys.site_sk(record_id)


class _RecordCache:
    """The directory records this process saw, with their versions; bounded, and each kept a few minutes."""

    def __init__(self, ttl: float = CACHE_SECONDS, max_entries: int = CACHE_ENTRIES,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._max, self._monotonic = ttl, max_entries, monotonic
        self._entries: dict[tuple[str, str, str], tuple[float, Record]] = {}
        self._lock = threading.Lock()

    def put(self, kind: str, record: Record) -> None:
        rv = version_of(kind, record)
        if not rv.version:  # a record without a version cannot be checked by a write: never serve it
            return
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[(kind, rv.tenant_id, rv.record_id)] = (self._monotonic(), record)

    def get(self, kind: str, tenant: str, record_id: str) -> Record | None:
        with self._lock:
            hit = self._entries.get((kind, tenant, record_id))
        if hit is None or self._monotonic() - hit[0] >= self._ttl:
            return None
        return hit[1]

    def drop(self, kind: str, tenant: str, record_id: str) -> None:
        with self._lock:
            self._entries.pop((kind, tenant, record_id), None)


class DirectoryRepository:
    def __init__(self) -> None:
        self._cache = _RecordCache()

    # --- a booking's records -----------------------------------------------------------------
    def booking_records(self, tenant: str, patient_id: str, clinician_id: str,
                        site_ids: Sequence[str] = (), *, with_screening: bool = False) -> BookingRecords:
        found: dict[tuple[str, str], Record] = {}
        fresh: list[RecordVersion] = []
        screenings = None
        if with_screening:
            patient_read, screenings = self._patient_and_latest_screening(tenant, patient_id)
            if patient_read is not None:
                found[("patient", patient_id)] = patient_read
        self._collect(tenant, [*([] if with_screening else [("patient", patient_id)]), ("clinician", clinician_id),
                               *(("site", s) for s in site_ids)], found, fresh)
        clinician = found.get(("clinician", clinician_id))
        if isinstance(clinician, Clinician):
            # The clinician's own sites, once the clinician is known: from the cache on a warm process.
            self._collect(tenant, [("site", s) for s in clinician.site_ids if ("site", s) not in found],
                          found, fresh)
        patient = found.get(("patient", patient_id))
        sites = {k[1]: r for k, r in found.items() if k[0] == "site" and isinstance(r, Site)}
        return BookingRecords(patient if isinstance(patient, Patient) else None,
                              clinician if isinstance(clinician, Clinician) else None, sites, tuple(fresh),
                              screenings)

    def _patient_and_latest_screening(self, tenant: str, patient_id: str
                                      ) -> tuple[Patient | None, tuple[ScreeningResult, ...]]:
        """One Query (consistent, Limit 2): PROFILE and the item after it, the newest screening (their keys
        sort newest first, keys.screening_sk); NOSHOWS sorts before and WEEK# items after the range."""
        items = DocumentItem.query(keys.patient_pk(tenant, patient_id),
                                   DocumentItem.sk.between(keys.PROFILE_SK, keys.SCREENING_PREFIX + "\uffff"),
                                   limit=2, consistent_read=True)
        patient, screenings = None, []
        for item in items:
            if item.sk == keys.PROFILE_SK:
                patient = _decode("patient", item)
                self._cache.put("patient", patient)
            else:
                screenings.append(from_doc(ScreeningResult, item.doc))
        return patient if isinstance(patient, Patient) else None, tuple(screenings)

    def remember(self, kind: str, record: Record) -> None:
        """A record another reader of this process read with its version (an availability search's snapshot):
        a booking may decide on it, as its write checks the version."""
        self._cache.put(kind, record)

    def forget(self, stale: Sequence[RecordVersion]) -> None:
        for rv in stale:
            self._cache.drop(rv.kind, rv.tenant_id, rv.record_id)

    def _collect(self, tenant: str, wanted: list[tuple[str, str]], found: dict[tuple[str, str], Record],
                 fresh: list[RecordVersion]) -> None:
        """Cache hits (their versions go to `fresh`), then the misses in one BatchGetItem (consistent)."""
        misses: dict[tuple[str, str], tuple[str, str]] = {}
        for kind, record_id in dict.fromkeys(wanted):
            hit = self._cache.get(kind, tenant, record_id)
            if hit is not None:
                found[(kind, record_id)] = hit
                fresh.append(version_of(kind, hit))
            else:
                misses[record_key(kind, tenant, record_id)] = (kind, record_id)
        if not misses:
            return
        for item in DocumentItem.batch_get(list(misses), consistent_read=True):
            kind, record_id = misses[(item.pk, item.sk)]
            record = _decode(kind, item)
            self._cache.put(kind, record)
            found[(kind, record_id)] = record

    def add_site(self, site: Site) -> None:
        self._insert(keys.directory_pk(site.tenant_id), keys.site_sk(site.site_id), "site", site)

    def get_site(self, tenant: str, site_id: str) -> Site | None:
        return self._seen("site", self._get(keys.directory_pk(tenant), keys.site_sk(site_id), Site))

    def save_site(self, site: Site) -> Site:
        return self._seen("site", self._save(
            keys.directory_pk(site.tenant_id), keys.site_sk(site.site_id), "site", site,
            "The site was changed by another request; read it again and retry."))

    def save_patient(self, patient: Patient) -> Patient:
        return self._seen("patient", self._save(
            keys.patient_pk(patient.tenant_id, patient.patient_id), keys.PROFILE_SK, "patient", patient,
            "The patient was changed by another request; read it again and retry."))

    def list_sites(self, tenant: str) -> list[Site]:
        return [self._seen("site", s) for s in self._list(tenant, "SITE#", Site)]

    def page_sites(self, tenant: str, limit: int, cursor: dict[str, Any] | None
                   ) -> tuple[list[Site], dict[str, Any] | None]:
        items = DocumentItem.query(keys.directory_pk(tenant), DocumentItem.sk.startswith("SITE#"), limit=limit,
                                   last_evaluated_key=_own_page(tenant, cursor))
        return [from_doc(Site, i.doc) for i in items], items.last_evaluated_key

    def page_clinicians(self, tenant: str, limit: int, cursor: dict[str, Any] | None
                        ) -> tuple[list[Clinician], dict[str, Any] | None]:
        items = DocumentItem.query(keys.directory_pk(tenant), DocumentItem.sk.startswith("CLIN#"), limit=limit,
                                   last_evaluated_key=_own_page(tenant, cursor))
        return [_with_version(from_doc(Clinician, i.doc), i.version) for i in items], items.last_evaluated_key

    def add_clinician(self, clinician: Clinician) -> None:
        self._insert(keys.directory_pk(clinician.tenant_id), keys.clinician_sk(clinician.clinician_id),
                     "clinician", clinician)

    def get_clinician(self, tenant: str, clinician_id: str) -> Clinician | None:
        item = self._get_item(keys.directory_pk(tenant), keys.clinician_sk(clinician_id))
        return self._seen("clinician", _with_version(from_doc(Clinician, item.doc), item.version) if item else None)

    def save_clinician(self, clinician: Clinician) -> Clinician:
        """Optimistic locking: fails with Conflict when someone saved since `clinician` was read."""
        return self._seen("clinician", self._save(
            keys.directory_pk(clinician.tenant_id), keys.clinician_sk(clinician.clinician_id), "clinician",
            clinician, "The clinician was changed by another request; read it again."))

    def _save(self, pk: str, sk: str, kind: str, obj: Any, conflict: str) -> Any:
        item = DocumentItem(pk, sk, kind=kind, doc=to_doc(replace(obj, version=0)))
        if obj.version:
            item.version = obj.version
        if kind == "patient":
            save_versioned(item, conflict)
        else:
            _stamped(item, None, conflict)
        return replace(obj, version=int(item.version or 0))

    def list_clinicians(self, tenant: str) -> list[Clinician]:
        items = DocumentItem.query(keys.directory_pk(tenant), DocumentItem.sk.startswith("CLIN#"))
        return [self._seen("clinician", _with_version(from_doc(Clinician, i.doc), i.version)) for i in items]

    def add_patient(self, patient: Patient) -> None:
        self._insert(keys.patient_pk(patient.tenant_id, patient.patient_id), keys.PROFILE_SK, "patient", patient)

    def get_patient(self, tenant: str, patient_id: str) -> Patient | None:
        return self._seen("patient", self._get(keys.patient_pk(tenant, patient_id), keys.PROFILE_SK, Patient))

    def _seen(self, kind: str, record: T) -> T:
        if record is not None:
            self._cache.put(kind, record)  # type: ignore[arg-type]
        return record

    def _insert(self, pk: str, sk: str, kind: str, obj: Any) -> None:
        item = DocumentItem(pk, sk, kind=kind, doc=to_doc(obj))
        if kind == "patient":
            item.save(condition=DocumentItem.pk.does_not_exist())
        else:
            _stamped(item, DocumentItem.pk.does_not_exist(), f"The {kind} exists already.")

    def _get_item(self, pk: str, sk: str) -> DocumentItem | None:
        try:
            return DocumentItem.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            return None

    def _get(self, pk: str, sk: str, cls: type[T]) -> T | None:
        item = self._get_item(pk, sk)
        return replace(from_doc(cls, item.doc), version=int(item.version or 0)) if item else None  # type: ignore[type-var]

    def _list(self, tenant: str, prefix: str, cls: type[T]) -> list[T]:
        items = DocumentItem.query(keys.directory_pk(tenant), DocumentItem.sk.startswith(prefix))
        return [replace(from_doc(cls, i.doc), version=int(i.version or 0)) for i in items]  # type: ignore[type-var]


def _with_version(clinician: Clinician, version: int | None) -> Clinician:
    return replace(clinician, version=int(version or 0))


def _decode(kind: str, item: DocumentItem) -> Record:
    cls: type[Record] = {"patient": Patient, "clinician": Clinician, "site": Site}[kind]  # type: ignore[assignment]
    return replace(from_doc(cls, item.doc), version=int(item.version or 0))  # type: ignore[type-var]



def _own_page(tenant: str, cursor: dict[str, Any] | None) -> dict[str, Any] | None:
    """A cursor is a DynamoDB key: refuse one that points into another tenant's partition."""
    return keys.require_partition(keys.require_key(cursor, ("pk", "sk")), "pk", keys.directory_pk(tenant))  # type: ignore[no-any-return]


def stamp_keys(tenant: str) -> list[tuple[str, str]]:
    """(pk, sk) of every directory stamp shard of a tenant."""
    return [(keys.directory_pk(tenant), keys.directory_stamp_sk(n)) for n in range(STAMP_SHARDS)]


def _stamped(item: DocumentItem, condition: Any, conflict: str) -> None:
    """Write a clinician or site and a new value of its stamp shard in one transaction. A lost race on the
    record itself is a Conflict; on the shard (another write of the same tenant at the same moment), retried."""
    shard = zlib.crc32(item.sk.encode()) % STAMP_SHARDS
    stamp = DirectoryStampItem(item.pk, keys.directory_stamp_sk(shard))
    for attempt in range(1, STAMP_WRITE_RETRY.max_attempts + 1):
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(item, condition=condition)
                tx.update(stamp, actions=[DirectoryStampItem.stamp.set(uuid.uuid4().hex)])
            return
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
                raise Conflict(conflict) from exc
            if not any(r is not None and r.code == "TransactionConflict" for r in reasons):
                raise
            if attempt == STAMP_WRITE_RETRY.max_attempts:
                raise DependencyUnavailable("The directory is busy; retry.", headers={"Retry-After": "1"}) from exc
            time.sleep(STAMP_WRITE_RETRY.delay(attempt, random.random()))


_connections: dict[tuple[str | None, str | None], Connection] = {}


def _connection() -> Connection:
    """The transaction connection for the models' current binding, one per binding (each makes a client)."""
    where = (DocumentItem.Meta.region, DocumentItem.Meta.host)
    if where not in _connections:
        _connections[where] = Connection(region=where[0], host=where[1])
    return _connections[where]
