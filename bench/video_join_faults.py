"""`python -m bench.video_join_faults`: the worst join time with production Chime settings and injected faults.

Starts the local stack (moto, the Chime emulator, the API) in-process on loopback with the default video
settings (15 s join deadline, 1 s connect + 3 s read timeout, 4 attempts per call), books a video visit
at the next quarter-hour, and times the patient's join while the emulator misbehaves. Prints one line per
fault and the worst. About a minute.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import requests

from local.token import mint

FAULTS = {
    "every call hangs past the read timeout": {"operation": "*", "error": None, "delay_seconds": 5.0},
    "slow 503s with Retry-After 2": {"operation": "*", "error": "ServiceUnavailableException",
                                     "delay_seconds": 2.9, "retry_after": 2},
    "throttled, each answer after 2.5 s": {"operation": "*", "error": "ThrottlingException", "delay_seconds": 2.5},
}


def main() -> None:
    os.environ.setdefault("CHIME_PORT", "0")
    from local.run import LocalStack

    stack = LocalStack(port=0, quiet=True).start()
    try:
        api = stack.api_url
        t = datetime.now(UTC) + timedelta(seconds=5)
        floored = t.replace(minute=t.minute - t.minute % 15, second=0, microsecond=0)
        start = (floored if floored == t else floored + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
        scheduler = {"Authorization": f"Bearer {mint('scheduler', 'demo')}"}
        appointment = None
        for clinician in ("clin_hale", "clin_sato"):
            r = requests.post(f"{api}/v1/appointments", headers=scheduler, timeout=30, json={
                "patient_id": "pat_pa", "clinician_id": clinician, "service": "90832", "start": start,
                "modality": "video", "patient_jurisdiction": "US-PA"})
            if r.status_code == 201:
                appointment = r.json()["appointment_id"]
                break
        assert appointment, "no around-the-clock clinician could take the visit"
        patient = {"Authorization": f"Bearer {mint('patient', 'demo', patient_id='pat_pa')}"}
        body = {"patient_jurisdiction": "US-PA", "callback_phone": "+1 215 555 0101"}
        worst = 0.0
        for name, fault in FAULTS.items():
            backend = stack.chime.backend
            backend.clear_faults()
            backend.inject_fault(fault["operation"], fault["error"], count=1000,
                                 delay_seconds=fault["delay_seconds"], retry_after=fault.get("retry_after"))
            began = time.monotonic()
            r = requests.post(f"{api}/v1/appointments/{appointment}/video/join", headers=patient, json=body,
                              timeout=60)
            took = time.monotonic() - began
            worst = max(worst, took)
            print(f"{name:<42} {r.status_code} {r.json().get('code', '')} in {took:5.1f} s", flush=True)
        stack.chime.backend.clear_faults()
        print(f"worst join time with injected faults: {worst:.1f} s (API Gateway gives up at 29 s)")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
