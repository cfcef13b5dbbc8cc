"""Booking transactions on moto: the losing write stores nothing; moves and cancels keep busy-week items exact."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pynamodb.expressions.operand import Path

from chalicelib.adapters.dynamo import keys
from chalicelib.adapters.dynamo.appointments import _Labelled
from chalicelib.adapters.dynamo.busy_weeks import hold_locks, hold_value, week_updates
from chalicelib.adapters.dynamo.models import AppointmentItem, BusyWeekItem
from chalicelib.api.appointment_inputs import booking_request, reschedule
from chalicelib.api.directory_inputs import availability, clinician_draft, patient_draft, site_draft
from chalicelib.domain.access import Caller
from chalicelib.domain.errors import Conflict, PatientBusy, RoomUnavailable, SlotTaken
from chalicelib.domain.model import Appointment, Billing, Interval, Modality, Status
from chalicelib.domain.waitlist import HeldSlot
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


def week_items(tenant, setup):
    """Raw busy-week items of this test's clinicians, patients and site: {(pk, sk): {attribute: holder}}."""
    partitions = ([keys.clinician_pk(tenant, c.clinician_id) for c in setup["clinicians"]]
                  + [keys.patient_pk(tenant, p.patient_id) for p in setup["patients"]]
                  + [keys.site_pk(tenant, setup["site"].site_id)])
    client = BusyWeekItem._get_connection().connection.client
    found = {}
    for pk in partitions:
        answer = client.query(TableName=BusyWeekItem.Meta.table_name, ConsistentRead=True,
                              KeyConditionExpression="pk = :pk AND begins_with(sk, :w)",
                              ExpressionAttributeValues={":pk": {"S": pk}, ":w": {"S": "WEEK#"}})
        for raw in answer["Items"]:
            found[(pk, raw["sk"]["S"])] = {k: v["S"] for k, v in raw.items() if k[0] in "br" and k[1].isdigit()}
    return found


def blocks(tenant, setup):
    """Every held block as (partition kind, sk, attribute, holder), sorted."""
    return sorted((pk.split("#")[2], sk, attr, holder)
                  for (pk, sk), attrs in week_items(tenant, setup).items() for attr, holder in attrs.items())


def items_of(tenant, setup):
    appts = [i for c in setup["clinicians"]
             for i in AppointmentItem.by_clinician.query(keys.clinician_pk(tenant, c.clinician_id))]
    return appts, blocks(tenant, setup)


def test_booking_writes_the_appointment_and_its_blocks_on_one_week_item_per_holder(services, sched, setup, tenant):
    a = book(services, sched, setup)
    appts, held = items_of(tenant, setup)
    assert [i.pk for i in appts] == [f"T#{tenant}#APPT#{a.appointment_id}"]
    # 45-minute visit + 15-minute buffer = 4 clinician blocks (Tuesday = ISO day 2, UTC); the patient holds the
    # 3 blocks of the visit; all on the items of the UTC week starting Monday 2 March
    assert [(kind, attr) for kind, _, attr, _ in held if kind == "CLIN"] == [
        ("CLIN", "b21500"), ("CLIN", "b21515"), ("CLIN", "b21530"), ("CLIN", "b21545")]
    assert [attr for kind, _, attr, _ in held if kind == "PAT"] == ["b21500", "b21515", "b21530"]
    assert {sk for _, sk, _, _ in held} == {"WEEK#2026-03-02"}
    assert {holder for *_, holder in held} == {a.appointment_id}
    assert len(week_items(tenant, setup)) == 2  # one clinician item, one patient item


