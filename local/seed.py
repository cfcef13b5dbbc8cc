"""The demo tenant: two sites in two time zones, clinicians of several disciplines and states, patients.

Ids are fixed so the README tour can name them. Seeding is idempotent: a second run adds nothing.
"""

from __future__ import annotations

from datetime import date, time

from chalicelib.adapters.dynamo.directory import DirectoryRepository
from chalicelib.domain.model import (
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
    WeeklyRule,
)

TENANT = "demo"
ALL = frozenset(Modality)
TELE = frozenset({Modality.VIDEO, Modality.PHONE})
LATER = date(2030, 12, 31)


def _weekdays(start: str, end: str, modalities: frozenset[Modality], site_id: str | None,
              days: tuple[int, ...] = (0, 1, 2, 3, 4)) -> tuple[WeeklyRule, ...]:
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    return tuple(WeeklyRule(d, time(h1, m1), time(h2, m2), modalities, site_id) for d in days)


def _all_day(modalities: frozenset[Modality]) -> tuple[WeeklyRule, ...]:
    """Every day 00:00-24:00 local (time.max is how a rule says "24:00")."""
    return tuple(WeeklyRule(d, time(0, 0), time.max, modalities, None) for d in range(7))


def demo_sites() -> list[Site]:
    return [
        Site(TENANT, "site_manhattan", "Manhattan Behavioral Health", "America/New_York", "US-NY",
             Address("350 5th Ave", "New York", "10118"), ("room-1", "room-2", "room-3")),
        Site(TENANT, "site_los_angeles", "Los Angeles Wellness Center", "America/Los_Angeles", "US-CA",
             Address("200 N Spring St", "Los Angeles", "90012"), ("room-1", "room-2")),
    ]


def demo_clinicians() -> list[Clinician]:
    return [
        Clinician(
            TENANT, "clin_rivera", "Dr. Ada Rivera", "1123456786", Discipline.PSYCHOLOGIST, "America/New_York",
            licenses=(License("US-NY", "psychologist", "NY-PSY-020202", LATER),
                      License("US-NJ", "psychologist", "NJ-35SI00990", LATER)),
            compact_privileges=(CompactPrivilege("PSYPACT", "APIT", "US-NJ", LATER),),
            modalities=ALL, site_ids=("site_manhattan",), languages=("en", "es"), payer_networks=("acme",),
            availability=Availability(
                rules=_weekdays("09:00", "17:00", ALL, "site_manhattan", (1, 3))
                + _weekdays("08:00", "16:00", TELE, None, (0, 2, 4)),
                buffer_minutes=15),
        ),
        Clinician(
            TENANT, "clin_okafor", "Dr. Ben Okafor", "1123464558", Discipline.PSYCHIATRIST, "America/Los_Angeles",
            licenses=(License("US-CA", "MD", "CA-A123456", LATER), License("US-NY", "MD", "NY-301234", LATER)),
            dea_registrations=(DeaRegistration("US-CA", "BO1234563", ("II", "III", "IV", "V"), LATER),),
            modalities=ALL, site_ids=("site_los_angeles",), languages=("en",), payer_networks=("acme",),
            availability=Availability(rules=_weekdays("09:00", "17:00", ALL, "site_los_angeles"), buffer_minutes=10),
        ),
        Clinician(
            TENANT, "clin_lin", "Casey Lin, LPC", "1123472338", Discipline.COUNSELOR, "America/New_York",
            licenses=(License("US-OH", "LPC", "OH-LPC-0001", LATER),),
            # Ohio is operational in the Counseling Compact; the privilege names the remote states.
            compact_privileges=(CompactPrivilege("COUNSELING", "PRIVILEGE", "US-OH", LATER, ("US-AZ", "US-MN")),),
            modalities=TELE, languages=("en", "zh"),
            availability=Availability(rules=_weekdays("10:00", "18:00", TELE, None)),
        ),
        Clinician(
            TENANT, "clin_smith", "Dana Smith, LCSW", "1123480117", Discipline.SOCIAL_WORKER, "America/New_York",
            licenses=(License("US-NJ", "LCSW", "NJ-44SC0001", LATER), License("US-NY", "LCSW", "NY-088888", LATER)),
            modalities=ALL, site_ids=("site_manhattan",), languages=("en",),
            availability=Availability(rules=_weekdays("12:00", "20:00", ALL, "site_manhattan")),
        ),
        Clinician(
            TENANT, "clin_park", "Eli Park, PMHNP", "1123487880", Discipline.PSYCHIATRIC_NP, "America/Los_Angeles",
            licenses=(License("US-CA", "APRN", "CA-NP-77777", LATER), License("US-OR", "APRN", "OR-NP-5555", LATER)),
            dea_registrations=(DeaRegistration("US-CA", "FP1234568", ("II", "III", "IV", "V"), LATER),),
            modalities=TELE, languages=("en", "ko"),
            availability=Availability(rules=_weekdays("07:00", "15:00", TELE, None)),
        ),
        # The README tour's video step runs whenever a newcomer tries it: these two see video visits around
        # the clock. Two zones half a day apart, because a visit cannot span one clinician's local midnight.
        Clinician(
            TENANT, "clin_hale", "Dr. Rowan Hale (24h video demo)", "1679576722", Discipline.PSYCHOLOGIST,
            "America/New_York",
            licenses=(License("US-PA", "psychologist", "PA-PS-024024", LATER),
                      License("US-NY", "psychologist", "NY-PSY-242424", LATER)),
            modalities=TELE, languages=("en",), payer_networks=("acme",),
            availability=Availability(rules=_all_day(TELE)),
        ),
        Clinician(
            TENANT, "clin_sato", "Dr. Mika Sato (24h video demo)", "1003000126", Discipline.PSYCHOLOGIST,
            "Asia/Tokyo",
            licenses=(License("US-PA", "psychologist", "PA-PS-120120", LATER),
                      License("US-NY", "psychologist", "NY-PSY-121212", LATER)),
            modalities=TELE, languages=("en", "ja"), payer_networks=("acme",),
            availability=Availability(rules=_all_day(TELE)),
        ),
    ]


