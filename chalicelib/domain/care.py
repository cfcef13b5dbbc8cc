"""Where care happens for a visit, at the moment a door decides, and the one licensure decision every door uses.

In-person care happens at the site. Telehealth happens where the patient is: the location they
confirmed at visit time (check-in, or the video join), else the one stated at booking, else home.
Never the site's jurisdiction: a patient seen in New York who switches to video from New Jersey
is now being treated in New Jersey.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .jurisdictions import JURISDICTIONS, JurisdictionTable
from .licensure import LicensureDecision, apply_uncertainty_policy, licensure_decision
from .model import Clinician, ConfirmedLocation, DecisionNote, LicensureRecord, Modality, Site
from .rulebook import RuleBook


@dataclass(frozen=True)
class CarePlace:
    jurisdiction: str
    source: str  # site | confirmed | stated | home
    zone: str
    zone_assumed: bool  # the jurisdiction spans zones and nothing about the patient said which

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.zone)).date()


@dataclass(frozen=True)
class PatientWhereabouts:
    """What is known of where the patient will be: home, the booking's statement, a confirmation."""

    home: str
    stated: str | None = None
    confirmed: ConfirmedLocation | None = None
    zone_hint: str | None = None  # an IANA zone the patient's device or address gave


def care_place(modality: Modality, site: Site | None, patient: PatientWhereabouts, rules: RuleBook,
               fallback_zone: str) -> CarePlace:
    if modality is Modality.IN_PERSON and site is not None:
        return CarePlace(site.jurisdiction, "site", site.timezone, False)
    if patient.confirmed is not None:
        where, source = patient.confirmed.jurisdiction, "confirmed"
        postal = patient.confirmed.address_postal_code
    elif patient.stated:
        where, source, postal = patient.stated, "stated", None
    else:
        where, source, postal = patient.home, "home", None
    zone, assumed = zone_of_care(rules, where, fallback_zone, postal=postal, hint=patient.zone_hint)
    return CarePlace(where, source, zone, assumed)


def zone_of_care(rules: RuleBook, where: str, fallback: str, *, postal: str | None = None,
                 hint: str | None = None) -> tuple[str, bool]:
    """The zone where care happens and whether it was assumed (the default of a multi-zone jurisdiction)."""
    table = rules.tables.get(JURISDICTIONS)
    if not isinstance(table, JurisdictionTable) or where not in table.by_code:
        return fallback, True
    j = table.by_code[where]
    zones = (j.default_zone, *j.other_zones)
    if hint in zones:
        return str(hint), False
    if postal:
        digits = postal.replace(" ", "").upper()
        for prefix, zone in sorted(j.postal_zones.items(), key=lambda kv: -len(kv[0])):
            if digits.startswith(prefix):
                return zone, False
    return j.default_zone, bool(j.other_zones)


@dataclass(frozen=True)
class CareDecision:
    place: CarePlace
    on: date  # the visit's local date where care happens
    decision: LicensureDecision

    def record(self, *, status: str = "ok", review: tuple[DecisionNote, ...] = ()) -> LicensureRecord:
        d = self.decision
        return LicensureRecord(
            jurisdiction=self.place.jurisdiction, location_source=self.place.source, zone=self.place.zone,
            zone_assumed=self.place.zone_assumed, uncertain=d.uncertain,
            conditions=tuple(DecisionNote(r.code, r.rule_id, r.detail) for r in d.conditions),
            status=status, review_reasons=review,
            temporary_practice=d.temporary_practice.ledger if d.temporary_practice else None,
            temporary_practice_limit=d.temporary_practice.max_days_per_calendar_year if d.temporary_practice else None)


def decide_care(clinician: Clinician, modality: Modality, start: datetime, place: CarePlace, rules: RuleBook, *,
                service: str | None, uncertain_rules: str = "warn",
                temporary_days_used: int | None = None) -> CareDecision:
    """The decision every door takes: licensure for where care happens then, under the tenant's doubt policy."""
    on = place.local_date(start)
    decision = licensure_decision(clinician, place.jurisdiction, modality, on, rules, service=service,
                                  temporary_days_used=temporary_days_used)
    return CareDecision(place, on, apply_uncertainty_policy(decision, uncertain_rules))


def notes(decision: LicensureDecision) -> tuple[DecisionNote, ...]:
    return tuple(DecisionNote(r.code, r.rule_id, r.detail) for r in decision.reasons)
