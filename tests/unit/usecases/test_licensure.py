"""Licensure checks on demand, on the in-memory directory: the same gate booking uses."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from chalicelib.domain.access import Caller
from chalicelib.domain.errors import NotFound
from chalicelib.domain.model import Modality
from chalicelib.services.licensure import LicensureQuestion, Prescribing

pytestmark = pytest.mark.unit

DAY = date(2026, 3, 3)


def ask(world, caller=None, **kw):
    question = LicensureQuestion(clinician_id=world.clinician.clinician_id, patient_jurisdiction="US-NY",
                                 modality=Modality.VIDEO, date=DAY)
    return world.licensure.check(caller or world.scheduler, replace(question, **kw))


def test_the_own_state_licence_allows_telehealth_with_its_basis(world):
    decision = ask(world)
    assert decision.allowed and decision.basis.kind == "license" and decision.basis.jurisdiction == "US-NY"


def test_a_state_without_any_authority_is_refused_with_a_reason(world):
    decision = ask(world, patient_jurisdiction="US-CA")
    assert not decision.allowed and decision.reasons


def test_an_expired_licence_is_refused(world):
    assert not ask(world, date=date(2031, 1, 2)).allowed


def test_controlled_substance_prescribing_without_a_dea_registration_is_refused(world):
    decision = ask(world, prescribing=Prescribing(controlled_substance_schedule="II"))
    assert not decision.allowed
    assert ask(world).allowed  # the same visit without prescribing stays lawful


def test_a_clinician_may_check_only_themself_and_unknown_clinicians_are_not_found(world):
    other = Caller("clin-2", world.tenant, frozenset({"clinician"}), clinician_id="clin_someone_else")
    with pytest.raises(NotFound):
        ask(world, caller=other)
    with pytest.raises(NotFound):
        ask(world, clinician_id="clin_nobody")
