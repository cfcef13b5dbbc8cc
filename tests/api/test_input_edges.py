"""Well-formed but extreme input found by fuzzing: a 400 naming the field, never a 500."""

from __future__ import annotations

from datetime import date

import pytest

pytestmark = pytest.mark.api

# RFC 3339 date-times that parse, but have no UTC form (year 0) or overflow the scheduling arithmetic.
EXTREME = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "9999-12-30T10:00:00Z", "0042-03-28T10:00:00Z"]


@pytest.mark.parametrize("moment", EXTREME)
def test_extreme_date_times_are_400_on_every_route_that_takes_one(world, admin, scheduler, moment):
    patient, clinician = world["patient"]["patient_id"], world["clinician"]["clinician_id"]
    answers = {
        "from": scheduler.get(f"/v1/availability?service=90834&patient_id={patient}&from={moment}"
                              f"&to=2026-03-04T00:00:00Z".replace("+", "%2B")),
        "to": scheduler.get(f"/v1/appointments?patient_id={patient}&to={moment}".replace("+", "%2B")),
        "start": scheduler.post("/v1/appointments", {"patient_id": patient, "clinician_id": clinician,
                                                     "service": "90834", "start": moment, "modality": "video"}),
        "exceptions[0].start": admin.put(f"/v1/clinicians/{clinician}/availability", {
            "rules": [], "exceptions": [{"start": moment, "end": "2199-12-31T00:00:00Z", "available": False}]}),
    }
    for field, r in answers.items():
        assert r.status == 400, (field, r.status, r.json)
        assert r.json["code"] == "VALIDATION_ERROR"
        assert field in {e["field"] for e in r.json["errors"]}, (field, r.json["errors"])


def test_a_270_for_a_birth_date_before_year_1000_has_an_eight_digit_date():
    from chalicelib.x12.syntax import d8

    assert d8(date(42, 3, 28)) == "00420328"
    assert d8(date(1988, 5, 17)) == "19880517"
