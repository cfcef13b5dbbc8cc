"""Races on one slot against the running local server: exactly one booking may win each round.

Like `local.race`, but every racer is a different scheduler (a token of its own): the API limits
bookings per caller (HCO_RATE_LIMITS, booking=30/60 s by default), and with one shared token
racers beyond the limit would be stopped with 429 before they reach the booking transaction.
The same racing patients serve every round; each round races on another day.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from local.token import mint


def run(url: str, progress: Callable[[str], None], *, racers: int = 50, rounds: int = 5,
        clinician_id: str = "clin_smith", tenant: str = "demo") -> dict[str, Any]:
    setup = {"Authorization": f"Bearer {mint('scheduler', tenant, sub='bench-race-setup')}"}
    session = requests.Session()
    patients = []
    for i in range(racers):
        r = session.post(f"{url}/v1/patients", headers=setup, timeout=60, json={
            "name": f"Racer {i}", "birth_date": "1990-01-01", "home_jurisdiction": "US-NY",
            "tech_access": {"video": True}})
        r.raise_for_status()
        patients.append(r.json()["patient_id"])
    tokens = [mint("scheduler", tenant, sub=f"bench-racer-{i}") for i in range(racers)]
    per_round = []
    for n in range(rounds):
        slot = _first_free_slot(session, url, setup, clinician_id, days_ahead=3 + n)
        barrier = threading.Barrier(racers)

        def book(i: int, slot: dict[str, Any] = slot, barrier: threading.Barrier = barrier) -> tuple[int, str]:
            body = {"patient_id": patients[i], "clinician_id": clinician_id, "service": "90834",
                    "start": slot["start"], "modality": "video", "patient_jurisdiction": "US-NY"}
            barrier.wait(timeout=60)
            try:
                r = requests.post(f"{url}/v1/appointments", json=body, timeout=120,
                                  headers={"Authorization": f"Bearer {tokens[i]}"})
            except requests.RequestException as exc:
                return 0, type(exc).__name__
            if r.status_code == 201:
                return 201, "booked"
            try:
                return r.status_code, str(r.json().get("code", "?"))
            except ValueError:
                return r.status_code, "?"

        started = time.perf_counter()
        with ThreadPoolExecutor(racers) as pool:
            answers = list(pool.map(book, range(racers)))
        elapsed = time.perf_counter() - started
        wins = sum(1 for status, _ in answers if status == 201)
        stored = _stored_at(session, url, setup, clinician_id, slot["start"])
        tally = Counter(f"{status} {code}" for status, code in answers)
        per_round.append({"slot": slot["start"], "racers": racers, "201": wins, "answers": dict(sorted(tally.items())),
                          "stored_booked_at_slot": stored, "seconds": round(elapsed, 2)})
        progress(f"  round {n + 1}: {wins} x 201 of {racers}, {stored} stored at {slot['start']}, "
                 f"{elapsed:.1f} s {dict(tally)}")
    doubles = sum(1 for r in per_round if r["201"] > 1 or r["stored_booked_at_slot"] > 1)
    return {
        "race_attempts": sum(r["racers"] for r in per_round),
        "race_rounds": rounds,
        "racers_per_round": racers,
        "race_double_bookings": doubles,
        "rounds_with_exactly_one_winner": sum(
            1 for r in per_round if r["201"] == 1 and r["stored_booked_at_slot"] == 1),
        "attempts_that_reached_the_booking": sum(
            n for r in per_round for answer, n in r["answers"].items() if answer.split()[0] in ("201", "409")),
        "rounds": per_round,
    }


def _first_free_slot(session: requests.Session, url: str, headers: dict[str, str], clinician_id: str,
                     days_ahead: int) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=days_ahead)).replace(hour=0, minute=0, second=0, microsecond=0)
    for attempt in range(3):  # a 5xx here is reported (server log), but must not cost the race
        r = session.get(f"{url}/v1/availability", headers=headers, timeout=60, params={
            "patient_jurisdiction": "US-NY", "service": "90834", "clinician_id": clinician_id, "modality": "video",
            "from": _z(start), "to": _z(start + timedelta(days=14)), "limit": 1})
        if r.status_code < 500 or attempt == 2:
            break
        time.sleep(1)
    r.raise_for_status()
    items = r.json()["items"]
    if not items:
        raise RuntimeError(f"no free slot for {clinician_id} from {_z(start)}")
    return dict(items[0])


def _stored_at(session: requests.Session, url: str, headers: dict[str, str], clinician_id: str, start: str) -> int:
    """Independent of the answers: active appointments stored for the clinician at that start."""
    at = datetime.fromisoformat(start.replace("Z", "+00:00"))
    r = session.get(f"{url}/v1/appointments", headers=headers, timeout=60, params={
        "clinician_id": clinician_id, "from": start, "to": _z(at + timedelta(minutes=15)), "limit": 200})
    r.raise_for_status()
    return sum(1 for a in r.json()["items"] if a["start"] == start and a["status"] not in ("cancelled", "no_show"))


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
