"""Fire N concurrent bookings of one free slot at a running local server and tally the answers.

python -m local.race --url http://127.0.0.1:8000 --racers 20
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests

from local.token import mint


@dataclass(frozen=True)
class RaceResult:
    slot: dict[str, str]
    answers: list[tuple[int, str]]  # (status, code or appointment_id)

    @property
    def tally(self) -> Counter[str]:
        return Counter(f"{status} {code if status != 201 else 'booked'}" for status, code in self.answers)


def race(url: str, racers: int = 20, clinician_id: str = "clin_smith", tenant: str = "demo",
         days_ahead: int = 3) -> RaceResult:
    headers = {"Authorization": f"Bearer {mint('scheduler', tenant)}"}
    patients = []
    for i in range(racers):
        r = requests.post(f"{url}/v1/patients", headers=headers, timeout=30,
                          json={"name": f"Racer {i}", "birth_date": "1990-01-01", "home_jurisdiction": "US-NY"})
        r.raise_for_status()
        patients.append(r.json()["patient_id"])
    start = datetime.now(UTC) + timedelta(days=days_ahead)
    search = requests.get(f"{url}/v1/availability", headers=headers, timeout=60, params={
        "patient_jurisdiction": "US-NY", "service": "90834", "clinician_id": clinician_id, "modality": "video",
        "from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": (start + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ"), "limit": 1})
    search.raise_for_status()
    slot = search.json()["items"][0]
    barrier = threading.Barrier(racers)

    def book(patient_id: str) -> tuple[int, str]:
        body = {"patient_id": patient_id, "clinician_id": clinician_id, "service": "90834", "start": slot["start"],
                "modality": "video", "site_id": None, "patient_jurisdiction": "US-NY"}
        barrier.wait()
        r = requests.post(f"{url}/v1/appointments", headers=headers, json=body, timeout=120)
        payload = r.json()
        return r.status_code, payload.get("appointment_id") if r.status_code == 201 else payload.get("code", "?")

    with ThreadPoolExecutor(racers) as pool:
        answers = list(pool.map(book, patients))
    return RaceResult(slot, answers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.race", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--racers", type=int, default=20)
    parser.add_argument("--clinician-id", default="clin_smith")
    args = parser.parse_args(argv)
    result = race(args.url, args.racers, args.clinician_id)
    print(json.dumps({"slot": result.slot["start"], "clinician_id": args.clinician_id,
                      "answers": dict(result.tally)}, indent=2))
    return 0 if sum(1 for s, _ in result.answers if s == 201) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
