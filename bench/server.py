"""The local server (bench/local_server.py: `local.run.LocalStack` - locked moto + Chalice local, demo
tenant) in a subprocess.

A subprocess keeps moto's in-process mock of the benchmark away from the server, gives the server
its own interpreter (its own GIL) and lets the benchmark stop exactly the process it started.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import TracebackType

import requests

ROOT = Path(__file__).resolve().parent.parent


class LocalServer:
    def __init__(self, startup_timeout: float = 90.0, moto_as_is: bool = False) -> None:
        self.startup_timeout = startup_timeout
        self.moto_as_is = moto_as_is
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.line_count = 0
        self.problems: Counter[str] = Counter()
        self.problem_samples: list[str] = []

    def __enter__(self) -> LocalServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HCO_", "MOTO_"))}
        env.update({"PORT": "0", "PYTHONUNBUFFERED": "1"})
        command = [sys.executable, "-m", "bench.local_server", *(["--moto-as-is"] if self.moto_as_is else [])]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        found: queue.Queue[str] = queue.Queue()

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:  # keep draining so the server never blocks on a full pipe
                self.line_count += 1
                if _is_problem(line):
                    self.problems[_problem_key(line)] += 1
                    if len(self.problem_samples) < 20:
                        self.problem_samples.append(line.strip()[:400])
                if len(self.lines) < 200 or (_is_problem(line) and len(self.lines) < 2000):
                    self.lines.append(line.rstrip()[:500])
                match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
                if match:
                    found.put(match.group(1))

        threading.Thread(target=read, name="local-server-log", daemon=True).start()
        try:
            self.url = found.get(timeout=self.startup_timeout)
        except queue.Empty:
            self.stop()
            raise RuntimeError("local server did not start:\n" + "\n".join(self.lines[-40:])) from None
        deadline = time.monotonic() + 30
        while requests.get(f"{self.url}/v1/health", timeout=5).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("local server is not healthy")
            time.sleep(0.2)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def cpu_seconds(self) -> float | None:
        """User + system CPU time so far of the server process and its live children (the moto process of
        local/moto_server.py), from Linux /proc, or None."""
        if self.proc is None:
            return None
        try:
            return sum(_cpu_of(pid) for pid in (self.proc.pid, *_children(self.proc.pid)))
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # local.run stops moto and the API on SIGTERM
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def _is_problem(line: str) -> bool:
    return any(word in line for word in ('"level": "ERROR"', '"level":"ERROR"', "Traceback", "ERROR", "Error:"))


def _problem_key(line: str) -> str:
    """A short, PHI-free key: the structured log's message, or the exception line's type."""
    import json

    try:
        record = json.loads(line)
        return str(record.get("message", "?"))[:120]
    except ValueError:
        return line.strip().split(":", 1)[0][:120]


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found
