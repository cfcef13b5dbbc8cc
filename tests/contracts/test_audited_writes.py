"""A visit's change and its audit entry are one write (AppointmentStore `audit=`), on the fake and on DynamoDB:
a committed write leaves exactly one entry, a refused one none."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.access import Caller
from chalicelib.domain.audit_entry import AuditEntry
from chalicelib.domain.errors import Conflict, PracticeDaysChanged, SlotTaken
from chalicelib.domain.model import Appointment, Interval, Status
from tests.contracts.conftest import T15, visit

# Entries are stamped by the suite's clock (conftest.START), the day before T15.
AROUND = Interval(T15 - timedelta(days=2), T15 + timedelta(days=1))


def _entries(audit_log, tenant: str) -> list[dict]:
    found, _ = audit_log.entries(tenant, AROUND, None, 100, None)
    return found


def _entry(tenant: str, action: str, appointment_id: str, patient_id: str = "pat_a") -> AuditEntry:
    return AuditEntry(Caller("sched-1", tenant, frozenset({"scheduler"}), request_id="req-1"), action,
                      f"appointment/{appointment_id}", patient_id)


def test_a_booking_writes_its_entry_with_it(appointments, audit_log, tenant):
    appointments.book(visit(tenant, "apt_1"), audit=_entry(tenant, "appointment.book", "apt_1"))
    [entry] = _entries(audit_log, tenant)
    assert (entry["action"], entry["resource"], entry["patient_id"], entry["outcome"]) == (
        "appointment.book", "appointment/apt_1", "pat_a", "success")
    assert entry["actor"] == {"sub": "sched-1", "role": "scheduler"} and entry["request_id"] == "req-1"


def test_a_booking_refused_for_a_taken_slot_leaves_no_entry(appointments, audit_log, tenant):
    appointments.book(visit(tenant, "apt_1"), audit=_entry(tenant, "appointment.book", "apt_1"))
    with pytest.raises(SlotTaken):
        appointments.book(visit(tenant, "apt_2", patient="pat_b"),
                          audit=_entry(tenant, "appointment.book", "apt_2", "pat_b"))
    assert [e["resource"] for e in _entries(audit_log, tenant)] == ["appointment/apt_1"]


def test_a_stale_version_leaves_no_entry_and_the_winner_exactly_one(appointments, audit_log, tenant):
    booked = appointments.book(visit(tenant, "apt_1"))
    assert _entries(audit_log, tenant) == []  # no entry was asked for: none is written
    appointments.update(booked, replace(booked, status=Status.CANCELLED), "tx_1", release_locks=True,
                        audit=_entry(tenant, "appointment.cancel", "apt_1"))
    with pytest.raises(Conflict):
        appointments.save(booked, replace(booked, cancel_reason="stale"), "tx_2",
                          audit=_entry(tenant, "appointment.check_in", "apt_1"))
    assert [e["action"] for e in _entries(audit_log, tenant)] == ["appointment.cancel"]


def test_a_reschedule_onto_a_taken_slot_leaves_no_entry(appointments, audit_log, tenant):
    booked = appointments.book(visit(tenant, "apt_1"))
    appointments.book(visit(tenant, "apt_2", start=T15 + timedelta(hours=2), patient="pat_b"))
    moved = replace(booked, start=T15 + timedelta(hours=2), end=T15 + timedelta(hours=2, minutes=45))
    with pytest.raises(SlotTaken):
        appointments.replace_visit(booked, moved, "tx_1", audit=_entry(tenant, "appointment.change", "apt_1"))
    assert _entries(audit_log, tenant) == []
    later = replace(booked, start=T15 + timedelta(hours=4), end=T15 + timedelta(hours=4, minutes=45))
    appointments.replace_visit(booked, later, "tx_2", audit=_entry(tenant, "appointment.change", "apt_1"))
    assert [e["action"] for e in _entries(audit_log, tenant)] == ["appointment.change"]


def test_a_booking_refused_by_the_practice_day_ledger_leaves_no_entry(appointments, audit_log, tenant):
    def tap(appointment_id: str, day: int, patient: str) -> Appointment:
        a = visit(tenant, appointment_id, start=T15 + timedelta(days=day), patient=patient)
        return replace(a, licensure=replace(a.licensure, temporary_practice="PSYPACT#TAP#US-NJ",
                                            temporary_practice_limit=1))

    appointments.book(tap("apt_1", 0, "pat_1"), audit=_entry(tenant, "appointment.book", "apt_1", "pat_1"))
    with pytest.raises(PracticeDaysChanged):
        appointments.book(tap("apt_2", 1, "pat_2"), audit=_entry(tenant, "appointment.book", "apt_2", "pat_2"))
    assert [e["resource"] for e in _entries(audit_log, tenant)] == ["appointment/apt_1"]
