"""The directory records a booking is decided on, and the versions its write must still find.

A booking reads its patient, clinician and sites from a per-process cache when it can (a warm Lambda
books the same clinicians all day); the write then proves each cached record is still the stored one
with a condition on its version, in the booking's own transaction. A stale record fails the write
(StaleRecords, naming no PHI); the booking forgets those records, reads them again and decides again.
A door that runs routing's guard (book, reschedule, switch) reads the patient afresh instead, with their
latest screening, in the same single read the guard would otherwise have made for the screening alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .model import Clinician, Patient, Site
from .screening import ScreeningResult


@dataclass(frozen=True)
class RecordVersion:
    kind: str  # patient | clinician | site
    tenant_id: str
    record_id: str
    version: int


@dataclass(frozen=True)
class BookingRecords:
    patient: Patient | None
    clinician: Clinician | None
    sites: Mapping[str, Site] = field(default_factory=dict)  # the asked-for sites and the clinician's, found
    fresh: tuple[RecordVersion, ...] = ()  # what the write must still find (the records that came from a cache)
    # The patient's latest screening, read with the patient when asked for (routing's guard at booking):
    # None = not read; () = none on file.
    screenings: tuple[ScreeningResult, ...] | None = None

    def site(self, site_id: str | None) -> Site | None:
        return self.sites.get(site_id) if site_id else None


def version_of(kind: str, record: Patient | Clinician | Site) -> RecordVersion:
    record_id = {"patient": "patient_id", "clinician": "clinician_id", "site": "site_id"}[kind]
    return RecordVersion(kind, record.tenant_id, getattr(record, record_id), record.version)
