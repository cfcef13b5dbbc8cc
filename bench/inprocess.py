"""The in-process part: the app's services on moto (`mock_aws`) with a fixed clock, as tests/conftest.py does.

Two worlds share one moto backend, apart by tenant: the demo tenant (local/seed.py) for the
per-operation call counts, and a `scale` tenant of 200 clinicians with a realistic calendar for
the availability search at scale.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .dynamo_calls import DynamoCalls, install

# Monday 2 March 2026, 12:00 UTC, as the tests use: a week before the US DST change on 8 March.
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TABLE_PREFIX = "hco-bench"
SCALE_TENANT = "scale"
SCALE_CLINICIANS = 200
SCALE_SITES = 20
SCALE_DAYS = 14
SERVICE = "90834"  # psychotherapy, 45 minutes, 15-minute slot step

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "HCO_STAGE": "local",
}


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def moto_services() -> Iterator[Any]:
    """Fake credentials, moto in-process, tables, the app's services installed; all undone on exit."""
    saved = dict(os.environ)
    os.environ.update(FAKE_AWS)
    for var in ("HCO_DYNAMODB_ENDPOINT", "HCO_CHIME_ENDPOINT", "AWS_PROFILE"):
        os.environ.pop(var, None)
    install()  # before any botocore session exists, so every session gets the counting hooks
    from moto import mock_aws

    from chalicelib import bootstrap
    from chalicelib.adapters.dynamo.binding import create_tables
    from chalicelib.services.paging import CursorScope, cursor_scope
    from chalicelib.settings import Settings

    settings = Settings.from_env({"HCO_STAGE": "local", "HCO_TABLE_PREFIX": TABLE_PREFIX, "AWS_REGION": "us-east-1"})
    try:
        # Services seal list cursors inside a request's scope (api/routing.py opens one per request).
        with mock_aws(), cursor_scope(CursorScope("bench-cursor-key", int(NOW.timestamp()), 900)):
            create_tables(settings)
            services = bootstrap.build(settings, FixedClock(NOW))
            bootstrap.install(services)
            # Searches that fill their page seal a next-page cursor, which needs a request's scope.
            with cursor_scope(CursorScope("bench-cursor-key", int(NOW.timestamp()), 600)):
                yield services
    finally:
        bootstrap.install(None)
        os.environ.clear()
        os.environ.update(saved)


def _caller(tenant: str, role: str = "scheduler") -> Any:
    from chalicelib.domain.access import Caller

    return Caller(f"bench-{role}", tenant, frozenset({role}), request_id="bench")


# --- 2. DynamoDB calls per operation ---------------------------------------------------------------
@dataclass
class Counted:
    """Counts by operation and the call sequences (key shapes only), by figure name."""

    counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    sequences: dict[str, list[str]] = field(default_factory=dict)
    ms: dict[str, float] = field(default_factory=dict)

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        with DynamoCalls() as calls:
            started = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - started
        self.counts[name] = calls.counts()
        self.sequences[name] = calls.targets()
        self.ms[name] = _ms(elapsed)
        return result


def selfcheck_counter() -> dict[str, Any]:
    """The counter must see both kinds of client the app uses: a boto3 client and PynamoDB's own."""
    import boto3

    from chalicelib.adapters.dynamo.models import DocumentItem

    with DynamoCalls() as calls:
        boto3.client("dynamodb", region_name="us-east-1").describe_table(TableName=f"{TABLE_PREFIX}-main")
        DocumentItem.count("bench-selfcheck")  # a Query through PynamoDB's own botocore session
    seen = calls.counts()
    return {"boto3_client_seen": seen.get("DescribeTable", 0) == 1, "pynamodb_seen": seen.get("Query", 0) == 1,
            "counts": seen}


