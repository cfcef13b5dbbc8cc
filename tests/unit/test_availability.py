"""Availability from weekly wall-clock rules: DST, zones, exceptions, buffers, rooms."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from chalicelib.domain.availability import Busy, SlotQuery, clinician_slots, slot_fits_rules
from chalicelib.domain.model import (
    Address,
    Availability,
    Clinician,
    ClosedDate,
    Discipline,
    Interval,
    Modality,
    Site,
    Unavailable,
    WeeklyRule,
)
from chalicelib.domain.timeblocks import blocks_covering

pytestmark = pytest.mark.unit
ALL = frozenset(Modality)
VIDEO = frozenset({Modality.VIDEO})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def clinician(rules, tz="America/New_York", exceptions=(), buffer=0, sites=()) -> Clinician:
    return Clinician("t", "c1", "Dr C", "1123456786", Discipline.PSYCHOLOGIST, tz, modalities=ALL,
                     site_ids=tuple(sites), availability=Availability(tuple(rules), tuple(exceptions), buffer))


def site(site_id="s1", tz="America/Los_Angeles", rooms=("A",)) -> Site:
    return Site("t", site_id, "Clinic", tz, "US-CA", Address("1 St", "LA", "90012"), rooms)


def query(start, end, minutes=60, modalities=ALL, not_before=None) -> SlotQuery:
    return SlotQuery(timedelta(minutes=minutes), Interval(start, end), modalities, not_before or start,
                     timedelta(minutes=minutes))


def starts(slots, modality=Modality.VIDEO):
    return [s.start for s in slots if s.modality is modality]


def test_a_nine_to_five_rule_follows_the_wall_clock_across_the_spring_dst_change():
    # GIVEN Mon-Sun 09:00-17:00 in New York; DST starts Sunday 8 March 2026
    rules = [WeeklyRule(d, time(9), time(17), VIDEO) for d in range(7)]
    c = clinician(rules)
    # WHEN the week around the change is searched
    slots = clinician_slots(c, {}, query(utc(2026, 3, 7), utc(2026, 3, 10)), Busy())
    firsts = {s.start.date(): s.start for s in slots if s.start == min(x.start for x in slots
                                                                        if x.start.date() == s.start.date())}
    # THEN 09:00 local is 14:00 UTC before the change and 13:00 UTC after it
    assert firsts[date(2026, 3, 7)] == utc(2026, 3, 7, 14)
    assert firsts[date(2026, 3, 8)] == utc(2026, 3, 8, 13)
    assert firsts[date(2026, 3, 9)] == utc(2026, 3, 9, 13)
    assert len([s for s in slots if s.start.date() == date(2026, 3, 8)]) == 8


def test_the_fall_back_night_has_one_more_real_hour_in_an_overnight_window():
    # 00:00-04:00 local on Sunday 1 Nov 2026 spans 5 real hours (01:00-02:00 happens twice)
    c = clinician([WeeklyRule(6, time(0), time(4), VIDEO)])
    slots = clinician_slots(c, {}, query(utc(2026, 10, 31), utc(2026, 11, 3)), Busy())
    assert len(slots) == 5
    assert slots[0].start == utc(2026, 11, 1, 4) and slots[-1].end == utc(2026, 11, 1, 9)


def test_a_start_inside_the_spring_forward_gap_moves_forward():
    # 02:00-05:00 local on 8 March 2026: 02:00-03:00 does not exist; the window is 03:00-05:00 EDT
    c = clinician([WeeklyRule(6, time(2), time(5), VIDEO)])
    slots = clinician_slots(c, {}, query(utc(2026, 3, 7), utc(2026, 3, 9)), Busy())
    assert [s.start for s in slots] == [utc(2026, 3, 8, 7), utc(2026, 3, 8, 8)]


def test_rules_at_a_site_use_the_sites_zone_not_the_clinicians():
    # GIVEN a New York clinician who works in person at a Los Angeles site 09:00-10:00 on Mondays
    la = site()
    c = clinician([WeeklyRule(0, time(9), time(10), frozenset({Modality.IN_PERSON}), "s1")], sites=["s1"])
    slots = clinician_slots(c, {"s1": la}, query(utc(2026, 3, 2), utc(2026, 3, 3)), Busy())
    # THEN the slot is 09:00 Pacific = 17:00 UTC, and it names the site
    assert [(s.start, s.modality, s.site_id) for s in slots] == [(utc(2026, 3, 2, 17), Modality.IN_PERSON, "s1")]


def test_closed_dates_and_unavailable_intervals_remove_slots():
    rules = [WeeklyRule(d, time(9), time(12), VIDEO) for d in range(5)]
    c = clinician(rules, exceptions=[ClosedDate(date(2026, 3, 3)),
                                     Unavailable(utc(2026, 3, 4, 15), utc(2026, 3, 4, 16))])
    slots = clinician_slots(c, {}, query(utc(2026, 3, 3), utc(2026, 3, 5)), Busy())
    assert [s.start for s in slots] == [utc(2026, 3, 4, 14), utc(2026, 3, 4, 16)]


def test_booked_blocks_and_the_buffer_after_a_visit_are_not_offered():
    # GIVEN 09:00-12:00 NY, a 10-minute buffer, and 10:00-11:00 booked (blocks held to 11:15)
    c = clinician([WeeklyRule(1, time(9), time(12), VIDEO)], buffer=10)
    held = frozenset(blocks_covering(utc(2026, 3, 3, 15), utc(2026, 3, 3, 16, 10)))
    q = SlotQuery(timedelta(minutes=45), Interval(utc(2026, 3, 3), utc(2026, 3, 4)), ALL, utc(2026, 3, 3))
    slots = clinician_slots(c, {}, q, Busy(clinician_blocks=held))
    got = [s.start.strftime("%H:%M") for s in slots]
    # 09:00 + 45 min + 10 buffer reaches 09:55 < 10:00: fine; 09:15 would hold to 10:10: taken
    assert "14:00" in got and "14:15" not in got
    assert "16:15" in got and "16:00" not in got  # 11:15 local is the first free start after the visit


def test_a_full_site_offers_no_in_person_slot_but_still_offers_video():
    la = site(rooms=("A",))
    c = clinician([WeeklyRule(0, time(9), time(10), ALL, "s1")], sites=["s1"])
    block = utc(2026, 3, 2, 17)
    taken = {"s1": {b: frozenset({"A"}) for b in blocks_covering(block, block + timedelta(hours=1))}}
    slots = clinician_slots(c, {"s1": la}, query(utc(2026, 3, 2), utc(2026, 3, 3)), Busy(rooms_taken=taken))
    assert {s.modality for s in slots} == {Modality.VIDEO, Modality.PHONE}


def test_the_patients_own_booked_time_is_not_offered():
    c = clinician([WeeklyRule(0, time(9), time(11), VIDEO)])
    patient_busy = frozenset(blocks_covering(utc(2026, 3, 2, 14), utc(2026, 3, 2, 15)))
    slots = clinician_slots(c, {}, query(utc(2026, 3, 2), utc(2026, 3, 3)), Busy(patient_blocks=patient_busy))
    assert starts(slots) == [utc(2026, 3, 2, 15)]


def test_nothing_starts_before_not_before():
    c = clinician([WeeklyRule(0, time(9), time(12), VIDEO)])
    q = query(utc(2026, 3, 2), utc(2026, 3, 3), not_before=utc(2026, 3, 2, 15, 5))
    assert starts(clinician_slots(c, {}, q, Busy())) == [utc(2026, 3, 2, 15, 15)]


def test_a_rule_ending_at_24_00_runs_to_local_midnight():
    c = clinician([WeeklyRule(0, time(22), time.max, VIDEO)], tz="UTC")
    slots = clinician_slots(c, {}, query(utc(2026, 3, 2), utc(2026, 3, 4)), Busy())
    assert [s.end for s in slots][-1] == utc(2026, 3, 3)


def test_slot_fits_rules_checks_modality_site_and_the_whole_visit():
    c = clinician([WeeklyRule(0, time(9), time(10), frozenset({Modality.IN_PERSON}), "s1"),
                   WeeklyRule(0, time(10), time(12), VIDEO)], tz="America/Los_Angeles", sites=["s1"])
    sites = {"s1": site()}
    nine = Interval(utc(2026, 3, 2, 17), utc(2026, 3, 2, 18))
    assert slot_fits_rules(c, sites, nine, Modality.IN_PERSON, "s1")
    assert not slot_fits_rules(c, sites, nine, Modality.VIDEO, None)
    assert not slot_fits_rules(c, sites, nine, Modality.IN_PERSON, "other")
    straddle = Interval(utc(2026, 3, 2, 17, 30), utc(2026, 3, 2, 18, 30))
    assert not slot_fits_rules(c, sites, straddle, Modality.IN_PERSON, "s1")


def test_a_search_reads_in_chunks_cut_at_utc_midnights_that_double_in_length():
    from chalicelib.domain.availability import search_chunks

    begin = datetime(2026, 3, 2, 12, 15, tzinfo=UTC)
    chunks = list(search_chunks(begin, datetime(2026, 3, 20, 6, 0, tzinfo=UTC)))
    assert [(c.start.isoformat(), c.end.isoformat()) for c in chunks] == [
        ("2026-03-02T12:15:00+00:00", "2026-03-03T00:00:00+00:00"),
        ("2026-03-03T00:00:00+00:00", "2026-03-04T00:00:00+00:00"),
        ("2026-03-04T00:00:00+00:00", "2026-03-06T00:00:00+00:00"),
        ("2026-03-06T00:00:00+00:00", "2026-03-10T00:00:00+00:00"),
        ("2026-03-10T00:00:00+00:00", "2026-03-18T00:00:00+00:00"),
        ("2026-03-18T00:00:00+00:00", "2026-03-20T06:00:00+00:00"),
    ]
    assert list(search_chunks(begin, begin)) == []
