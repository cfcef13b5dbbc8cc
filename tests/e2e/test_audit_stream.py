"""`make run` drives the table stream's consumer as Lambda does: an audited read made through the local
server shows at once, unchained, and the background pump (local/streams.py -> api/streams.py) chains it."""

from __future__ import annotations

import time

import pytest
import requests

from local.token import mint

pytestmark = pytest.mark.e2e


def test_the_local_server_chains_audit_entries_from_the_stream(local_server):
    admin = {"Authorization": f"Bearer {mint('admin', 'demo')}"}
    scheduler = {"Authorization": f"Bearer {mint('scheduler', 'demo')}"}
    assert requests.get(f"{local_server}/v1/patients/pat_ny", headers=scheduler, timeout=30).status_code == 200
    entries = requests.get(f"{local_server}/v1/audit?patient_id=pat_ny&limit=100", headers=admin, timeout=30).json()
    assert any(e["action"] == "patient.read" for e in entries["items"])
    # The consumer runs in the server's background like Lambda's poller: wait for it, with a deadline.
    deadline = time.monotonic() + 60
    while True:
        report = requests.get(f"{local_server}/v1/audit/verify", headers=admin, timeout=30).json()
        if report["waiting"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert report["ok"] is True and report["waiting"] == 0 and report["entries"] >= 2, (report, entries)
    chained = requests.get(f"{local_server}/v1/audit?patient_id=pat_ny&limit=100", headers=admin, timeout=30).json()
    assert all(e["chained"] and e["seq"] for e in chained["items"] if e["action"] == "patient.read")


def test_each_request_has_an_id_that_its_audit_entry_carries(local_server):
    """As API Gateway does: an id per request in the response header and in the event, so the audit entry of a
    read names the request a caller can quote. Two requests on one keep-alive connection get two ids."""
    admin = {"Authorization": f"Bearer {mint('admin', 'demo')}"}
    scheduler = {"Authorization": f"Bearer {mint('scheduler', 'demo')}"}
    with requests.Session() as session:
        first = session.get(f"{local_server}/v1/patients/pat_pa", headers=scheduler, timeout=30)
        second = session.get(f"{local_server}/v1/patients/pat_pa", headers=scheduler, timeout=30)
        refused = session.get(f"{local_server}/v1/no-such-route", headers=scheduler, timeout=30)
    ids = [r.headers.get("x-amzn-RequestId") for r in (first, second, refused)]
    assert first.status_code == second.status_code == 200 and refused.status_code == 404
    assert all(ids) and len(set(ids)) == 3, ids
    entries = requests.get(f"{local_server}/v1/audit?patient_id=pat_pa&limit=100", headers=admin, timeout=30).json()
    reads = {e["request_id"] for e in entries["items"] if e["action"] == "patient.read"}
    assert {ids[0], ids[1]} <= reads, (ids, reads)