def operation_counts(services: Any) -> dict[str, Any]:
    """One booking, check-in, cancel and a one-clinician one-week search in the demo tenant."""
    from dataclasses import replace

    from chalicelib.api.appointment_inputs import booking_request, stated_location
    from chalicelib.domain.model import Interval
    from chalicelib.schemas.appointments import BookingIn, CheckInIn
    from chalicelib.services.availability import AvailabilitySearch
    from local.seed import seed_demo

    seed_demo()
    caller = _caller("demo")
    week = Interval(datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC))
    count = Counted()

    def search(**kw: Any) -> Any:
        return services.availability.search(caller, AvailabilitySearch(service=SERVICE, window=week, **kw))

    options, _ = count("availability_week_queries_per_clinician",
                       lambda: search(patient_id="pat_ny", clinician_id="clin_rivera", limit=200))
    # The same search again: a warm process proves its directory snapshot current inside the one batched read.
    count("availability_week_one_clinician_warm_dynamodb_calls",
          lambda: search(patient_id="pat_ny", clinician_id="clin_rivera", limit=200))
    count("availability_week_one_clinician_no_patient_id",
          lambda: search(patient_jurisdiction="US-NY", clinician_id="clin_rivera", limit=200))
    count("availability_week_all_demo_clinicians", lambda: search(patient_id="pat_ny", limit=200))
    count.counts["availability_week_all_demo_clinicians"]["clinicians"] = len(
        services.directory.repo.list_clinicians(caller.tenant_id))

    # Rivera: Mon/Wed/Fri 08:00-16:00 telehealth, Tue/Thu 09:00-17:00 at Manhattan (New York time).
    video = booking_request(BookingIn(patient_id="pat_ny", clinician_id="clin_rivera", service=SERVICE,
                                      start=datetime(2026, 3, 4, 14, 0, tzinfo=UTC), modality="video",
                                      patient_jurisdiction="US-NY"))
    in_person = booking_request(BookingIn(patient_id="pat_nj", clinician_id="clin_rivera", service=SERVICE,
                                          start=datetime(2026, 3, 3, 15, 0, tzinfo=UTC), modality="in_person",
                                          site_id="site_manhattan", patient_jurisdiction="US-NY"))
    booked = count("booking_dynamodb_calls", lambda: services.booking.book(caller, video))
    booked_ip = count("booking_in_person_dynamodb_calls", lambda: services.booking.book(caller, in_person))
    # A patient this process never read, in a process that has seen the clinician and the payer (issue 13 item 1).
    newcomer = replace(video, patient_id="pat_pa", start=datetime(2026, 3, 6, 17, 0, tzinfo=UTC))
    count("booking_new_patient_dynamodb_calls", lambda: services.booking.book(caller, newcomer))
    taken = count("booking_slot_taken_dynamodb_calls", lambda: _expect_error(
        lambda: services.booking.book(caller, replace(video, patient_id="pat_nj"))))
    count.counts["booking_slot_taken_dynamodb_calls"]["outcome"] = taken
    count("checkin_dynamodb_calls", lambda: services.booking.check_in(
        caller, booked.appointment_id, stated_location(CheckInIn(patient_jurisdiction="US-NY"))))
    count("cancel_dynamodb_calls", lambda: services.booking.cancel(caller, booked_ip.appointment_id, "bench"))
    count("booking_http_with_idempotency_key_dynamodb_calls", _http_booking)
    count("eligibility_cache_hit_dynamodb_calls", _http_eligibility_cache_hit)
    return {
        **count.counts,
        "week_search_options_found": len(options),
        "sequences": count.sequences,
        "in_process_ms": count.ms,
    }


def _expect_error(fn: Callable[[], Any]) -> str:
    from chalicelib.domain.errors import DomainError

    try:
        fn()
    except DomainError as exc:  # the expected SLOT_TAKEN
        return str(getattr(exc, "code", type(exc).__name__))
    raise AssertionError("the second booking of a taken slot succeeded")


