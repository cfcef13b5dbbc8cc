"""Shared fixtures: fake AWS credentials, moto in-process, the app's services on a fixed clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

# Before anything can build an AWS client: fake credentials, a region, no endpoint override.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "HCO_STAGE": "local",
})
for _var in ("HCO_DYNAMODB_ENDPOINT", "HCO_CHIME_ENDPOINT", "AWS_PROFILE"):
    os.environ.pop(_var, None)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# Monday 2 March 2026, 12:00 UTC: a week before the US DST change on 8 March.
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
def chime():
    """The local Chime SDK Meetings emulator on loopback, on a clock the tests move by hand."""
    from local.chime_emulator import ManualClock, start_emulator

    server, _url = start_emulator(clock=ManualClock(START))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def settings(chime):
    from chalicelib.settings import Settings

    return Settings.from_env({"HCO_STAGE": "local", "HCO_TABLE_PREFIX": "hco-test", "AWS_REGION": "us-east-1",
                              "HCO_CHIME_ENDPOINT": chime.base_url})


@pytest.fixture(scope="module")
def aws(settings) -> Iterator[None]:
    """One moto backend per test module; tests stay apart by using a tenant of their own. Not per session:
    moto's transact_write_items deep-copies every table for its rollback, so a backend holding the whole
    suite's data made each transaction copy gigabytes (workers were OOM-killed at 12-22 GB)."""
    from moto import mock_aws

    from chalicelib.adapters.dynamo.binding import create_tables
    from local.moto_patches import share_streams_in_transactions

    share_streams_in_transactions()
    with mock_aws():
        create_tables(settings)
        yield


@pytest.fixture(scope="module")
def stream_pump(aws, settings):
    """The main table's stream (moto) into the real Chalice handler, as Lambda's event source drives it."""
    from local.streams import table_pump

    return table_pump(settings.region, None, settings.main_table)


@pytest.fixture
def drain_stream(services, stream_pump):
    """Call to deliver every stream record written so far (e.g. to chain the audit log before verifying)."""
    return stream_pump.drain


@pytest.fixture
def tenant() -> str:
    import uuid

    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def services(aws, settings, clock):
    from chalicelib import bootstrap

    built = bootstrap.build(settings, clock)
    bootstrap.install(built)
    yield built
    bootstrap.install(None)


@pytest.fixture
def api(services, tenant):
    """The app through chalice.test.Client, on moto, as callers of this test's own tenant."""
    from chalice.test import Client

    from app import app
    from tests.support import Api

    with Client(app, stage_name="local") as client:
        yield Api(client, tenant)


@pytest.fixture
def admin(api):
    return api.as_role("admin")


@pytest.fixture
def scheduler(api):
    return api.as_role("scheduler")
