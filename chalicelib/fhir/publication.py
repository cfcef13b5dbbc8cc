"""SMART Scheduling Links bulk publication: the $bulk-publish manifest and its NDJSON files.

Per tenant: Location (sites and one virtual Location per jurisdiction reached by telehealth),
Schedule (one per clinician) and Slot (one file per patient jurisdiction: only slots a clinician may
lawfully deliver to a patient located there, computed by the availability search). No PHI: no
patient appears in any of them. Public (no token) only when the tenant's settings say so.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from ..domain.access import Caller
from ..domain.errors import NotFound
from ..domain.model import Interval
from ..domain.tenant_policy import PublicationPolicy
from . import reads
from . import resources as r

MAX_SLOTS_PER_FILE = 2000
FILES = ("Location", "Schedule")


def publisher(tenant: str) -> Caller:
    """The feed reads as the tenant's own scheduling staff would; nothing patient-specific is read."""
    return Caller(sub="fhir-bulk-publish", tenant_id=tenant, roles=frozenset({"scheduler"}))


def policy(services: Any, tenant: str) -> PublicationPolicy:
    return services.tenant_settings.get(publisher(tenant)).publication  # type: ignore[no-any-return]


def file_names(services: Any, tenant: str) -> list[tuple[str, str, list[str]]]:
    """(resource type, file name, jurisdictions) for every file of the tenant's feed."""
    jurisdictions = _slot_jurisdictions(services, tenant)
    return [(t, f"{t}.ndjson", []) for t in FILES] + [("Slot", f"Slot-{j}.ndjson", [j]) for j in jurisdictions]


def manifest(services: Any, tenant: str, request_url: str, files_base: str) -> dict[str, Any]:
    outputs = []
    for kind, name, jurisdictions in file_names(services, tenant):
        entry: dict[str, Any] = {"type": kind, "url": f"{files_base}/{name}"}
        if jurisdictions:
            # The specification's own hint: which states a Slot file covers (here ISO 3166-2 and the state).
            entry["extension"] = {"state": [j.partition("-")[2] for j in jurisdictions],
                                  "jurisdiction": jurisdictions}
        outputs.append(entry)
    return {"transactionTime": r.instant(services.clock()), "request": request_url, "output": outputs, "error": []}


def ndjson(services: Any, tenant: str, name: str) -> str:
    resources = _file(services, tenant, name)
    return "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in resources)


def _file(services: Any, tenant: str, name: str) -> list[dict[str, Any]]:
    settings = policy(services, tenant)
    telecom = _telecom(settings)
    if name == "Location.ndjson":
        return reads.locations(services, tenant, telecom)
    if name == "Schedule.ndjson":
        on = reads.today(services)
        return [r.schedule(x, reads.services_for(services, x), reads.telehealth_jurisdictions(x, on))
                for x in sorted(services.directory.repo.list_clinicians(tenant), key=lambda x: x.clinician_id)]
    if name.startswith("Slot-") and name.endswith(".ndjson"):
        jurisdiction = name.removeprefix("Slot-").removesuffix(".ndjson")
        if jurisdiction in _slot_jurisdictions(services, tenant):
            return _slots(services, tenant, jurisdiction, settings)
    raise NotFound("No such file in this feed.")


def _slot_jurisdictions(services: Any, tenant: str) -> list[str]:
    sites = services.directory.repo.list_sites(tenant)
    on = reads.today(services)
    return sorted({s.jurisdiction for s in sites} | set(reads.tenant_jurisdictions(services, tenant, on)))


def _slots(services: Any, tenant: str, jurisdiction: str, settings: PublicationPolicy) -> list[dict[str, Any]]:
    now = services.clock()
    window = Interval(now, now + timedelta(days=settings.days))
    book = services.availability.rules()
    codes = [s for s in settings.services if book.service(s)] or sorted(book.services)
    found: list[dict[str, Any]] = []
    for code in codes:
        cursor: str | None = None
        while len(found) < MAX_SLOTS_PER_FILE:
            page, cursor = reads.slots(services, publisher(tenant), service=code, window=window, patient_id=None,
                                       jurisdiction=jurisdiction, clinician_id=None, modality=None, limit=200,
                                       cursor=cursor, deep_link=settings.booking_url or None,
                                       phone=settings.booking_phone)
            found += page
            if cursor is None:
                break
    return found[:MAX_SLOTS_PER_FILE]


def _telecom(settings: PublicationPolicy) -> list[dict[str, str]]:
    telecom = []
    if settings.booking_phone:
        telecom.append({"system": "phone", "value": settings.booking_phone})
    if settings.booking_url:
        telecom.append({"system": "url", "value": settings.booking_url})
    return telecom
