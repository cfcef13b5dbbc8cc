"""Booking use cases on the in-memory stores: the same service as the API, without AWS."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import (
    InvalidTransition,
    ModalityNotOffered,
    NotFound,
    NotLicensed,
    OutsideAvailability,
    PatientBusy,
    RoomUnavailable,
    SlotTaken,
    ValidationFailed,
)
from chalicelib.domain.model import Interval, Modality, Status
from chalicelib.services.booking import BookingRequest, ModalitySwitch, Reschedule, StatedLocation

pytestmark = pytest.mark.unit

# Tuesday 3 March 2026 10:00 and 11:00 in New York (EST, UTC-5).
TUE_10 = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
TUE_11 = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)


def request(world, *, start=TUE_10, modality=Modality.VIDEO, patient=None, clinician=None, **more) -> BookingRequest:
    return BookingRequest(patient_id=(patient or world.patient).patient_id,
                          clinician_id=(clinician or world.clinician).clinician_id, service="90834", start=start,
                          modality=modality, **more)


def test_a_free_video_slot_is_booked_with_licensure_basis_billing_and_an_audit_entry(world):
    booked = world.booking.book(world.scheduler, request(world, patient_jurisdiction="US-NY"))
    assert booked.status is Status.BOOKED and booked.version == 1
    assert booked.end == TUE_10 + timedelta(minutes=45)
    assert booked.licensure_basis.jurisdiction == "US-NY"
    assert booked.billing.place_of_service == "10"  # telehealth at the patient's home
    assert world.appointments.get(world.tenant, booked.appointment_id) == booked
    assert ("appointment.book", "success") in world.audit.actions(world.tenant)


def test_a_second_booking_of_the_same_slot_is_refused_and_stores_nothing(world):
    world.booking.book(world.scheduler, request(world))
    other = world.another_patient()
    with pytest.raises(SlotTaken):
        world.booking.book(world.scheduler, request(world, patient=other, start=TUE_10 + timedelta(minutes=30)))
    assert world.appointments.patient_blocks(world.tenant, other.patient_id,
                                             Interval(TUE_10, TUE_11 + timedelta(hours=1))) == frozenset()


def test_the_patient_cannot_be_booked_twice_at_once(world):
    world.booking.book(world.scheduler, request(world))
    other = world.clinician_with(licenses=["US-NY"], npi="1245319599")
    with pytest.raises(PatientBusy):
        world.booking.book(world.scheduler, request(world, clinician=other))


def test_in_person_takes_a_free_room_and_bills_office_and_a_full_site_is_refused(world):
    first = world.booking.book(world.scheduler, request(world, modality=Modality.IN_PERSON,
                                                        site_id=world.site.site_id))
    assert first.room == "A" and first.billing.place_of_service == "11"
    other = world.clinician_with(licenses=["US-NY"], npi="1245319599")
    second = world.booking.book(world.scheduler, request(world, modality=Modality.IN_PERSON, clinician=other,
                                                         patient=world.another_patient(), site_id=world.site.site_id))
    assert second.room == "B"
    third = world.clinician_with(licenses=["US-NY"], npi="1679576722")
    with pytest.raises(RoomUnavailable):
        world.booking.book(world.scheduler, request(world, modality=Modality.IN_PERSON, clinician=third,
                                                    patient=world.another_patient("Third"),
                                                    site_id=world.site.site_id))


def test_the_rooms_come_in_the_bookings_one_batched_read_and_a_room_lost_to_a_race_is_read_again(world,
                                                                                                    monkeypatch):
    from chalicelib.domain.keyed_reads import known

    other = world.clinician_with(licenses=["US-NY"], npi="1245319599")
    world.booking.book(world.scheduler, request(world, modality=Modality.IN_PERSON, clinician=other,
                                                patient=world.another_patient(), site_id=world.site.site_id))
    # The batch read before the racing booking committed: it saw every room free.
    monkeypatch.setattr(world.appointments, "rooms_taken_read", lambda *a: known({}))
    reread = []
    rooms_taken = world.appointments.rooms_taken
    monkeypatch.setattr(world.appointments, "rooms_taken", lambda *a: reread.append(a) or rooms_taken(*a))
    batches = world.booking.reads.batches
    booked = world.booking.book(world.scheduler, request(world, modality=Modality.IN_PERSON,
                                                         site_id=world.site.site_id))
    assert booked.room == "B"  # A was lost to the race (the write refused it whole); B was free on a re-read
    assert world.booking.reads.batches == batches + 1 and len(reread) == 1
    assert world.audit.actions(world.tenant).count(("appointment.book", "success")) == 2


def test_in_person_without_a_site_names_the_field(world):
    with pytest.raises(ValidationFailed) as refused:
        world.booking.book(world.scheduler, request(world, modality=Modality.IN_PERSON))
    assert [e.field for e in refused.value.errors] == ["site_id"]


def test_a_patient_in_a_state_where_the_clinician_holds_no_authority_is_refused(world):
    with pytest.raises(NotLicensed) as refused:
        world.booking.book(world.scheduler, request(world, patient_jurisdiction="US-CA"))
    assert refused.value.extra["care_jurisdiction"] == "US-CA"
    assert world.appointments.writes == 0


def test_outside_the_clinicians_hours_and_in_the_past_are_refused(world):
    with pytest.raises(OutsideAvailability):
        world.booking.book(world.scheduler, request(world, start=datetime(2026, 3, 3, 23, 0, tzinfo=UTC)))
    with pytest.raises(OutsideAvailability):
        world.booking.book(world.scheduler, request(world, start=datetime(2026, 3, 2, 11, 0, tzinfo=UTC)))


def test_video_for_a_patient_without_video_access_is_refused(world):
    offline = world.another_patient(tech_access={"video": False})
    with pytest.raises(ModalityNotOffered):
        world.booking.book(world.scheduler, request(world, patient=offline))


def test_unknown_patient_is_not_found(world):
    with pytest.raises(NotFound):
        world.booking.book(world.scheduler, replace(request(world), patient_id="pat_nobody"))


def test_cancel_frees_the_slot_and_cannot_happen_twice(world):
    booked = world.booking.book(world.scheduler, request(world))
    cancelled = world.booking.cancel(world.scheduler, booked.appointment_id, "patient asked")
    assert cancelled.status is Status.CANCELLED and cancelled.cancel_reason == "patient asked"
    world.booking.book(world.scheduler, request(world, patient=world.another_patient()))
    with pytest.raises(InvalidTransition):
        world.booking.cancel(world.scheduler, booked.appointment_id, None)


def test_reschedule_moves_the_visit_and_a_taken_target_leaves_it_in_place(world):
    booked = world.booking.book(world.scheduler, request(world))
    moved = world.booking.reschedule(world.scheduler, booked.appointment_id, Reschedule(start=TUE_11))
    assert moved.start == TUE_11 and moved.version == 2
    world.booking.book(world.scheduler, request(world, patient=world.another_patient(), start=TUE_10))
    with pytest.raises(SlotTaken):
        world.booking.reschedule(world.scheduler, booked.appointment_id, Reschedule(start=TUE_10))
    assert world.appointments.get(world.tenant, booked.appointment_id).start == TUE_11


def test_switching_to_phone_keeps_the_time_and_rebills(world):
    booked = world.booking.book(world.scheduler, request(world, modality=Modality.IN_PERSON,
                                                         site_id=world.site.site_id))
    switched = world.booking.switch_modality(world.scheduler, booked.appointment_id,
                                             ModalitySwitch(modality=Modality.PHONE))
    assert switched.modality is Modality.PHONE and switched.start == booked.start
    assert switched.site_id is None and switched.room is None
    assert world.appointments.rooms_taken(world.tenant, world.site.site_id, booked.interval) == {}


def test_check_in_from_another_state_is_a_jurisdiction_mismatch_with_alternatives(world):
    booked = world.booking.book(world.scheduler, request(world))
    with pytest.raises(Exception) as refused:
        world.booking.check_in(world.scheduler, booked.appointment_id, StatedLocation("US-CA"))
    assert refused.value.code == "JURISDICTION_MISMATCH"
    assert refused.value.extra["patient_jurisdiction"] == "US-CA"
    assert world.appointments.get(world.tenant, booked.appointment_id).status is Status.BOOKED
    assert ("appointment.check_in", "refused") in world.audit.actions(world.tenant)


def test_check_in_where_the_clinician_is_licensed_confirms_the_location(world):
    booked = world.booking.book(world.scheduler, request(world))
    done = world.booking.check_in(world.scheduler, booked.appointment_id,
                                  StatedLocation("US-NY", callback_phone="+12125550100"))
    assert done.status is Status.CHECKED_IN
    assert done.confirmed_location.jurisdiction == "US-NY"
    assert done.confirmed_location.callback_phone == "+12125550100"


def test_a_suspended_licence_flags_future_visits_for_review_and_restoring_it_clears_them(world):
    from chalicelib.domain.model import License
    from chalicelib.services.directory import Changes

    booked = world.booking.book(world.scheduler, request(world))
    licence = world.clinician.licenses[0]
    _, review = world.directory.patch_clinician(world.admin, world.clinician.clinician_id, Changes(
        {"licenses": (replace(licence, status="suspended"),)}), None)
    assert review == {"flagged": 1, "cleared": 0}
    assert world.appointments.get(world.tenant, booked.appointment_id).needs_review
    ids, _ = world.appointments.needing_review(world.tenant, 10, None)
    assert ids == [booked.appointment_id]
    _, review = world.directory.patch_clinician(world.admin, world.clinician.clinician_id, Changes(
        {"licenses": (License(licence.jurisdiction, licence.type, licence.number, licence.expires_on),)}), None)
    assert review == {"flagged": 0, "cleared": 1}
    assert world.appointments.needing_review(world.tenant, 10, None) == ([], None)


def test_every_change_of_a_visit_has_exactly_one_entry_and_a_refused_one_none(world):
    booked = world.booking.book(world.scheduler, request(world, patient_jurisdiction="US-NY"))
    other = world.another_patient()
    with pytest.raises(SlotTaken):  # refused by the store: the entry went down with the write
        world.booking.book(world.scheduler, request(world, patient=other, patient_jurisdiction="US-NY"))
    moved = world.booking.reschedule(world.scheduler, booked.appointment_id, Reschedule(start=TUE_11))
    world.booking.switch_modality(world.scheduler, moved.appointment_id, ModalitySwitch(Modality.PHONE))
    world.booking.cancel(world.scheduler, moved.appointment_id, "patient request")
    entries = [(e["action"], e["resource"]) for e in world.audit.logs[world.tenant]
               if e["action"].startswith("appointment.")]
    mine = f"appointment/{booked.appointment_id}"
    assert entries == [("appointment.book", mine), ("appointment.change", mine), ("appointment.change", mine),
                       ("appointment.cancel", mine)]


def test_a_booking_decided_on_a_stale_cached_record_is_read_again_and_decided_again_once(world, monkeypatch):
    from chalicelib.domain.errors import StaleRecords
    from chalicelib.domain.records import RecordVersion

    fresh_read = world.store.booking_records
    served = []

    def cached_then_fresh(tenant, patient_id, clinician_id, site_ids=(), **kw):
        records = fresh_read(tenant, patient_id, clinician_id, site_ids, **kw)
        if not served:  # the first read comes from a cache that missed a save made elsewhere
            records = replace(records, fresh=(*records.fresh, RecordVersion("clinician", tenant, clinician_id, 0)))
        served.append(records)
        return records

    monkeypatch.setattr(world.store, "booking_records", cached_then_fresh)
    booked = world.booking.book(world.scheduler, request(world, patient_jurisdiction="US-NY"))
    assert booked.status is Status.BOOKED and len(served) == 2
    assert RecordVersion("clinician", world.tenant, world.clinician.clinician_id, 0) in world.store.forgotten
    assert world.audit.actions(world.tenant).count(("appointment.book", "success")) == 1

    monkeypatch.setattr(world.store, "booking_records", lambda *a, **kw: replace(
        fresh_read(*a, **kw), fresh=(RecordVersion("clinician", world.tenant, world.clinician.clinician_id, 0),)))
    with pytest.raises(StaleRecords):  # stale twice in a row: a real conflict, said as one (409)
        world.booking.book(world.scheduler, request(world, start=TUE_11, patient_jurisdiction="US-NY"))
    assert len(world.appointments.appointments) == 1
