"""The eligibility-pending job's role grants what the job does, measured on moto (tests/api/test_job_grants.py
for the other jobs): every call of a run that asks the payer again and lands the result is in its grant."""

from __future__ import annotations

import pytest

from tests.api.test_job_grants import run
from tests.eligibility.conftest import new_patient
from tests.eligibility.test_booking_eligibility import booking

pytestmark = pytest.mark.api


def test_eligibility_pending_stays_inside_its_grant(world, scheduler, x12_payer, sim, clock, drain_stream, settings):
    sim.knobs(http_status=503)
    r = scheduler.post("/v1/appointments", booking(world, new_patient(scheduler, x12_payer)))
    assert r.status == 201, r.json
    drain_stream()  # asked once after commit: the payer is down, the check stays pending
    sim.knobs(http_status=None)
    clock.advance(seconds=10)
    answer, denied = run("eligibility-pending", settings, drain_stream)
    assert answer == {"asked": 1, "settled": 1}
    assert denied == []
    assert scheduler.get(f"/v1/appointments/{r.json['appointment_id']}").json["eligibility"] == {"status": "verified"}
