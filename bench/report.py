"""The figures by name (results.json "summary") and the readable bench/RESULTS.md."""

from __future__ import annotations

from typing import Any


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def summary(r: dict[str, Any]) -> dict[str, Any]:
    calls = _get(r, "inprocess", "calls") or {}
    scale = _get(r, "inprocess", "scale") or {}
    race = _get(r, "server", "race") or {}
    load = _get(r, "server", "load") or {}
    levels = load.get("levels") or {}
    out: dict[str, Any] = {
        "cold_start_import_ratio": _get(r, "cold_start", "cold_start_import_ratio"),
        "booking_dynamodb_calls": calls.get("booking_dynamodb_calls"),
        "booking_in_person_dynamodb_calls": calls.get("booking_in_person_dynamodb_calls"),
        "booking_http_with_idempotency_key_dynamodb_calls": calls.get(
            "booking_http_with_idempotency_key_dynamodb_calls"),
        "availability_week_queries_per_clinician": calls.get("availability_week_queries_per_clinician"),
        "booking_new_patient_dynamodb_calls": calls.get("booking_new_patient_dynamodb_calls"),
        "availability_week_one_clinician_warm_dynamodb_calls": calls.get(
            "availability_week_one_clinician_warm_dynamodb_calls"),
        "checkin_dynamodb_calls": calls.get("checkin_dynamodb_calls"),
        "cancel_dynamodb_calls": calls.get("cancel_dynamodb_calls"),
        "eligibility_cache_hit_dynamodb_calls": calls.get("eligibility_cache_hit_dynamodb_calls"),
        "availability_200_clinicians_p50_ms": scale.get("p50_ms"),
        "availability_200_clinicians_p95_ms": scale.get("p95_ms"),
        "availability_200_clinicians_dynamodb_calls_per_search": _get(scale, "dynamodb_calls_per_search", "total"),
        "availability_200_clinicians_dynamodb_calls": _get(scale, "dynamodb_calls_per_search", "total"),
        "availability_200_clinicians_items_read": scale.get("items_read_per_search"),
        "availability_200_clinicians_share_outside_dynamodb_calls": _get(
            scale, "time_shares", "outside_dynamodb_calls_our_code_pynamodb_pydantic"),
        "race_attempts": race.get("race_attempts"),
        "race_double_bookings": race.get("race_double_bookings"),
        "load_booking_64_clients_errors": _get(levels, "64", "booking", "errors"),
        "load_booking_64_over_1_throughput": _ratio(_get(levels, "64", "booking", "ok_rps"),
                                                    _get(levels, "1", "booking", "ok_rps")),
        "audit_entries_missing": _get(load, "audit", "audit_entries_missing"),
    }
    for clients, row in levels.items():
        for name in ("health", "search", "booking"):
            out[f"load_{clients}_clients_{name}_ok_rps"] = _get(row, name, "ok_rps")
            out[f"load_{clients}_clients_{name}_p50_ms"] = _get(row, name, "p50_ms")
        out[f"load_{clients}_clients_search_p50_over_health_p50"] = _get(row, "ratios", "search_p50_over_health_p50")
    return out


def _verification(value: Any) -> str:
    if not isinstance(value, dict) or not value:
        return "n/a"
    parts = []
    for tenant, v in value.items():
        if not isinstance(v, dict) or v.get("status") != 200:
            parts.append(f"{tenant}: not available ({v})")
        else:
            parts.append(f"{tenant}: ok={v.get('ok')}, entries {v.get('entries')}"
                         + (f", parked {v.get('parked')}" if v.get("parked") else "")
                         + (f", problem {v.get('problem')}" if v.get("problem") else ""))
    return "; ".join(parts)


def _ratio(a: Any, b: Any) -> float | None:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or not b:
        return None
    return round(a / b, 2)


