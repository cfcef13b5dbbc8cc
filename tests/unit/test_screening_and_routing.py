"""Screening scores against the published scoring rules, and the routing plan as pure logic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.availability import Slot
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.licensure import LicensureDecision
from chalicelib.domain.model import Modality
from chalicelib.domain.routing import Candidate, RoutingFacts, plan, rank
from chalicelib.domain.routing_policy import ROUTING_POLICY
from chalicelib.domain.screening import combined_risk, score
from tests.rules._support import source_rulebook

pytestmark = pytest.mark.unit
POLICY = source_rulebook().tables[ROUTING_POLICY]
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


@pytest.mark.parametrize(("answers", "total", "band", "risk"), [
    ([0] * 9, 0, "minimal", "none"),
    ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "minimal", "none"),
    ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild", "low"),
    ([2, 2, 2, 2, 2, 0, 0, 0, 0], 10, "moderate", "moderate"),
    ([3, 3, 3, 3, 3, 0, 0, 0, 0], 15, "moderately_severe", "moderate"),
    ([3, 3, 3, 3, 3, 3, 2, 0, 0], 20, "severe", "high"),
    ([0, 0, 0, 0, 0, 0, 0, 0, 1], 1, "minimal", "high"),  # item 9 alone raises to high
])
def test_phq9_bands_follow_kroenke_2001(answers, total, band, risk):
    result = score(POLICY, "PHQ-9", answers)
    assert (result.score, result.band, result.implied_risk) == (total, band, risk)
    assert result.rule_id == "screen-phq9"


@pytest.mark.parametrize(("answers", "band"), [([0] * 7, "minimal"), ([1] * 5 + [0, 0], "mild"),
                                               ([2] * 5 + [0, 0], "moderate"), ([3] * 5 + [0, 0], "severe")])
def test_gad7_bands_follow_spitzer_2006(answers, band):
    assert score(POLICY, "GAD-7", answers).band == band


@pytest.mark.parametrize(("answers", "risk"), [([0] * 6, "none"), ([1, 0, 0, 0, 0, 0], "low"),
                                               ([1, 1, 1, 0, 0, 0], "moderate"), ([1, 1, 0, 0, 1, 0], "imminent"),
                                               ([0, 0, 0, 0, 0, 1], "imminent")])
def test_cssrs_screener_triage(answers, risk):
    assert score(POLICY, "C-SSRS", answers).implied_risk == risk


def test_wrong_answers_name_the_field():
    with pytest.raises(ValidationFailed) as short:
        score(POLICY, "PHQ-9", [1, 2])
    assert short.value.errors[0].field == "screening.answers"
    with pytest.raises(ValidationFailed) as high:
        score(POLICY, "C-SSRS", [0, 0, 2, 0, 0, 0])
    assert high.value.errors[0].field == "screening.answers[2]"


@given(stated=st.sampled_from(["none", "low", "moderate", "high", "imminent"]),
       answers=st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_a_stated_risk_never_lowers_the_screening(stated, answers):
    from chalicelib.domain.routing_policy import risk_rank

    result = score(POLICY, "PHQ-9", answers)
    combined = combined_risk(stated, result)
    assert risk_rank(combined) >= max(risk_rank(stated), risk_rank(result.implied_risk))


def _candidate(day: int, modality: Modality, clinician: str = "c1") -> Candidate:
    start = NOW + timedelta(days=day, hours=3)
    decision = LicensureDecision(True, None, (), "v")
    return Candidate(Slot(start, clinician, modality, "s1" if modality is Modality.IN_PERSON else None,
                          start + timedelta(minutes=45)), decision)


MODALITY = st.sampled_from(list(Modality))


@settings(max_examples=200, deadline=None)
@given(risk=st.sampled_from(["none", "low", "moderate", "high", "imminent"]), video=st.booleans(),
       covered_phone=st.sampled_from([True, False, None]), covered_video=st.sampled_from([True, False, None]),
       slots=st.lists(st.tuples(st.integers(0, 20), MODALITY), min_size=0, max_size=30))
def test_no_recommended_option_breaks_a_routing_rule(risk, video, covered_phone, covered_video, slots):
    facts = RoutingFacts(now=NOW, risk=risk, video_capable=video, country="US",
                         coverage={Modality.PHONE: covered_phone, Modality.VIDEO: covered_video})
    planned = plan(POLICY, facts)
    result = rank(POLICY, facts, planned, [_candidate(d, m) for d, m in slots], 50)
    if risk == "imminent":
        assert result.decision == "escalate" and not result.options and result.crisis is not None
        return
    for option in result.options:
        m = option.candidate.slot.modality
        assert not (m is Modality.VIDEO and not video)
        assert not (m is Modality.PHONE and covered_phone is False)
        assert not (m is Modality.VIDEO and covered_video is False)
        if risk == "high":
            assert m is not Modality.PHONE and option.candidate.slot.start <= NOW + timedelta(days=3)
    # deterministic: the same inputs rank the same way
    assert rank(POLICY, facts, planned, [_candidate(d, m) for d, m in slots], 50) == result


def test_the_in_person_cadence_applies_from_the_date_the_rules_give():
    medicare = dict(video_capable=True, country="US", risk="none", payer_ids=("medicare",))
    before = plan(POLICY, RoutingFacts(now=NOW, **medicare))
    assert Modality.VIDEO in before.allowed_modalities
    in_2028 = datetime(2028, 2, 1, tzinfo=UTC)
    due = plan(POLICY, RoutingFacts(now=in_2028, **medicare))
    assert due.allowed_modalities == frozenset({Modality.IN_PERSON})
    assert "route-medicare-in-person-cadence" in {e.rule_id for e in due.explanation}
    seen = plan(POLICY, RoutingFacts(now=in_2028, last_in_person=in_2028 - timedelta(days=100), **medicare))
    assert Modality.VIDEO in seen.allowed_modalities
    other_payer = plan(POLICY, RoutingFacts(now=in_2028, video_capable=True, country="US", risk="none",
                                            payer_ids=("acme",)))
    assert Modality.VIDEO in other_payer.allowed_modalities
