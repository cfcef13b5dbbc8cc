"""Table-driven licensure decisions, each case citing the rule source it rests on.

GIVEN a clinician's credentials and the rules in scheduling_rules/, WHEN the patient is in `where`
for a `modality` visit, THEN the decision, its basis and the reason (code, rule id, cited source).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from chalicelib.domain.licensure import allowed_modalities, lawful_clinicians, lawful_modalities
from chalicelib.domain.model import Clinician, Discipline, Modality
from chalicelib.domain.rulebook import RuleBook
from tests.rules._support import (
    COUNSELOR_AZ,
    PSYCHOLOGIST_AZ,
    PSYCHOLOGIST_AZ_TAP,
    VISIT,
    clinician,
    decide,
    lic,
    privilege,
    source_rulebook,
)

pytestmark = pytest.mark.unit

IN_PERSON, VIDEO, PHONE = Modality.IN_PERSON, Modality.VIDEO, Modality.PHONE
PSYCHIATRIST_PA_IMLC = clinician(Discipline.PSYCHIATRIST, licenses=(lic("US-PA", "MD"),),
                                 privileges=(privilege("IMLC", None, "US-PA"),))
FL_REGISTERED_LCSW = clinician(Discipline.SOCIAL_WORKER,
                               licenses=(lic("US-NY", "LCSW"), lic("US-FL", "FL-TPR")))


@dataclass(frozen=True)
class Case:
    name: str
    who: Clinician
    where: str
    modality: Modality
    allowed: bool
    code: str  # the reason that must be present
    rule_id: str  # ... citing this rule
    cite: str  # ... whose source contains this citation (from the facts file)
    basis: str | None = None  # kind of basis when allowed
    compact: str | None = None
    on: date = VISIT
    uncertain: bool | None = None  # None: not asserted
    kwargs: dict[str, object] = field(default_factory=dict)


CASES = [
    Case("own-state licence", PSYCHOLOGIST_AZ, "US-AZ", IN_PERSON, True, "LICENSED_IN_JURISDICTION",
         "lic-baseline-patient-location", "FSMB 2013 consensus principle #3", basis="license"),
    Case("PSYPACT APIT telehealth into a member state", PSYCHOLOGIST_AZ, "US-TX", VIDEO, True, "COMPACT_PRIVILEGE",
         "compact-psypact", "juanbarrigapsyd.com", basis="compact_privilege", compact="PSYPACT", uncertain=True),
    Case("PSYPACT APIT covers audio-only telepsychology", PSYCHOLOGIST_AZ, "US-PA", PHONE, True,
         "COMPACT_PRIVILEGE", "compact-psypact", "juanbarrigapsyd.com", basis="compact_privilege",
         compact="PSYPACT"),
    Case("APIT carries the home-state condition", PSYCHOLOGIST_AZ, "US-TX", VIDEO, True, "APIT_FROM_HOME_STATE",
         "compact-psypact", "psypact.gov Practice FAQs", basis="compact_privilege"),
    Case("PSYPACT into a state with only a pending bill", PSYCHOLOGIST_AZ, "US-NY", VIDEO, False,
         "STATE_NOT_COMPACT_MEMBER", "compact-psypact", "NY S7136"),
    Case("PSYPACT into a state absent from an uncertain list", PSYCHOLOGIST_AZ, "US-CA", VIDEO, False,
         "STATE_NOT_COMPACT_MEMBER", "compact-psypact", "psypact.gov Practice FAQs", uncertain=True),
    Case("APIT used for an in-person visit", PSYCHOLOGIST_AZ, "US-TX", IN_PERSON, False,
         "PRIVILEGE_WRONG_MODALITY", "compact-psypact", "asppb.net/page/EPassport"),
    Case("TAP in person in a member state", PSYCHOLOGIST_AZ_TAP, "US-TX", IN_PERSON, True,
         "TEMPORARY_PRACTICE_DAY_LIMIT", "compact-psypact", "WI SB534", basis="compact_privilege",
         compact="PSYPACT"),
    Case("TAP with 29 days used still allows day 30", PSYCHOLOGIST_AZ_TAP, "US-TX", IN_PERSON, True,
         "COMPACT_PRIVILEGE", "compact-psypact", "juanbarrigapsyd.com", basis="compact_privilege",
         kwargs={"temporary_days_used": 29}),
    Case("TAP after 30 days this calendar year", PSYCHOLOGIST_AZ_TAP, "US-TX", IN_PERSON, False,
         "TEMPORARY_PRACTICE_DAYS_EXHAUSTED", "compact-psypact", "WI SB534", kwargs={"temporary_days_used": 30}),
    Case("TAP used for video", PSYCHOLOGIST_AZ_TAP, "US-TX", VIDEO, False, "PRIVILEGE_WRONG_MODALITY",
         "compact-psypact", "psypact.gov Practice FAQs"),
    Case("IMLC alone is never a privilege", PSYCHIATRIST_PA_IMLC, "US-OH", VIDEO, False, "IMLC_NOT_A_PRIVILEGE",
         "compact-imlc", "imlcc.com"),
    Case("IMLC alone: no licence in the patient's state", PSYCHIATRIST_PA_IMLC, "US-OH", VIDEO, False,
         "NO_LICENSE_IN_JURISDICTION", "lic-baseline-patient-location", "HRSA PAL 2020-01"),
    Case("expired licence", clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-AZ", "PsyD", date(2026, 6, 30)),)),
         "US-AZ", VIDEO, False, "LICENSE_EXPIRED", "lic-baseline-patient-location", "FSMB 2013"),
    Case("expired APIT", clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-AZ", "PsyD"),),
                                   privileges=(privilege("PSYPACT", "APIT", "US-AZ", date(2026, 6, 30)),)),
         "US-TX", VIDEO, False, "PRIVILEGE_EXPIRED", "compact-psypact", "psypact.gov Practice FAQs"),
    Case("privilege without the home licence", clinician(Discipline.PSYCHOLOGIST,
                                                         privileges=(privilege("PSYPACT", "APIT", "US-AZ"),)),
         "US-TX", VIDEO, False, "HOME_LICENSE_MISSING", "compact-psypact", "psypact.gov Practice FAQs"),
    Case("privilege is not for the home state", clinician(
        Discipline.PSYCHOLOGIST, licenses=(lic("US-AZ", "PsyD", date(2026, 1, 31)),),
        privileges=(privilege("PSYPACT", "APIT", "US-AZ"),)),
         "US-AZ", VIDEO, False, "PRIVILEGE_NOT_FOR_HOME_STATE", "compact-psypact", "psypact.gov"),
    Case("counseling privilege into an operational listed state", COUNSELOR_AZ, "US-MN", VIDEO, True,
         "COMPACT_PRIVILEGE", "compact-counseling", "necounseling.org", basis="compact_privilege",
         compact="COUNSELING", uncertain=False),
    Case("counseling privilege in person (privileges are not telehealth-only)", COUNSELOR_AZ, "US-OH", IN_PERSON,
         True, "COMPACT_PRIVILEGE", "compact-counseling", "certoutlook.com", basis="compact_privilege",
         uncertain=True),
    Case("counseling privilege into an enacted, non-operational state", COUNSELOR_AZ, "US-CO", VIDEO, False,
         "COMPACT_NOT_OPERATIONAL_IN_STATE", "compact-counseling", "legalclarity.org"),
    Case("counseling privilege into an operational state it does not list", COUNSELOR_AZ, "US-GA", VIDEO, False,
         "PRIVILEGE_NOT_FOR_STATE", "compact-counseling", "counselingcompact.org/faq"),
    Case("counseling privilege into a non-member state", COUNSELOR_AZ, "US-NY", VIDEO, False,
         "STATE_NOT_COMPACT_MEMBER", "compact-counseling", "counselingcompact.org/faq", uncertain=True),
    Case("counseling home state must be operational too", clinician(
        Discipline.COUNSELOR, licenses=(lic("US-CO", "LPC"),),
        privileges=(privilege("COUNSELING", "PRIVILEGE", "US-CO", jurisdictions=("US-MN",)),)),
         "US-MN", VIDEO, False, "HOME_STATE_NOT_ELIGIBLE", "compact-counseling", "legalclarity.org"),
    Case("social work compact is not issuing yet", clinician(
        Discipline.SOCIAL_WORKER, licenses=(lic("US-MO", "LCSW"),),
        privileges=(privilege("SOCIAL_WORK", None, "US-MO"),)),
         "US-KS", VIDEO, False, "COMPACT_NOT_ISSUING", "compact-social-work", "swcompact.org", uncertain=True),
    Case("NLC does not cover an APRN", clinician(
        Discipline.PSYCHIATRIC_NP, licenses=(lic("US-TX", "APRN"), lic("US-TX", "RN")),
        privileges=(privilege("NLC", None, "US-TX"),)),
         "US-OK", VIDEO, False, "COMPACT_NOT_FOR_DISCIPLINE", "compact-nlc", "NLC map PDF"),
    Case("APRN compact is not active", clinician(
        Discipline.PSYCHIATRIC_NP, licenses=(lic("US-DE", "PMHNP"),), privileges=(privilege("APRN", None, "US-DE"),)),
         "US-UT", VIDEO, False, "COMPACT_NOT_ISSUING", "compact-aprn", "ncsbn.org/compacts/aprn-compact.page"),
    Case("licence type of another discipline", clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-NY", "LCSW"),)),
         "US-NY", VIDEO, False, "LICENSE_TYPE_NOT_FOR_DISCIPLINE", "lt-lcsw", "swcompact.org"),
    Case("unknown licence type is refused, not guessed", clinician(
        Discipline.COUNSELOR, licenses=(lic("US-NY", "Wizard"),)),
         "US-NY", VIDEO, False, "LICENSE_TYPE_UNKNOWN", "lic-baseline-patient-location", "FSMB"),
    Case("licence type written another way", clinician(Discipline.PSYCHIATRIC_NP,
                                                       licenses=(lic("US-OR", "pmhnp-bc"),)),
         "US-OR", PHONE, True, "LICENSED_IN_JURISDICTION", "lic-baseline-patient-location", "HRSA",
         basis="license"),
    Case("unknown jurisdiction", PSYCHOLOGIST_AZ, "US-ZZ", VIDEO, False, "UNKNOWN_JURISDICTION",
         "lic-baseline-patient-location", "FSMB"),
    Case("Canadian province licence", clinician(Discipline.PSYCHOLOGIST, licenses=(lic("CA-ON", "psychologist"),)),
         "CA-ON", VIDEO, True, "LICENSED_IN_JURISDICTION", "lic-baseline-patient-location", "FSMB",
         basis="license"),
    Case("no compact reaches Canada", PSYCHOLOGIST_AZ, "CA-ON", VIDEO, False, "STATE_NOT_COMPACT_MEMBER",
         "compact-psypact", "psypact.gov"),
    Case("Florida telehealth registration, video", FL_REGISTERED_LCSW, "US-FL", VIDEO, True,
         "JURISDICTION_EXCEPTION", "lt-fl-telehealth-registration", "Fla. Stat. 456.47", basis="exception"),
    Case("Florida telehealth registration forbids in-person care", FL_REGISTERED_LCSW, "US-FL", IN_PERSON, False,
         "LICENSE_TYPE_WRONG_MODALITY", "lt-fl-telehealth-registration", "Fla. Stat. 456.47", uncertain=False),
    Case("Florida registration and audio-only: refused, flagged uncertain", FL_REGISTERED_LCSW, "US-FL", PHONE,
         False, "LICENSE_TYPE_WRONG_MODALITY", "lt-fl-telehealth-registration", "Fla. Stat. 456.47",
         uncertain=True),
    Case("Florida registration needs an active licence elsewhere", clinician(
        Discipline.SOCIAL_WORKER, licenses=(lic("US-NY", "LCSW", date(2026, 1, 1)), lic("US-FL", "FL-TPR"))),
         "US-FL", VIDEO, False, "EXCEPTION_REQUIRES_LICENSE_ELSEWHERE", "lt-fl-telehealth-registration", "456.47"),
    Case("Florida registration recorded for another state", clinician(
        Discipline.SOCIAL_WORKER, licenses=(lic("US-NY", "LCSW"), lic("US-GA", "FL-TPR"))),
         "US-GA", VIDEO, False, "LICENSE_TYPE_NOT_VALID_IN_JURISDICTION", "lt-fl-telehealth-registration", "456.47"),
    Case("unknown PSYPACT privilege kind", clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-AZ", "PsyD"),),
                                                     privileges=(privilege("PSYPACT", "IPC", "US-AZ"),)),
         "US-TX", IN_PERSON, False, "PRIVILEGE_KIND_UNKNOWN", "compact-psypact", "psypact.gov"),
    Case("privilege whose home licence expired", clinician(
        Discipline.PSYCHOLOGIST, licenses=(lic("US-AZ", "PsyD", date(2026, 11, 30)),),
        privileges=(privilege("PSYPACT", "APIT", "US-AZ"),)),
         "US-TX", VIDEO, False, "HOME_LICENSE_EXPIRED", "compact-psypact", "psypact.gov"),
    Case("compact the rules do not know", clinician(Discipline.COUNSELOR, licenses=(lic("US-AZ", "LPC"),),
                                                    privileges=(privilege("OT_COMPACT", None, "US-AZ"),)),
         "US-MN", VIDEO, False, "UNKNOWN_COMPACT", "lic-baseline-patient-location", "FSMB"),
    Case("counseling compact before its rule takes effect", COUNSELOR_AZ, "US-MN", VIDEO, False,
         "COMPACT_NOT_IN_EFFECT", "lic-baseline-patient-location", "FSMB", on=date(2024, 6, 1)),
    Case("service outside the discipline's scope", COUNSELOR_AZ, "US-AZ", VIDEO, False,
         "SERVICE_NOT_FOR_DISCIPLINE", "svc-90792", "AMA CPT 90792", kwargs={"service": "90792"}),
    Case("service not offered by phone", COUNSELOR_AZ, "US-AZ", PHONE, False, "SERVICE_MODALITY_NOT_OFFERED",
         "svc-90853", "AMA CPT 90853", kwargs={"service": "90853"}),
    Case("unknown service", COUNSELOR_AZ, "US-AZ", VIDEO, False, "UNKNOWN_SERVICE",
         "lic-baseline-patient-location", "FSMB", kwargs={"service": "00000"}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_decision_matches_the_cited_rule(case: Case) -> None:
    decision = decide(case.who, case.where, case.modality, case.on, **case.kwargs)

    assert decision.allowed is case.allowed, decision.reasons
    assert decision.rules_version == source_rulebook().version
    matching = [r for r in decision.reasons if r.code == case.code]
    assert matching, f"{case.code} not in {decision.codes}"
    cited = matching[0]
    assert cited.rule_id == case.rule_id
    assert case.cite in cited.source, cited.source
    if case.uncertain is not None:
        assert cited.uncertain is case.uncertain, cited
    if case.allowed:
        assert decision.basis is not None and decision.basis.kind == case.basis
        assert decision.basis.jurisdiction == case.where
        if case.compact:
            assert decision.basis.compact == case.compact
    else:
        assert decision.basis is None
        assert decision.reasons


def test_every_refusal_code_in_the_table_is_distinct_from_the_grants() -> None:
    grants = {"LICENSED_IN_JURISDICTION", "COMPACT_PRIVILEGE", "JURISDICTION_EXCEPTION"}
    refusals = {c.code for c in CASES if not c.allowed}
    assert not grants & refusals
    assert len(refusals) >= 20  # each failure mode has its own code


def test_a_travelling_patient_changes_the_answer_not_the_clinician() -> None:
    # GIVEN one psychologist licensed in AZ with a PSYPACT APIT (psypact.gov; HRSA PAL 2020-01)
    rules = source_rulebook()
    where_to_modalities = {where: allowed_modalities(PSYCHOLOGIST_AZ, where, VISIT, rules)
                           for where in ("US-AZ", "US-TX", "US-NY")}
    # THEN at home everything, in a PSYPACT state telehealth only, in a non-member state nothing
    assert where_to_modalities == {
        "US-AZ": frozenset(Modality),
        "US-TX": frozenset({VIDEO, PHONE}),
        "US-NY": frozenset(),
    }


def test_lawful_modalities_explains_each_modality() -> None:
    decisions = lawful_modalities(PSYCHOLOGIST_AZ, "US-TX", VISIT, source_rulebook())

    assert set(decisions) == set(Modality)
    assert decisions[VIDEO].basis is not None and decisions[VIDEO].basis.compact == "PSYPACT"
    assert "PRIVILEGE_WRONG_MODALITY" in decisions[IN_PERSON].codes


def test_lawful_modalities_respects_the_service_catalog() -> None:
    decisions = lawful_modalities(COUNSELOR_AZ, "US-AZ", VISIT, source_rulebook(), service="90853")

    assert {m for m, d in decisions.items() if d.allowed} == {IN_PERSON, VIDEO}


def test_lawful_clinicians_keeps_only_those_who_may_practise_there() -> None:
    ny_psychologist = clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-NY", "psychologist"),),
                                clinician_id="c-ny")
    found = lawful_clinicians([PSYCHOLOGIST_AZ, ny_psychologist, COUNSELOR_AZ], "US-NY", VIDEO, VISIT,
                              source_rulebook())

    assert [c.clinician_id for c, _ in found] == ["c-ny"]


def test_a_full_licence_wins_over_a_privilege_for_the_same_visit() -> None:
    both = clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-AZ", "PsyD"), lic("US-TX", "psychologist")),
                     privileges=(PSYCHOLOGIST_AZ.compact_privileges[0],))

    decision = decide(both, "US-TX", VIDEO)

    assert decision.basis is not None and decision.basis.kind == "license"


def test_expired_licence_and_valid_privilege_still_allow_telehealth() -> None:
    c = clinician(Discipline.PSYCHOLOGIST, licenses=(lic("US-AZ", "PsyD"), lic("US-TX", "PsyD", date(2026, 1, 1))),
                  privileges=PSYCHOLOGIST_AZ.compact_privileges)

    assert decide(c, "US-TX", VIDEO).basis.kind == "compact_privilege"  # type: ignore[union-attr]
    assert "LICENSE_EXPIRED" in decide(c, "US-TX", IN_PERSON).codes


def test_decision_json_has_the_api_shape() -> None:
    from chalicelib.api.presenters import licensure_check_json

    body = licensure_check_json(decide(PSYCHOLOGIST_AZ, "US-TX", VIDEO))

    assert body["allowed"] is True
    assert body["basis"] == {"kind": "compact_privilege", "jurisdiction": "US-TX", "compact": "PSYPACT",
                             "ref": "APIT:US-AZ"}
    assert body["rules_version"] == source_rulebook().version
    assert {"code", "rule_id", "source"} <= set(body["reasons"][0])


def test_a_rule_book_without_licensure_tables_refuses_every_decision() -> None:
    # Missing data must never widen authority: a hand-made book without the tables allows nothing.
    bare = RuleBook(version="bare", services={})
    c = clinician(Discipline.COUNSELOR, licenses=(lic("US-NY", "anything", date(2026, 12, 1)),),
                  privileges=(privilege("PSYPACT", "APIT", "US-NY"),))

    refused = decide(c, "US-NY", VIDEO, rules=bare)
    assert not refused.allowed and refused.codes == ("RULES_INCOMPLETE",)
    assert "jurisdictions" in refused.reasons[0].detail