def test_second_booking_for_an_overlapping_block_is_rejected_and_writes_nothing(services, sched, setup, tenant):
    first = book(services, sched, setup)
    before = items_of(tenant, setup)
    with pytest.raises(SlotTaken):
        book(services, sched, setup, patient=1, start=datetime(2026, 3, 3, 15, 30, tzinfo=UTC))
    appts, held = items_of(tenant, setup)
    assert [a.pk for a in appts] == [a.pk for a in before[0]]
    assert {holder for *_, holder in held} == {first.appointment_id}
    assert held == before[1]  # not even the loser's free blocks (its patient's, its 16:00 block) were written


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


def test_in_person_visits_hold_room_blocks_on_the_site_week_item(services, sched, setup, tenant):
    a = book(services, sched, setup, modality="in_person")
    rooms = [attr for kind, _, attr, holder in blocks(tenant, setup) if kind == "SITE" and holder == a.appointment_id]
    assert rooms == ["r21500#only-room", "r21515#only-room", "r21530#only-room"]
    window = Interval(TUE_15, TUE_15 + timedelta(hours=1))
    taken = services.booking.appointments.rooms_taken(tenant, setup["site"].site_id, window)
    assert taken == {TUE_15 + timedelta(minutes=m): frozenset({"only-room"}) for m in (0, 15, 30)}


def test_reschedule_by_fifteen_minutes_moves_only_the_blocks_that_change(services, sched, setup, tenant, monkeypatch):
    a = book(services, sched, setup, modality="in_person")
    sent = spy_updates(monkeypatch)
    moved = services.booking.reschedule(sched, a.appointment_id,
                                        reschedule(RescheduleIn(start=datetime(2026, 3, 3, 15, 15, tzinfo=UTC))))
    assert moved.start == datetime(2026, 3, 3, 15, 15, tzinfo=UTC) and moved.room == "only-room"
    held = blocks(tenant, setup)
    # 10:15-11:00 local plus the 15-minute buffer: the clinician holds 15:15-16:15 UTC
    assert [attr for kind, _, attr, _ in held if kind == "CLIN"] == ["b21515", "b21530", "b21545", "b21600"]
    assert [attr for kind, _, attr, _ in held if kind == "SITE"] == [
        "r21515#only-room", "r21530#only-room", "r21545#only-room"]
    assert {holder for *_, holder in held} == {a.appointment_id}
    # one update per busy-week item, naming only the blocks that changed: 15:00 leaves, the last one arrives
    weeks = [(pk.split("#")[2], names) for pk, sk, names in sent if sk.startswith("WEEK#")]
    assert sorted(weeks) == [("CLIN", {"b21500", "b21600"}), ("PAT", {"b21500", "b21545"}),
                             ("SITE", {"r21500#only-room", "r21545#only-room"})]
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
    assert after[1] == before[1]
    assert services.booking.get(sched, a.appointment_id).start == TUE_15


def test_cancel_frees_every_block_and_keeps_the_record(services, sched, setup, tenant):
    a = book(services, sched, setup, modality="in_person")
    services.booking.cancel(sched, a.appointment_id, "patient request")
    appts, held = items_of(tenant, setup)
    assert held == []
    assert appts[0].status == "cancelled"
    window = Interval(TUE_15 - timedelta(days=1), TUE_15 + timedelta(days=1))
    assert services.booking.appointments.clinician_blocks(
        tenant, setup["clinicians"][0].clinician_id, window) == frozenset()


def test_a_stale_update_is_a_conflict(services, sched, setup):
    a = book(services, sched, setup)
    stale = services.booking.get(sched, a.appointment_id)
    services.booking.cancel(sched, a.appointment_id, None)
    with pytest.raises(Conflict):
        services.booking.appointments.update(stale, replace(stale, cancel_reason="x"), "tx-stale",
                                             release_locks=False)


def spy_updates(monkeypatch):
    """(pk, sk, attribute names) of every update the repository puts into a transaction."""
    sent = []
    original = _Labelled.update

    def update(self, item, actions, label, condition=None):
        names = {p for a in actions for p in a.values[0].path if p != "kind"}
        sent.append((item.pk, item.sk, names))
        return original(self, item, actions, label, condition)

    monkeypatch.setattr(_Labelled, "update", update)
    return sent


