"""The AppointmentStore contract (domain/ports.py), held by the in-memory fake and the DynamoDB adapter alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from chalicelib.domain.errors import Conflict, PatientBusy, PracticeDaysChanged, RoomUnavailable, SlotTaken
from chalicelib.domain.model import Interval, Modality, Status
from tests.contracts.conftest import T15, visit

WINDOW = Interval(T15 - timedelta(hours=6), T15 + timedelta(hours=6))


def test_a_booked_visit_reads_back_as_stored_with_version_one(appointments, tenant):
    booked = appointments.book(visit(tenant, "apt_1"))
    assert booked.version == 1
    assert appointments.get(tenant, "apt_1") == booked
    assert appointments.get(tenant, "apt_missing") is None


def test_an_overlapping_booking_for_the_same_clinician_is_refused_and_writes_nothing(appointments, tenant):
    appointments.book(visit(tenant, "apt_1"))
    with pytest.raises(SlotTaken):
        appointments.book(visit(tenant, "apt_2", start=T15 + timedelta(minutes=30), patient="pat_b"))
    assert appointments.get(tenant, "apt_2") is None
    # The loser's patient blocks were not taken either: the write was all or nothing.
    assert appointments.patient_blocks(tenant, "pat_b", WINDOW) == frozenset()


def test_the_same_patient_cannot_be_in_two_visits_at_once(appointments, tenant):
    appointments.book(visit(tenant, "apt_1"))
    with pytest.raises(PatientBusy):
        appointments.book(visit(tenant, "apt_2", clinician="clin_b"))
    assert appointments.clinician_blocks(tenant, "clin_b", WINDOW) == frozenset()


def test_a_room_is_held_for_one_in_person_visit_at_a_time(appointments, tenant):
    appointments.book(visit(tenant, "apt_1", modality=Modality.IN_PERSON, site_id="site_1", room="r1"))
    with pytest.raises(RoomUnavailable):
        appointments.book(visit(tenant, "apt_2", clinician="clin_b", patient="pat_b", modality=Modality.IN_PERSON,
                                site_id="site_1", room="r1"))
    other_room = appointments.book(visit(tenant, "apt_3", clinician="clin_c", patient="pat_c",
                                         modality=Modality.IN_PERSON, site_id="site_1", room="r2"))
    assert other_room.room == "r2"
    taken = appointments.rooms_taken(tenant, "site_1", WINDOW)
    assert taken[T15] == frozenset({"r1", "r2"})


def test_rooms_taken_read_in_a_batch_answers_as_rooms_taken_at_the_time_of_the_read(appointments, reads, tenant):
    from chalicelib.domain.keyed_reads import known

    in_person = {"modality": Modality.IN_PERSON, "site_id": "site_1"}
    read = appointments.rooms_taken_read(tenant, "site_1", WINDOW)
    assert reads.read_all(read, known("other")) == [{}, "other"]
    appointments.book(visit(tenant, "apt_1", room="r1", **in_person))
    appointments.book(visit(tenant, "apt_2", clinician="clin_b", patient="pat_b", room="r2", buffer=15,
                            start=T15 + timedelta(days=1), **in_person))
    late = Interval(T15 + timedelta(days=3), T15 + timedelta(days=4))
    taken, none_then, other_site = reads.read_all(read, appointments.rooms_taken_read(tenant, "site_1", late),
                                                  appointments.rooms_taken_read(tenant, "site_2", WINDOW))
    assert taken == appointments.rooms_taken(tenant, "site_1", WINDOW) and taken[T15] == frozenset({"r1"})
    assert (none_then, other_site) == ({}, {})
    assert reads.read_all() == []


def test_the_clinician_buffer_is_held_after_the_visit(appointments, tenant):
    appointments.book(visit(tenant, "apt_1", minutes=45, buffer=15))
    assert max(appointments.clinician_blocks(tenant, "clin_a", WINDOW)) == T15 + timedelta(minutes=45)
    assert max(appointments.patient_blocks(tenant, "pat_a", WINDOW)) == T15 + timedelta(minutes=30)
    with pytest.raises(SlotTaken):
        appointments.book(visit(tenant, "apt_2", start=T15 + timedelta(minutes=45), patient="pat_b"))


def test_a_stale_version_is_a_conflict_and_changes_nothing(appointments, tenant):
    booked = appointments.book(visit(tenant, "apt_1"))
    first = appointments.save(booked, replace(booked, cancel_reason="first"), "tx_1")
    assert first.version == 2
    with pytest.raises(Conflict):
        appointments.save(booked, replace(booked, cancel_reason="stale"), "tx_2")
    assert appointments.get(tenant, "apt_1").cancel_reason == "first"


def test_cancel_releases_the_blocks_in_the_same_write(appointments, tenant):
    booked = appointments.book(visit(tenant, "apt_1"))
    cancelled = appointments.update(booked, replace(booked, status=Status.CANCELLED), "tx_1", release_locks=True)
    assert cancelled.status is Status.CANCELLED and cancelled.version == 2
    assert appointments.clinician_blocks(tenant, "clin_a", WINDOW) == frozenset()
    assert appointments.book(visit(tenant, "apt_2", patient="pat_b")).version == 1


def test_reschedule_moves_the_blocks_and_a_taken_target_leaves_the_visit_where_it_was(appointments, tenant):
    booked = appointments.book(visit(tenant, "apt_1"))
    appointments.book(visit(tenant, "apt_2", start=T15 + timedelta(hours=2), patient="pat_b"))
    later = T15 + timedelta(minutes=15)
    moved = appointments.replace_visit(booked, replace(booked, start=later, end=later + timedelta(minutes=45)), "tx_1")
    assert moved.start == later and moved.version == 2
    assert min(appointments.clinician_blocks(tenant, "clin_a", Interval(T15, T15 + timedelta(hours=1)))) == later
    target = T15 + timedelta(hours=2)
    with pytest.raises(SlotTaken):
        appointments.replace_visit(moved, replace(moved, start=target, end=target + timedelta(minutes=45)), "tx_2")
    assert appointments.get(tenant, "apt_1").start == later


def test_lists_are_in_start_order_within_the_window_and_page_with_a_cursor(appointments, tenant):
    for i in range(3):
        appointments.book(visit(tenant, f"apt_{i}", start=T15 + timedelta(hours=2 - i), patient=f"pat_{i}"))
    appointments.book(visit(tenant, "apt_late", start=T15 + timedelta(days=2), patient="pat_late"))
    first, cursor = appointments.list_for_clinician(tenant, "clin_a", WINDOW, 2, None)
    assert [a.appointment_id for a in first] == ["apt_2", "apt_1"] and cursor is not None
    rest, end = appointments.list_for_clinician(tenant, "clin_a", WINDOW, 2, cursor)
    assert [a.appointment_id for a in rest] == ["apt_0"] and end is None
    mine, _ = appointments.list_for_patient(tenant, "pat_1", WINDOW, 10, None)
    assert [a.appointment_id for a in mine] == ["apt_1"]


def test_a_list_filter_reads_past_what_the_caller_may_not_see(appointments, tenant):
    for i in range(3):
        appointments.book(visit(tenant, f"apt_{i}", start=T15 + timedelta(hours=i), patient=f"pat_{i}"))
    page, cursor = appointments.list_for_clinician(tenant, "clin_a", WINDOW, 1, None,
                                                   keep=lambda a: a.appointment_id != "apt_0")
    assert [a.appointment_id for a in page] == ["apt_1"] and cursor is not None


def test_the_temporary_practice_ledger_counts_days_and_refuses_a_day_past_the_limit(appointments, tenant):
    def tap(appointment_id, start, patient):
        a = visit(tenant, appointment_id, start=start, patient=patient)
        return replace(a, licensure=replace(a.licensure, temporary_practice="PSYPACT#TAP#US-NJ",
                                            temporary_practice_limit=2))

    appointments.book(tap("apt_1", T15, "pat_1"))
    appointments.book(tap("apt_2", T15 + timedelta(hours=2), "pat_2"))  # the same day counts once
    appointments.book(tap("apt_3", T15 + timedelta(days=1), "pat_3"))
    assert appointments.practice_day_counts(tenant, "clin_a", "PSYPACT#TAP#US-NJ", 2026) == {
        date(2026, 3, 3): 2, date(2026, 3, 4): 1}
    with pytest.raises(PracticeDaysChanged):
        appointments.book(tap("apt_4", T15 + timedelta(days=2), "pat_4"))
    assert appointments.get(tenant, "apt_4") is None


def test_visits_flagged_for_review_are_listed_in_start_order_until_cleared(appointments, tenant):
    flagged = []
    for i in range(3):
        a = visit(tenant, f"apt_{i}", start=T15 + timedelta(hours=2 - i), patient=f"pat_{i}")
        flagged.append(appointments.book(replace(a, licensure=replace(a.licensure, status="needs_review"))))
    appointments.book(visit(tenant, "apt_ok", start=T15 + timedelta(hours=4), patient="pat_ok"))
    ids, after = appointments.needing_review(tenant, 2, None)
    assert ids == ["apt_2", "apt_1"] and after is not None
    assert appointments.needing_review(tenant, 2, after) == (["apt_0"], None)
    cleared = flagged[1]
    appointments.save(cleared, replace(cleared, licensure=replace(cleared.licensure, status="ok")), "tx_1")
    assert appointments.needing_review(tenant, 5, None) == (["apt_2", "apt_0"], None)


def test_a_held_slot_refuses_others_passes_to_its_booking_and_frees_what_the_visit_does_not_need(
        appointments, place_hold, tenant):
    from chalicelib.domain.waitlist import HeldSlot

    held = HeldSlot("hold_1", tenant, "clin_a", T15, T15 + timedelta(hours=1))
    place_hold(held, T15)  # the offer expires at the visit's start, long after the booking's created_at
    with pytest.raises(SlotTaken):
        appointments.book(visit(tenant, "apt_other", patient="pat_b"))
    booked = appointments.book(visit(tenant, "apt_1"), hold=held)
    assert booked.version == 1
    # The visit needs 45 minutes: the hold's last block is freed in the same write.
    assert appointments.clinician_blocks(tenant, "clin_a", WINDOW) == frozenset(
        T15 + timedelta(minutes=m) for m in (0, 15, 30))


def test_an_expired_hold_blocks_nobody(appointments, place_hold, tenant):
    from chalicelib.domain.waitlist import HeldSlot

    place_hold(HeldSlot("hold_1", tenant, "clin_a", T15, T15 + timedelta(hours=1)), T15 - timedelta(days=2))
    assert appointments.book(visit(tenant, "apt_1")).version == 1


def test_an_eligibility_result_lands_alone_and_never_over_a_newer_version(appointments, tenant):
    booked = appointments.book(visit(tenant, "apt_1"))
    event = {"at": "2026-03-02T12:00:01+00:00", "action": "eligibility_checked", "role": "system",
             "status": "verified", "check_id": "elg_1", "for_version": "1"}

    landed = appointments.land_eligibility(booked, "verified", event)

    assert landed == replace(booked, eligibility_status="verified", history=(*booked.history, event), version=2)
    assert appointments.get(tenant, "apt_1") == landed
    # A concurrent user change (version 2 -> 3) is never overwritten by a result read at version 2.
    moved = appointments.save(landed, replace(landed, cancel_reason="user"), "tx_user")
    with pytest.raises(Conflict):
        appointments.land_eligibility(landed, "not_covered", {**event, "status": "not_covered"})
    assert appointments.get(tenant, "apt_1") == moved
