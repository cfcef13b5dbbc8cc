from __future__ import annotations

import pytest

from chalicelib.domain.billing import TelehealthPolicy, billing_facts
from chalicelib.domain.errors import InvalidTransition
from chalicelib.domain.model import Modality, Status
from chalicelib.domain.status import ALLOWED, require_transition
from chalicelib.domain.timeblocks import blocks_covering, ceil_block, floor_block, is_aligned

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("current", "target"), [
    (Status.BOOKED, Status.CHECKED_IN), (Status.BOOKED, Status.CANCELLED), (Status.BOOKED, Status.NO_SHOW),
    (Status.CHECKED_IN, Status.IN_PROGRESS), (Status.CHECKED_IN, Status.COMPLETED),
    (Status.IN_PROGRESS, Status.COMPLETED),
])
def test_allowed_transitions_pass(current, target):
    require_transition(current, target)


@pytest.mark.parametrize(("current", "target"), [
    (Status.CANCELLED, Status.CHECKED_IN), (Status.COMPLETED, Status.CANCELLED), (Status.NO_SHOW, Status.COMPLETED),
    (Status.BOOKED, Status.COMPLETED), (Status.IN_PROGRESS, Status.CANCELLED), (Status.CHECKED_IN, Status.NO_SHOW),
])
def test_forbidden_transitions_raise_invalid_transition_naming_the_status(current, target):
    with pytest.raises(InvalidTransition) as err:
        require_transition(current, target)
    assert err.value.code == "INVALID_TRANSITION" and err.value.extra == {"current_status": current.value}


def test_terminal_states_allow_nothing():
    assert all(not ALLOWED[s] for s in (Status.COMPLETED, Status.CANCELLED, Status.NO_SHOW))


@pytest.mark.parametrize(("modality", "where", "pos", "mods"), [
    (Modality.IN_PERSON, "clinic", "11", ()),
    (Modality.VIDEO, "home", "10", ("95",)),
    (Modality.VIDEO, "other", "02", ("95",)),
    (Modality.PHONE, "home", "10", ("93",)),
    (Modality.PHONE, "other", "02", ("93",)),
])
def test_billing_facts_follow_modality_and_patient_location(modality, where, pos, mods):
    b = billing_facts(modality, where)
    assert (b.place_of_service, b.modifiers) == (pos, mods)


def test_a_payer_policy_overrides_modifiers():
    policy = TelehealthPolicy(modifiers={Modality.PHONE: ["FQ"]})
    assert billing_facts(Modality.PHONE, "home", policy).modifiers == ("FQ",)
    assert billing_facts(Modality.VIDEO, "home", policy).modifiers == ("95",)


def test_blocks_cover_every_quarter_hour_touched():
    from datetime import UTC, datetime

    t = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    end = datetime(2026, 3, 2, 14, 50, tzinfo=UTC)
    assert [b.minute for b in blocks_covering(t, end)] == [0, 15, 30, 45]
    odd = datetime(2026, 3, 2, 14, 7, tzinfo=UTC)
    assert not is_aligned(odd) and floor_block(odd).minute == 0 and ceil_block(odd).minute == 15