def _calls(value: Any) -> str:
    if not isinstance(value, dict):
        return "n/a"
    if "status" in value:
        return f"*{value['status']}*"
    parts = [f"{k} {v}" for k, v in value.items() if k not in ("total", "clinicians", "outcome")]
    extra = f" ({value['outcome']})" if "outcome" in value else ""
    return f"**{value.get('total')}** = " + ", ".join(parts) + extra if parts else f"**{value.get('total')}**{extra}"


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.2f}{unit}" if value < 100 else f"{value:,.0f}{unit}"
    return f"{value}{unit}"


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value * 100:.0f} %"


def _errors(r: dict[str, Any]) -> list[str]:
    lines = []
    for path in (("cold_start",), ("inprocess",), ("server",), ("server", "race"), ("server", "load")):
        err = _get(r, *path, "error")
        if err:
            lines.append(f"- **{'.'.join(path)} failed**: `{err}` (traceback in results.json)")
    return lines


def markdown(r: dict[str, Any]) -> str:
    m = r.get("machine", {})
    s = r.get("summary", {})
    cs = r.get("cold_start", {})
    calls = _get(r, "inprocess", "calls") or {}
    scale = _get(r, "inprocess", "scale") or {}
    race = _get(r, "server", "race") or {}
    load = _get(r, "server", "load") or {}
    out: list[str] = []
    w = out.append

    w("# Benchmark results\n")
    w("Written by `python -m bench.run` (`make bench`); the numbers of this file are in `bench/results.json`. "
      "Ratios measured in one run are the figures to compare between runs; absolute times depend on the machine "
      "and on whatever else it was doing (see the load average).\n")
    w("## Machine\n")
    w("| | |\n|---|---|")
    w(f"| date | {m.get('date_utc')} |")
    code = m.get("code") or {}
    w(f"| code | HEAD `{code.get('head')}` ({code.get('subject')}), {code.get('files_differing_from_head')} files "
      "differing from HEAD in the working tree |")
    w(f"| CPU | {m.get('cpu_count')} x {m.get('cpu_model')} |")
    w(f"| memory | {m.get('memory_gib')} GiB |")
    w(f"| Python | {m.get('python')} ({m.get('implementation')}), {m.get('platform')} |")
    w(f"| load average (1/5/15 min) | start {m.get('load_average_at_start')}, end {m.get('load_average_at_end')} |")
    pk = m.get("packages", {})
    w(f"| packages | {', '.join(f'{k} {v}' for k, v in pk.items())} |")
    w(f"| whole run | {r.get('total_seconds')} s |\n")
    errs = _errors(r)
    if errs:
        w("## Failures\n")
        out.extend(errs)
        w("")

    w("## Figures\n")
    w("| figure | value | what it means |\n|---|---|---|")
    ratio = s.get("cold_start_import_ratio")
    w(f"| `cold_start_import_ratio` | **{_fmt(ratio)}** (target <= {cs.get('target', 1.6)}: "
      f"{'met' if cs.get('meets_target') else 'NOT met'}) | median time to `import app` with Lambda's environment "
      f"over the median of `import boto3` alone, {cs.get('samples_each')} fresh processes each, interleaved |")
    w(f"| `booking_dynamodb_calls` | {_calls(s.get('booking_dynamodb_calls'))} | one video booking through "
      "`BookingService.book`, in-process; the calls in order are in section 2 |")
    w(f"| `booking_in_person_dynamodb_calls` | {_calls(s.get('booking_in_person_dynamodb_calls'))} | the same "
      "in person (the site's rooms taken are read to pick a room; the room's blocks go on the site's busy-week item) |")
    w(f"| `booking_slot_taken_dynamodb_calls` | {_calls(calls.get('booking_slot_taken_dynamodb_calls'))} | a "
      "second booking of a taken slot: the cancelled transaction counts as one call |")
    w(f"| `booking_http_with_idempotency_key_dynamodb_calls` | "
      f"{_calls(s.get('booking_http_with_idempotency_key_dynamodb_calls'))} | the whole `POST /v1/appointments` "
      "with an `Idempotency-Key`: adds the rate-limit counter and Powertools' idempotency record (put, update) |")
    w(f"| `availability_week_queries_per_clinician` | {_calls(s.get('availability_week_queries_per_clinician'))} | "
      "one clinician, one week, with `patient_id`, the first search of the process (it reads the tenant's "
      "directory once, and the tenant settings) |")
    w(f"| `availability_week_one_clinician_warm_dynamodb_calls` | "
      f"{_calls(s.get('availability_week_one_clinician_warm_dynamodb_calls'))} | the same search again: the "
      "cached directory is proven current by its stamps inside the one batched read; the PutItem is the audit "
      "entry of reading the patient's record |")
    w(f"| same, without `patient_id` | {_calls(calls.get('availability_week_one_clinician_no_patient_id'))} | "
      "`patient_jurisdiction` instead of a patient |")
    allc = calls.get("availability_week_all_demo_clinicians") or {}
    w(f"| same, all {allc.get('clinicians', '?')} demo clinicians | {_calls(allc)} | every clinician's, site's "
      "and the patient's week items in the same batched read (100 keys a call) |")
    w(f"| `checkin_dynamodb_calls` | {_calls(s.get('checkin_dynamodb_calls'))} | check-in of the booked video "
      "visit (patient in NY) |")
    for key, what in (("booking_new_patient_dynamodb_calls", "a video booking of a patient this process has not "
                       "read before"),
                      ("booking_in_person_new_patient_dynamodb_calls", "the same in person")):
        if key in calls:
            w(f"| `{key}` | {_calls(calls.get(key))} | {what} |")
    w(f"| `cancel_dynamodb_calls` | {_calls(s.get('cancel_dynamodb_calls'))} | cancel of the in-person visit (its "
      "blocks are released on the busy-week items in the same transaction as the appointment and its audit "
      "entry) |")
    hit = s.get("eligibility_cache_hit_dynamodb_calls") or {}
    w(f"| `eligibility_cache_hit_dynamodb_calls` | {_calls(hit)} | "
      f"{hit.get('note') or 'the whole `POST /v1/eligibility/checks` answered from a fresh cache'} |")
    shares = scale.get("time_shares", {})
    w(f"| `availability_200_clinicians_p50_ms` | **{_fmt(s.get('availability_200_clinicians_p50_ms'), ' ms')}** | "
      f"one search over 200 clinicians x 14 days, in-process on moto (n = {scale.get('runs')}) |")
    w(f"| `availability_200_clinicians_p95_ms` | **{_fmt(s.get('availability_200_clinicians_p95_ms'), ' ms')}** | "
      "same; with this few samples p95 is close to the slowest run |")
    w(f"| `availability_200_clinicians_dynamodb_calls` | "
      f"{_calls(scale.get('dynamodb_calls_per_search'))} | DynamoDB calls of one 200-clinician search |")
    w(f"| `availability_200_clinicians_items_read` | **{_fmt(s.get('availability_200_clinicians_items_read'))}** | "
      "items DynamoDB read for one such search: `ScannedCount` of each Query/Scan (before any filter), items "
      "returned by GetItem/BatchGetItem, counted from the responses with the same botocore hooks |")
    w(f"| share of search time inside DynamoDB calls | {_pct(shares.get('inside_dynamodb_calls_total'))} "
      f"(moto {_pct(shares.get('moto_request_handling'))}, botocore client "
      f"{_pct(shares.get('botocore_client_serialize_and_parse'))}) | measured with the same botocore hooks |")
    w(f"| share outside DynamoDB calls | {_pct(shares.get('outside_dynamodb_calls_our_code_pynamodb_pydantic'))} | "
      "our code plus PynamoDB's item (de)serialization and pydantic: see the profile below |")
    w(f"| share in our own code (profile) | {_pct(_get(scale, 'profile', 'our_code_share'))} | chalicelib and "
      "the standard library it calls, from the stack samples of one search |")
    w(f"| `race_attempts` | **{_fmt(s.get('race_attempts'))}** | {race.get('race_rounds')} rounds of "
      f"{race.get('racers_per_round')} concurrent bookings of one slot, against the local server |")
    w(f"| `race_double_bookings` | **{_fmt(s.get('race_double_bookings'))}** | rounds with more than one 201, or "
      "more than one booked appointment stored at the slot (must be 0) |")
    audit = _get(load, "audit") or {}
    w(f"| `load_booking_64_clients_errors` | **{_fmt(s.get('load_booking_64_clients_errors'))}** | bookings at 64 "
      "concurrent clients in one tenant (distinct slots) answered with anything but 201 or 409, or not answered "
      "(refused, reset, timed out); the other levels are in section 5 |")
    w(f"| `load_booking_64_over_1_throughput` | **{_fmt(s.get('load_booking_64_over_1_throughput'))}** | booking "
      "ok/s at 64 clients over ok/s at 1 client (target >= 1) |")
    w(f"| `audit_entries_missing` | **{_fmt(s.get('audit_entries_missing'))}** | audited operations of the load "
      f"run without their entry in `GET /v1/audit` ({audit.get('operations_expected')} expected; "
      f"{audit.get('audit_entries_duplicated')} duplicated); chain verification: "
      f"{_verification(audit.get('chain_verification'))}{'; ' + audit['error'] if audit.get('error') else ''} |")
    w("")

    findings = _findings(r)
    if findings:
        w("## Findings of this run\n")
        out.extend(f"- {f}" for f in findings)
        w("")

    # --- cold start ---------------------------------------------------------------------------
    w("## 1. Cold start\n")
    if cs and "error" not in cs:
        w(f"`import app` median **{cs['import_app_ms']['median']} ms** (min {cs['import_app_ms']['min']}, "
          f"max {cs['import_app_ms']['max']}); `import boto3` median **{cs['import_boto3_ms']['median']} ms** "
          f"(min {cs['import_boto3_ms']['min']}, max {cs['import_boto3_ms']['max']}); "
          f"ratio **{cs['cold_start_import_ratio']}**. "
          "Each sample is a new interpreter timing only the import statement, with the Lambda variables of "
          "the `prod-us-east-1` stage (`AWS_LAMBDA_FUNCTION_NAME`, `AWS_EXECUTION_ENV`, `HCO_STAGE`, ...) and fake "
          "credentials. Byte code was already compiled (one discarded run each); a Lambda package without `.pyc` "
          "files would compile on its first cold start.\n")
        it = cs.get("importtime", {})
        w(f"What dominates (`python -X importtime -c \"import app\"`, {it.get('total_ms')} ms under the tracer; "
          "cumulative times nest, so shares overlap):\n")
        w("| ours | cumulative ms | share |\n|---|---|---|")
        for row in it.get("ours_top_cumulative", []):
            w(f"| `{row['module']}` | {row['cumulative_ms']} | {_pct(row['share'])} |")
        w("\nOur modules by self time (module-level work: mostly building pydantic models and dataclasses):\n")
        w("| ours | self ms | share |\n|---|---|---|")
        for row in it.get("ours_top_self", []):
            w(f"| `{row['module']}` | {row['self_ms']} | {_pct(row['share'])} |")
        w("\n| third party (first import) | via | cumulative ms | share |\n|---|---|---|---|")
        for row in it.get("third_party_top_cumulative", []):
            w(f"| `{row['package']}` | `{row['largest_entry']}` | {row['cumulative_ms']} | {_pct(row['share'])} |")
        w("\nSelf time by top-level package (exclusive, adds up):\n")
        w("| package | kind | self ms | share |\n|---|---|---|---|")
        for row in it.get("self_time_by_top_package", []):
            w(f"| `{row['package']}` | {row['kind']} | {row['self_ms']} | {_pct(row['share'])} |")
        w("")

    # --- call sequences -------------------------------------------------------------------------
    sequences = calls.get("sequences") or {}
    if sequences:
        w("## 2. The DynamoDB calls, in order\n")
        w("Key shapes only (`·` hides ids and dates). Counted in-process on moto with the app's services on a "
          "fixed clock (Monday 2 March 2026, 12:00 UTC), demo tenant; milliseconds are in-process on moto, first "
          "call of each kind (so they include warm-up) and only indicative.\n")
        for name, seq in sequences.items():
            ms = (calls.get("in_process_ms") or {}).get(name)
            w(f"**{name}** ({len(seq)} calls, {ms} ms):\n")
            for i, line in enumerate(seq, 1):
                w(f"{i}. `{line}`")
            w("")

    # --- availability at scale ----------------------------------------------------------------
    w("## 3. Availability search: 200 clinicians x 14 days\n")
    if scale:
        world = scale.get("world", {})
        w(f"World: {world.get('clinicians')} clinicians (psychologists licensed in NY and NJ; Tue/Thu in person at "
          f"one of {world.get('sites')} sites with 4 rooms, Mon/Wed/Fri telehealth; 8-hour days; buffers 0/10/15 "
          f"min), window {world.get('window')}, across the US DST change. {world.get('appointments')} background "
          f"visits ({world.get('in_person_appointments')} in person) fill "
          f"{_pct(world.get('booked_share_of_open_time'))} of the open time; they hold "
          f"{world.get('lock_items')} 15-minute blocks (clinician blocks with buffer, room blocks, the searching "
          f"patient's blocks) on {world.get('busy_week_items')} busy-week items, one per holder and UTC week, as a "
          "booking writes them; those items are all a search reads besides the directory (written by: "
          f"{world.get('lock_items_written_by')}). The search: service 90834, every modality, "
          f"one patient in NY, first page of 50. Seeded in {world.get('seed_seconds')} s.\n")
        w(f"Search latency: p50 **{scale.get('p50_ms')} ms**, p95 **{scale.get('p95_ms')} ms** "
          f"(min {scale.get('min_ms')}, max {scale.get('max_ms')}, n = {scale.get('runs')}: "
          f"{scale.get('samples_ms')}).\n")
        msp = scale.get("ms_per_search_p50", {})
        w("| where the time goes (per search, p50) | ms | share of all searches |\n|---|---|---|")
        w(f"| inside DynamoDB calls (botocore hooks) | {msp.get('inside_dynamodb_calls')} | "
          f"{_pct(shares.get('inside_dynamodb_calls_total'))} |")
        w(f"| ... of which moto handling the request (`before-send` to `before-parse`) | "
          f"{msp.get('moto_request_handling')} | {_pct(shares.get('moto_request_handling'))} |")
        w(f"| ... of which botocore serializing and parsing (stays in Lambda in production) | "
          f"{_fmt((msp.get('inside_dynamodb_calls') or 0) - (msp.get('moto_request_handling') or 0))} | "
          f"{_pct(shares.get('botocore_client_serialize_and_parse'))} |")
        w(f"| outside DynamoDB calls: our code, PynamoDB items, pydantic | {msp.get('outside_dynamodb_calls')} | "
          f"{_pct(shares.get('outside_dynamodb_calls_our_code_pynamodb_pydantic'))} |")
        w("")
        prof = scale.get("profile", {})
        if prof:
            w(f"Profile of one search, by {prof.get('method')}. Self time by package (and with the standard "
              "library's time charged to the package that called it):\n")
            charged = prof.get("self_time_share_by_package_stdlib_charged_to_caller", {})
            w("| package | self-time share | stdlib charged to caller |\n|---|---|---|")
            for pkg, share in list(prof.get("self_time_share_by_package", {}).items())[:14]:
                w(f"| {pkg} | {_pct(share)} | {_pct(charged.get(pkg)) if pkg in charged else ''} |")
            w("\nOur hottest functions by self time (time in the function's own lines):\n")
            counted = any("calls" in row for row in prof.get("our_top_functions_by_self_time", []))
            w("| function | self share | cumulative share |" + (" calls |\n|---|---|---|---|" if counted
                                                                  else "\n|---|---|---|"))
            for row in prof.get("our_top_functions_by_self_time", []):
                w(f"| `{row['function']}` | {_pct(row['self_share'])} | {_pct(row['cumulative_share'])} |"
                  + (f" {row.get('calls', '')} |" if counted else ""))
            if prof.get("our_top_functions_by_own_code_time"):
                w(f"\nOur own code is **{_pct(prof.get('our_code_share'))}** of the search's wall time. Where it "
                  "goes, by function, counting only time in our code (and the standard library it calls) "
                  "under that function, not the libraries or DynamoDB calls beneath it:\n")
                w("| function | own-code share | cumulative share |\n|---|---|---|")
                for row in prof["our_top_functions_by_own_code_time"]:
                    w(f"| `{row['function']}` | {_pct(row['own_code_share'])} | {_pct(row['cumulative_share'])} |")
            w("\nOur functions by cumulative time (including the libraries and DynamoDB calls beneath them):\n")
            w("| function | cumulative share | self share |\n|---|---|---|")
            for row in prof.get("our_top_functions_by_cumulative_time", []):
                w(f"| `{row['function']}` | {_pct(row['cumulative_share'])} | {_pct(row['self_share'])} |")
            w("")
        cmp_ = scale.get("one_query_with_and_without_moto_fixes", {})
        fixes = scale.get("moto_fixes", {})
        w(f"**moto fixes used for this section only** (bench/moto_query.py): moto 5 sorts every item of the table "
          f"on each Query and serializes responses attribute by attribute through a generic model walker. One "
          f"clinician's blocks ({cmp_.get('lock_items_returned')} items from a table of "
          f"{cmp_.get('table_items')} items) took **{cmp_.get('moto_as_is_ms')} ms** as moto does it and "
          f"{cmp_.get('with_bench_fixes_ms')} ms with the fixes; without them one search would take minutes. "
          f"Responses served by plain JSON: {_get(fixes, 'plain_json_responses', 'fast')}, of which "
          f"{_get(fixes, 'plain_json_responses', 'verified')} were checked equal to moto's own serialization "
          f"({_get(fixes, 'plain_json_responses', 'mismatched')} mismatched).\n")

    # --- race -----------------------------------------------------------------------------------
    w("## 4. Races on one slot (local server)\n")
    if race:
        w("| round | slot | racers | 201 | stored at slot | answers | seconds |\n|---|---|---|---|---|---|---|")
        for i, rnd in enumerate(race.get("rounds", []), 1):
            w(f"| {i} | {rnd['slot']} | {rnd['racers']} | {rnd['201']} | {rnd['stored_booked_at_slot']} | "
              f"{rnd['answers']} | {rnd['seconds']} |")
        w(f"\n`race_attempts` = {race.get('race_attempts')}, `race_double_bookings` = "
          f"**{race.get('race_double_bookings')}**. The local server serializes moto behind one lock "
          "(local/moto_server.py), so this shows the app turns a cancelled transaction into `409 SLOT_TAKEN` and "
          "stores nothing else; it cannot prove DynamoDB's atomicity, which is DynamoDB's guarantee.\n")

    # --- load -------------------------------------------------------------------------------------
    w("## 5. Load against the local server\n")
    if load:
        d = load.get("duration_seconds", {})
        w(f"A threaded client (stdlib `http.client`; {load.get('connections')}) on the same 2-core "
          f"machine as the server (client and server compete for the CPUs). Health and search cells ran for "
          f"{d.get('search')} s (health {d.get('health')} s) or until their request cap "
          f"{load.get('request_caps')}; booking cells send a fixed number of bookings "
          f"{load.get('booking_requests_per_level')} by clients, at most {load.get('booking_seconds_cap')} s. "
          f"Booking errors: {load.get('booking_errors_are')}. Server: {load.get('server_active_requests')}. Search: "
          f"`GET /v1/availability` of the README tour (demo tenant, every clinician, pat_ny, 7 days, 50 options). "
          f"Booking: {load.get('booking_request')}, each on its own free slot "
          f"({_get(load, 'booking_pool', 'slots')} prepared; "
          f"{_get(load, 'booking_pool', 'sampled_starts_offered_by_availability')}"
          f"/{_get(load, 'booking_pool', 'sampled_starts_checked')} sampled starts confirmed by the availability "
          "API). Throughput counts successful responses only (ok/s); statuses list everything (`0` = no answer "
          f"within the client's {load.get('request_timeout_seconds')} s timeout). Requests in flight at the end "
          "of a cell finish and count. Order: health at 1/8/32/64 clients (1 = the uncontended baseline), "
          "then search, then booking; before each cell the "
          "benchmark waits (up to 30 s) until the server is idle again.\n")
        w("| clients | route | ok/s | p50 ms | p95 ms | p99 ms | server CPU ms/request | requests | statuses | "
          "errors (no answer) |\n|---|---|---|---|---|---|---|---|---|---|")
        for clients, row in load.get("levels", {}).items():
            for name, label in (("health", "GET /v1/health"), ("search", "GET /v1/availability"),
                                ("booking", "POST /v1/appointments")):
                c = row.get(name, {})
                w(f"| {clients} | {label} | {c.get('ok_rps')} | {c.get('p50_ms')} | {c.get('p95_ms')} | "
                  f"{c.get('p99_ms')} | {c.get('server_cpu_ms_per_request')} | {c.get('requests')} | "
                  f"{c.get('statuses')} | {c.get('errors', 'n/a')} {c.get('no_answer') or ''} |")
        w("\n| clients | search p50 / health p50 | booking p50 / health p50 | search ok/s / health ok/s | "
          "booking ok/s / health ok/s |\n|---|---|---|---|---|")
        for clients, row in load.get("levels", {}).items():
            q = row.get("ratios", {})
            w(f"| {clients} | {q.get('search_p50_over_health_p50')} | {q.get('booking_p50_over_health_p50')} | "
              f"{q.get('search_ok_rps_over_health_ok_rps')} | {q.get('booking_ok_rps_over_health_ok_rps')} |")
        audit = load.get("audit") or {}
        if audit:
            w("\nAudit after the load run (`GET /v1/audit` of the pool tenant and of the demo tenant):\n")
            w("| action | expected | found |\n|---|---|---|")
            for action, row in (audit.get("by_action") or {}).items():
                w(f"| `{action}` | {row.get('expected')} | {row.get('found')} |")
            w(f"\nMissing **{audit.get('audit_entries_missing')}**, duplicated "
              f"{audit.get('audit_entries_duplicated')}; "
              f"chain verification (`GET /v1/audit/verify`): {_verification(audit.get('chain_verification'))}.")
        log = _get(r, "server", "server_log") or {}
        w(f"\nServer log: {log.get('lines')} lines; error records by message: {log.get('problems') or 'none'}.\n")
        w("How to read it: the local server is Chalice's development server (a thread per connection, a "
          "listen backlog of 512, a few requests admitted into the app at once) in one Python process with the "
          "Chime emulator and the payer simulator; moto runs in a second process (local/moto_server.py), so "
          "the app and DynamoDB's stand-in use the machine's two cores as Lambda and DynamoDB are apart. Every "
          "DynamoDB call of a request is an HTTP round trip to moto on loopback, served one at a time behind "
          "moto's lock (local/moto_transactions.py keeps a transaction's cost independent of the table's "
          "size). The CPU column counts both processes (from /proc). One client leaves one of them idle while "
          "the other works; from a few clients on both are busy, throughput is bounded by the CPU per request "
          "and latency is queueing: p50 grows with the number of clients while ok/s stays flat. The client "
          "runs on the same two cores. The health route is the framework's floor on the same server. For this "
          "section moto runs with the two fixes of bench/moto_query.py "
"(`python -m bench.local_server`; `--moto-as-is` turns them off).\n")

    # --- caveats ----------------------------------------------------------------------------------
    w("## What moto adds, and what it cannot show\n")
    w("- **DynamoDB's own latency is not here.** moto answers in-process (sections 2-3) or over loopback "
      "(4-5); real GetItem/Query/TransactWriteItems take single-digit milliseconds each over the network, "
      "so per-request latency in AWS is roughly (number of sequential calls) x (DynamoDB round trip) plus our "
      "CPU time. The call counts above are the portable figure.")
    w("- **moto's own CPU cost is counted as DynamoDB time** (`moto request handling`). moto is slow per item "
      "(deep copies, size checks, dict conversion); DynamoDB's service time costs our Lambda nothing but "
      "waiting. botocore's serializing and parsing does stay in our process in production.")
    w("- **Real atomicity is DynamoDB's guarantee.** A plain moto server can let two conflicting transactions "
      "through; the local server serializes moto behind one lock, so the race figures show our conditions "
      "and error mapping are right, not that DynamoDB is atomic.")
    w("- **Capacity is not measured**: moto reports no ConsumedCapacity for transactions. A search reads one "
      "busy-week item per clinician, site and week of the window (strongly consistent: one read unit per 4 KB "
      f"item), {_fmt(scale.get('items_read_per_search'))} items per 200-clinician search here.")
    w("- Throttling, partition limits, retries with back-off, transaction conflicts under real concurrency "
      "(`TransactionConflict`) and network tail latency do not exist on moto.")
    w("- Cold start here is import time only: Lambda adds its own init (download, runtime start) and runs the "
      "import on a fraction of a vCPU at 1024 MB; the ratio to `import boto3`, measured the same way, is the "
      "figure meant to carry over.\n")
    return "\n".join(out) + "\n"


