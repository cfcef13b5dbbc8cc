"""The running local server, as `make run` starts it, in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_server_log() -> Path:
    """One log per xdist worker: each worker runs its own server, and tests read their own server's log."""
    return ROOT / f".pytest-local-server-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log"


_ENDPOINTS: dict[str, str] = {}


@pytest.fixture(scope="session")
def local_chime(local_server: str) -> str:
    """The Chime emulator of that server (its /_emulator routes connect attendees, as a client would)."""
    return _ENDPOINTS["chime"]


@pytest.fixture(scope="session")
def local_server() -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HCO_"))}
    chime_port = _free_port()
    env.update({"PORT": str(port), "PYTHONUNBUFFERED": "1", "CHIME_PORT": str(chime_port)})
    _ENDPOINTS["chime"] = f"http://127.0.0.1:{chime_port}"
    log = open(local_server_log(), "w")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen([sys.executable, "-m", "local.run"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # a loaded 2-core machine (parallel workers) can take over 90 s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"local server exited with {proc.returncode}; see {local_server_log().name}")
        try:
            if requests.get(f"{url}/v1/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("local server did not become healthy in 180 s")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        # Interpreter teardown alone takes ~2 s idle (botocore, moto); a loaded CI machine can take 10x that.
        proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        pass  # still stopping after that: kill it rather than fail the last test
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=15)
        log.close()
