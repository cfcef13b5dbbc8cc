"""Availability search on the in-memory stores: lawful, free options, as booking would decide them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.model import Interval, Modality
from chalicelib.services.availability import AvailabilitySearch
from chalicelib.services.booking import BookingRequest

pytestmark = pytest.mark.unit

TUESDAY = Interval(datetime(2026, 3, 3, 0, 0, tzinfo=UTC), datetime(2026, 3, 4, 0, 0, tzinfo=UTC))
TUE_10 = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


def search(world, **kw):
    return world.availability.search(world.scheduler, AvailabilitySearch(service="90834", window=TUESDAY, **kw))


def test_video_slots_follow_the_clinicians_new_york_hours_and_carry_the_licensure_decision(world):
    options, _ = search(world, patient_id=world.patient.patient_id, modality=Modality.VIDEO, limit=100)
    starts = [o.slot.start for o in options]
    assert starts[0] == datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert starts[-1] == datetime(2026, 3, 3, 21, 15, tzinfo=UTC)  # 16:15 + 45 min ends at 17:00
    assert all(o.licensure.allowed for o in options)
    assert ("availability.search", "success") in world.audit.actions(world.tenant)


def test_booked_time_is_not_offered_again(world):
    world.booking.book(world.scheduler, BookingRequest(world.patient.patient_id, world.clinician.clinician_id,
                                                       "90834", TUE_10, Modality.VIDEO))
    other = world.another_patient()
    options, _ = search(world, patient_id=other.patient_id, modality=Modality.VIDEO, limit=100)
    starts = {o.slot.start for o in options}
    assert not any(TUE_10 - timedelta(minutes=30) <= s < TUE_10 + timedelta(minutes=45) for s in starts)
    assert TUE_10 + timedelta(minutes=45) in starts


def test_a_patient_where_the_clinician_holds_no_authority_gets_no_telehealth_options(world):
    options, _ = search(world, patient_jurisdiction="US-CA", limit=100)
    assert {o.slot.modality for o in options} <= {Modality.IN_PERSON}


def test_pages_continue_where_the_cursor_points(world):
    first, cursor = search(world, patient_id=world.patient.patient_id, modality=Modality.VIDEO, limit=3)
    rest, _ = search(world, patient_id=world.patient.patient_id, modality=Modality.VIDEO, limit=3, cursor=cursor)
    assert len(first) == 3 and cursor is not None
    assert rest[0].slot.start > first[-1].slot.start


def test_bad_searches_name_their_fields(world):
    with pytest.raises(ValidationFailed) as refused:
        world.availability.search(world.scheduler, AvailabilitySearch(
            service="90834", window=Interval(TUESDAY.start, TUESDAY.start + timedelta(days=40))))
    assert {e.field for e in refused.value.errors} == {"to", "patient_jurisdiction"}
    with pytest.raises(ValidationFailed) as unknown:
        world.availability.search(world.scheduler, AvailabilitySearch(service="00000", window=TUESDAY,
                                                                      patient_jurisdiction="US-NY"))
    assert [e.field for e in unknown.value.errors] == ["service"]
    with pytest.raises(NotFound):
        search(world, patient_id="pat_nobody")