def _http_booking() -> None:
    """A booking through the route (chalice.test.Client) with an Idempotency-Key: the whole request."""
    import json

    from chalice.test import Client

    from app import app
    from local.token import mint

    body = {"patient_id": "pat_ca", "clinician_id": "clin_rivera", "service": SERVICE,
            "start": "2026-03-06T15:00:00Z", "modality": "phone", "patient_jurisdiction": "US-NY"}
    headers = {"Authorization": f"Bearer {mint('scheduler', 'demo')}", "Content-Type": "application/json",
               "Idempotency-Key": "bench-http-1"}
    with Client(app, stage_name="local") as client:
        response = client.http.post("/v1/appointments", headers=headers, body=json.dumps(body))
    if response.status_code != 201:
        raise RuntimeError(f"HTTP booking failed: {response.status_code} {response.body[:300]!r}")


def _http_eligibility_cache_hit() -> None:
    """`POST /v1/eligibility/checks` answered from a fresh cache: the same check twice against the payer
    simulator (an x12_http payer; only answers that cost a call out are cached). Counted by the caller:
    the whole second request, which must say `cached` and must not reach the payer."""
    import json

    from chalice.test import Client

    from app import app
    from local.payer_sim import start_payer_sim
    from local.token import mint

    sim, sim_url = start_payer_sim()  # the demo roster
    payer_id = "pybenchcache"
    body = {"payer_id": payer_id, "provider_npi": "1234567893", "service": SERVICE, "modality": "video",
            "member": {"member_id": "HCO1000001", "first_name": "Alex", "last_name": "Rivera",
                       "birth_date": "1990-05-17"},
            "date_of_service": "2026-03-09", "patient_jurisdiction": "US-NY"}
    scheduler = {"Authorization": f"Bearer {mint('scheduler', 'demo')}", "Content-Type": "application/json"}
    try:
        with Client(app, stage_name="local") as client, _not_counted():
            r = client.http.put(f"/v1/payers/{payer_id}", body=json.dumps(
                {"name": "Bench Cache Plan", "connector": {"kind": "x12_http", "url": f"{sim_url}/x12"}}),
                headers={"Authorization": f"Bearer {mint('payer', 'demo', payer_id=payer_id)}",
                         "Content-Type": "application/json"})
            if r.status_code != 200:
                raise RuntimeError(f"payer setup failed: {r.status_code} {r.body[:300]!r}")
            first = client.http.post("/v1/eligibility/checks", headers=scheduler, body=json.dumps(body))
        with Client(app, stage_name="local") as client:
            asked = sim.simulator.received
            second = client.http.post("/v1/eligibility/checks", headers=scheduler, body=json.dumps(body))
    finally:
        sim.stop()
    answers = [json.loads(x.body) for x in (first, second)]
    if first.status_code != 200 or second.status_code != 200 or not answers[1].get("cached"):
        raise RuntimeError(f"no cache hit: {first.status_code} {second.status_code} "
                           f"cached={answers[1].get('cached')!r} status={answers[1].get('status')!r}")
    if sim.simulator.received != asked:
        raise RuntimeError("the cached check still asked the payer")


@contextmanager
def _not_counted() -> Iterator[None]:
    """Pause every active recorder (the first check of a cache-hit figure is set-up, not the figure)."""
    from . import dynamo_calls

    with dynamo_calls._lock:
        paused = list(dynamo_calls._active)
        dynamo_calls._active.clear()
    try:
        yield
    finally:
        with dynamo_calls._lock:
            dynamo_calls._active.extend(paused)


# --- 3. Availability across 200 clinicians x 14 days ------------------------------------------------
@dataclass
class ScaleWorld:
    window: Any
    patient_id: str
    clinicians: int
    sites: int
    appointments: int = 0
    lock_items: int = 0
    booked_share: float = 0.0
    seed_seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


def _npi(n: int) -> str:
    from chalicelib.schemas.common import valid_npi

    base = f"1{n:08d}"
    for check in range(10):
        if valid_npi(base + str(check)):
            return base + str(check)
    raise AssertionError("no NPI check digit")


