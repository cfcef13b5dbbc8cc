"""A small threaded load client (stdlib http.client, a new connection per request).

Why not keep-alive: Chalice's development server writes a response's headers and body in separate
small sends, so on a kept-alive connection every response waits for the client's delayed ACK
(Nagle): ~40 ms per request on Linux whatever the route. A connection per request (as curl or the
README tour does) avoids that artefact; on loopback the connection itself costs well under 1 ms.

Each run: N clients start together, take work from one shared source until it runs dry, the time
is up or the request cap is reached, and record status and latency of every request they sent.
Requests in flight at the deadline finish and count. Throughput is completed requests divided by
the time from the start to the last completion.
"""

from __future__ import annotations

import http.client
import itertools
import json
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from chalicelib.schemas.common import valid_npi
from local.token import mint


@dataclass(frozen=True)
class Job:
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    status: int  # 0: no HTTP answer (see failure)
    seconds: float
    code: str | None
    failure: str | None = None  # refused, reset, timeout or other: why there was no answer
    created_id: str | None = None  # appointment_id of a 201


def failure_kind(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError since Python 3.10
        return "timeout"
    if isinstance(exc, ConnectionResetError | BrokenPipeError | http.client.RemoteDisconnected):
        return "reset"
    return "other"


def drive(url: str, jobs: Iterator[Job], clients: int, duration: float, max_requests: int,
          client_headers: Callable[[int], dict[str, str]] | None = None, timeout: float = 60.0,
          cpu_probe: Callable[[], float | None] | None = None, accepted: frozenset[int] = frozenset({200}),
          created: list[str] | None = None) -> dict[str, Any]:
    """`accepted`: the statuses that are answers as designed (anything else, no answer included, is an
    error); `created`: receives the appointment_id of every 201."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lock = threading.Lock()
    outcomes: list[Outcome] = []
    sent = itertools.count()
    start_gate = threading.Barrier(clients + 1)
    clock: dict[str, float] = {}

    def next_job() -> Job | None:
        with lock:
            if time.perf_counter() >= clock["deadline"] or next(sent) >= max_requests:
                return None
            return next(jobs, None)

    def client(index: int) -> None:
        own = {**(client_headers(index) if client_headers else {}), "Connection": "close"}
        start_gate.wait()
        while (job := next_job()) is not None:
            started = time.perf_counter()
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
            try:
                conn.request(job.method, job.path, body=job.body, headers={**job.headers, **own})
                response = conn.getresponse()
                payload = response.read()
                status = response.status
                failure = None
            except (OSError, http.client.HTTPException) as exc:  # refused, reset or timed out: status 0
                status, payload, failure = 0, b"", failure_kind(exc)
            finally:
                conn.close()
            elapsed = time.perf_counter() - started
            code = created = None
            if (status >= 400 or status == 201) and payload:
                try:
                    answer = json.loads(payload)
                    code, created = answer.get("code"), answer.get("appointment_id")
                except (ValueError, AttributeError):
                    pass
            with lock:
                outcomes.append(Outcome(status, elapsed, code, failure, created if status == 201 else None))
                clock["last"] = time.perf_counter()

    threads = [threading.Thread(target=client, args=(i,), name=f"load-{i}", daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    clock["deadline"] = float("inf")
    cpu_before = cpu_probe() if cpu_probe else None
    start_gate.wait()
    clock["start"] = time.perf_counter()
    clock["deadline"] = clock["start"] + duration
    for t in threads:
        t.join(timeout=duration + timeout + 30)
    result = summarize(outcomes, clock.get("last", clock["start"]) - clock["start"], accepted)
    if created is not None:
        created.extend(o.created_id for o in outcomes if o.created_id)
    cpu_after = cpu_probe() if cpu_probe else None
    if cpu_before is not None and cpu_after is not None and outcomes:
        result["server_cpu_ms_per_request"] = round((cpu_after - cpu_before) * 1000 / len(outcomes), 2)
    return result


def summarize(outcomes: list[Outcome], elapsed: float, accepted: frozenset[int] = frozenset({200})
              ) -> dict[str, Any]:
    latencies = sorted(o.seconds for o in outcomes)
    ok = [o for o in outcomes if 200 <= o.status < 300]
    statuses = Counter(str(o.status) if o.status < 400 or not o.code else f"{o.status} {o.code}" for o in outcomes)
    elapsed = max(elapsed, 1e-9)
    return {
        "requests": len(outcomes),
        "ok": len(ok),
        "statuses": dict(sorted(statuses.items())),
        "errors": sum(1 for o in outcomes if o.status not in accepted),
        "no_answer": dict(sorted(Counter(o.failure for o in outcomes if o.failure).items())),
        "seconds": round(elapsed, 2),
        "rps": round(len(outcomes) / elapsed, 1),
        "ok_rps": round(len(ok) / elapsed, 1),
        "p50_ms": _pct_ms(latencies, 50),
        "p95_ms": _pct_ms(latencies, 95),
        "p99_ms": _pct_ms(latencies, 99),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
    }


def _pct_ms(ordered: list[float], pct: float) -> float | None:
    if not ordered:
        return None
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return round((ordered[low] + (ordered[high] - ordered[low]) * (rank - low)) * 1000, 2)


# --- the workloads ---------------------------------------------------------------------------------
def health_jobs() -> Iterator[Job]:
    job = Job("GET", "/v1/health", None, {})
    while True:
        yield job


def search_jobs(now: datetime) -> tuple[Iterator[Job], dict[str, str]]:
    """The README tour's search: every demo clinician, one patient, 7 days, first 50 options.

    The token comes from the client (one scheduler per client: the API rate-limits per caller)."""
    start = (now + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    params = {"patient_id": "pat_ny", "service": "90834", "from": _z(start), "to": _z(start + timedelta(days=7)),
              "limit": "50"}
    job = Job("GET", "/v1/availability?" + urlencode(params), None, {})

    def forever() -> Iterator[Job]:
        while True:
            yield job

    return forever(), params


@dataclass
class BookingPool:
    tenant: str
    slots: list[tuple[str, str, str]]  # (clinician_id, patient_id, start)
    patients: list[str]
    checked: int
    confirmed: int
    setup_seconds: float

    def jobs(self) -> Iterator[Job]:
        for clinician_id, patient_id, start in self.slots:
            body = {"patient_id": patient_id, "clinician_id": clinician_id, "service": "90834", "start": start,
                    "modality": "video", "patient_jurisdiction": "US-NY"}
            yield Job("POST", "/v1/appointments", json.dumps(body).encode(),
                      {"Content-Type": "application/json", "Idempotency-Key": f"bench-{uuid.uuid4().hex}"})


def booking_pool(url: str, now: datetime, *, pairs: int = 16, days: int = 20) -> BookingPool:
    """A tenant of its own: `pairs` clinicians open 24/7 for video, each with one patient of their own.

    Clinician k's patient books only clinician k, at distinct whole hours: no two bookings of the
    pool can collide, so every non-201 is a failure worth reporting. The chosen starts of the first
    six hours of each clinician are checked against the availability API.
    """
    started = time.perf_counter()
    tenant = f"load{uuid.uuid4().hex[:6]}"
    admin = {"Authorization": f"Bearer {mint('admin', tenant)}"}
    scheduler = {"Authorization": f"Bearer {mint('scheduler', tenant)}"}
    session = requests.Session()
    rules = [{"weekday": d, "start": "00:00", "end": "24:00", "modalities": ["video", "phone"]} for d in range(7)]
    clinicians, patients = [], []
    npis = (n for n in (f"1{i:08d}{c}" for i in range(500_000, 600_000) for c in range(10)) if valid_npi(n))
    for k in range(pairs):
        r = session.post(f"{url}/v1/clinicians", headers=admin, timeout=30, json={
            "name": f"Load Clinician {k}", "npi": next(npis), "discipline": "psychologist",
            "timezone": "America/New_York", "modalities": ["video", "phone"], "languages": ["en"],
            "licenses": [{"jurisdiction": "US-NY", "type": "psychologist", "number": f"NY-L{k}",
                          "expires_on": "2030-12-31"}]})
        r.raise_for_status()
        clinician_id = r.json()["clinician_id"]
        r = session.put(f"{url}/v1/clinicians/{clinician_id}/availability", headers=admin, timeout=30,
                        json={"rules": rules, "buffer_minutes": 0})
        r.raise_for_status()
        r = session.post(f"{url}/v1/patients", headers=scheduler, timeout=30, json={
            "name": f"Load Patient {k}", "birth_date": "1990-01-01", "home_jurisdiction": "US-NY",
            "tech_access": {"video": True}})
        r.raise_for_status()
        clinicians.append(clinician_id)
        patients.append(r.json()["patient_id"])
    first = (now + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    hours = [first + timedelta(hours=h) for h in range(days * 24)]
    slots = [(clinicians[k], patients[k], _z(at)) for at in hours for k in range(pairs)]
    checked = confirmed = 0
    for k in range(pairs):
        r = session.get(f"{url}/v1/availability", headers=scheduler, timeout=60, params={
            "patient_id": patients[k], "clinician_id": clinicians[k], "service": "90834", "modality": "video",
            "from": _z(first), "to": _z(first + timedelta(hours=6)), "limit": 200})
        r.raise_for_status()
        offered = {item["start"] for item in r.json()["items"]}
        wanted = {_z(first + timedelta(hours=h)) for h in range(6)}
        checked += len(wanted)
        confirmed += len(wanted & offered)
    return BookingPool(tenant, slots, patients, checked, confirmed, time.perf_counter() - started)


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_until_idle(cpu_probe: Callable[[], float | None] | None, cap: float = 30.0,
                    window: float = 0.5, busy_share: float = 0.2) -> float:
    """Wait until the server uses < busy_share of a CPU over `window` (requests the client gave up on may
    still run there); at most `cap` seconds. Returns the seconds waited."""
    if cpu_probe is None:
        return 0.0
    started = time.perf_counter()
    while time.perf_counter() - started < cap:
        before = cpu_probe()
        time.sleep(window)
        after = cpu_probe()
        if before is None or after is None or after - before < busy_share * window:
            break
    return round(time.perf_counter() - started, 1)


def booking_count(clients: int) -> int:
    """Bookings per level: a fixed count (two per client, at least 16), not a duration, so that every
    level books whole rounds and the run stays bounded (224 bookings at 1/8/32/64 clients)."""
    return max(16, 2 * clients)


def run(url: str, progress: Callable[[str], None], *, levels: tuple[int, ...] = (1, 8, 32, 64),
        duration: float = 3.0, health_duration: float = 2.0, timeout: float = 29.0,
        booking_seconds_cap: float = 120.0,
        cpu_probe: Callable[[], float | None] | None = None) -> dict[str, Any]:
    """Health at every level, then search at every level, then booking at every level. One client is the
    uncontended baseline; 8, 32 and 64 are the load levels. Afterwards, the audit log of every PHI
    operation the load made (see audit_coverage).

    Bookings go last because requests the client abandons at its timeout keep running on the
    server; before each run the server is given time to become idle (reported as idle_wait_s)."""
    now = datetime.now(UTC)
    pool = booking_pool(url, now)
    progress(f"  booking pool: {len(pool.slots)} distinct free slots in tenant {pool.tenant}; "
             f"{pool.confirmed}/{pool.checked} sampled starts confirmed by the availability API "
             f"({pool.setup_seconds:.1f} s)")
    bookings = pool.jobs()
    searches, search_params = search_jobs(now)
    caps = {"health": 4000, "search": 1000, "booking": 400}
    plan = (("health", health_jobs(), health_duration, None, frozenset({200})),
            ("search", searches, duration, "demo", frozenset({200})),
            ("booking", bookings, booking_seconds_cap, pool.tenant, frozenset({201, 409})))
    table: dict[str, dict[str, Any]] = {str(c): {} for c in levels}
    booked: list[str] = []
    for name, jobs, seconds, tenant, accepted in plan:
        for clients in levels:
            idle_wait = wait_until_idle(cpu_probe)
            per_client = _scheduler_per_client(tenant, f"{name}{clients}")
            cap = booking_count(clients) if name == "booking" else caps[name]
            r = drive(url, jobs, clients, seconds, cap, per_client, timeout=timeout, cpu_probe=cpu_probe,
                      accepted=accepted, created=booked if name == "booking" else None)
            r["idle_wait_s"] = idle_wait
            table[str(clients)][name] = r
            progress(f"  {clients:>2} clients {name:<8} {r['ok_rps']:>6.1f} ok/s  p50 {r['p50_ms']} ms  "
                     f"p95 {r['p95_ms']} ms  p99 {r['p99_ms']} ms  server CPU {r.get('server_cpu_ms_per_request')}"
                     f" ms/req  {r['statuses']}  errors {r['errors']} {r['no_answer'] or ''} ({r['seconds']} s)")
    for row in table.values():
        health_p50 = row["health"]["p50_ms"] or float("nan")
        row["ratios"] = {
            "search_p50_over_health_p50": _ratio(row["search"]["p50_ms"], health_p50),
            "booking_p50_over_health_p50": _ratio(row["booking"]["p50_ms"], health_p50),
            "search_ok_rps_over_health_ok_rps": _ratio(row["search"]["ok_rps"], row["health"]["ok_rps"]),
            "booking_ok_rps_over_health_ok_rps": _ratio(row["booking"]["ok_rps"], row["health"]["ok_rps"]),
        }
    wait_until_idle(cpu_probe)
    try:
        audit = audit_coverage(url, now - timedelta(minutes=1), pool, booked,
                               searches_answered=sum(row["search"]["ok"] for row in table.values()),
                               searches_sent=sum(row["search"]["requests"] for row in table.values()))
        progress(f"  audit: {audit['audit_entries_missing']} entries missing, {audit['audit_entries_duplicated']} "
                 f"duplicated of {audit['operations_expected']} audited operations; chain: "
                 f"{ {t: v.get('ok') for t, v in audit['chain_verification'].items()} }")
    except (requests.RequestException, KeyError, ValueError) as exc:  # keep the load figures
        audit = {"audit_entries_missing": None, "error": f"the audit log could not be read: {type(exc).__name__}"}
        progress(f"  audit: {audit['error']}")
    low, high = str(min(levels)), str(max(levels))
    return {
        "levels": table,
        "booking_errors_by_level": {c: row["booking"]["errors"] for c, row in table.items()},
        "booking_max_clients_errors": table[high]["booking"]["errors"],
        "booking_max_over_min_clients_throughput": _ratio(table[high]["booking"]["ok_rps"],
                                                          table[low]["booking"]["ok_rps"]),
        "audit": audit,
        "duration_seconds": {"search": duration, "health": health_duration},
        "booking_requests_per_level": {str(c): booking_count(c) for c in levels},
        "booking_seconds_cap": booking_seconds_cap,
        "request_caps": caps,
        "search_query": search_params,
        "booking_pool": {"tenant": pool.tenant, "slots": len(pool.slots), "sampled_starts_checked": pool.checked,
                         "sampled_starts_offered_by_availability": pool.confirmed},
        "booking_request": "POST /v1/appointments, video, with a fresh Idempotency-Key (the production path); "
                           "all bookings in one tenant, each on a slot of its own",
        "booking_errors_are": "any answer other than 201 or 409, no answer (refused, reset, timeout) included",
        "callers": "one scheduler token per client (the API rate-limits per caller)",
        "request_timeout_seconds": timeout,
        "connections": "a new TCP connection per request (as curl or the README tour does)",
        "server_active_requests": _active_requests(),
    }


def audit_coverage(url: str, since: datetime, pool: BookingPool, booked: list[str], *,
                   searches_answered: int, searches_sent: int) -> dict[str, Any]:
    """Every PHI operation the load made against the audit log (`GET /v1/audit`, admin of each tenant).

    Expected, one entry each: in the pool tenant, `patient.create` of each pool patient,
    `availability.search` of each pool check (one per patient) and `appointment.book` of each 201;
    in the demo tenant, `availability.search` of pat_ny by each answered search of the load's own
    callers (their `sub` starts with `bench-search`): at least one per answered search, at most one per
    search sent (a search the client gave up on may still finish on the server, audited). Missing =
    expected entries not found; duplicated = entries beyond one per operation. An entry the API does
    not list (e.g. "parked" off the chain) counts as missing. Chain verification: `GET /v1/audit/verify`
    of both tenants, as the API reports it (if the route exists).
    """
    expected: Counter[tuple[str, str]] = Counter()
    for patient_id in pool.patients:
        expected[("patient.create", f"patient/{patient_id}")] += 1
        expected[("availability.search", f"patient/{patient_id}/availability")] += 1
    for appointment_id in booked:
        expected[("appointment.book", f"appointment/{appointment_id}")] += 1
    found = Counter((e["action"], e["resource"]) for e in _audit_entries(url, pool.tenant, since)
                    if (e["action"], e["resource"]) in expected)
    demo = [e for e in _audit_entries(url, "demo", since)
            if e["action"] == "availability.search" and str(e.get("actor", {}).get("sub", "")).startswith(
                "bench-search")]
    missing = sum(max(0, n - found[k]) for k, n in expected.items()) + max(0, searches_answered - len(demo))
    duplicated = sum(max(0, found[k] - n) for k, n in expected.items()) + max(0, len(demo) - searches_sent)
    return {
        "audit_entries_missing": missing,
        "audit_entries_duplicated": duplicated,
        "operations_expected": sum(expected.values()) + searches_answered,
        "by_action": {action: {"expected": sum(n for (a, _), n in expected.items() if a == action),
                               "found": sum(n for (a, _), n in found.items() if a == action)}
                      for action in sorted({a for a, _ in expected})} | {
            "availability.search (demo, load's searches)": {
                "expected": f"{searches_answered} answered .. {searches_sent} sent", "found": len(demo)}},
        "chain_verification": {"pool tenant": _verify(url, pool.tenant), "demo": _verify(url, "demo")},
    }


def _audit_entries(url: str, tenant: str, since: datetime) -> list[dict[str, Any]]:
    session = requests.Session()
    session.trust_env = False
    headers = {"Authorization": f"Bearer {mint('admin', tenant, sub='bench-audit')}"}
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):  # bounded: 200 000 entries
        params = {"from": _z(since), "limit": "200", **({"cursor": cursor} if cursor else {})}
        r = session.get(f"{url}/v1/audit", headers=headers, params=params, timeout=60)
        r.raise_for_status()
        page = r.json()
        entries += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return entries


def _verify(url: str, tenant: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {mint('admin', tenant, sub='bench-audit')}"}
    try:
        r = requests.get(f"{url}/v1/audit/verify", headers=headers, timeout=120)
    except requests.RequestException as exc:
        return {"error": type(exc).__name__}
    if r.status_code != 200:
        return {"status": r.status_code, "available": r.status_code != 404}
    body = r.json()
    return {"status": 200, **{k: v for k, v in body.items() if k != "checked_at"}}


def _active_requests() -> str:
    from local.run import ACTIVE_REQUESTS

    return (f"the local server runs at most {ACTIVE_REQUESTS} requests at once (local/run.py, "
            "HCO_LOCAL_ACTIVE_REQUESTS); the other connections are held open, waiting")


def _scheduler_per_client(tenant: str | None, run: str) -> Callable[[int], dict[str, str]] | None:
    if tenant is None:
        return None
    return lambda i: {"Authorization": f"Bearer {mint('scheduler', tenant, sub=f'bench-{run}-{i}')}"}


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or b != b:
        return None
    return round(a / b, 2)
