"""Sites, clinicians, availability and patients."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar

from ..domain.access import Caller, require_clinician_self_or_admin, require_patient_access
from ..domain.errors import FieldError, FieldErrors, NotFound, ValidationFailed, VersionMismatch
from ..domain.model import (
    Address,
    Availability,
    Clinician,
    CompactPrivilege,
    Contact,
    Coverage,
    DeaRegistration,
    Discipline,
    License,
    Modality,
    Patient,
    Site,
)
from ..domain.ports import AuditTrail, Directory, IdFactory
from .paging import decode_cursor, encode_cursor


@dataclass(frozen=True)
class SiteDraft:
    name: str
    timezone: str
    jurisdiction: str
    address: Address
    rooms: tuple[str, ...] | int  # names, or how many rooms to name room-1..room-n


@dataclass(frozen=True)
class ClinicianDraft:
    name: str
    npi: str
    discipline: Discipline
    timezone: str
    modalities: frozenset[Modality]
    licenses: tuple[License, ...] = ()
    compact_privileges: tuple[CompactPrivilege, ...] = ()
    dea_registrations: tuple[DeaRegistration, ...] = ()
    site_ids: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    payer_networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatientDraft:
    full_name: str
    given_name: str | None
    family_name: str | None
    birth_date: date
    home_jurisdiction: str
    phone: str | None
    email: str | None
    preferred_language: str | None
    video_capable: bool
    coverages: tuple[Coverage, ...] = ()
    emergency_contact: Contact | None = None


@dataclass(frozen=True)
class Changes:
    """The fields a PATCH sent, named as in the request and already as domain values; None where the
    client sent null (refused for fields that may not be empty)."""

    values: Mapping[str, Any]

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def get(self, name: str) -> Any:
        return self.values.get(name)


# Called after a clinician or site changed: re-decides the future visits resting on them and
# returns how many were flagged for review and how many were cleared (services/booking.py).
Redecider = Callable[[Caller, Clinician], dict[str, int]]


class DirectoryService:
    def __init__(self, repo: Directory, audit: AuditTrail, new_id: IdFactory,
                 redecide: Redecider | None = None) -> None:
        self.repo = repo
        self.audit = audit
        self.new_id = new_id
        self.redecide = redecide or (lambda caller, clinician: {"flagged": 0, "cleared": 0})

    # --- sites -------------------------------------------------------------------------------
    def create_site(self, caller: Caller, body: SiteDraft) -> Site:
        site = Site(caller.tenant_id, self.new_id("site"), body.name, body.timezone, body.jurisdiction,
                    body.address, _room_names(body.rooms))
        self.repo.add_site(site)
        return site

    def get_site(self, caller: Caller, site_id: str) -> Site:
        site = self.repo.get_site(caller.tenant_id, site_id)
        if site is None:
            raise NotFound("No such site.")
        return site

    def patch_site(self, caller: Caller, site_id: str, body: Changes, if_match: int | None) -> Site:
        current = _require_version(self.get_site(caller, site_id), if_match)
        _no_nulls(body, ("name", "timezone", "jurisdiction", "address", "rooms"))
        site = replace(current, name=body.get("name") if "name" in body else current.name,
                       timezone=body.get("timezone") if "timezone" in body else current.timezone,
                       jurisdiction=body.get("jurisdiction") if "jurisdiction" in body else current.jurisdiction,
                       address=body.get("address") if "address" in body else current.address,
                       rooms=_unique_rooms(body.get("rooms")) if "rooms" in body else current.rooms)
        saved = self.repo.save_site(site)
        self.audit.record(caller, "site.update", f"site/{site_id}", None, "success")
        if (site.jurisdiction, site.timezone) != (current.jurisdiction, current.timezone):
            # In-person care happens at the site: its visits are decided again for the new place.
            for clinician in self.repo.list_clinicians(caller.tenant_id):
                if site_id in clinician.site_ids:
                    self.redecide(caller, clinician)
        return saved

    def list_sites(self, caller: Caller, limit: int, cursor: str | None) -> tuple[list[Site], str | None]:
        sites, last = self.repo.page_sites(caller.tenant_id, limit, decode_cursor(cursor))
        return sites, encode_cursor(last)

    # --- clinicians --------------------------------------------------------------------------
    def create_clinician(self, caller: Caller, body: ClinicianDraft) -> Clinician:
        self._require_sites(caller.tenant_id, body.site_ids, "site_ids")
        clinician = Clinician(
            tenant_id=caller.tenant_id, clinician_id=self.new_id("clin"), name=body.name, npi=body.npi,
            discipline=body.discipline, timezone=body.timezone, licenses=body.licenses,
            compact_privileges=body.compact_privileges, dea_registrations=body.dea_registrations,
            modalities=body.modalities, site_ids=body.site_ids, languages=body.languages,
            payer_networks=body.payer_networks,
        )
        self.repo.add_clinician(clinician)
        return clinician

    def get_clinician(self, caller: Caller, clinician_id: str) -> Clinician:
        clinician = self.repo.get_clinician(caller.tenant_id, clinician_id)
        if clinician is None:
            raise NotFound("No such clinician.")
        return clinician

    def list_clinicians(self, caller: Caller, limit: int, cursor: str | None) -> tuple[list[Clinician], str | None]:
        clinicians, last = self.repo.page_clinicians(caller.tenant_id, limit, decode_cursor(cursor))
        return clinicians, encode_cursor(last)

    def patch_clinician(self, caller: Caller, clinician_id: str, body: Changes,
                        if_match: int | None) -> tuple[Clinician, dict[str, int]]:
        """Change a clinician (licence suspended, privilege added, ...); future visits that rested on an
        authority the change removed are flagged for review, and ones it restored are cleared."""
        current = _require_version(self.get_clinician(caller, clinician_id), if_match)
        _no_nulls(body, tuple(body.values))
        if "site_ids" in body:
            self._require_sites(caller.tenant_id, body.get("site_ids"), "site_ids")
        changes = {name: body.get(name) for name in CLINICIAN_FIELDS if name in body}
        saved = self.repo.save_clinician(replace(current, **changes))
        self.audit.record(caller, "clinician.update", f"clinician/{clinician_id}", None, "success")
        return saved, self.redecide(caller, saved)

    def set_availability(self, caller: Caller, clinician_id: str, availability: Availability) -> Clinician:
        require_clinician_self_or_admin(caller, clinician_id)
        clinician = self.get_clinician(caller, clinician_id)
        errors = FieldErrors()
        for i, rule in enumerate(availability.rules):
            if rule.site_id and rule.site_id not in clinician.site_ids:
                errors.add(f"rules[{i}].site_id", "is not one of the clinician's sites")
        errors.raise_if_any()
        return self.repo.save_clinician(replace(clinician, availability=availability))

    # --- patients ----------------------------------------------------------------------------
    def create_patient(self, caller: Caller, body: PatientDraft) -> Patient:
        patient = Patient(
            tenant_id=caller.tenant_id, patient_id=self.new_id("pat"), name=body.full_name,
            given_name=body.given_name, family_name=body.family_name, birth_date=body.birth_date,
            home_jurisdiction=body.home_jurisdiction, phone=body.phone, email=body.email,
            preferred_language=body.preferred_language, video_capable=body.video_capable,
            coverages=body.coverages, emergency_contact=body.emergency_contact,
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

    def patch_patient(self, caller: Caller, patient_id: str, body: Changes, if_match: int | None) -> Patient:
        require_patient_access(caller, patient_id)
        found = self.repo.get_patient(caller.tenant_id, patient_id)
        if found is None:
            raise NotFound("No such patient.")
        current = _require_version(found, if_match)
        _no_nulls(body, ("name", "birth_date", "home_jurisdiction", "tech_access", "coverages"))
        changes: dict[str, Any] = {name: body.get(name) for name in PATIENT_FIELDS if name in body}
        if "tech_access" in body:
            changes["video_capable"] = body.get("tech_access")
        saved = self.repo.save_patient(replace(current, **changes))
        self.audit.record(caller, "patient.update", f"patient/{patient_id}", patient_id, "success")
        return saved

    def _require_sites(self, tenant: str, site_ids: tuple[str, ...], field: str) -> None:
        errors = FieldErrors()
        for i, site_id in enumerate(site_ids):
            if self.repo.get_site(tenant, site_id) is None:
                errors.add(f"{field}[{i}]", "no such site in this tenant")
        errors.raise_if_any()


CLINICIAN_FIELDS = ("name", "npi", "discipline", "timezone", "licenses", "compact_privileges", "dea_registrations",
                    "modalities", "site_ids", "languages", "payer_networks")
# "tech_access" (video or not) is stored as Patient.video_capable.
PATIENT_FIELDS = ("name", "given_name", "family_name", "birth_date", "home_jurisdiction", "phone", "email",
                  "preferred_language", "coverages", "emergency_contact")


V = TypeVar("V", Site, Clinician, Patient)


def _require_version(record: V, if_match: int | None) -> V:
    if if_match is not None and if_match != record.version:
        raise VersionMismatch(f"The record is at version {record.version}, not {if_match}.",
                              extra={"current_version": record.version})
    return record


def _no_nulls(body: Changes, required: tuple[str, ...]) -> None:
    errors = FieldErrors()
    for name in required:
        if name in body and body.get(name) is None:
            errors.add(name, "may not be null")
    errors.raise_if_any()


def _room_names(rooms: tuple[str, ...] | int) -> tuple[str, ...]:
    if isinstance(rooms, int):
        return tuple(f"room-{i + 1}" for i in range(rooms))
    return _unique_rooms(rooms)


def _unique_rooms(rooms: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(rooms)) != len(rooms):
        raise ValidationFailed("Invalid fields: rooms", errors=[FieldError("rooms", "room names must be unique")])
    return tuple(rooms)
