"""Availability search on the in-memory stores: lawful, free options, as booking would decide them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.api.directory_inputs import availability
from chalicelib.domain.availability import Busy, SlotQuery, clinician_slots
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.model import Interval, Modality
from chalicelib.schemas.directory import AvailabilityIn
from chalicelib.services.availability import AvailabilitySearch
from chalicelib.services.booking import BookingRequest
from tests.support import weekday_rules

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


# --- reading in time order, a few days at a time ------------------------------------------------------------------
TWO_WEEKS_OVER_DST = Interval(datetime(2026, 3, 2, 0, 0, tzinfo=UTC), datetime(2026, 3, 16, 0, 0, tzinfo=UTC))


def _evenings(world):
    """Video 17:30-23:45 New York time every day: each window crosses UTC midnight (and the DST change of
    8 March moves it by an hour in UTC)."""
    return world.directory.set_availability(world.admin, world.clinician.clinician_id, availability(
        AvailabilityIn.model_validate({"rules": weekday_rules("17:30", "23:45", days=range(7)),
                                       "buffer_minutes": 0})))


def _all_pages(world, limit):
    starts, cursor, pages = [], None, 0
    while True:
        options, cursor = world.availability.search(world.scheduler, AvailabilitySearch(
            service="90834", window=TWO_WEEKS_OVER_DST, patient_id=world.patient.patient_id,
            modality=Modality.VIDEO, limit=limit, cursor=cursor))
        starts += [o.slot.start for o in options]
        pages += 1
        if cursor is None:
            return starts, pages


def test_pages_read_day_by_day_give_exactly_the_slots_of_the_whole_window(world):
    clinician = _evenings(world)
    query = SlotQuery(duration=timedelta(minutes=45), window=TWO_WEEKS_OVER_DST,
                      modalities=frozenset({Modality.VIDEO}), not_before=datetime(2026, 3, 2, 12, 15, tzinfo=UTC))
    expected = [s.start for s in clinician_slots(clinician, {}, query, Busy())]
    starts, pages = _all_pages(world, limit=7)
    assert starts == expected and pages == -(-len(expected) // 7)
    assert datetime(2026, 3, 3, 0, 0, tzinfo=UTC) in starts  # 19:00 EST: a start on a chunk boundary
    assert datetime(2026, 3, 10, 3, 0, tzinfo=UTC) in starts  # 23:00 EDT after the change, next UTC day


def test_a_first_page_reads_only_its_first_days_and_a_next_page_starts_reading_at_its_cursor(world):
    _evenings(world)
    reads = world.availability.reads
    first, cursor = world.availability.search(world.scheduler, AvailabilitySearch(
        service="90834", window=TWO_WEEKS_OVER_DST, patient_id=world.patient.patient_id, modality=Modality.VIDEO,
        limit=5))
    # The clock is Monday 12:00 UTC: the first chunk (to Tuesday 00:00) has no evening start after 22:30 UTC
    # but holds five before midnight; one read, not fourteen days.
    assert [w.start for w in reads.windows] == [datetime(2026, 3, 2, 12, 15, tzinfo=UTC)]
    assert reads.windows[0].end <= datetime(2026, 3, 3, 0, 45, tzinfo=UTC)
    assert len(first) == 5 and cursor is not None
    reads.windows.clear()
    world.availability.search(world.scheduler, AvailabilitySearch(
        service="90834", window=TWO_WEEKS_OVER_DST, patient_id=world.patient.patient_id, modality=Modality.VIDEO,
        limit=5, cursor=cursor))
    assert reads.windows[0].start == first[-1].slot.start