# --- the repository directly: races, waitlist holds, week boundaries, daylight saving -------------------------
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def visit(tenant, setup, start, *, apt="apt_direct", minutes=45, buffer=15, clinician=0, patient=0,
          zone="America/New_York"):
    return Appointment(tenant, apt, setup["patients"][patient].patient_id, setup["clinicians"][clinician].clinician_id,
                       "90834", start, start + timedelta(minutes=minutes), Modality.VIDEO, None, None, "US-NY", "home",
                       zone, Status.BOOKED, Billing("10", ("95",)), None, buffer_minutes=buffer, created_at=NOW)


def hold(tenant, setup, start, end, hold_id, expires):
    """A waitlist hold on clinician 0's blocks, written as WaitlistRepository.offer writes it."""
    clinician_id = setup["clinicians"][0].clinician_id
    takes = [(lk, Path([lk.attr]).does_not_exist()) for lk in hold_locks(tenant, clinician_id, start, end)]
    for week, actions, _, condition in week_updates(takes, hold_value(int(expires.timestamp()), hold_id)):
        week.update(actions=actions, condition=condition)
    return HeldSlot(hold_id, tenant, clinician_id, start, end)


def clinician_attrs(tenant, setup, holder=None):
    return [attr for kind, _, attr, h in blocks(tenant, setup) if kind == "CLIN" and holder in (None, h)]


def test_racing_bookings_for_overlapping_blocks_one_wins_and_nothing_of_the_losers_is_stored(services, setup, tenant,
                                                                                            monkeypatch):
    # moto's in-process backend is not thread-safe (it deep-copies tables during a transaction); DynamoDB runs
    # transactions serializably, so the racers' commits go through one lock, in whatever order threads arrive.
    from moto.dynamodb.models import DynamoDBBackend

    serial = threading.Lock()
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, *args, **kwargs):
        with serial:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
    repo = services.booking.appointments
    racers = 6
    barrier = threading.Barrier(racers)

    def attempt(n):
        a = visit(tenant, setup, TUE_15 + timedelta(minutes=15 * (n % 2)), apt=f"apt_race{n}", patient=n % 2)
        barrier.wait()
        try:
            return repo.book(a).appointment_id
        except (SlotTaken, PatientBusy, Conflict):
            return None

    with ThreadPoolExecutor(racers) as pool:
        won = [w for w in pool.map(attempt, range(racers)) if w]
    assert len(won) == 1
    assert {h for *_, h in blocks(tenant, setup)} == set(won)
    appts, _ = items_of(tenant, setup)
    assert [i.pk for i in appts] == [keys.appointment_pk(tenant, won[0])]


def test_an_expired_hold_is_free_and_a_live_one_is_not(services, setup, tenant):
    repo = services.booking.appointments
    hold(tenant, setup, TUE_15, TUE_15 + timedelta(hours=1), "hold_live", NOW + timedelta(minutes=1))
    with pytest.raises(SlotTaken):
        repo.book(visit(tenant, setup, TUE_15))
    later = TUE_15 + timedelta(hours=2)
    hold(tenant, setup, later, later + timedelta(hours=1), "hold_old", NOW - timedelta(seconds=1))
    booked = repo.book(visit(tenant, setup, later, apt="apt_after_expiry"))
    assert clinician_attrs(tenant, setup, booked.appointment_id) == ["b21700", "b21715", "b21730", "b21745"]
    assert len(clinician_attrs(tenant, setup)) == 8  # the live hold's 4 blocks stay


