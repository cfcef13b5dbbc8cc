"""Cold start: `import app` in fresh processes with Lambda's environment, against `import boto3` alone.

Each sample is a new interpreter that times only the import statement (interpreter start-up is
the same for both and is left out). The two kinds alternate, and which goes first alternates too,
so a busy moment of the machine hits both. One run of each is discarded first so that both find
their .pyc files written (Lambda would run from a fresh, read-only package: see RESULTS.md).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.6

_TIMED = ("import time, sys\n"
          "t = time.perf_counter()\n"
          "import {module}\n"
          "sys.stdout.write(repr(time.perf_counter() - t))\n")


def lambda_environment() -> dict[str, str]:
    """What Lambda sets for a Python 3.11 function of the prod-us-east-1 stage; fake credentials."""
    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")}
    return {
        **keep,
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "ASIAFAKEFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "fake-secret-for-benchmark-only",
        "AWS_SESSION_TOKEN": "fake-session-token",
        "AWS_LAMBDA_FUNCTION_NAME": "hybrid-care-orchestrator-prod-us-east-1",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/hybrid-care-orchestrator-prod-us-east-1",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/03/02/[$LATEST]0123456789abcdef",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "LAMBDA_TASK_ROOT": str(ROOT), "LAMBDA_RUNTIME_DIR": "/var/runtime", "TZ": ":UTC",
        "HCO_STAGE": "prod-us-east-1", "HCO_TABLE_PREFIX": "hco-prod",
        "HCO_JWT_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE",
        "HCO_JWT_AUDIENCE": "example-client-id",
        "HCO_COGNITO_JWKS_URL": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE/.well-known/jwks.json",
        "POWERTOOLS_SERVICE_NAME": "hybrid-care-orchestrator",
        "POWERTOOLS_METRICS_NAMESPACE": "HybridCareOrchestrator", "POWERTOOLS_LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }


def _time_import(module: str, env: dict[str, str]) -> float:
    done = subprocess.run([sys.executable, "-c", _TIMED.format(module=module)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"import {module} failed: {done.stderr[-2000:]}")
    return float(done.stdout.strip())


def measure(progress: Callable[[str], None], samples: int = 9) -> dict[str, Any]:
    env = lambda_environment()
    _time_import("app", env)
    _time_import("boto3", env)
    app_times: list[float] = []
    boto_times: list[float] = []
    for i in range(samples):
        order = ("app", "boto3") if i % 2 == 0 else ("boto3", "app")
        for module in order:
            (app_times if module == "app" else boto_times).append(_time_import(module, env))
    app_median = statistics.median(app_times)
    boto_median = statistics.median(boto_times)
    ratio = app_median / boto_median
    progress(f"  import app median {app_median * 1000:.0f} ms, import boto3 median {boto_median * 1000:.0f} ms "
             f"-> ratio {ratio:.2f} (target <= {TARGET})")
    breakdown = importtime(env)
    return {
        "cold_start_import_ratio": round(ratio, 3),
        "target": TARGET,
        "meets_target": ratio <= TARGET,
        "samples_each": samples,
        "import_app_ms": {"median": _ms(app_median), "min": _ms(min(app_times)), "max": _ms(max(app_times)),
                          "all": [_ms(t) for t in app_times]},
        "import_boto3_ms": {"median": _ms(boto_median), "min": _ms(min(boto_times)), "max": _ms(max(boto_times)),
                            "all": [_ms(t) for t in boto_times]},
        "importtime": breakdown,
    }


_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s+)(\S+)\s*$")


def importtime(env: dict[str, str]) -> dict[str, Any]:
    """`python -X importtime -c "import app"` once: what the app's import spends its time on."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    rows = []
    for line in done.stderr.splitlines():
        match = _LINE.match(line)
        if match:
            self_us, cumulative_us, indent, name = match.groups()
            rows.append((name, int(self_us), int(cumulative_us), (len(indent) - 1) // 2))
    total_us = next((c for n, _, c, _ in rows if n == "app"), sum(s for _, s, _, _ in rows))
    stdlib = set(sys.stdlib_module_names)

    def kind(name: str) -> str:
        top = name.split(".")[0]
        if top in ("app", "chalicelib", "local"):
            return "ours"
        return "stdlib" if top in stdlib or top.startswith("_") else "third_party"

    self_by_package: dict[str, int] = defaultdict(int)
    for name, self_us, _, _ in rows:
        self_by_package[name.split(".")[0]] += self_us
    ours = sorted((r for r in rows if kind(r[0]) == "ours"), key=lambda r: -r[2])[:10]
    ours_self = sorted((r for r in rows if kind(r[0]) == "ours"), key=lambda r: -r[1])[:10]
    # A third-party package's cost is its first (outermost) import: later lines are cache hits.
    first_seen: dict[str, tuple[str, int]] = {}
    for name, _, cumulative_us, _ in rows:
        top = name.split(".")[0]
        if kind(name) == "third_party" and (top not in first_seen or cumulative_us > first_seen[top][1]):
            first_seen[top] = (name, cumulative_us)
    third = sorted(first_seen.items(), key=lambda kv: -kv[1][1])[:10]
    return {
        "total_ms": round(total_us / 1000, 1),
        "note": "-X importtime itself slows imports; read the shares, not the absolute times",
        "ours_top_cumulative": [{"module": n, "cumulative_ms": round(c / 1000, 1),
                                 "share": round(c / total_us, 3)} for n, _, c, _ in ours],
        "ours_top_self": [{"module": n, "self_ms": round(s_ / 1000, 1), "share": round(s_ / total_us, 3)}
                          for n, s_, _, _ in ours_self],
        "third_party_top_cumulative": [{"package": top, "largest_entry": name, "cumulative_ms": round(c / 1000, 1),
                                        "share": round(c / total_us, 3)} for top, (name, c) in third],
        "self_time_by_top_package": [
            {"package": p, "self_ms": round(us / 1000, 1), "share": round(us / total_us, 3), "kind": kind(p)}
            for p, us in sorted(self_by_package.items(), key=lambda kv: -kv[1])[:15]],
    }


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