def seed_scale(services: Any, rng: random.Random) -> ScaleWorld:
    """200 clinicians at 20 sites with weekly rules, and 30-50 % of their open time booked.

    Background bookings are written as the busy-week items a booking writes (clinician blocks incl.
    buffer, room blocks for in-person visits, patient blocks for the searching patient), straight
    into moto (see _store): availability search reads only those. Appointment items are not written.
    `lock_items` counts the held blocks (each was one lock item before the busy-week items).
    """
    from chalicelib.adapters.dynamo import keys
    from chalicelib.adapters.dynamo.directory import DirectoryRepository
    from chalicelib.domain.availability import rule_windows, rule_zone
    from chalicelib.domain.model import (
        Address,
        Availability,
        Clinician,
        Discipline,
        Interval,
        License,
        Modality,
        Patient,
        Site,
        WeeklyRule,
    )
    from chalicelib.domain.timeblocks import blocks_covering, ceil_block

    started = time.perf_counter()
    t = SCALE_TENANT
    repo = DirectoryRepository()
    window = Interval(datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC) + timedelta(days=SCALE_DAYS))
    later = date(2030, 12, 31)
    sites: dict[str, Site] = {}
    for s in range(SCALE_SITES):
        ny = s % 2 == 0
        site = Site(t, f"site_{s:02d}", f"Site {s}", "America/New_York", "US-NY" if ny else "US-NJ",
                    Address(f"{s} Main St", "New York" if ny else "Newark", "10001" if ny else "07102"),
                    tuple(f"room-{r}" for r in range(1, 5)))
        repo.add_site(site)
        sites[site.site_id] = site
    tele = frozenset({Modality.VIDEO, Modality.PHONE})
    every = frozenset(Modality)
    clinicians: list[Clinician] = []
    for i in range(SCALE_CLINICIANS):
        site_id = f"site_{i % SCALE_SITES:02d}"
        h = 8 + i % 3
        rules = tuple(WeeklyRule(d, _t(h), _t(h + 8), every, site_id) for d in (1, 3)) + tuple(
            WeeklyRule(d, _t(h), _t(h + 8), tele, None) for d in (0, 2, 4))
        clinician = Clinician(
            t, f"clin_{i:03d}", f"Clinician {i}", _npi(i), Discipline.PSYCHOLOGIST, "America/New_York",
            licenses=(License("US-NY", "psychologist", f"NY-{i}", later),
                      License("US-NJ", "psychologist", f"NJ-{i}", later)),
            modalities=every, site_ids=(site_id,), languages=("en",), payer_networks=("acme",),
            availability=Availability(rules=rules, buffer_minutes=(0, 10, 15)[i % 3]))
        repo.add_clinician(clinician)
        clinicians.append(clinician)
    patient_id = "pat_scale"
    repo.add_patient(Patient(t, patient_id, "Scale Patient", date(1990, 1, 1), "US-NY", "+1 212 555 0100",
                             None, "en", True, (), None))

    # The calendar: walk each open window; book a 45-minute visit (+ buffer) with the clinician's
    # probability, otherwise leave the hour free. Seeded beyond the window by a day on each side.
    seed_window = Interval(window.start - timedelta(days=1), window.end + timedelta(days=1))
    visit = timedelta(minutes=45)
    weeks: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    held_blocks = 0

    def take(pk: str, blocks: list[datetime], appointment_id: str, room: str | None = None) -> None:
        nonlocal held_blocks
        held_blocks += len(blocks)
        for b in blocks:
            weeks[(pk, keys.week_sk(keys.week_of(b)))][keys.block_attr(b, room)] = appointment_id
    rooms_used: dict[tuple[str, datetime], set[str]] = defaultdict(set)
    open_minutes = booked_minutes = appointments = in_person = 0
    patient_visits = 0
    patient_blocks: set[datetime] = set()
    for clinician in clinicians:
        p = rng.uniform(0.35, 0.55)  # visits of 45 min (+ buffer) vs. free hours: ~30-50 % of open time
        buffer = timedelta(minutes=clinician.availability.buffer_minutes)
        for rule in clinician.availability.rules:
            zone = rule_zone(rule, clinician, sites)
            for open_window in rule_windows(rule, zone, seed_window):
                open_minutes += int((open_window.end - open_window.start).total_seconds() // 60)
                cursor = open_window.start
                while cursor + visit <= open_window.end:
                    if rng.random() >= p:
                        cursor += timedelta(hours=1)
                        continue
                    appointment_id = f"apt_bench_{appointments:06d}"
                    appointments += 1
                    booked_minutes += 45
                    held = blocks_covering(cursor, cursor + visit + buffer)
                    take(keys.clinician_pk(t, clinician.clinician_id), held, appointment_id)
                    covered = blocks_covering(cursor, cursor + visit)
                    if rule.site_id and rng.random() < 0.5:
                        free = [r for r in sites[rule.site_id].rooms
                                if all(r not in rooms_used[(rule.site_id, b)] for b in covered)]
                        if free:
                            in_person += 1
                            for b in covered:
                                rooms_used[(rule.site_id, b)].add(free[0])
                            take(keys.site_pk(t, rule.site_id), covered, appointment_id, free[0])
                    if (patient_visits < 3 and clinician.clinician_id.endswith("7") and cursor > window.start
                            and not patient_blocks.intersection(covered)):
                        patient_visits += 1  # the searching patient has a few visits of their own
                        patient_blocks.update(covered)
                        take(keys.patient_pk(t, patient_id), covered, appointment_id)
                    cursor = ceil_block(cursor + visit + buffer)  # back onto the 15-minute grid
    how = _store([{"pk": {"S": pk}, "sk": {"S": sk}, "kind": {"S": "busy_week"},
                   **{name: {"S": holder} for name, holder in attrs.items()}} for (pk, sk), attrs in weeks.items()])
    return ScaleWorld(window=window, patient_id=patient_id, clinicians=len(clinicians), sites=len(sites),
                      appointments=appointments, lock_items=held_blocks,
                      booked_share=booked_minutes / open_minutes if open_minutes else 0.0,
                      seed_seconds=time.perf_counter() - started,
                      details={"in_person_appointments": in_person, "patient_visits": patient_visits,
                               "busy_week_items": len(weeks), "lock_items_written_by": how})


def _store(items: list[dict[str, Any]]) -> str:
    """Put the background busy-week items (raw DynamoDB JSON) into moto's backend directly (faster than
    BatchWriteItem through botocore, same stored items); BatchWriteItem if moto's internals are not as expected."""
    from chalicelib.adapters.dynamo.models import BusyWeekItem

    table = BusyWeekItem.Meta.table_name
    try:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ.get("AWS_REGION", "us-east-1")]
        for item in items:
            backend.put_item(table, item)
        return "moto backend put_item (seed only)"
    except (ImportError, AttributeError, KeyError, TypeError):
        client = BusyWeekItem._get_connection().connection.client
        for offset in range(0, len(items), 25):
            client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": i}}
                                                          for i in items[offset:offset + 25]]})
        return "BatchWriteItem"


