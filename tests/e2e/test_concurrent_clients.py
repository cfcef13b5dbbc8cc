"""Issue 13 item 5 on the running local server: 64 clients at once are all answered, none refused."""

from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

import pytest

from local.token import mint

pytestmark = pytest.mark.e2e

CLIENTS = 64


def _request(url: str, path: str, headers: dict[str, str], connected: threading.Barrier,
             answers: list[tuple[str, int, object]], failures: list[str]) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.connect()
        connected.wait(timeout=60)  # every client holds an open connection before any sends
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        answers.append((path, response.status, json.loads(body)))
    except (OSError, http.client.HTTPException, threading.BrokenBarrierError, ValueError) as exc:
        failures.append(type(exc).__name__)
    finally:
        conn.close()


def test_64_concurrent_connections_are_all_answered_with_json(local_server):
    scheduler = {"Authorization": f"Bearer {mint('scheduler', 'demo')}"}
    # Cheap requests that are not audited (the audit chain's hot key is issue 13's other part): the
    # unauthenticated health check, a directory read through DynamoDB, and the server's own 404.
    plan = [("/v1/health", {}), ("/v1/clinicians/clin_hale", scheduler), ("/v1/no-such-route", scheduler)]
    connected = threading.Barrier(CLIENTS)
    answers: list[tuple[str, int, object]] = []
    failures: list[str] = []
    threads = [threading.Thread(target=_request, args=(local_server, *plan[i % len(plan)], connected, answers,
                                                       failures), daemon=True) for i in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert failures == [], f"{len(failures)} of {CLIENTS} clients got no HTTP answer: {sorted(set(failures))}"
    waited = time.monotonic() - started
    assert len(answers) == CLIENTS, f"{CLIENTS - len(answers)} clients still waiting after {waited:.0f} s"
    health = [(status, body) for path, status, body in answers if path == "/v1/health"]
    clinician = [(status, body) for path, status, body in answers if path.startswith("/v1/clinicians/")]
    missing = [(status, body) for path, status, body in answers if path == "/v1/no-such-route"]
    assert (len(health), len(clinician), len(missing)) == (22, 21, 21)
    assert all(status == 200 and isinstance(body, dict) for status, body in health)
    assert all(status == 200 and body["clinician_id"] == "clin_hale" for status, body in clinician)  # type: ignore[index]
    assert all(status == 404 and body["code"] == "NOT_FOUND" for status, body in missing)  # type: ignore[index]
