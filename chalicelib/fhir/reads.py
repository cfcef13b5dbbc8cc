"""What the FHIR routes read, through the same services as /v1 (no second scheduling engine).

Each function takes the services and the caller and returns FHIR resources; access rules are the
services' own (a patient reads only their own record and visits; what a caller may not see is 404).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ..domain.access import Caller
from ..domain.errors import NotFound
from ..domain.model import Clinician, Interval, Modality
from ..domain.rulebook import ServiceDefinition
from ..domain.standing import grants
from . import codes as c
from . import resources as r
from .inbound import bad

Resource = dict[str, Any]


def today(services: Any) -> date:
    return services.clock().date()  # type: ignore[no-any-return]


def telehealth_jurisdictions(x: Clinician, on: date) -> list[str]:
    """Where the clinician holds a licence or a listed compact privilege in force: the virtual Locations
    their telehealth reaches (whether a given visit is lawful is still decided per slot and per booking)."""
    places = set(r.licensed_jurisdictions(x, on))
    for p in x.compact_privileges:
        if grants(p.status, p.effective_from, on) and p.expires_on >= on:
            places |= {p.home_jurisdiction, *p.jurisdictions}
    return sorted(places) if any(m.is_telehealth for m in x.modalities) else []


def services_for(services: Any, x: Clinician) -> list[ServiceDefinition]:
    book = services.availability.rules()
    return [s for s in book.services.values() if x.discipline in s.disciplines]


def tenant_jurisdictions(services: Any, tenant: str, on: date) -> list[str]:
    clinicians = services.directory.repo.list_clinicians(tenant)
    return sorted({j for x in clinicians for j in telehealth_jurisdictions(x, on)})


# --- directory -------------------------------------------------------------------------------
def patient(services: Any, caller: Caller, patient_id: str) -> Resource:
    return r.patient(services.directory.get_patient(caller, patient_id))


def practitioner(services: Any, caller: Caller, clinician_id: str) -> Resource:
    return r.practitioner(services.directory.get_clinician(caller, clinician_id), today(services))


def practitioner_role(services: Any, caller: Caller, clinician_id: str) -> Resource:
    x = services.directory.get_clinician(caller, clinician_id)
    on = today(services)
    return r.practitioner_role(x, on, telehealth_jurisdictions(x, on))


def schedule(services: Any, caller: Caller, clinician_id: str) -> Resource:
    x = services.directory.get_clinician(caller, clinician_id)
    return r.schedule(x, services_for(services, x), telehealth_jurisdictions(x, today(services)))


def clinicians(services: Any, caller: Caller, limit: int, cursor: str | None) -> tuple[list[Clinician], str | None]:
    found, next_cursor = services.directory.list_clinicians(caller, limit, cursor)
    return list(found), next_cursor


def location(services: Any, caller: Caller, location_id: str) -> Resource:
    if location_id.startswith(c.VIRTUAL_PREFIX):
        jurisdiction = location_id.removeprefix(c.VIRTUAL_PREFIX)
        if jurisdiction not in tenant_jurisdictions(services, caller.tenant_id, today(services)):
            raise NotFound("No such location.")
        return r.virtual_location(jurisdiction)
    return r.location(services.directory.get_site(caller, location_id))


def locations(services: Any, tenant: str, telecom: list[Resource] | None = None) -> list[Resource]:
    """Every site, then one virtual Location per jurisdiction the tenant's telehealth reaches."""
    sites = services.directory.repo.list_sites(tenant)
    found = [r.location(s, telecom) for s in sorted(sites, key=lambda s: s.site_id)]
    return found + [r.virtual_location(j, telecom) for j in tenant_jurisdictions(services, tenant, today(services))]


# --- slots -----------------------------------------------------------------------------------
def slots(services: Any, caller: Caller, *, service: str, window: Interval, patient_id: str | None,
          jurisdiction: str | None, clinician_id: str | None, modality: Modality | None, limit: int,
          cursor: str | None, deep_link: str | None = None, phone: str | None = None
          ) -> tuple[list[Resource], str | None]:
    """Exactly GET /v1/availability: the same search, the same lawfulness, the same page cursor."""
    from ..services.availability import AvailabilitySearch

    search = AvailabilitySearch(service=service, window=window, patient_id=patient_id,
                                patient_jurisdiction=jurisdiction, modality=modality, clinician_id=clinician_id,
                                limit=limit, cursor=cursor)
    options, next_cursor = services.availability.search(caller, search)
    definition = services.availability.rules().service(service)
    where = jurisdiction
    if where is None and patient_id:
        where = services.directory.repo.get_patient(caller.tenant_id, patient_id).home_jurisdiction
    return [r.slot(o.slot, definition, where, _link(deep_link, o.slot, service, where), phone)
            for o in options], next_cursor


def _link(base: str | None, s: Any, service: str, jurisdiction: str) -> str | None:
    if not base:
        return None
    from urllib.parse import urlencode

    query = urlencode({"clinician": s.clinician_id, "start": r.instant(s.start), "modality": s.modality.value,
                       "service": service, "jurisdiction": jurisdiction, **({"site": s.site_id} if s.site_id else {}),
                       "source": "smart-scheduling-links"})
    return f"{base}{'&' if '?' in base else '?'}{query}"


# --- appointments ----------------------------------------------------------------------------
def appointments(services: Any, caller: Caller, *, patient_id: str | None, clinician_id: str | None,
                 start: Any, end: Any, limit: int, cursor: str | None) -> tuple[list[Resource], str | None]:
    if caller.tenant_wide and not patient_id and not clinician_id:
        raise bad("patient", "give patient or practitioner")
    if not caller.tenant_wide and caller.has("patient") and patient_id not in (None, caller.patient_id):
        return [], None  # someone else's visits: nothing, as GET /v1/appointments answers
    lower = start or services.clock() - timedelta(days=365)
    upper = end or lower + timedelta(days=3 * 365)
    items, next_cursor = services.booking.list(caller, clinician_id, patient_id, Interval(lower, upper), limit, cursor)
    # The store pages by start; a bound inside the page (date=lt..) is applied here too.
    return [r.appointment(a) for a in items if a.start >= lower and a.start < upper], next_cursor