def test_a_booking_takes_over_its_own_hold_and_frees_what_it_does_not_need(services, setup, tenant):
    repo = services.booking.appointments
    held = hold(tenant, setup, TUE_15, TUE_15 + timedelta(minutes=90), "hold_mine", NOW + timedelta(minutes=30))
    with pytest.raises(SlotTaken):  # someone else's hold (another id) does not pass
        repo.book(visit(tenant, setup, TUE_15, apt="apt_other"), hold=replace(held, hold_id="hold_theirs"))
    a = repo.book(visit(tenant, setup, TUE_15), hold=held)
    # the visit (45 min + 15 buffer) keeps 4 of the 6 held blocks; 16:00 and 16:15 are free again
    assert clinician_attrs(tenant, setup) == ["b21500", "b21515", "b21530", "b21545"]
    assert set(clinician_attrs(tenant, setup, a.appointment_id)) == set(clinician_attrs(tenant, setup))
    services.waitlist.repo.release_hold(_offered(tenant, setup, held))  # a late release must not free the visit
    assert clinician_attrs(tenant, setup, a.appointment_id) == ["b21500", "b21515", "b21530", "b21545"]


def _offered(tenant, setup, held):
    from chalicelib.domain.waitlist import Offer, WaitlistEntry

    offer = Offer(TUE_15, TUE_15 + timedelta(minutes=45), setup["clinicians"][0].clinician_id, Modality.VIDEO, None,
                  NOW + timedelta(minutes=30), held.hold_id, TUE_15 + timedelta(minutes=90), "slot")
    return WaitlistEntry(tenant, "wl_1", setup["patients"][0].patient_id, "90834", (Modality.VIDEO,), "US-NY",
                         NOW, NOW + timedelta(days=7), None, "offered", NOW, offer=offer)


def test_a_visit_across_the_utc_week_boundary_touches_two_items_per_holder(services, setup, tenant, monkeypatch):
    repo = services.booking.appointments
    sunday_late = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
    sent = spy_updates(monkeypatch)
    a = repo.book(visit(tenant, setup, sunday_late))
    held = blocks(tenant, setup)
    assert [(kind, sk, attr) for kind, sk, attr, _ in held] == [
        ("CLIN", "WEEK#2026-03-02", "b72330"), ("CLIN", "WEEK#2026-03-02", "b72345"),
        ("CLIN", "WEEK#2026-03-09", "b10000"), ("CLIN", "WEEK#2026-03-09", "b10015"),
        ("PAT", "WEEK#2026-03-02", "b72330"), ("PAT", "WEEK#2026-03-02", "b72345"),
        ("PAT", "WEEK#2026-03-09", "b10000")]
    assert len([s for s in sent if s[1].startswith("WEEK#")]) == 4
    monday = Interval(datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 9, 1, tzinfo=UTC))
    assert repo.clinician_blocks(tenant, a.clinician_id, monday) >= {
        sunday_late, datetime(2026, 3, 9, 0, 15, tzinfo=UTC)}  # the Sunday blocks count: the read widens by a day
    repo.update(a, replace(a, status=Status.CANCELLED), "tx-cancel-cross", release_locks=True)
    assert blocks(tenant, setup) == []


@pytest.mark.parametrize("local_midnight", [
    datetime(2026, 3, 8, 8, 0, tzinfo=UTC),  # 00:00 PST on the day clocks spring forward
    datetime(2026, 11, 1, 7, 0, tzinfo=UTC),  # 00:00 PDT on the day clocks fall back
])
def test_a_visit_at_local_midnight_on_a_dst_change_day_books_and_cancels(services, setup, tenant, local_midnight):
    repo = services.booking.appointments
    a = repo.book(visit(tenant, setup, local_midnight, minutes=60, buffer=0, zone="America/Los_Angeles"))
    held = repo.clinician_blocks(tenant, a.clinician_id, Interval(local_midnight, local_midnight + timedelta(hours=1)))
    assert held == {local_midnight + timedelta(minutes=m) for m in (0, 15, 30, 45)}
    assert {sk for _, sk, _, _ in blocks(tenant, setup)} == {keys.week_sk(keys.week_of(local_midnight))}
    with pytest.raises(SlotTaken):
        repo.book(visit(tenant, setup, local_midnight + timedelta(minutes=30), apt="apt_second", patient=1,
                        zone="America/Los_Angeles"))
    repo.update(a, replace(a, status=Status.CANCELLED), "tx-cancel-dst", release_locks=True)
    assert blocks(tenant, setup) == []
    assert repo.book(visit(tenant, setup, local_midnight, apt="apt_again", zone="America/Los_Angeles"))


