"""Booking transactions on moto: the losing write stores nothing; moves and cancels keep locks exact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.adapters.dynamo import keys
from chalicelib.adapters.dynamo.models import AppointmentItem, LockItem
from chalicelib.api.appointment_inputs import booking_request, reschedule
from chalicelib.api.directory_inputs import availability, clinician_draft, patient_draft, site_draft
from chalicelib.domain.access import Caller
from chalicelib.domain.errors import Conflict, PatientBusy, RoomUnavailable, SlotTaken
from chalicelib.schemas.appointments import BookingIn, RescheduleIn
from chalicelib.schemas.directory import AvailabilityIn, ClinicianIn, PatientIn, SiteIn
from tests.support import VALID_NPIS, clinician_body, patient_body, site_body, weekday_rules

pytestmark = pytest.mark.integration
TUE_15 = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # 10:00 in New York


@pytest.fixture
def admin(tenant):
    return Caller("admin-1", tenant, frozenset({"admin"}))


@pytest.fixture
def sched(tenant):
    return Caller("sched-1", tenant, frozenset({"scheduler"}))


@pytest.fixture
def setup(services, admin, sched):
    d = services.directory
    site = d.create_site(admin, site_draft(SiteIn.model_validate(site_body(rooms=["only-room"]))))
    clinicians = []
    for i in range(2):
        c = d.create_clinician(admin, clinician_draft(ClinicianIn.model_validate(
            clinician_body(f"Dr {i}", npi=VALID_NPIS[i], site_ids=[site.site_id]))))
        d.set_availability(admin, c.clinician_id, availability(AvailabilityIn.model_validate(
            {"rules": weekday_rules(site_id=site.site_id), "buffer_minutes": 15})))
        clinicians.append(c)
    patients = [d.create_patient(sched, patient_draft(PatientIn.model_validate(patient_body(f"P {i}"))))
                for i in range(2)]
    return {"site": site, "clinicians": clinicians, "patients": patients}


def book(services, sched, setup, *, clinician=0, patient=0, start=TUE_15, modality="video"):
    site_id = setup["site"].site_id if modality == "in_person" else None
    return services.booking.book(sched, booking_request(BookingIn(
        patient_id=setup["patients"][patient].patient_id, clinician_id=setup["clinicians"][clinician].clinician_id,
        service="90834", start=start, modality=modality, site_id=site_id, patient_jurisdiction="US-NY")))


def items_of(tenant, setup):
    """Raw storage of this test's tenant: every appointment item and every lock item, read by key."""
    appts = [i for c in setup["clinicians"]
             for i in AppointmentItem.by_clinician.query(keys.clinician_pk(tenant, c.clinician_id))]
    partitions = ([keys.clinician_pk(tenant, c.clinician_id) for c in setup["clinicians"]]
                  + [keys.patient_pk(tenant, p.patient_id) for p in setup["patients"]]
                  + [keys.site_pk(tenant, setup["site"].site_id)])
    locks = [i for pk in partitions for i in LockItem.query(pk, LockItem.sk.startswith("BLOCK#"))]
    return appts, locks


def test_booking_writes_the_appointment_and_one_lock_per_block(services, sched, setup, tenant):
    a = book(services, sched, setup)
    appts, locks = items_of(tenant, setup)
    assert [i.pk for i in appts] == [f"T#{tenant}#APPT#{a.appointment_id}"]
    holders = sorted((lk.holder, lk.sk) for lk in locks)
    # 45-minute visit + 15-minute buffer = 4 clinician blocks; the patient holds the 3 blocks of the visit
    assert [h for h, _ in holders].count("clinician") == 4
    assert [h for h, _ in holders].count("patient") == 3
    assert all(lk.appointment_id == a.appointment_id for lk in locks)


def test_second_booking_for_an_overlapping_block_is_rejected_and_writes_nothing(services, sched, setup, tenant):
    first = book(services, sched, setup)
    before = items_of(tenant, setup)
    with pytest.raises(SlotTaken):
        book(services, sched, setup, patient=1, start=datetime(2026, 3, 3, 15, 30, tzinfo=UTC))
    appts, locks = items_of(tenant, setup)
    assert [a.pk for a in appts] == [a.pk for a in before[0]]
    assert {lk.appointment_id for lk in locks} == {first.appointment_id}
    assert len(locks) == len(before[1])