def _t(hour: int) -> Any:
    from datetime import time as clock_time

    return clock_time(hour, 0)


def scale_search(services: Any, world: ScaleWorld, *, runs: int, budget_seconds: float,
                 progress: Callable[[str], None], cprofile: bool = False) -> dict[str, Any]:
    """p50/p95 of one search over all 200 clinicians, and where its time goes.

    Runs with the two benchmark-only moto fixes of bench/moto_query.py (partition lookup, plain
    JSON responses); the cost of one Query without them is measured once at the end.
    """
    from chalicelib.services.availability import AvailabilitySearch

    from .moto_query import partition_queries, plain_json_responses
    from .sampler import StackSampler

    caller = _caller(SCALE_TENANT)
    query = AvailabilitySearch(service=SERVICE, window=world.window, patient_id=world.patient_id, limit=50)

    def one() -> tuple[float, DynamoCalls, int]:
        with DynamoCalls() as calls:
            started = time.perf_counter()
            options, _ = services.availability.search(caller, query)
            elapsed = time.perf_counter() - started
        return elapsed, calls, len(options)

    reads = frozenset({"Query", "GetItem", "BatchGetItem"})  # busy-week items come by BatchGetItem
    with partition_queries(), plain_json_responses(reads, verify_first=10) as serializer:
        # Warm-up and the plain-JSON check against moto's serializer, on one-clinician searches; then the
        # profiled full search, which also warms what is left (caches of 200 clinicians).
        for clinician_id in ("clin_000", "clin_001", "clin_002"):
            services.availability.search(caller, replace(query, clinician_id=clinician_id))
        started = time.perf_counter()
        if cprofile:
            profile = _profile(lambda: services.availability.search(caller, query))
        else:
            with StackSampler() as sampler:
                services.availability.search(caller, query)
            profile = sampler.report(_package_of, lambda f: _package_of(f).startswith("ours"), _short)
        progress(f"    profiled search ({'cProfile' if cprofile else 'stack sampling'}): "
                 f"{time.perf_counter() - started:.1f} s")
        walls: list[float] = []
        inside: list[float] = []
        transport: list[float] = []
        counts: dict[str, int] = {}
        read: list[int] = []
        found = 0
        deadline = time.perf_counter() + budget_seconds
        while len(walls) < runs and (len(walls) < 3 or time.perf_counter() < deadline):
            elapsed, calls, found = one()
            walls.append(elapsed)
            inside.append(calls.wall_seconds)  # the batches run concurrently: wall time, not the calls' sum
            transport.append(calls.wall_transport_seconds)
            counts = calls.counts()
            read.append(calls.items_read)
            progress(f"    search {len(walls)}: {elapsed * 1000:.0f} ms, {calls.total} DynamoDB calls reading "
                     f"{calls.items_read} items, {calls.wall_seconds / elapsed:.0%} of the time inside them")
    comparison = _single_query_cost(services, world)
    total = sum(walls)
    in_calls = sum(inside)
    in_transport = sum(transport)
    return {
        "runs": len(walls),
        "p50_ms": _ms(statistics.median(walls)),
        "p95_ms": _ms(_percentile(walls, 95)),
        "min_ms": _ms(min(walls)),
        "max_ms": _ms(max(walls)),
        "samples_ms": [_ms(w) for w in walls],
        "dynamodb_calls_per_search": counts,
        "items_read_per_search": read[-1] if read else None,
        "items_read_per_search_all_runs": sorted(set(read)),
        "options_returned": found,
        "time_shares": {
            "moto_request_handling": round(in_transport / total, 3),
            "botocore_client_serialize_and_parse": round((in_calls - in_transport) / total, 3),
            "inside_dynamodb_calls_total": round(in_calls / total, 3),
            "outside_dynamodb_calls_our_code_pynamodb_pydantic": round(1 - in_calls / total, 3),
        },
        "ms_per_search_p50": {
            "inside_dynamodb_calls": _ms(statistics.median(inside)),
            "moto_request_handling": _ms(statistics.median(transport)),
            "outside_dynamodb_calls": _ms(statistics.median(w - i for w, i in zip(walls, inside, strict=True))),
        },
        "moto_fixes": {"plain_json_responses": dict(serializer), "partition_queries": True},
        "one_query_with_and_without_moto_fixes": comparison,
        "profile": profile,
    }