# --- a visit's change and its audit entry: one TransactWriteItems ---------------------------------------------
def spy_writes(monkeypatch):
    """Every TransactWriteItems and PutItem PynamoDB sends: (operation, [(action, pk, raw item)], ok)."""
    from pynamodb.connection.base import Connection

    sent = []
    transact, put = Connection.transact_write_items, Connection.put_item

    def transact_write_items(self, condition_check_items, delete_items, put_items, update_items, *a, **kw):
        actions = ([("ConditionCheck", i["Key"]["pk"]["S"], i) for i in condition_check_items]
                   + [("Delete", i["Key"]["pk"]["S"], i) for i in delete_items]
                   + [("Put", i["Item"]["pk"]["S"], i["Item"]) for i in put_items]
                   + [("Update", i["Key"]["pk"]["S"], i) for i in update_items])
        call = ["TransactWriteItems", actions, False]
        sent.append(call)
        result = transact(self, condition_check_items, delete_items, put_items, update_items, *a, **kw)
        call[2] = True
        return result

    def put_item(self, table_name, hash_key, *a, **kw):
        sent.append(["PutItem", [("Put", hash_key, kw.get("attributes"))], True])
        return put(self, table_name, hash_key, *a, **kw)

    monkeypatch.setattr(Connection, "transact_write_items", transact_write_items)
    monkeypatch.setattr(Connection, "put_item", put_item)
    return sent


def audit_puts(call, tenant):
    return [item for action, pk, item in call[1] if action == "Put" and pk.startswith(f"T#{tenant}#AUDIT#")]


def stored_entries(services, tenant, appointment_id):
    window = Interval(NOW - timedelta(days=1), NOW + timedelta(days=1))
    found, _ = services.audit.entries(tenant, window, None, 100, None)
    return [(e["action"], e["outcome"]) for e in found if e["resource"] == f"appointment/{appointment_id}"]


def test_a_booking_writes_its_audit_entry_inside_its_transaction(services, sched, setup, tenant, monkeypatch):
    sent = spy_writes(monkeypatch)
    a = book(services, sched, setup)
    booking_tx = [c for c in sent if c[0] == "TransactWriteItems"
                  and any(pk == f"T#{tenant}#APPT#{a.appointment_id}" and action == "Put" for action, pk, _ in c[1])]
    first = booking_tx[0]
    [entry] = audit_puts(first, tenant)
    assert entry["doc"]["M"]["action"]["S"] == "appointment.book"
    assert entry["doc"]["M"]["resource"]["S"] == f"appointment/{a.appointment_id}"
    assert first[2] is True
    # no audit entry of the booking was written on its own (a PutItem outside the transaction)
    assert not [c for c in sent if c[0] == "PutItem" and "appointment.book" in str(c[1])]
    assert stored_entries(services, tenant, a.appointment_id).count(("appointment.book", "success")) == 1


def test_a_cancelled_booking_transaction_stores_no_entry(services, sched, setup, tenant, monkeypatch):
    book(services, sched, setup)
    sent = spy_writes(monkeypatch)
    with pytest.raises(SlotTaken):
        book(services, sched, setup, patient=1, start=datetime(2026, 3, 3, 15, 30, tzinfo=UTC))
    [refused] = [c for c in sent if c[0] == "TransactWriteItems"]
    assert refused[2] is False and len(audit_puts(refused, tenant)) == 1  # the entry rode in the losing write
    loser = refused[1]
    apt_pk = next(pk for action, pk, _ in loser if action == "Put" and "#APPT#" in pk)
    assert stored_entries(services, tenant, apt_pk.rsplit("#", 1)[1]) == []  # ... and went down with it


