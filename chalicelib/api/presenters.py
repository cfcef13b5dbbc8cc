"""Domain objects -> the JSON of API.md: the one place each /v1 resource is shaped (FHIR's in fhir/resources.py).
Times leave as UTC with a Z."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from ..domain.access import Caller
from ..domain.availability import Slot
from ..domain.escalation import Escalation
from ..domain.licensure import LicensureDecision
from ..domain.model import (
    Appointment,
    Availability,
    Clinician,
    ClosedDate,
    CompactPrivilege,
    ConfirmedLocation,
    DeaRegistration,
    DecisionNote,
    License,
    LicensureBasis,
    Patient,
    Site,
)
from ..domain.reminders import Reminder
from ..domain.ruleref import reason_json
from ..domain.tenant_policy import ReminderPolicy, TenantSettings
from ..domain.waitlist import WaitlistEntry


def utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def site_json(site: Site) -> dict[str, Any]:
    return {"site_id": site.site_id, "name": site.name, "timezone": site.timezone,
            "jurisdiction": site.jurisdiction,
            "address": {"line1": site.address.line1, "city": site.address.city,
                        "postal_code": site.address.postal_code},
            "rooms": list(site.rooms), "version": site.version}


def _hhmm(t: time) -> str:
    return "24:00" if t == time.max else t.strftime("%H:%M")


def availability_json(a: Availability) -> dict[str, Any]:
    return {
        "rules": [{"weekday": r.weekday, "start": _hhmm(r.start), "end": _hhmm(r.end),
                   "modalities": sorted(m.value for m in r.modalities), "site_id": r.site_id} for r in a.rules],
        "exceptions": [{"date": e.on.isoformat(), "closed": True} if isinstance(e, ClosedDate)
                       else {"start": utc(e.start), "end": utc(e.end), "available": False} for e in a.exceptions],
        "buffer_minutes": a.buffer_minutes,
    }


def clinician_json(c: Clinician) -> dict[str, Any]:
    return {
        "clinician_id": c.clinician_id, "name": c.name, "npi": c.npi, "discipline": c.discipline.value,
        "timezone": c.timezone,
        "licenses": [{"jurisdiction": x.jurisdiction, "type": x.type, "number": x.number,
                      "expires_on": x.expires_on.isoformat(), **_standing(x)} for x in c.licenses],
        "compact_privileges": [{"compact": x.compact, "kind": x.kind, "home_jurisdiction": x.home_jurisdiction,
                                "expires_on": x.expires_on.isoformat(), "jurisdictions": list(x.jurisdictions),
                                **_standing(x)}
                               for x in c.compact_privileges],
        "dea_registrations": [{"jurisdiction": x.jurisdiction, "number": x.number, "schedules": list(x.schedules),
                               "expires_on": x.expires_on.isoformat(), **_standing(x)}
                              for x in c.dea_registrations],
        "modalities": sorted(m.value for m in c.modalities), "site_ids": list(c.site_ids),
        "languages": list(c.languages), "payer_networks": list(c.payer_networks),
        "availability": availability_json(c.availability), "version": c.version,
    }


def clinician_view(c: Clinician, caller: Caller) -> dict[str, Any]:
    """Staff of the tenant get the whole record; patients and payers get the public profile: no licence
    or DEA numbers (identifiers that enable prescription fraud), no record version."""
    full = clinician_json(c)
    if caller.has("admin", "scheduler", "clinician"):
        return {**full, "profile": "full"}
    public = {k: v for k, v in full.items() if k not in ("dea_registrations", "version")}
    public["licenses"] = [{k: v for k, v in x.items() if k != "number"} for x in full["licenses"]]
    return {**public, "profile": "public"}


def patient_json(p: Patient) -> dict[str, Any]:
    return {
        "patient_id": p.patient_id, "name": p.name, "given_name": p.given_name, "family_name": p.family_name,
        "birth_date": p.birth_date.isoformat(),
        "home_jurisdiction": p.home_jurisdiction, "phone": p.phone, "email": p.email,
        "preferred_language": p.preferred_language, "tech_access": {"video": p.video_capable},
        "coverages": [{"payer_id": c.payer_id, "member_id": c.member_id, "relationship": c.relationship,
                       "subscriber": ({"given_name": c.subscriber.given_name, "family_name": c.subscriber.family_name,
                                       "birth_date": c.subscriber.birth_date.isoformat()
                                       if c.subscriber.birth_date else None} if c.subscriber else None)}
                      for c in p.coverages],
        "emergency_contact": ({"name": p.emergency_contact.name, "phone": p.emergency_contact.phone}
                              if p.emergency_contact else None),
        "version": p.version,
    }


def _standing(x: License | CompactPrivilege | DeaRegistration) -> dict[str, Any]:
    return {"status": x.status, "effective_from": x.effective_from.isoformat() if x.effective_from else None}


def basis_json(basis: LicensureBasis | None) -> dict[str, Any] | None:
    if basis is None:
        return None
    return {"kind": basis.kind, "jurisdiction": basis.jurisdiction, "compact": basis.compact, "ref": basis.ref}


def appointment_json(a: Appointment) -> dict[str, Any]:
    return {
        "appointment_id": a.appointment_id, "status": a.status.value, "patient_id": a.patient_id,
        "clinician_id": a.clinician_id, "service": a.service, "start": utc(a.start), "end": utc(a.end),
        "timezone": a.timezone, "modality": a.modality.value, "site_id": a.site_id, "room": a.room,
        "patient_jurisdiction": a.patient_jurisdiction, "patient_location_type": a.patient_location_type,
        "licensure": appointment_licensure_json(a),
        "confirmed_location": confirmed_location_json(a.confirmed_location),
        "eligibility": {"status": a.eligibility_status},
        "billing": billing_json(a),
        "cancel_reason": a.cancel_reason, "created_at": utc(a.created_at), "updated_at": utc(a.updated_at),
        "history": list(a.history), "version": a.version,
    }


def billing_json(a: Appointment) -> dict[str, Any]:
    billing: dict[str, Any] = {"place_of_service": a.billing.place_of_service, "modifiers": list(a.billing.modifiers)}
    time_check = (a.video or {}).get("time_check")
    if time_check:  # completed video visits: connected minutes against the code's time band
        billing["time_check"] = time_check
    return billing


def _note_json(n: DecisionNote) -> dict[str, Any]:
    return {"code": n.code, "rule_id": n.rule_id, "detail": n.detail}


def appointment_licensure_json(a: Appointment) -> dict[str, Any]:
    r = a.licensure
    if r is None:  # stored before decisions were recorded: what the visit row itself says
        return {"allowed": a.licensure_basis is not None, "basis": basis_json(a.licensure_basis), "uncertain": False,
                "conditions": [], "status": "ok", "review_reasons": [], "care_jurisdiction": a.care_jurisdiction,
                "location_source": "stated", "zone": a.timezone, "zone_assumed": False}
    return {"allowed": a.licensure_basis is not None and r.status == "ok", "basis": basis_json(a.licensure_basis),
            "uncertain": r.uncertain, "conditions": [_note_json(n) for n in r.conditions], "status": r.status,
            "review_reasons": [_note_json(n) for n in r.review_reasons], "care_jurisdiction": r.jurisdiction,
            "location_source": r.location_source, "zone": r.zone, "zone_assumed": r.zone_assumed}


def confirmed_location_json(c: ConfirmedLocation | None) -> dict[str, Any] | None:
    if c is None:
        return None
    address = None if not (c.address_line1 or c.address_city or c.address_postal_code) else {
        "line1": c.address_line1, "city": c.address_city, "postal_code": c.address_postal_code}
    return {"patient_jurisdiction": c.jurisdiction, "confirmed_at": utc(c.confirmed_at),
            "confirmed_by": c.confirmed_by, "callback_phone": c.callback_phone, "address": address}


def decision_json(decision: LicensureDecision) -> dict[str, Any]:
    """The decision as availability items show it: allowed, basis, doubt and conditions."""
    return {"allowed": decision.allowed, "basis": basis_json(decision.basis), "uncertain": decision.uncertain,
            "conditions": [reason_json(r) for r in decision.conditions]}


def licensure_check_json(decision: LicensureDecision) -> dict[str, Any]:
    """POST /v1/licensure/checks (API.md): the availability item's decision plus every reason and the rules
    version it was decided on."""
    return {**decision_json(decision), "rules_version": decision.rules_version,
            "reasons": [reason_json(r) for r in decision.reasons]}


def slot_json(slot: Slot, decision: LicensureDecision) -> dict[str, Any]:
    return {"clinician_id": slot.clinician_id, "start": utc(slot.start), "end": utc(slot.end),
            "modality": slot.modality.value, "site_id": slot.site_id, "licensure": decision_json(decision)}


def video_join_json(joined: Any) -> dict[str, Any]:
    m, a = joined.meeting, joined.attendee
    return {
        "meeting": {"MeetingId": m.meeting_id, "MediaRegion": m.media_region, "MediaPlacement": m.media_placement,
                    "ExternalMeetingId": m.external_meeting_id, "MeetingArn": m.meeting_arn},
        "attendee": {"AttendeeId": a.attendee_id, "ExternalUserId": a.external_user_id, "JoinToken": a.join_token},
        "waiting_room": joined.waiting_room,
    }


def audit_entry_json(e: dict[str, Any]) -> dict[str, Any]:
    return {"seq": e.get("seq"), "chained": e.get("seq") is not None, "at": e["at"], "actor": e["actor"],
            "action": e["action"], "resource": e["resource"],
            "patient_id": e.get("patient_id"), "outcome": e["outcome"], "request_id": e.get("request_id"),
            "prev_hash": e.get("prev_hash"), "hash": e.get("hash"),
            **{k: e[k] for k in ("member", "asking_tenant") if k in e}}


def escalation_json(e: Escalation) -> dict[str, Any]:
    return {"escalation_id": e.escalation_id, "status": e.status, "patient_id": e.patient_id, "risk": e.risk,
            "reasons": list(e.reasons), "resources": list(e.resources), "emergency_number": e.emergency_number,
            "opened_at": utc(e.opened_at), "opened_by": e.opened_by, "acknowledged_at": utc(e.acknowledged_at),
            "acknowledged_by": e.acknowledged_by, "note": e.note, "resolved_at": utc(e.resolved_at),
            "resolved_by": e.resolved_by, "outcome": e.outcome,
            "overdue_reported_at": utc(e.overdue_reported_at)}


def explanation_json(x: Any) -> dict[str, str]:
    return {"rule_id": x.rule_id, "effect": x.effect, "detail": x.detail}


def reminders_json(p: ReminderPolicy) -> dict[str, object]:
    return {"offsets_minutes": list(p.offsets_minutes), "channels": list(p.channels), "quiet_start": p.quiet_start,
            "quiet_end": p.quiet_end, "link_ttl_hours": p.link_ttl_hours, "offer_hold_minutes": p.offer_hold_minutes,
            "no_shows": {"require_confirmation_after": p.no_shows.require_confirmation_after,
                         "video_first_after": p.no_shows.video_first_after,
                         "release_unconfirmed_minutes_before": p.no_shows.release_unconfirmed_minutes_before}}


def confirmation_json(confirmation: dict[str, Any] | None) -> dict[str, Any]:
    """Whether a visit needs the patient's confirmation, where that stands, and when it releases the visit."""
    c = confirmation or {}
    release_at = c.get("release_at")
    return {"required": bool(c.get("required")), "status": c.get("status"),
            "release_at": utc(datetime.fromisoformat(release_at)) if release_at else None}