def _single_query_cost(services: Any, world: ScaleWorld) -> dict[str, Any]:
    """One clinician's blocks over the window: as moto 5 does it, and with the benchmark's fixes."""
    from .moto_query import partition_queries, plain_json_responses

    repo = services.booking.appointments

    def timed() -> tuple[float, int]:
        started = time.perf_counter()
        blocks = repo.clinician_blocks(SCALE_TENANT, "clin_000", world.window)
        return time.perf_counter() - started, len(blocks)

    plain, items = timed()
    with partition_queries(), plain_json_responses(frozenset({"Query", "GetItem", "BatchGetItem"})):
        fixed, _ = timed()
    return {"lock_items_returned": items, "moto_as_is_ms": _ms(plain), "with_bench_fixes_ms": _ms(fixed),
            "table_items": world.details.get("busy_week_items", 0) + world.clinicians + world.sites}


def _profile(fn: Callable[[], Any]) -> dict[str, Any]:
    """cProfile one search: self time by package, and our own hottest functions."""
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())  # tottime
    by_package: dict[str, float] = defaultdict(float)
    ours: list[dict[str, Any]] = []
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in raw.items():
        package = _package_of(filename)
        by_package[package] += tottime
        if package.startswith("ours"):
            ours.append({"function": f"{_short(filename)}:{line}({name})", "calls": ncalls,
                         "self_ms": _ms(tottime), "self_share": round(tottime / total, 3),
                         "cumulative_ms": _ms(cumtime), "cumulative_share": round(cumtime / total, 3)})
    top_self = sorted(ours, key=lambda r: r["self_ms"], reverse=True)[:12]
    top_cumulative = sorted(ours, key=lambda r: r["cumulative_ms"], reverse=True)[:12]
    return {
        "method": "cProfile (deterministic; its per-call overhead inflates call-heavy code)",
        "profiled_ms": _ms(total),
        "self_time_share_by_package": {k: round(v / total, 3)
                                       for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])},
        "our_top_functions_by_self_time": top_self,
        "our_top_functions_by_cumulative_time": top_cumulative,
        "note": "cProfile adds overhead to every Python call, so shares lean towards call-heavy code",
    }