def test_cancel_and_check_in_write_change_and_entry_together(services, sched, setup, tenant, monkeypatch):
    from chalicelib.api.appointment_inputs import stated_location
    from chalicelib.schemas.appointments import CheckInIn

    a = book(services, sched, setup)
    b = book(services, sched, setup, clinician=1, patient=1, start=datetime(2026, 3, 3, 17, 0, tzinfo=UTC))
    sent = spy_writes(monkeypatch)
    services.booking.check_in(sched, a.appointment_id, stated_location(CheckInIn(patient_jurisdiction="US-NY")))
    services.booking.cancel(sched, b.appointment_id, "patient request")
    entries = {entry["doc"]["M"]["action"]["S"]: entry["doc"]["M"]["resource"]["S"]
               for c in sent if c[0] == "TransactWriteItems" and c[2] for entry in audit_puts(c, tenant)}
    assert entries["appointment.check_in"] == f"appointment/{a.appointment_id}"
    assert entries["appointment.cancel"] == f"appointment/{b.appointment_id}"
    assert not [c for c in sent if c[0] == "PutItem" and ("appointment.cancel" in str(c[1])
                                                          or "appointment.check_in" in str(c[1]))]
    assert stored_entries(services, tenant, b.appointment_id).count(("appointment.cancel", "success")) == 1


# --- directory records from this process's cache, proved fresh by the booking's own transaction ---------------
def test_a_clinician_changed_by_another_process_is_read_again_and_decided_again(services, sched, setup, tenant,
                                                                               monkeypatch):
    from chalicelib.adapters.dynamo.directory import DirectoryRepository
    from chalicelib.domain.errors import NotLicensed

    book(services, sched, setup)  # this process now holds the clinician in its cache
    elsewhere = DirectoryRepository()  # another Lambda: its write does not touch our cache
    doctor = elsewhere.get_clinician(tenant, setup["clinicians"][0].clinician_id)
    elsewhere.save_clinician(replace(doctor, licenses=()))
    sent = spy_writes(monkeypatch)
    with pytest.raises(NotLicensed):
        book(services, sched, setup, patient=1, start=datetime(2026, 3, 3, 17, 0, tzinfo=UTC))
    # the first write carried the cached version and was refused whole; the booking then read the clinician
    # again, and the licensure decision on the fresh record refused it (no second write was made)
    [stale] = [c for c in sent if c[0] == "TransactWriteItems"]
    assert stale[2] is False
    assert ("ConditionCheck", f"T#{tenant}#DIR") in [(action, pk) for action, pk, _ in stale[1]]
    appts, _ = items_of(tenant, setup)
    assert len(appts) == 1


def test_a_booking_on_a_stale_record_that_still_allows_it_commits_on_the_second_write(services, sched, setup,
                                                                                     tenant, monkeypatch):
    from chalicelib.adapters.dynamo.directory import DirectoryRepository

    book(services, sched, setup)
    elsewhere = DirectoryRepository()
    doctor = elsewhere.get_clinician(tenant, setup["clinicians"][0].clinician_id)
    elsewhere.save_clinician(replace(doctor, name="Dr. Renamed"))
    sent = spy_writes(monkeypatch)
    later = book(services, sched, setup, patient=1, start=datetime(2026, 3, 3, 17, 0, tzinfo=UTC))
    assert [c[2] for c in sent if c[0] == "TransactWriteItems"][:2] == [False, True]
    assert later.status is Status.BOOKED
    assert stored_entries(services, tenant, later.appointment_id).count(("appointment.book", "success")) == 1


