"""What a visit records from an answer: exclusions and carve-outs for every modality; POS for choosing rows."""

from __future__ import annotations

import pytest

from chalicelib.domain.billing import TelehealthPolicy, billing_facts
from chalicelib.domain.eligibility import (
    PayerAnswer,
    appointment_status,
    places_of_service,
    telehealth_coverage,
)
from chalicelib.domain.model import Modality
from chalicelib.domain.payer_policy import TelehealthTerms

pytestmark = pytest.mark.unit

TERMS = TelehealthTerms(video_covered=True, phone_covered=True)


@pytest.mark.parametrize("modality", list(Modality))
def test_a_service_the_payer_excludes_is_not_covered_for_every_modality(modality):
    answer = PayerAnswer("active", service_covered=False)
    telehealth = telehealth_coverage(TERMS, modality, "home", "active", False)

    assert appointment_status("active", telehealth, modality, answer) == "not_covered"


@pytest.mark.parametrize("modality", list(Modality))
def test_a_carved_out_service_is_unknown_until_the_named_entity_is_asked(modality):
    answer = PayerAnswer("active", carve_out=True)
    telehealth = telehealth_coverage(TERMS, modality, "home", "active", None, carve_out=True)

    assert telehealth.covered is None
    assert appointment_status("active", telehealth, modality, answer) == "unknown"


def test_an_ordinary_active_answer_still_verifies():
    assert appointment_status("active", None, Modality.IN_PERSON, PayerAnswer("active")) == "verified"


@pytest.mark.parametrize(("modality", "where", "expected"), [
    (Modality.IN_PERSON, "clinic", ("11",)),
    (Modality.VIDEO, "home", ("10", "02")),
    (Modality.PHONE, "other", ("02", "10")),
])
def test_the_visits_places_of_service_best_first(modality, where, expected):
    assert places_of_service(TERMS, modality, where) == expected


def test_billing_facts_follow_a_payers_own_policy():
    policy = TelehealthPolicy("02", "02", {Modality.VIDEO: ("GT",), Modality.PHONE: ("FQ",)})

    assert billing_facts(Modality.VIDEO, "home", policy).modifiers == ("GT",)
    assert billing_facts(Modality.PHONE, "home", policy).place_of_service == "02"
    assert billing_facts(Modality.IN_PERSON, "clinic", policy).place_of_service == "11"
