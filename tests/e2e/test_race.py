"""20+ concurrent bookings of one slot against the running local server: exactly one wins."""

from __future__ import annotations

import pytest
import requests

from local.race import race
from local.token import mint

pytestmark = pytest.mark.e2e
RACERS = 24


def test_concurrent_bookings_of_one_slot_yield_one_201_and_the_rest_slot_taken(local_server):
    result = race(local_server, RACERS, clinician_id="clin_smith")

    statuses = sorted(status for status, _ in result.answers)
    assert statuses == [201] + [409] * (RACERS - 1), result.answers
    assert {code for status, code in result.answers if status == 409} == {"SLOT_TAKEN"}
    winner = next(code for status, code in result.answers if status == 201)

    headers = {"Authorization": f"Bearer {mint('scheduler', 'demo')}"}
    listed = requests.get(f"{local_server}/v1/appointments", headers=headers, timeout=10, params={
        "clinician_id": "clin_smith", "from": result.slot["start"], "to": result.slot["end"]}).json()["items"]
    assert [a["appointment_id"] for a in listed if a["status"] == "booked"] == [winner]
