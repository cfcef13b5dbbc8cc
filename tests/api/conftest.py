from __future__ import annotations

import pytest

from tests.support import clinician_body, patient_body, site_body, weekday_rules


@pytest.fixture
def world(api, admin, scheduler):
    """A NY site with two rooms, a NY-licensed psychologist working there Mon-Fri 09-17, a NY patient."""
    site = admin.post("/v1/sites", site_body()).json
    clinician = admin.post("/v1/clinicians", clinician_body(site_ids=[site["site_id"]])).json
    r = admin.put(f"/v1/clinicians/{clinician['clinician_id']}/availability",
                  {"rules": weekday_rules(site_id=site["site_id"]), "buffer_minutes": 0})
    assert r.status == 200, r.json
    patient = scheduler.post("/v1/patients", patient_body()).json
    return {"site": site, "clinician": clinician, "patient": patient}
