"""`make run` = deployed: a booking answers eligibility pending at once, and the table stream's consumer (the
local pump into the real Chalice handler) asks the payer simulator and lands the result on the visit."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from local.token import mint

pytestmark = pytest.mark.e2e


def test_the_eligibility_result_arrives_after_the_booking(local_server):
    scheduler = {"Authorization": f"Bearer {mint('scheduler', 'demo')}"}
    start, end = datetime.now(UTC) + timedelta(days=2), datetime.now(UTC) + timedelta(days=9)
    window = f"from={start:%Y-%m-%dT00:00:00Z}&to={end:%Y-%m-%dT00:00:00Z}"
    slots = requests.get(f"{local_server}/v1/availability?patient_id=pat_nj&service=90834&modality=video"
                         f"&clinician_id=clin_rivera&{window}&limit=1", headers=scheduler, timeout=30).json()
    body = {"patient_id": "pat_nj", "clinician_id": "clin_rivera", "service": "90834",
            "start": slots["items"][0]["start"], "modality": "video", "patient_jurisdiction": "US-NJ"}
    booked = requests.post(f"{local_server}/v1/appointments", json=body, headers=scheduler, timeout=30)
    assert booked.status_code == 201, booked.text
    assert booked.json()["eligibility"] == {"status": "pending"}  # nobody asked the payer before the answer
    url = f"{local_server}/v1/appointments/{booked.json()['appointment_id']}"
    deadline = time.monotonic() + 60  # the background pump polls like Lambda: wait for it, with a deadline
    while True:
        visit = requests.get(url, headers=scheduler, timeout=30).json()
        if visit["eligibility"]["status"] != "pending" or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert visit["eligibility"] == {"status": "verified"}, visit["eligibility"]
    [event] = [e for e in visit["history"] if e["action"] == "eligibility_checked"]
    assert event["role"] == "system" and event["check_id"].startswith("elg_") and event["for_version"] == "1"