def settings_json(settings: TenantSettings) -> dict[str, object]:
    r, p = settings.routing, settings.publication
    return {"licensure": {"uncertain_rules": settings.licensure.uncertain_rules},
            "routing": {"disabled_rules": list(r.disabled_rules), "high_risk_max_wait_days": r.high_risk_max_wait_days,
                        "escalation_open_bound_minutes": r.escalation_open_bound_minutes},
            "publication": {"public": p.public, "booking_url": p.booking_url, "booking_phone": p.booking_phone,
                            "days": p.days, "services": list(p.services)},
            "reminders": reminders_json(settings.reminders),
            "version": settings.version}


def waitlist_json(e: WaitlistEntry) -> dict[str, Any]:
    o = e.offer
    return {"waitlist_id": e.waitlist_id, "status": e.status, "patient_id": e.patient_id, "service": e.service,
            "modalities": [m.value for m in e.modalities], "patient_jurisdiction": e.patient_jurisdiction,
            "window": {"from": utc(e.window_from), "to": utc(e.window_to)}, "clinician_id": e.clinician_id,
            "offer": None if o is None else {"start": utc(o.start), "end": utc(o.end), "clinician_id": o.clinician_id,
                                             "modality": o.modality.value, "site_id": o.site_id,
                                             "expires_at": utc(o.expires_at)},
            "appointment_id": e.appointment_id}


def reminder_json(r: Reminder) -> dict[str, Any]:
    # `sending` is a claim inside one job run: to the outside it is still scheduled.
    status = "scheduled" if r.status == "sending" else r.status
    return {"reminder_id": r.reminder_id, "channel": r.channel, "send_at": utc(r.send_at), "status": status,
            "sent_at": utc(r.sent_at) if r.sent_at else None}
