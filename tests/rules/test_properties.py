"""Properties of the licensure decision over random clinicians, places, modalities and dates.

- An allowed decision always has a basis in `where`: a current licence there, or a compact whose
  operational members include `where` on that date.
- A refused decision has no basis and at least one reason.
- Every reason cites a rule (id and source) and every decision carries the rules version.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chalicelib.domain.compacts import CompactTable
from chalicelib.domain.licensure import LicensureDecision, lawful_modalities, licensure_decision
from chalicelib.domain.model import (
    Clinician,
    CompactPrivilege,
    DeaRegistration,
    Discipline,
    License,
    Modality,
)
from tests.rules._support import source_rulebook

pytestmark = pytest.mark.unit

RULES = source_rulebook()
COMPACTS: CompactTable = RULES.tables["compacts"]
KNOWN = sorted(RULES.tables["jurisdictions"].by_code)
# Weight the places where compacts matter, plus a few codes the rules do not know.
PLACES = st.one_of(st.sampled_from(KNOWN),
                   st.sampled_from(["US-AZ", "US-MN", "US-OH", "US-TX", "US-NY", "US-CO", "US-FL", "US-CA"]),
                   st.sampled_from(["US-ZZ", "XX-01", "", "us-ny"]))
TYPES = st.sampled_from(["MD", "DO", "PsyD", "psychologist", "LPC", "LPCC", "LMHC", "LCSW", "LICSW", "APRN",
                         "PMHNP-BC", "LMFT", "RN", "FL-TPR", "bogus"])
DAYS = st.dates(min_value=date(2016, 1, 1), max_value=date(2030, 12, 31))
KINDS = st.sampled_from(["APIT", "TAP", "PRIVILEGE", None, "apit", "OTHER"])
SCHEDULES = st.one_of(st.none(), st.sampled_from(["II", "III", "IV", "V", "I"]))

licences = st.builds(License, PLACES, TYPES, st.just("N-1"), DAYS)
privileges = st.builds(CompactPrivilege, st.sampled_from(["PSYPACT", "IMLC", "COUNSELING", "SOCIAL_WORK", "NLC",
                                                          "APRN", "FOO"]),
                       KINDS, PLACES, DAYS, st.lists(PLACES, max_size=4).map(tuple))
registrations = st.builds(DeaRegistration, PLACES, st.just("D-1"),
                          st.lists(st.sampled_from(["II", "III", "IV", "V"]), max_size=4, unique=True).map(tuple),
                          DAYS)
random_clinicians = st.builds(
    Clinician, st.just("t"), st.just("c"), st.just("n"), st.just("1234567893"), st.sampled_from(list(Discipline)),
    st.just("America/New_York"), licenses=st.lists(licences, max_size=4).map(tuple),
    compact_privileges=st.lists(privileges, max_size=3).map(tuple),
    dea_registrations=st.lists(registrations, max_size=2).map(tuple))

# Purely random credentials are almost never valid; these look like real clinicians, so that
# allowed decisions (licence, exception and each compact) are exercised too.
FITTING_TYPES = {Discipline.PSYCHIATRIST: ["MD", "DO"], Discipline.PSYCHOLOGIST: ["PsyD", "psychologist"],
                 Discipline.COUNSELOR: ["LPC", "LMHC"], Discipline.SOCIAL_WORKER: ["LCSW", "LICSW"],
                 Discipline.PSYCHIATRIC_NP: ["APRN", "PMHNP-BC"], Discipline.MARRIAGE_FAMILY_THERAPIST: ["LMFT"]}
FITTING_COMPACTS = {Discipline.PSYCHOLOGIST: [("PSYPACT", "APIT"), ("PSYPACT", "TAP")],
                    Discipline.COUNSELOR: [("COUNSELING", "PRIVILEGE")], Discipline.PSYCHIATRIST: [("IMLC", None)],
                    Discipline.SOCIAL_WORKER: [("SOCIAL_WORK", None)],
                    Discipline.PSYCHIATRIC_NP: [("APRN", None), ("NLC", None)],
                    Discipline.MARRIAGE_FAMILY_THERAPIST: []}
HOMES = ["US-AZ", "US-MN", "US-OH", "US-TX", "US-PA", "US-NY", "US-GA", "US-FL"]
NEAR = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31))


@st.composite
def plausible_clinicians(draw: st.DrawFn) -> Clinician:
    discipline = draw(st.sampled_from(list(Discipline)))
    fitting = st.sampled_from(FITTING_TYPES[discipline])
    places = st.sampled_from(HOMES)
    home = draw(places)
    licenses = [License(home, draw(fitting), "N-home", draw(NEAR))]
    licenses += draw(st.lists(st.builds(License, places, st.one_of(fitting, TYPES), st.just("N-x"), NEAR),
                              max_size=2))
    if draw(st.booleans()):
        licenses.append(License("US-FL", "FL-TPR", "N-fl", draw(NEAR)))
    compacts = FITTING_COMPACTS[discipline]
    granted = [CompactPrivilege(name, kind, home, draw(NEAR), tuple(draw(st.lists(places, max_size=4))))
               for name, kind in draw(st.lists(st.sampled_from(compacts), max_size=2))] if compacts else []
    dea = draw(st.lists(st.builds(DeaRegistration, places, st.just("D-1"),
                                  st.lists(st.sampled_from(["II", "III", "IV", "V"]), min_size=1,
                                           unique=True).map(tuple), NEAR), max_size=2))
    return Clinician("t", "c", "n", "1234567893", discipline, "America/New_York", licenses=tuple(licenses),
                     compact_privileges=tuple(granted), dea_registrations=tuple(dea))


clinicians = st.one_of(random_clinicians, plausible_clinicians())
ON = st.one_of(DAYS, NEAR)


def places_for(c: Clinician) -> st.SearchStrategy[str]:
    """Where the patient is: often somewhere the clinician holds something, sometimes anywhere."""
    own = sorted({x.jurisdiction for x in c.licenses} | {j for p in c.compact_privileges for j in p.jurisdictions})
    return st.one_of(st.sampled_from(own), PLACES) if own else PLACES


def assert_grounded(c: Clinician, where: str, on: date, d: LicensureDecision, schedule: str | None) -> None:
    event(f"allowed={d.allowed} basis={d.basis.kind if d.basis else None} "
          f"compact={d.basis.compact if d.basis else None}")
    assert d.rules_version == RULES.version
    assert all(r.code and r.rule_id and r.source for r in d.reasons)
    if not d.allowed:
        assert d.basis is None
        assert d.reasons
        return
    basis = d.basis
    assert basis is not None and basis.jurisdiction == where
    assert where in KNOWN
    if basis.kind in {"license", "exception"}:
        assert any(lic.jurisdiction == where and on <= lic.expires_on and lic.number == basis.ref
                   for lic in c.licenses)
    else:
        assert basis.kind == "compact_privilege"
        compact = COMPACTS.get(basis.compact or "", on)
        assert compact is not None and where in compact.operational_members(on)
        assert any(p.compact == basis.compact and on <= p.expires_on and p.home_jurisdiction != where
                   for p in c.compact_privileges)
    if schedule is not None:
        assert schedule in {"II", "III", "IV", "V"}
        assert any(r.jurisdiction == where and on <= r.expires_on and schedule in r.schedules
                   for r in c.dea_registrations)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=clinicians, data=st.data(), modality=st.sampled_from(list(Modality)), on=ON, schedule=SCHEDULES,
       service=st.one_of(st.none(), st.sampled_from(["90834", "90792", "90853"])),
       days_used=st.one_of(st.none(), st.integers(0, 40)), oud=st.booleans(), seen=st.booleans())
def test_decisions_are_grounded_where_the_patient_is(c: Clinician, data: st.DataObject, modality: Modality,
                                                     on: date, schedule: str | None, service: str | None,
                                                     days_used: int | None, oud: bool, seen: bool) -> None:
    where = data.draw(places_for(c), label="where")
    d = licensure_decision(c, where, modality, on, RULES, service=service, controlled_substance_schedule=schedule,
                           temporary_days_used=days_used, oud_medication=oud, prior_in_person_evaluation=seen)

    assert_grounded(c, where, on, d, schedule)


@settings(max_examples=150, deadline=None)
@given(c=clinicians, data=st.data(), on=ON)
def test_lawful_modalities_agrees_with_the_single_check(c: Clinician, data: st.DataObject, on: date) -> None:
    where = data.draw(places_for(c), label="where")
    for modality, decision in lawful_modalities(c, where, on, RULES).items():
        assert decision == licensure_decision(c, where, modality, on, RULES)


@settings(max_examples=150, deadline=None)
@given(c=clinicians, data=st.data(), modality=st.sampled_from(list(Modality)), on=ON)
def test_a_credential_that_lapses_can_only_take_permission_away(c: Clinician, data: st.DataObject,
                                                                modality: Modality, on: date) -> None:
    where = data.draw(places_for(c), label="where")
    # Expiring every credential a day before the visit never turns a refusal into a permission.
    lapsed = Clinician(
        c.tenant_id, c.clinician_id, c.name, c.npi, c.discipline, c.timezone,
        licenses=tuple(License(x.jurisdiction, x.type, x.number, on - timedelta(days=1)) for x in c.licenses),
        compact_privileges=tuple(CompactPrivilege(p.compact, p.kind, p.home_jurisdiction, on - timedelta(days=1),
                                                  p.jurisdictions) for p in c.compact_privileges))

    assert not licensure_decision(lapsed, where, modality, on, RULES).allowed


MID_2026 = date(2026, 7, 1)
MEMBERS_2026 = {name: sorted(COMPACTS.get(name, MID_2026).operational_members(MID_2026))  # type: ignore[union-attr]
                for name in ("PSYPACT", "COUNSELING")}


@st.composite
def compact_holders(draw: st.DrawFn) -> tuple[Clinician, str, date]:
    """A psychologist or counselor with a home licence and a privilege, a visit date, and a place."""
    name, kind, discipline, license_type = draw(st.sampled_from([
        ("PSYPACT", "APIT", Discipline.PSYCHOLOGIST, "psychologist"),
        ("PSYPACT", "TAP", Discipline.PSYCHOLOGIST, "PsyD"),
        ("COUNSELING", "PRIVILEGE", Discipline.COUNSELOR, "LPC")]))
    on = draw(st.dates(min_value=date(2025, 6, 1), max_value=date(2028, 12, 31)))
    # Expiry dates around the visit, so that both valid and expired credentials are common.
    expiry = st.integers(-60, 700).map(lambda days: on + timedelta(days=days))
    members = st.sampled_from(MEMBERS_2026[name])
    home = draw(members)
    remote = tuple(draw(st.lists(members, max_size=4)))
    c = Clinician("t", "c", "n", "1234567893", discipline, "America/New_York",
                  licenses=(License(home, license_type, "N-home", draw(expiry)),),
                  compact_privileges=(CompactPrivilege(name, kind, home, draw(expiry), remote),))
    where = draw(st.one_of(st.sampled_from(remote) if remote else members, members, PLACES))
    return c, where, on


@settings(max_examples=300, deadline=None)
@given(scenario=compact_holders(), modality=st.sampled_from(list(Modality)),
       days_used=st.one_of(st.none(), st.integers(0, 40)))
def test_compact_grants_are_grounded_in_operational_membership(scenario: tuple[Clinician, str, date],
                                                                modality: Modality, days_used: int | None) -> None:
    c, where, on = scenario
    d = licensure_decision(c, where, modality, on, RULES, temporary_days_used=days_used)

    assert_grounded(c, where, on, d, None)
    if d.allowed and d.basis is not None and d.basis.kind == "compact_privilege":
        privilege = c.compact_privileges[0]
        if privilege.compact == "COUNSELING":
            assert where in privilege.jurisdictions  # counselingcompact.org/faq: per remote state
        if privilege.kind == "APIT":
            assert modality is not Modality.IN_PERSON  # APIT is telepsychology only
        if privilege.kind == "TAP":
            assert modality is Modality.IN_PERSON and (days_used is None or days_used < 30)
