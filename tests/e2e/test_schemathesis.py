"""Property-based fuzzing of every operation in GET /v1/openapi.json against the running local server.

Schemathesis generates requests from the document, both fitting it (positive) and breaking it
(negative); every answer must be a non-5xx, carry a status the document lists, and match that
status's content type and schema. Bounded and reproducible: a fixed number of examples per
operation and mode, derandomized Hypothesis, no example database.

Random ids, time zones and CPT codes almost never name a real object, so half of the positive cases
get real demo-tenant values (ids, a valid NPI, a zone, a service, a near-future time) swapped in:
those reach the booking, availability and lifecycle code instead of stopping at 400/404.

The operations are driven with `operation.as_strategy()` under a plain Hypothesis `@given`:
schemathesis's lazy pytest loader (`schemathesis.pytest.from_fixture`) sets `request.node._nodeid`,
which pytest 9.2 nodes no longer have.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.token import mint
from tests.support import clinician_body, patient_body

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION_AND_MODE = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ_PAYER = "fuzz_payer"
# Real values swapped into generated cases; the fuzzed objects (clinicians, patients, appointments) are
# made by the `world` fixture, so the seeded demo data that other tests rely on is never changed.
REAL = {
    "site_id": ["site_manhattan", "site_los_angeles"],
    "payer_id": [FUZZ_PAYER],
    "service": ["90834", "90837", "90791", "99214"],
    "timezone": ["America/New_York", "America/Los_Angeles", "America/Chicago"],
    "npi": ["1234567893", "1245319599", "1679576722"],
    "patient_jurisdiction": ["US-NY", "US-NJ", "US-CA", "US-PA"],
}

# Bodies and parameters that may otherwise not be decoded: X12 is text.
schemathesis.serializer.alias("application/edi-x12", "text/plain")


@pytest.fixture(scope="module")
def api_schema(local_server):
    schema = schemathesis.openapi.from_url(f"{local_server}/v1/openapi.json", timeout=30)
    schema.config.update(base_url=local_server)
    return schema


def fuzz_headers(label: str, world: dict[str, list[str]]) -> dict[str, str]:
    """A demo-tenant caller holding every role, so requests get past the matrix and reach the views; one
    caller per operation and mode, so the per-caller rate limits do not turn one operation's cases into 429s."""
    token = mint("admin", "demo", sub=f"schemathesis {label}", extra_claims={
        "cognito:groups": ["admin", "scheduler", "clinician", "patient", "payer"],
        "custom:clinician_id": world["clinician_id"][0], "custom:patient_id": world["patient_id"][0],
        "custom:payer_id": FUZZ_PAYER})
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def world(local_server) -> dict[str, list[str]]:
    """Two clinicians open around the clock for video and phone (one also in person in Manhattan), two
    patients, and a few booked appointments: objects of the fuzz run's own, for it to read and change."""
    headers = {"Authorization": f"Bearer {mint('admin', 'demo')}"}
    every_day = [{"weekday": d, "start": "00:00", "end": "24:00", "modalities": ["video", "phone"]} for d in range(7)]
    clinicians = []
    for npi, sites in (("1093718892", []), ("1184629396", ["site_manhattan"])):
        r = requests.post(f"{local_server}/v1/clinicians", headers=headers, timeout=60, json=clinician_body(
            "Fuzz Clinician", npi=npi, licenses=["US-NY", "US-NJ"], site_ids=sites))
        assert r.status_code == 201, r.text
        clinicians.append(r.json()["clinician_id"])
        rules = every_day if not sites else [{"weekday": d, "start": "00:00", "end": "24:00",
                                               "modalities": ["video", "phone", "in_person"],
                                               "site_id": sites[0]} for d in range(7)]
        r = requests.put(f"{local_server}/v1/clinicians/{clinicians[-1]}/availability", headers=headers, timeout=60,
                         json={"rules": rules, "buffer_minutes": 0})
        assert r.status_code == 200, r.text
    patients = []
    for home in ("US-NY", "US-NJ"):
        r = requests.post(f"{local_server}/v1/patients", headers=headers, timeout=60,
                          json=patient_body("Fuzz Patient", home=home))
        assert r.status_code == 201, r.text
        patients.append(r.json()["patient_id"])
    scheduler = {"Authorization": f"Bearer {mint('scheduler', 'demo')}"}
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=15, minute=0, second=0, microsecond=0)
    appointments = []
    for i, (clinician, patient, modality) in enumerate([(0, 0, "video"), (0, 1, "phone"), (1, 0, "in_person")]):
        r = requests.post(f"{local_server}/v1/appointments", headers=scheduler, timeout=60, json={
            "patient_id": patients[patient], "clinician_id": clinicians[clinician], "service": "90834",
            "start": (start + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%SZ"), "modality": modality,
            "site_id": "site_manhattan" if modality == "in_person" else None, "patient_jurisdiction": "US-NY"})
        assert r.status_code == 201, r.text
        appointments.append(r.json()["appointment_id"])
    return {"clinician_id": clinicians, "patient_id": patients, "appointment_id": appointments}


def _realistic(case: Any, rnd: random.Random, world: dict[str, list[str]]) -> Any:
    """Swap real values into a generated case: the same keys, still valid per the schema."""
    real = {**REAL, **world}
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    def moment(days: tuple[int, int]) -> str:
        at = now + timedelta(days=rnd.randint(*days), hours=rnd.randint(0, 23), minutes=15 * rnd.randint(0, 3))
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")

    def swap(container: Any) -> None:
        if isinstance(container, list):
            for item in container:
                swap(item)
            return
        if not isinstance(container, dict):
            return
        for key, value in list(container.items()):
            if key in real and isinstance(value, str) and rnd.random() < 0.8:
                container[key] = rnd.choice(real[key])
            elif key == "site_ids" and isinstance(value, list):
                container[key] = rnd.sample(real["site_id"], k=min(len(value), 2))
            elif key in ("start", "date_of_service", "from") and isinstance(value, str) and rnd.random() < 0.8:
                container[key] = moment((1, 10)) if key != "date_of_service" else moment((1, 10))[:10]
            else:
                swap(value)
        if isinstance(container.get("from"), str) and "to" in container:
            start = datetime.fromisoformat(container["from"].replace("Z", "+00:00"))
            container["to"] = (start + timedelta(days=rnd.randint(1, 7))).strftime("%Y-%m-%dT%H:%M:%SZ")

    swap(case.path_parameters)
    swap(case.query)
    swap(case.body)
    return case


def _strategy(operation: Any, mode: GenerationMode, world: dict[str, list[str]]) -> st.SearchStrategy:
    base = operation.as_strategy(generation_mode=mode)
    if mode is GenerationMode.NEGATIVE:
        return base
    enriched = st.tuples(base, st.randoms(use_true_random=False)).map(
        lambda pair: _realistic(pair[0], pair[1], world))
    return st.one_of(base, enriched)


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], world: dict[str, list[str]]) -> None:
    @given(case=_strategy(operation, mode, world))
    @settings(max_examples=EXAMPLES_PER_OPERATION_AND_MODE, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

    run()


def test_every_operation_answers_without_5xx_and_as_documented(api_schema, world):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, fuzz_headers(f"{operation.label} {mode.value}", world), world)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to break (no parameters)
            except (AssertionError, FailureGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