def demo_patients() -> list[Patient]:
    return [
        Patient(TENANT, "pat_ny", "Jordan Demo-Patient", date(1988, 5, 17), "US-NY", "+1 212 555 0101",
                "jordan@example.org", "en", True, (Coverage("acme", "ACME100001"),),
                Contact("Sam Demo-Contact", "+1 212 555 0199")),
        Patient(TENANT, "pat_nj", "Riley Demo-Patient", date(1975, 11, 2), "US-NJ", "+1 201 555 0102",
                "riley@example.org", "en", True, (Coverage("acme", "ACME100002"),), None),
        Patient(TENANT, "pat_pa", "Avery Demo-Patient", date(1995, 7, 9), "US-PA", "+1 215 555 0104",
                "avery@example.org", "en", True, (Coverage("acme", "ACME100004"),), None),
        Patient(TENANT, "pat_ca", "Morgan Demo-Patient", date(2001, 2, 28), "US-CA", "+1 213 555 0103",
                None, "es", False, (Coverage("acme", "ACME100003"),), None),
    ]


def seed_demo(repo: DirectoryRepository | None = None) -> dict[str, list[str]]:
    repo = repo or DirectoryRepository()
    added: dict[str, list[str]] = {"sites": [], "clinicians": [], "patients": []}
    for site in demo_sites():
        if repo.get_site(TENANT, site.site_id) is None:
            repo.add_site(site)
            added["sites"].append(site.site_id)
    for clinician in demo_clinicians():
        if repo.get_clinician(TENANT, clinician.clinician_id) is None:
            repo.add_clinician(clinician)
            added["clinicians"].append(clinician.clinician_id)
    for patient in demo_patients():
        if repo.get_patient(TENANT, patient.patient_id) is None:
            repo.add_patient(patient)
            added["patients"].append(patient.patient_id)
    return added