_OURS = ("chalicelib/", "local/", "app.py")


def _package_of(filename: str) -> str:
    path = filename.replace("\\", "/")
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))).replace("\\", "/") + "/"
    if path.startswith(root):
        rest = path[len(root):]
        if rest.startswith("bench/"):
            return "bench (this harness)"
        if rest.startswith("chalicelib/"):
            return "ours: chalicelib." + rest.split("/")[1].removesuffix(".py")
        return "ours: " + rest.split("/")[0]
    if path == "~":
        return "builtins (C)"
    if path.startswith("<"):
        return "generated code (<string>: dataclass methods)"
    return "stdlib"


def _short(filename: str) -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    return filename[len(root):] if filename.startswith(root) else filename


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def run(progress: Callable[[str], None], *, search_runs: int = 10, search_budget_seconds: float = 60.0,
        seed: int = 7, cprofile: bool = False) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with moto_services() as services:
        results["counter_selfcheck"] = selfcheck_counter()
        progress(f"  counter self-check: {results['counter_selfcheck']}")
        counts = operation_counts(services)
        for name, value in counts.items():
            if name not in ("sequences", "in_process_ms"):  # long: they go to RESULTS.md
                progress(f"  {name}: {value}")
        results["calls"] = counts
        progress("  seeding 200 clinicians x 14 days ...")
        world = seed_scale(services, random.Random(seed))
        progress(f"    {world.appointments} appointments, {world.lock_items} lock items, "
                 f"{world.booked_share:.0%} of open time booked, seeded in {world.seed_seconds:.1f} s")
        scale = scale_search(services, world, runs=search_runs, budget_seconds=search_budget_seconds,
                             progress=progress, cprofile=cprofile)
        scale["world"] = {"clinicians": world.clinicians, "sites": world.sites, "days": SCALE_DAYS,
                          "window": [world.window.start.isoformat(), world.window.end.isoformat()],
                          "appointments": world.appointments, "lock_items": world.lock_items,
                          "booked_share_of_open_time": round(world.booked_share, 3), **world.details,
                          "seed_seconds": round(world.seed_seconds, 1)}
        results["scale"] = scale
    sys.stdout.flush()
    return results
