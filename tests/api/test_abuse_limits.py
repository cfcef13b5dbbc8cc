from __future__ import annotations

import pytest

from tests.support import Api

pytestmark = pytest.mark.api


@pytest.fixture
def tight_api(services, tenant):
    """The same app with a booking limit of 3 per minute per caller."""
    from dataclasses import replace

    from chalice.test import Client

    from app import app
    from chalicelib.adapters.dynamo.rate_limit import RateLimiter

    services.rate_limiter = RateLimiter(services.clock, {"booking": (3, 60), "availability": (2, 60)})
    services.settings = replace(services.settings, rate_limits={"booking": (3, 60)})
    with Client(app, stage_name="local") as client:
        yield Api(client, tenant)


def test_a_caller_over_the_booking_limit_gets_429_with_retry_after(tight_api, clock):
    scheduler = tight_api.as_role("scheduler")
    answers = [scheduler.post("/v1/appointments", {"patient_id": "nobody"}).status for _ in range(4)]
    assert answers[:3] == [400, 400, 400]  # counted even when the body is bad: abuse is abuse
    r = scheduler.post("/v1/appointments", {"patient_id": "nobody"})
    assert r.status == 429 and r.json["code"] == "RATE_LIMITED"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    other = tight_api.as_role("scheduler")  # another caller has a budget of its own
    assert other.post("/v1/appointments", {"patient_id": "nobody"}).status == 400
    clock.advance(seconds=61)  # the next window
    assert scheduler.post("/v1/appointments", {"patient_id": "nobody"}).status == 400


def test_an_oversized_body_is_413_not_a_crash(api):
    admin = api.as_role("admin")
    r = admin.post("/v1/sites", raw=b'{"name": "' + b"x" * 70_000 + b'"}')
    assert r.status == 413 and r.json["code"] == "PAYLOAD_TOO_LARGE"


def test_list_limits_are_bounded(api):
    scheduler = api.as_role("scheduler")
    r = scheduler.get("/v1/appointments?patient_id=p1&limit=5000")
    assert r.status == 400 and r.json["errors"][0]["field"] == "limit"
