"""`python -m bench.run` (`make bench`): every benchmark in one run; prints as it goes, then writes
bench/results.json and bench/RESULTS.md.

1. cold start: `import app` (Lambda environment) over `import boto3`, fresh processes, interleaved
2. DynamoDB calls per operation, counted with botocore event hooks (bench/dynamo_calls.py), moto in-process
3. availability search over 200 clinicians x 14 days, moto in-process: p50/p95, calls, time shares, cProfile
4. races: 50 concurrent bookings of one slot, 5 rounds, against the local server (a subprocess)
5. load: health / search / booking at 1 (baseline), 8, 32, 64 clients against the same server

Everything stays on 127.0.0.1; every loop is bounded by a count and a time. About 4-5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from . import report

HERE = Path(__file__).resolve().parent


def say(message: str) -> None:
    print(message, flush=True)


def machine() -> dict[str, Any]:
    model = ""
    memory_gib = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    versions = {}
    for dist in ("boto3", "botocore", "moto", "pynamodb", "chalice", "pydantic", "aws-lambda-powertools",
                 "requests"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "code": _git(),
        "cpu_count": os.cpu_count(), "cpu_model": model or platform.processor(), "memory_gib": memory_gib,
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "platform": platform.platform(), "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "load_average_at_start": _loadavg(), "packages": versions,
    }


def _git() -> dict[str, Any]:
    """Which code was measured: HEAD and how many files differ from it (read-only git commands)."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True, timeout=10,
                              check=False)
        return done.stdout.strip()

    try:
        changed = [line for line in git("status", "--porcelain").splitlines() if line.strip()]
        return {"head": git("rev-parse", "--short", "HEAD"), "subject": git("log", "-1", "--format=%s"),
                "files_differing_from_head": len(changed)}
    except (OSError, subprocess.SubprocessError):
        return {}


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def section(results: dict[str, Any], name: str, title: str, fn: Callable[[], dict[str, Any]]) -> None:
    say(f"\n== {title}")
    started = time.perf_counter()
    try:
        results[name] = fn()
    except Exception as exc:  # keep going: the other figures are still worth having
        results[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-4000:]}
        say(f"  FAILED: {type(exc).__name__}: {exc}")
    results.setdefault("section_seconds", {})[name] = round(time.perf_counter() - started, 1)
    say(f"  ({time.perf_counter() - started:.1f} s)")


def part(out: dict[str, Any], name: str, fn: Callable[[], dict[str, Any]]) -> None:
    """One figure's failure must not cost the others (the server stays up for the next part)."""
    try:
        out[name] = fn()
    except Exception as exc:
        out[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-4000:]}
        say(f"  FAILED: {type(exc).__name__}: {exc}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer samples and shorter load runs (a smoke run)")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.json and RESULTS.md go")
    parser.add_argument("--cprofile", action="store_true",
                        help="profile the 200-clinician search with cProfile (call counts; ~4x slower) "
                             "instead of stack sampling")
    parser.add_argument("--race-rounds", type=int, default=4, help="rounds of 50 concurrent bookings (default 4)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine()}
    m = results["machine"]
    say(f"{m['cpu_count']} x {m['cpu_model']}, {m['memory_gib']} GiB, Python {m['python']}, {m['date_utc']}, "
        f"load average {m['load_average_at_start']}")

    from . import cold_start

    section(results, "cold_start", "1. cold start (import app / import boto3, fresh processes)",
            lambda: cold_start.measure(say, samples=7))

    from . import inprocess

    section(results, "inprocess", "2-3. DynamoDB calls per operation; availability search at scale (moto in-process)",
            lambda: inprocess.run(say, search_runs=3 if args.quick else 10,
                                  search_budget_seconds=10 if args.quick else 30, cprofile=args.cprofile))

    from . import load, race_bench
    from .server import LocalServer

    def against_server() -> dict[str, Any]:
        out: dict[str, Any] = {}
        with LocalServer() as server:
            say(f"  local server (subprocess) on {server.url}")
            out["url"] = server.url
            say("\n== 4. races on one slot")
            part(out, "race", lambda: race_bench.run(server.url, say, racers=50,
                                                     rounds=2 if args.quick else args.race_rounds))
            say("\n== 5. load: health / search / booking")
            part(out, "load", lambda: load.run(server.url, say, duration=2.0 if args.quick else 3.0,
                                               health_duration=1.0 if args.quick else 2.0,
                                               timeout=29.0, cpu_probe=server.cpu_seconds))
            time.sleep(0.5)  # let the last log lines arrive
            out["server_log"] = {"lines": server.line_count, "problems": dict(server.problems.most_common(10))}
        return out

    section(results, "server", "4-5. against the running local server", against_server)

    results["machine"]["load_average_at_end"] = _loadavg()
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["summary"] = report.summary(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (args.out / "RESULTS.md").write_text(report.markdown(results))
    say("\n== summary")
    for name, value in results["summary"].items():
        say(f"  {name}: {json.dumps(value, default=str)}")
    say(f"\nwrote {args.out / 'results.json'} and {args.out / 'RESULTS.md'} in {results['total_seconds']:.0f} s")
    failed = [k for k in ("cold_start", "inprocess", "server") if "error" in results.get(k, {})]
    failed += [f"server.{k}" for k in ("race", "load") if "error" in (results.get("server") or {}).get(k, {})]
    doubles = results["summary"].get("race_double_bookings")
    if failed:
        say(f"sections failed: {failed}")
    if doubles:
        say(f"DOUBLE BOOKINGS: {doubles}")
    return 1 if failed or doubles else 0


if __name__ == "__main__":
    sys.exit(main())
