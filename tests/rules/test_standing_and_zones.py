"""Licences have a status; the zone of care follows the patient's address where a state spans zones."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from chalicelib.domain.care import PatientWhereabouts, care_place, decide_care
from chalicelib.domain.licensure import apply_uncertainty_policy
from chalicelib.domain.model import ConfirmedLocation, Discipline, Modality
from tests.rules._support import PSYCHOLOGIST_AZ, clinician, dea, decide, lic, privilege, source_rulebook

pytestmark = pytest.mark.unit

VIDEO, IN_PERSON = Modality.VIDEO, Modality.IN_PERSON
NY = clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-NY", "psychologist"),))


@pytest.mark.parametrize(("status", "allowed", "code"), [
    ("active", True, "LICENSED_IN_JURISDICTION"),
    ("probation", True, "LICENSED_IN_JURISDICTION"),
    ("inactive", False, "LICENSE_INACTIVE"),
    ("suspended", False, "LICENSE_SUSPENDED"),
    ("revoked", False, "LICENSE_REVOKED"),
])
def test_only_active_and_probation_grant(status, allowed, code):
    c = replace(NY, licenses=(replace(NY.licenses[0], status=status),))
    d = decide(c, "US-NY", VIDEO)
    assert d.allowed is allowed and code in d.codes
    assert ("LICENSE_ON_PROBATION" in {r.code for r in d.conditions}) is (status == "probation")


def test_a_status_takes_effect_on_its_date():
    suspended_later = replace(NY, licenses=(replace(NY.licenses[0], status="suspended",
                                                    effective_from=date(2026, 12, 10)),))
    assert decide(suspended_later, "US-NY", VIDEO, date(2026, 12, 9)).allowed
    assert "LICENSE_SUSPENDED" in decide(suspended_later, "US-NY", VIDEO, date(2026, 12, 10)).codes
    granted_later = replace(NY, licenses=(replace(NY.licenses[0], effective_from=date(2026, 12, 10)),))
    assert "LICENSE_NOT_YET_EFFECTIVE" in decide(granted_later, "US-NY", VIDEO, date(2026, 12, 9)).codes


def test_a_suspended_privilege_or_home_licence_grants_no_compact_practice():
    assert decide(PSYCHOLOGIST_AZ, "US-TX", VIDEO).allowed
    privilege_suspended = replace(PSYCHOLOGIST_AZ, compact_privileges=(
        replace(PSYCHOLOGIST_AZ.compact_privileges[0], status="suspended"),))
    assert "PRIVILEGE_SUSPENDED" in decide(privilege_suspended, "US-TX", VIDEO).codes
    home_revoked = replace(PSYCHOLOGIST_AZ, licenses=(replace(PSYCHOLOGIST_AZ.licenses[0], status="revoked"),))
    assert "HOME_LICENSE_NOT_ACTIVE" in decide(home_revoked, "US-TX", VIDEO).codes


def test_a_suspended_dea_registration_cannot_prescribe():
    psychiatrist = clinician(Discipline.PSYCHIATRIST, licenses=(lic("US-NY", "MD"),), dea_registrations=(dea("US-NY"),))
    assert decide(psychiatrist, "US-NY", IN_PERSON, controlled_substance_schedule="II").allowed
    suspended = replace(psychiatrist, dea_registrations=(replace(psychiatrist.dea_registrations[0],
                                                                 status="suspended"),))
    refused = decide(suspended, "US-NY", IN_PERSON, controlled_substance_schedule="II")
    assert not refused.allowed and "DEA_REGISTRATION_SUSPENDED" in refused.codes


def test_tap_days_are_a_condition_and_the_limit_refuses():
    tap = clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-AZ", "PsyD"),),
                    privileges=(privilege("PSYPACT", "TAP", "US-AZ"),))
    d = decide(tap, "US-TX", IN_PERSON)
    assert d.allowed and d.temporary_practice is not None
    assert d.temporary_practice.ledger == "PSYPACT#TAP#US-TX" and d.temporary_practice.max_days_per_calendar_year == 30
    assert "TEMPORARY_PRACTICE_DAY_LIMIT" in {r.code for r in d.conditions}
    assert "TEMPORARY_PRACTICE_DAYS_EXHAUSTED" in decide(tap, "US-TX", IN_PERSON, temporary_days_used=30).codes


def test_refuse_policy_turns_an_uncertain_allowance_into_a_refusal():
    d = decide(PSYCHOLOGIST_AZ, "US-TX", VIDEO)
    assert d.allowed and d.uncertain
    assert apply_uncertainty_policy(d, "warn") is d
    refused = apply_uncertainty_policy(d, "refuse")
    assert not refused.allowed and refused.codes[0] == "UNCERTAIN_RULE_REFUSED"
    certain = decide(NY, "US-NY", VIDEO)
    assert apply_uncertainty_policy(certain, "refuse").allowed


def _confirmed(where: str, postal: str | None = None) -> ConfirmedLocation:
    return ConfirmedLocation(where, datetime(2026, 3, 1, tzinfo=UTC), "patient", address_postal_code=postal)


def test_the_zone_of_care_follows_the_address_and_says_when_it_assumed():
    book = source_rulebook()
    pensacola = care_place(VIDEO, None, PatientWhereabouts("US-NY", confirmed=_confirmed("US-FL", "32501")), book,
                           "America/New_York")
    assert (pensacola.jurisdiction, pensacola.zone, pensacola.zone_assumed) == ("US-FL", "America/Chicago", False)
    miami = care_place(VIDEO, None, PatientWhereabouts("US-NY", confirmed=_confirmed("US-FL", "33101")), book,
                       "America/New_York")
    assert (miami.zone, miami.zone_assumed) == ("America/New_York", True)
    hinted = care_place(VIDEO, None, PatientWhereabouts("US-TX", "US-TX", zone_hint="America/Denver"), book, "UTC")
    assert (hinted.zone, hinted.zone_assumed) == ("America/Denver", False)
    single = care_place(VIDEO, None, PatientWhereabouts("US-NY"), book, "UTC")
    assert (single.source, single.zone, single.zone_assumed) == ("home", "America/New_York", False)


def test_the_local_date_of_care_is_taken_in_the_zone_the_address_gives():
    # 05:30 UTC on 1 Dec is 23:30 on 30 Nov in Pensacola but 00:30 on 1 Dec in Miami
    book = source_rulebook()
    start = datetime(2026, 12, 1, 5, 30, tzinfo=UTC)
    fl = clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-FL", "psychologist", until=date(2026, 11, 30)),))
    west = care_place(VIDEO, None, PatientWhereabouts("US-FL", confirmed=_confirmed("US-FL", "32501")), book, "UTC")
    east = care_place(VIDEO, None, PatientWhereabouts("US-FL", confirmed=_confirmed("US-FL", "33101")), book, "UTC")
    assert decide_care(fl, VIDEO, start, west, book, service="90834").decision.allowed
    assert not decide_care(fl, VIDEO, start, east, book, service="90834").decision.allowed

