"""Fixtures for the Chime SDK Meetings emulator and adapter tests: all traffic stays on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import boto3
import pytest
from botocore.config import Config

from local.chime_emulator import EmulatorServer, ManualClock, start_emulator

FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_session_token": "testing"}


@pytest.fixture(autouse=True)
def fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients built by the code under test find fake credentials and never a real profile."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> Iterator[EmulatorServer]:
    server, _ = start_emulator("127.0.0.1", 0, clock=clock)
    with server:
        yield server


ClientFactory = Callable[..., Any]


def chime_client(
    base_url: str, *, region: str = "us-east-1", validate: bool = True, read_timeout: float = 5.0, **config: Any
) -> Any:
    """botocore retries off: tests see each response, and the adapter does its own retrying."""
    settings = Config(
        retries={"total_max_attempts": 1},
        parameter_validation=validate,
        read_timeout=read_timeout,
        connect_timeout=2,
        **config,
    )
    return _session().client("chime-sdk-meetings", region_name=region, endpoint_url=base_url, config=settings)


@cache
def _session() -> boto3.Session:
    """One session for all tests: it caches the parsed service model (~0.1 s per client otherwise)."""
    return boto3.Session(**FAKE_CREDENTIALS)


@pytest.fixture
def client_for(emulator: EmulatorServer) -> ClientFactory:
    """boto3 clients for the emulator: client_for(region="us-west-2", base_url=other_server_url, ...)."""

    def make(*, base_url: str | None = None, **kwargs: Any) -> Any:
        return chime_client(base_url or emulator.base_url, **kwargs)

    return make


@pytest.fixture
def chime(client_for: ClientFactory) -> Any:
    return client_for()


@pytest.fixture
def raw_chime(client_for: ClientFactory) -> Any:
    """Sends invalid input unchecked, so the emulator's own model validation answers."""
    return client_for(validate=False)
