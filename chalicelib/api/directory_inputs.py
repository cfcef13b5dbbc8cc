"""Request models of the directory and tenant-settings routes -> the services' plain inputs (domain values)."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Any

from ..domain.model import (
    Address,
    Availability,
    ClosedDate,
    CompactPrivilege,
    Contact,
    Coverage,
    DeaRegistration,
    Discipline,
    License,
    Modality,
    Subscriber,
    Unavailable,
    WeeklyRule,
)
from ..domain.tenant_policy import LicensurePolicy, NoShowPolicy, PublicationPolicy, ReminderPolicy, RoutingOverrides
from ..schemas.directory import (
    AddressIn,
    AvailabilityIn,
    ClinicianIn,
    ClinicianPatch,
    ContactIn,
    CoverageIn,
    PatientIn,
    PatientPatch,
    SiteIn,
    SitePatch,
    TenantReminderSettingsIn,
    TenantSettingsIn,
)

# The services load on the first request that needs them, not at `import app` (the cold start).
if TYPE_CHECKING:
    from ..services.directory import Changes, ClinicianDraft, PatientDraft, SiteDraft
    from ..services.tenant_settings import SettingsUpdate


def site_draft(body: SiteIn) -> SiteDraft:
    from ..services.directory import SiteDraft

    rooms = body.rooms if isinstance(body.rooms, int) else tuple(body.rooms)
    return SiteDraft(body.name, body.timezone, body.jurisdiction, _address(body.address), rooms)


def site_changes(body: SitePatch) -> Changes:
    return _changes(body, {"address": lambda a: _address(a) if a is not None else None,
                           "rooms": lambda r: tuple(r) if r is not None else None})


def clinician_draft(body: ClinicianIn) -> ClinicianDraft:
    from ..services.directory import ClinicianDraft

    return ClinicianDraft(
        name=body.name, npi=body.npi, discipline=Discipline(body.discipline), timezone=body.timezone,
        modalities=frozenset(Modality(m) for m in body.modalities), licenses=_licenses(body.licenses),
        compact_privileges=_privileges(body.compact_privileges),
        dea_registrations=_registrations(body.dea_registrations),
        site_ids=tuple(body.site_ids), languages=tuple(body.languages), payer_networks=tuple(body.payer_networks))


def clinician_changes(body: ClinicianPatch) -> Changes:
    return _changes(body, {
        "discipline": lambda d: Discipline(d) if d is not None else None,
        "licenses": lambda x: _licenses(x) if x is not None else None,
        "compact_privileges": lambda x: _privileges(x) if x is not None else None,
        "dea_registrations": lambda x: _registrations(x) if x is not None else None,
        "modalities": lambda x: frozenset(Modality(m) for m in x) if x is not None else None,
        "site_ids": _tuple, "languages": _tuple, "payer_networks": _tuple})


def availability(body: AvailabilityIn) -> Availability:
    return Availability(
        rules=tuple(WeeklyRule(r.weekday, _hhmm(r.start), _hhmm(r.end),
                               frozenset(Modality(m) for m in r.modalities), r.site_id) for r in body.rules),
        exceptions=tuple(ClosedDate(e.date) if hasattr(e, "closed") else Unavailable(e.start, e.end)
                         for e in body.exceptions),
        buffer_minutes=body.buffer_minutes,
    )


def patient_draft(body: PatientIn) -> PatientDraft:
    from ..services.directory import PatientDraft

    return PatientDraft(
        full_name=body.full_name, given_name=body.given_name, family_name=body.family_name,
        birth_date=body.birth_date, home_jurisdiction=body.home_jurisdiction, phone=body.phone, email=body.email,
        preferred_language=body.preferred_language, video_capable=body.tech_access.video,
        coverages=tuple(_coverage(c) for c in body.coverages), emergency_contact=_contact(body.emergency_contact))


def patient_changes(body: PatientPatch) -> Changes:
    return _changes(body, {
        "tech_access": lambda t: t.video if t is not None else None,
        "coverages": lambda cs: tuple(_coverage(c) for c in cs) if cs is not None else None,
        "emergency_contact": _contact})


def settings_update(body: TenantSettingsIn) -> SettingsUpdate:
    from ..services.tenant_settings import SettingsUpdate

    r, p = body.routing, body.publication
    return SettingsUpdate(
        licensure=LicensurePolicy(body.licensure.uncertain_rules),
        routing=RoutingOverrides(tuple(r.disabled_rules), r.high_risk_max_wait_days, r.escalation_open_bound_minutes),
        publication=PublicationPolicy(p.public, p.booking_url, p.booking_phone, p.days, tuple(p.services)),
        reminders=None if body.reminders is None else _reminders(body.reminders))


def _reminders(body: TenantReminderSettingsIn) -> ReminderPolicy:
    n = body.no_shows
    return ReminderPolicy(tuple(sorted(body.offsets_minutes, reverse=True)), tuple(body.channels), body.quiet_start,
                          body.quiet_end, body.link_ttl_hours, body.offer_hold_minutes,
                          NoShowPolicy(n.require_confirmation_after, n.video_first_after,
                                       n.release_unconfirmed_minutes_before))


def _changes(body: Any, mapped: dict[str, Any]) -> Changes:
    """Only the fields the client sent; an explicit null stays None (the service refuses it where it must)."""
    from ..services.directory import Changes

    return Changes({name: mapped.get(name, _same)(getattr(body, name)) for name in body.model_fields_set})


def _same(value: Any) -> Any:
    return value


def _tuple(value: list[Any] | None) -> tuple[Any, ...] | None:
    return tuple(value) if value is not None else None


def _address(a: AddressIn) -> Address:
    return Address(a.line1, a.city, a.postal_code)


def _contact(contact: ContactIn | None) -> Contact | None:
    return Contact(contact.name, contact.phone) if contact else None


def _coverage(c: CoverageIn) -> Coverage:
    s = c.subscriber
    return Coverage(c.payer_id, c.member_id, c.relationship,
                    Subscriber(s.given_name, s.family_name, s.birth_date) if s else None)


def _licenses(items: list[Any]) -> tuple[License, ...]:
    return tuple(License(x.jurisdiction, x.type, x.number, x.expires_on, x.status, x.effective_from) for x in items)


def _privileges(items: list[Any]) -> tuple[CompactPrivilege, ...]:
    return tuple(CompactPrivilege(x.compact, x.kind, x.home_jurisdiction, x.expires_on, tuple(x.jurisdictions),
                                  x.status, x.effective_from) for x in items)


def _registrations(items: list[Any]) -> tuple[DeaRegistration, ...]:
    return tuple(DeaRegistration(x.jurisdiction, x.number, tuple(x.schedules), x.expires_on, x.status,
                                 x.effective_from) for x in items)


def _hhmm(text: str) -> time:
    if text == "24:00":
        return time.max  # the rule runs to the end of the local day
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
