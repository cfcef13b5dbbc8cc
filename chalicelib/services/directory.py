"""Sites, clinicians, availability and patients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import time
from typing import Any, TypeVar

from ..adapters.dynamo.directory import DirectoryRepository
from ..adapters.dynamo.keys import require_key, require_partition
from ..domain.access import Caller, require_clinician_self_or_admin, require_patient_access
from ..domain.errors import FieldError, FieldErrors, NotFound, ValidationFailed, VersionMismatch
from ..domain.model import (
    Address,
    Availability,
    Clinician,
    ClosedDate,
    CompactPrivilege,
    Contact,
    Coverage,
    DeaRegistration,
    Discipline,
    License,
    Modality,
    Patient,
    Site,
    Subscriber,
    Unavailable,
    WeeklyRule,
)
from ..domain.ports import AuditTrail, IdFactory
from ..schemas.directory import (
    AvailabilityIn,
    ClinicianIn,
    ClinicianPatch,
    CoverageIn,
    PatientIn,
    PatientPatch,
    SiteIn,
    SitePatch,
)
from .paging import decode_cursor, encode_cursor

# Called after a clinician or site changed: re-decides the future visits resting on them and
# returns how many were flagged for review and how many were cleared (services/booking.py).
Redecider = Callable[[Caller, Clinician], dict[str, int]]


class DirectoryService:
    def __init__(self, repo: DirectoryRepository, audit: AuditTrail, new_id: IdFactory,
                 redecide: Redecider | None = None) -> None:
        self.repo = repo
        self.audit = audit
        self.new_id = new_id
        self.redecide = redecide or (lambda caller, clinician: {"flagged": 0, "cleared": 0})

    # --- sites -------------------------------------------------------------------------------
    def create_site(self, caller: Caller, body: SiteIn) -> Site:
        errors = FieldErrors()
        try:
            rooms = body.room_names()
        except ValueError as exc:
            errors.add("rooms", str(exc))
        errors.raise_if_any()
        a = body.address
        site = Site(caller.tenant_id, self.new_id("site"), body.name, body.timezone, body.jurisdiction,
                    Address(a.line1, a.city, a.postal_code), rooms)
        self.repo.add_site(site)
        return site

    def get_site(self, caller: Caller, site_id: str) -> Site:
        site = self.repo.get_site(caller.tenant_id, site_id)
        if site is None:
            raise NotFound("No such site.")
        return site

    def patch_site(self, caller: Caller, site_id: str, body: SitePatch, if_match: int | None) -> Site:
        current = _require_version(self.get_site(caller, site_id), if_match)
        given = body.model_fields_set
        _no_nulls(body, given, ("name", "timezone", "jurisdiction", "address", "rooms"))
        a = body.address
        site = replace(current, name=body.name if "name" in given else current.name,
                       timezone=body.timezone if "timezone" in given else current.timezone,
                       jurisdiction=body.jurisdiction if "jurisdiction" in given else current.jurisdiction,
                       address=Address(a.line1, a.city, a.postal_code) if a is not None else current.address,
                       rooms=_unique_rooms(body.rooms) if body.rooms is not None else current.rooms)
        saved = self.repo.save_site(site)
        self.audit.record(caller, "site.update", f"site/{site_id}", None, "success")
        if (site.jurisdiction, site.timezone) != (current.jurisdiction, current.timezone):
            # In-person care happens at the site: its visits are decided again for the new place.
            for clinician in self.repo.list_clinicians(caller.tenant_id):
                if site_id in clinician.site_ids:
                    self.redecide(caller, clinician)
        return saved

    def list_sites(self, caller: Caller, limit: int, cursor: str | None) -> tuple[list[Site], str | None]:
        sites, last = self.repo.page_sites(caller.tenant_id, limit, _own_cursor(caller, cursor))
        return sites, encode_cursor(last)

    # --- clinicians --------------------------------------------------------------------------
    def create_clinician(self, caller: Caller, body: ClinicianIn) -> Clinician:
        self._require_sites(caller.tenant_id, body.site_ids, "site_ids")
        clinician = Clinician(
            tenant_id=caller.tenant_id, clinician_id=self.new_id("clin"), name=body.name, npi=body.npi,
            discipline=Discipline(body.discipline), timezone=body.timezone,
            licenses=_licenses(body.licenses), compact_privileges=_privileges(body.compact_privileges),
            dea_registrations=_registrations(body.dea_registrations),
            modalities=frozenset(Modality(m) for m in body.modalities),
            site_ids=tuple(body.site_ids), languages=tuple(body.languages),
            payer_networks=tuple(body.payer_networks),
        )
        self.repo.add_clinician(clinician)
        return clinician

    def get_clinician(self, caller: Caller, clinician_id: str) -> Clinician:
        clinician = self.repo.get_clinician(caller.tenant_id, clinician_id)
        if clinician is None:
            raise NotFound("No such clinician.")
        return clinician

    def list_clinicians(self, caller: Caller, limit: int, cursor: str | None) -> tuple[list[Clinician], str | None]:
        clinicians, last = self.repo.page_clinicians(caller.tenant_id, limit, _own_cursor(caller, cursor))
        return clinicians, encode_cursor(last)

    def patch_clinician(self, caller: Caller, clinician_id: str, body: ClinicianPatch,
                        if_match: int | None) -> tuple[Clinician, dict[str, int]]:
        """Change a clinician (licence suspended, privilege added, ...); future visits that rested on an
        authority the change removed are flagged for review, and ones it restored are cleared."""
        current = _require_version(self.get_clinician(caller, clinician_id), if_match)
        given = body.model_fields_set
        _no_nulls(body, given, tuple(given))
        if body.site_ids is not None:
            self._require_sites(caller.tenant_id, body.site_ids, "site_ids")
        changes: dict[str, Any] = {}
        for name in ("name", "npi", "timezone"):
            if name in given:
                changes[name] = getattr(body, name)
        if body.discipline is not None:
            changes["discipline"] = Discipline(body.discipline)
        if body.licenses is not None:
            changes["licenses"] = _licenses(body.licenses)
        if body.compact_privileges is not None:
            changes["compact_privileges"] = _privileges(body.compact_privileges)
        if body.dea_registrations is not None:
            changes["dea_registrations"] = _registrations(body.dea_registrations)
        if body.modalities is not None:
            changes["modalities"] = frozenset(Modality(m) for m in body.modalities)
        for name in ("site_ids", "languages", "payer_networks"):
            if getattr(body, name) is not None:
                changes[name] = tuple(getattr(body, name))
        saved = self.repo.save_clinician(replace(current, **changes))
        self.audit.record(caller, "clinician.update", f"clinician/{clinician_id}", None, "success")
        return saved, self.redecide(caller, saved)

    def set_availability(self, caller: Caller, clinician_id: str, body: AvailabilityIn) -> Clinician:
        require_clinician_self_or_admin(caller, clinician_id)
        clinician = self.get_clinician(caller, clinician_id)
        errors = FieldErrors()
        for i, rule in enumerate(body.rules):
            if rule.site_id and rule.site_id not in clinician.site_ids:
                errors.add(f"rules[{i}].site_id", "is not one of the clinician's sites")
        errors.raise_if_any()
        availability = Availability(
            rules=tuple(WeeklyRule(r.weekday, _hhmm(r.start), _hhmm(r.end),
                                   frozenset(Modality(m) for m in r.modalities), r.site_id) for r in body.rules),
            exceptions=tuple(ClosedDate(e.date) if hasattr(e, "closed") else Unavailable(e.start, e.end)
                             for e in body.exceptions),
            buffer_minutes=body.buffer_minutes,
        )
        return self.repo.save_clinician(replace(clinician, availability=availability))

    # --- patients ----------------------------------------------------------------------------
    def create_patient(self, caller: Caller, body: PatientIn) -> Patient:
        contact = body.emergency_contact
        patient = Patient(
            tenant_id=caller.tenant_id, patient_id=self.new_id("pat"), name=body.full_name,
            given_name=body.given_name, family_name=body.family_name, birth_date=body.birth_date,
            home_jurisdiction=body.home_jurisdiction, phone=body.phone, email=body.email,
            preferred_language=body.preferred_language, video_capable=body.tech_access.video,
            coverages=tuple(_coverage(c) for c in body.coverages),
            emergency_contact=Contact(contact.name, contact.phone) if contact else None,
        )
        self.repo.add_patient(patient)
        self.audit.record(caller, "patient.create", f"patient/{patient.patient_id}", patient.patient_id, "success")
        return patient

    def get_patient(self, caller: Caller, patient_id: str) -> Patient:
        require_patient_access(caller, patient_id)
        patient = self.repo.get_patient(caller.tenant_id, patient_id)
        if patient is None:
            raise NotFound("No such patient.")
        self.audit.record(caller, "patient.read", f"patient/{patient_id}", patient_id, "success")
        return patient

    def patch_patient(self, caller: Caller, patient_id: str, body: PatientPatch, if_match: int | None) -> Patient:
        require_patient_access(caller, patient_id)
        found = self.repo.get_patient(caller.tenant_id, patient_id)
        if found is None:
            raise NotFound("No such patient.")
        current = _require_version(found, if_match)
        given = body.model_fields_set
        _no_nulls(body, given, ("name", "birth_date", "home_jurisdiction", "tech_access", "coverages"))
        changes: dict[str, Any] = {}
        for name in ("name", "given_name", "family_name", "birth_date", "home_jurisdiction", "phone", "email",
                     "preferred_language"):
            if name in given:
                changes[name] = getattr(body, name)
        if body.tech_access is not None:
            changes["video_capable"] = body.tech_access.video
        if body.coverages is not None:
            changes["coverages"] = tuple(_coverage(c) for c in body.coverages)
        if "emergency_contact" in given:
            contact = body.emergency_contact
            changes["emergency_contact"] = Contact(contact.name, contact.phone) if contact else None
        saved = self.repo.save_patient(replace(current, **changes))
        self.audit.record(caller, "patient.update", f"patient/{patient_id}", patient_id, "success")
        return saved

    def _require_sites(self, tenant: str, site_ids: list[str], field: str) -> None:
        errors = FieldErrors()
        for i, site_id in enumerate(site_ids):
            if self.repo.get_site(tenant, site_id) is None:
                errors.add(f"{field}[{i}]", "no such site in this tenant")
        errors.raise_if_any()


def _coverage(c: CoverageIn) -> Coverage:
    s = c.subscriber
    return Coverage(c.payer_id, c.member_id, c.relationship,
                    Subscriber(s.given_name, s.family_name, s.birth_date) if s else None)


V = TypeVar("V", Site, Clinician, Patient)


def _require_version(record: V, if_match: int | None) -> V:
    if if_match is not None and if_match != record.version:
        raise VersionMismatch(f"The record is at version {record.version}, not {if_match}.",
                              extra={"current_version": record.version})
    return record


def _no_nulls(body: Any, given: set[str] | tuple[str, ...], required: tuple[str, ...]) -> None:
    errors = FieldErrors()
    for name in required:
        if name in given and getattr(body, name) is None:
            errors.add(name, "may not be null")
    errors.raise_if_any()


def _unique_rooms(rooms: list[str]) -> tuple[str, ...]:
    if len(set(rooms)) != len(rooms):
        raise ValidationFailed("Invalid fields: rooms", errors=[FieldError("rooms", "room names must be unique")])
    return tuple(rooms)


def _licenses(items: list[Any]) -> tuple[License, ...]:
    return tuple(License(x.jurisdiction, x.type, x.number, x.expires_on, x.status, x.effective_from) for x in items)


def _privileges(items: list[Any]) -> tuple[CompactPrivilege, ...]:
    return tuple(CompactPrivilege(x.compact, x.kind, x.home_jurisdiction, x.expires_on, tuple(x.jurisdictions),
                                  x.status, x.effective_from) for x in items)


def _registrations(items: list[Any]) -> tuple[DeaRegistration, ...]:
    return tuple(DeaRegistration(x.jurisdiction, x.number, tuple(x.schedules), x.expires_on, x.status,
                                 x.effective_from) for x in items)


def _own_cursor(caller: Caller, cursor: str | None) -> dict[str, object] | None:
    """A cursor is a DynamoDB key: refuse one that points into another tenant's partition."""
    return require_partition(require_key(decode_cursor(cursor), ("pk", "sk")), "pk", f"T#{caller.tenant_id}#DIR")  # type: ignore[no-any-return]


def _hhmm(text: str) -> time:
    if text == "24:00":
        return time.max  # the rule runs to the end of the local day
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