# --- the whole booking: at most 3 DynamoDB calls in a warm process -----------------------------------------------
def _shape(pk, sk):
    """An item's key as its kinds only: T#t#PAT#id / PROFILE -> PAT/PROFILE, PAYER#p / CONFIG -> PAYER/CONFIG."""
    parts = pk.split("#")
    return f"{parts[2] if parts[0] == 'T' else parts[0]}/{sk.split('#')[0]}"


def spy_calls(monkeypatch):
    """Every DynamoDB call of both clients (boto3's and PynamoDB's), as 'Operation keys'."""
    from botocore.client import BaseClient

    ops = []
    call = BaseClient._make_api_call

    def counted(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            if operation == "BatchGetItem":
                [wanted] = params["RequestItems"].values()
                keys_ = sorted({_shape(k["pk"]["S"], k["sk"]["S"]) for k in wanted["Keys"]})
                ops.append(f"BatchGetItem {' '.join(keys_)}")
            elif operation == "Query":
                pk = next(v["S"] for v in params["ExpressionAttributeValues"].values() if v["S"].startswith("T#"))
                ops.append(f"Query {_shape(pk, '')}")
            elif "Key" in params:
                ops.append(f"{operation} {_shape(params['Key']['pk']['S'], params['Key']['sk']['S'])}")
            else:
                ops.append(operation)
        return call(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return ops


def _new_patient_elsewhere(services, sched, tenant):
    """A patient made by another process: this one has never read or written them."""
    from chalicelib.adapters.dynamo.directory import DirectoryRepository
    from chalicelib.services.directory import DirectoryService

    elsewhere = DirectoryService(DirectoryRepository(), services.audit, lambda prefix: f"{prefix}_elsewhere")
    return elsewhere.create_patient(sched, patient_draft(PatientIn.model_validate(patient_body("P new"))))


WED_15 = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("modality", ["video", "in_person"])
def test_a_warm_booking_is_one_read_of_the_patient_one_batched_read_and_its_one_write(services, sched, setup, tenant,
                                                                                      monkeypatch, modality):
    """In a process that has seen the clinician, the site and the payer: the patient afresh with their latest
    screening (routing's guard) in one Query, the eligibility cache entry (a fresh answer is the booking's
    answer) and, in person, the site's rooms in one BatchGetItem, then the TransactWriteItems. Nothing after
    it: the payer and the visit's followers run from the table stream."""
    book(services, sched, setup, modality=modality)  # warms the process: records, tenant settings, payer
    ops = spy_calls(monkeypatch)
    book(services, sched, setup, patient=1, start=datetime(2026, 3, 3, 17, 0, tzinfo=UTC), modality=modality)
    rooms = " SITE/WEEK" if modality == "in_person" else ""
    assert ops == ["Query PAT/", f"BatchGetItem ELIGCACHE/C{rooms}", "TransactWriteItems"], ops


@pytest.mark.parametrize("modality", ["video", "in_person"])
def test_a_patient_this_process_never_saw_costs_no_extra_call(services, sched, setup, tenant, monkeypatch, modality):
    book(services, sched, setup, modality=modality)
    newcomer = _new_patient_elsewhere(services, sched, tenant)
    ops = spy_calls(monkeypatch)
    booked = services.booking.book(sched, booking_request(BookingIn(
        patient_id=newcomer.patient_id, clinician_id=setup["clinicians"][0].clinician_id, service="90834",
        start=WED_15, modality=modality, site_id=setup["site"].site_id if modality == "in_person" else None,
        patient_jurisdiction="US-NY")))
    rooms = " SITE/WEEK" if modality == "in_person" else ""
    assert ops == ["Query PAT/", f"BatchGetItem ELIGCACHE/C{rooms}", "TransactWriteItems"], ops
    assert booked.patient_id == newcomer.patient_id and booked.eligibility_status == "pending"


def test_a_cold_process_reads_the_clinician_and_sites_and_the_payer_once_more(settings, clock, setup, sched, tenant,
                                                                              monkeypatch):
    """A process that has seen nothing (a new Lambda): on top of the warm booking's three calls, the directory
    records in one BatchGetItem; the tenant's settings and the payer's configuration ride in the booking's
    batched read (and are kept a minute in the process)."""
    from chalicelib import bootstrap

    cold = bootstrap.build(settings, clock)
    ops = spy_calls(monkeypatch)
    book(cold, sched, setup, modality="in_person")
    assert ops == ["Query PAT/", "BatchGetItem DIR/CLIN DIR/SITE",
                   "BatchGetItem DIR/SETTINGS ELIGCACHE/C PAYER/CONFIG SITE/WEEK", "TransactWriteItems"], ops


def test_settings_kept_past_their_minute_are_read_again_in_the_batch_not_on_their_own(services, sched, setup, clock,
                                                                                      monkeypatch):
    """A quiet process: the tenant's settings (the licensure decision's policy) expired from its cache."""
    book(services, sched, setup)
    clock.advance(minutes=2)
    ops = spy_calls(monkeypatch)
    book(services, sched, setup, patient=1, start=datetime(2026, 3, 3, 17, 0, tzinfo=UTC))
    assert ops == ["Query PAT/", "BatchGetItem DIR/SETTINGS ELIGCACHE/C", "TransactWriteItems"], ops


def test_a_fresh_cached_eligibility_answer_rides_in_the_batch_and_an_expired_one_does_not_count(services, tenant):
    """The cache entry read in the booking's batch answers as get_cached does (adapters/dynamo/payers.py)."""
    from chalicelib.adapters.dynamo.binding import connect
    from chalicelib.adapters.dynamo.keyed_reads import MainTableReads
    from chalicelib.adapters.dynamo.payers import EligibilityRepository
    from chalicelib.domain.eligibility import Owner
    from chalicelib.domain.keyed_reads import known

    repo, owner = EligibilityRepository(), Owner("tenant", tenant)
    repo.put_cached(owner, "acme", "d1", {"raw_271": "ISA*...", "source": "x12_http"}, NOW + timedelta(hours=1))
    repo.put_cached(owner, "acme", "d2", {"raw_271": "ISA*..."}, NOW - timedelta(seconds=1))
    reads = MainTableReads(connect(services.settings))
    hit, expired, missing, fixed = reads.read_all(repo.cached_read(owner, "acme", "d1", NOW),
                                                  repo.cached_read(owner, "acme", "d2", NOW),
                                                  repo.cached_read(owner, "acme", "d3", NOW), known(7))
    assert hit == repo.get_cached(owner, "acme", "d1", NOW) == {"raw_271": "ISA*...", "source": "x12_http"}
    assert (expired, missing, fixed) == (None, None, 7)


def test_a_payer_configuration_read_in_the_batch_is_kept_and_read_by_no_one_again(services, monkeypatch):
    from chalicelib.adapters.dynamo.binding import connect
    from chalicelib.adapters.dynamo.keyed_reads import MainTableReads
    from chalicelib.adapters.dynamo.payers import PayerRepository, Pseudonyms
    from chalicelib.domain.payer_policy import Connector, PayerConfig

    saved = PayerRepository(Pseudonyms("k")).put_config(PayerConfig("batchpay", "Batch Plan", Connector("roster")))
    repo, reads = PayerRepository(Pseudonyms("k")), MainTableReads(connect(services.settings))  # a new process
    first, unknown = repo.config_read("batchpay"), repo.config_read("nopayer")
    assert len(first.keys) == 1 and len(unknown.keys) == 1
    reads.read_all(first, unknown)
    ops = spy_calls(monkeypatch)
    assert repo.get_config("batchpay") == saved and repo.get_config("nopayer") is None
    assert repo.config_read("batchpay").keys == () and ops == []  # kept: no call, and no key in the next batch
