"""Controlled-substance prescribing by telemedicine, before and after the DEA flexibilities end.

Dates come from scheduling_rules/prescribing.yaml only: the extension test edits a copy of that
file and shows the decision change with no code change.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from chalicelib.domain.model import Discipline, Modality
from tests.rules._support import (
    PSYCHIATRIST_NY_IMLC,
    clinician,
    copy_sources,
    dea,
    decide,
    lic,
    rulebook_from,
    source_rulebook,
)

pytestmark = pytest.mark.unit

VIDEO, PHONE, IN_PERSON = Modality.VIDEO, Modality.PHONE, Modality.IN_PERSON
LAST_FLEX_DAY = date(2026, 12, 31)  # 90 FR 61301: effective 2026-01-01 through 2026-12-31
FIRST_DAY_AFTER = date(2027, 1, 1)
PRESCRIBER = PSYCHIATRIST_NY_IMLC  # MD licence and DEA registration (II-V) in US-NY


def reason_for(decision, code):  # type: ignore[no-untyped-def]
    found = [r for r in decision.reasons if r.code == code]
    assert found, f"{code} not in {decision.codes}"
    return found[0]


@pytest.mark.parametrize(
    ("on", "modality", "schedule", "kwargs", "allowed", "code", "rule_id", "cite"),
    [
        (LAST_FLEX_DAY, VIDEO, "II", {}, True, "TELEMEDICINE_PRESCRIBING_PERMITTED", "dea-telemed-flex-2026",
         "90 FR 61301"),
        (date(2026, 1, 1), VIDEO, "II", {}, True, "TELEMEDICINE_PRESCRIBING_PERMITTED", "dea-telemed-flex-2026",
         "FR Doc 2025-24123"),
        (date(2025, 12, 31), VIDEO, "II", {}, True, "TELEMEDICINE_PRESCRIBING_PERMITTED", "dea-telemed-flex-2025",
         "89 FR 91253"),
        (FIRST_DAY_AFTER, VIDEO, "II", {}, False, "TELEMEDICINE_PRESCRIBING_NOT_PERMITTED",
         "dea-ryan-haight-after-flexibilities", "21 U.S.C. 829(e)"),
        (FIRST_DAY_AFTER, VIDEO, "II", {}, False, "PROPOSED_RULE_NOT_IN_FORCE", "dea-special-registration-nprm",
         "90 FR 6541"),
        (FIRST_DAY_AFTER, VIDEO, "II", {"prior_in_person_evaluation": True}, True, "PRIOR_IN_PERSON_EVALUATION",
         "dea-ryan-haight-after-flexibilities", "Ryan Haight"),
        (FIRST_DAY_AFTER, IN_PERSON, "II", {}, True, "DEA_REGISTERED_IN_STATE", "dea-registration-in-person",
         "21 CFR 1301.12"),
        (LAST_FLEX_DAY, PHONE, "II", {}, False, "TELEMEDICINE_PRESCRIBING_NOT_PERMITTED",
         "dea-ryan-haight-in-person", "Ryan Haight"),
        (LAST_FLEX_DAY, PHONE, "III", {}, False, "TELEMEDICINE_PRESCRIBING_NOT_PERMITTED",
         "dea-ryan-haight-in-person", "Ryan Haight"),
        (LAST_FLEX_DAY, PHONE, "III", {"oud_medication": True}, True, "TELEMEDICINE_PRESCRIBING_PERMITTED",
         "dea-telemed-flex-2026-audio-oud", "grsm.com"),
        (FIRST_DAY_AFTER, PHONE, "III", {"oud_medication": True}, True, "TELEMEDICINE_PRESCRIBING_PERMITTED",
         "dea-buprenorphine-telemedicine", "90 FR 6504"),
        (FIRST_DAY_AFTER, PHONE, "III", {"oud_medication": True}, True, "PDMP_REVIEW_PATIENT_STATE",
         "dea-buprenorphine-telemedicine", "FR Doc 2025-01049"),
        (LAST_FLEX_DAY, VIDEO, "I", {}, False, "CONTROLLED_SUBSTANCE_SCHEDULE_INVALID",
         "lic-baseline-patient-location", "FSMB"),
    ],
    ids=["last flexibility day", "first day of the 4th extension", "last day of the 3rd extension",
         "day after the flexibilities end", "special registration is only proposed",
         "prior in-person evaluation satisfies Ryan Haight", "in person needs only the DEA registration",
         "audio-only schedule II", "audio-only schedule III that is not an OUD medication",
         "audio-only OUD medication under the flexibilities", "buprenorphine rule after the flexibilities",
         "buprenorphine rule conditions", "schedule I is never prescribed"],
)
def test_telemedicine_prescribing(on: date, modality: Modality, schedule: str, kwargs: dict[str, bool],
                                  allowed: bool, code: str, rule_id: str, cite: str) -> None:
    decision = decide(PRESCRIBER, "US-NY", modality, on, controlled_substance_schedule=schedule, **kwargs)

    assert decision.allowed is allowed, decision.reasons
    cited = reason_for(decision, code)
    assert cited.rule_id == rule_id
    assert cite in cited.source
    if not allowed:
        assert decision.basis is None
        assert decision.reasons[0].code not in {"DEA_REGISTERED_IN_STATE", "LICENSED_IN_JURISDICTION"}


def test_refusal_after_the_end_date_says_it_rests_on_an_uncertain_fact() -> None:
    # facts 2: "No 5th extension ... found ... [?] Re-check the Federal Register in Dec 2026."
    decision = decide(PRESCRIBER, "US-NY", VIDEO, FIRST_DAY_AFTER, controlled_substance_schedule="II")

    assert reason_for(decision, "TELEMEDICINE_PRESCRIBING_NOT_PERMITTED").uncertain
    assert decision.uncertain


@pytest.mark.parametrize(
    ("registrations", "code"),
    [((), "DEA_REGISTRATION_MISSING_IN_STATE"),
     ((dea("US-NY"),), "DEA_REGISTRATION_MISSING_IN_STATE"),
     ((dea("US-NJ", until=date(2026, 11, 30)),), "DEA_REGISTRATION_EXPIRED"),
     ((dea("US-NJ", schedules=("III", "IV", "V")),), "DEA_SCHEDULE_NOT_REGISTERED")],
    ids=["no registration", "registered in another state only", "expired", "schedule not registered"],
)
def test_dea_registration_is_needed_in_the_patients_state(registrations: tuple, code: str) -> None:  # type: ignore[type-arg]
    # 21 U.S.C. 822(e); 21 CFR 1301.12 (prescribing.yaml dea-registration-*)
    c = clinician(Discipline.PSYCHIATRIST, licenses=(lic("US-NJ", "MD"), lic("US-NY", "MD")),
                  dea_registrations=registrations)

    for modality in (IN_PERSON, VIDEO):
        decision = decide(c, "US-NJ", modality, date(2026, 12, 1), controlled_substance_schedule="II")
        assert not decision.allowed
        assert decision.codes[0] == code
        assert reason_for(decision, code).rule_id.startswith("dea-registration-")


def test_prescribing_never_rescues_a_clinician_without_authority_there() -> None:
    decision = decide(PRESCRIBER, "US-NJ", VIDEO, LAST_FLEX_DAY, controlled_substance_schedule="II")

    assert not decision.allowed
    assert decision.codes[0] == "NO_LICENSE_IN_JURISDICTION"


def test_an_extension_is_a_data_edit_not_a_code_change(tmp_path: Path) -> None:
    # GIVEN a copy of the rules where ops only moved the 2026 flexibilities' end date a year later
    source = copy_sources(tmp_path)
    path = source / "prescribing.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    extended = 0
    for rule in document["rules"]:
        if rule["id"] in {"dea-telemed-flex-2026", "dea-telemed-flex-2026-audio-oud"}:
            rule["effective_to"] = date(2027, 12, 31)
            rule["source"] += "; hypothetical 5th extension through 2027-12-31"
            extended += 1
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    assert extended == 2
    extended_rules = rulebook_from(source)

    # WHEN the same Schedule II video prescription is checked on 2027-01-01 under both rule books
    before = decide(PRESCRIBER, "US-NY", VIDEO, FIRST_DAY_AFTER, source_rulebook(), controlled_substance_schedule="II")
    after = decide(PRESCRIBER, "US-NY", VIDEO, FIRST_DAY_AFTER, extended_rules, controlled_substance_schedule="II")

    # THEN only the data changed the answer, and the new answer cites the edited rule
    assert not before.allowed
    assert after.allowed
    permitted = reason_for(after, "TELEMEDICINE_PRESCRIBING_PERMITTED")
    assert permitted.rule_id == "dea-telemed-flex-2026"
    assert "5th extension" in permitted.source
    assert after.rules_version != before.rules_version
    # and the extension ends where the file says, inclusive
    assert decide(PRESCRIBER, "US-NY", VIDEO, date(2027, 12, 31), extended_rules,
                  controlled_substance_schedule="II").allowed
    assert not decide(PRESCRIBER, "US-NY", VIDEO, date(2028, 1, 1), extended_rules,
                      controlled_substance_schedule="II").allowed