def test_the_buffer_after_a_visit_blocks_the_next_start(services, sched, setup):
    book(services, sched, setup)
    with pytest.raises(SlotTaken):  # 10:45 is inside the 15-minute buffer of the 10:00 visit
        book(services, sched, setup, patient=1, start=datetime(2026, 3, 3, 15, 45, tzinfo=UTC))
    later = book(services, sched, setup, patient=1, start=datetime(2026, 3, 3, 16, 0, tzinfo=UTC))
    assert later.status.value == "booked"


def test_a_patient_cannot_hold_two_overlapping_visits_with_different_clinicians(services, sched, setup, tenant):
    book(services, sched, setup)
    with pytest.raises(PatientBusy):
        book(services, sched, setup, clinician=1)
    appts, _ = items_of(tenant, setup)
    assert len(appts) == 1


def test_a_site_with_one_room_takes_one_in_person_visit_at_a_time(services, sched, setup):
    first = book(services, sched, setup, modality="in_person")
    assert first.room == "only-room"
    with pytest.raises(RoomUnavailable):
        book(services, sched, setup, clinician=1, patient=1, modality="in_person")
    video = book(services, sched, setup, clinician=1, patient=1, modality="video")
    assert video.room is None


def test_reschedule_by_fifteen_minutes_moves_the_locks_in_one_transaction(services, sched, setup, tenant):
    a = book(services, sched, setup, modality="in_person")
    moved = services.booking.reschedule(sched, a.appointment_id,
                                        reschedule(RescheduleIn(start=datetime(2026, 3, 3, 15, 15, tzinfo=UTC))))
    assert moved.start == datetime(2026, 3, 3, 15, 15, tzinfo=UTC) and moved.room == "only-room"
    _, locks = items_of(tenant, setup)
    clinician_blocks = sorted(lk.sk for lk in locks if lk.holder == "clinician")
    # 10:15-11:00 local plus the 15-minute buffer: the last held block starts at 16:00 UTC
    assert clinician_blocks[0].endswith("15:15Z") and clinician_blocks[-1].endswith("16:00Z")
    assert sorted(lk.sk for lk in locks if lk.holder == "room")[0].startswith("BLOCK#2026-03-03T15:15Z")
    # the freed 10:00 block is bookable again by someone else
    assert book(services, sched, setup, clinician=1, patient=1, start=TUE_15).status.value == "booked"


def test_reschedule_into_a_taken_slot_changes_nothing(services, sched, setup, tenant):
    a = book(services, sched, setup)
    book(services, sched, setup, patient=1, start=datetime(2026, 3, 3, 17, 0, tzinfo=UTC))
    before = items_of(tenant, setup)
    with pytest.raises(SlotTaken):
        services.booking.reschedule(sched, a.appointment_id, reschedule(RescheduleIn(start=datetime(2026, 3, 3, 17, 0,
                                                                                          tzinfo=UTC))))
    after = items_of(tenant, setup)
    assert sorted((lk.pk, lk.sk, lk.appointment_id) for lk in after[1]) == sorted(
        (lk.pk, lk.sk, lk.appointment_id) for lk in before[1])
    assert services.booking.get(sched, a.appointment_id).start == TUE_15


def test_cancel_deletes_every_lock_and_keeps_the_record(services, sched, setup, tenant):
    a = book(services, sched, setup, modality="in_person")
    services.booking.cancel(sched, a.appointment_id, "patient request")
    appts, locks = items_of(tenant, setup)
    assert locks == []
    assert appts[0].status == "cancelled"


def test_a_stale_update_is_a_conflict(services, sched, setup):
    a = book(services, sched, setup)
    stale = services.booking.get(sched, a.appointment_id)
    services.booking.cancel(sched, a.appointment_id, None)
    from dataclasses import replace

    with pytest.raises(Conflict):
        services.booking.appointments.update(stale, replace(stale, cancel_reason="x"), "tx-stale",
                                             release_locks=False)