def _findings(r: dict[str, Any]) -> list[str]:
    """A few sentences computed from this run's numbers (nothing here is written by hand)."""
    out = []
    cs = r.get("cold_start") or {}
    it = cs.get("importtime") or {}
    ours = [row for row in it.get("ours_top_cumulative", []) if row["module"] != "app"]
    if "cold_start_import_ratio" in cs:
        top = ", ".join(f"`{row['module']}` {_pct(row['share'])}" for row in ours[:3])
        third = ", ".join(f"`{row['package']}` {_pct(row['share'])}" for row in it.get("third_party_top_cumulative",
                                                                                         [])[:3])
        out.append(f"Cold start: `import app` is {cs['cold_start_import_ratio']:.2f} x `import boto3` "
                   f"(target {cs.get('target')}). Largest of ours (cumulative): {top}; third party: {third}.")
    scale = _get(r, "inprocess", "scale") or {}
    if "p50_ms" in scale:
        shares = scale.get("time_shares", {})
        world = scale.get("world", {})
        out.append(f"Availability over {world.get('clinicians')} clinicians x {world.get('days')} days: "
                   f"{_get(scale, 'dynamodb_calls_per_search', 'total')} DynamoDB calls (batched reads, "
                   f"concurrent) reading {scale.get('items_read_per_search')} items per search; "
                   f"p50 {scale['p50_ms'] / 1000:.1f} s on moto, of which "
                   f"{_pct(shares.get('inside_dynamodb_calls_total'))} inside the calls (moto "
                   f"{_pct(shares.get('moto_request_handling'))}, botocore "
                   f"{_pct(shares.get('botocore_client_serialize_and_parse'))}); our own code "
                   f"{_pct(_get(scale, 'profile', 'our_code_share'))}.")
    race = _get(r, "server", "race") or {}
    if "race_attempts" in race:
        out.append(f"Races: {race['race_attempts']} concurrent attempts in {race.get('race_rounds')} rounds, "
                   f"{race.get('rounds_with_exactly_one_winner')} rounds with exactly one winner, "
                   f"**{race.get('race_double_bookings')} double bookings**.")
    levels = _get(r, "server", "load", "levels") or {}
    if levels:
        booking = ", ".join(f"{c} clients {_get(row, 'booking', 'ok_rps')} ok/s "
                            f"({_get(row, 'booking', 'statuses')}, errors {_get(row, 'booking', 'errors')})"
                            for c, row in levels.items())
        out.append(f"Bookings under load (one tenant): {booking}.")
        problems = _get(r, "server", "server_log", "problems") or {}
        if problems:
            out.append(f"The server logged error records: {problems}.")
    return out
