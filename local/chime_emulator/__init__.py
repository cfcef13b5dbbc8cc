"""A local Amazon Chime SDK Meetings (``chime-sdk-meetings`` 2021-07-15) emulator.

moto has no Chime SDK Meetings, so the local runtime and tests use this: an HTTP server on
127.0.0.1 that boto3 reaches through ``endpoint_url``. Routing, validation and error shapes are
read from botocore's service model at runtime (see ``service_model``); meeting rules, auto-end
and idempotency live in ``backend``; admin routes for tests and ops in ``app``.

In-process::

    server, url = start_emulator(clock=ManualClock())
    client = boto3.client("chime-sdk-meetings", endpoint_url=url, region_name="us-east-1", ...)
    server.backend.inject_fault("CreateMeeting", "ThrottlingException", count=2)
    server.backend.clock.advance(301)      # nobody connected for > 5 min -> meeting ended
    server.stop()

From a shell: ``python -m local.chime_emulator --port 4010 [--manual-clock]``.
"""

from local.chime_emulator.app import ChimeEmulatorApp
from local.chime_emulator.backend import (
    DEFAULT_ACCOUNT_ID,
    MAX_MEETING_AGE,
    NO_PRESENCE_LIMIT,
    ChimeBackend,
    Clock,
    ManualClock,
    region_code,
    system_clock,
)
from local.chime_emulator.server import EmulatorServer, make_emulator_server, start_emulator
from local.chime_emulator.service_model import ChimeServiceError, ServiceSpec, load_spec

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "MAX_MEETING_AGE",
    "NO_PRESENCE_LIMIT",
    "ChimeBackend",
    "ChimeEmulatorApp",
    "ChimeServiceError",
    "Clock",
    "EmulatorServer",
    "ManualClock",
    "ServiceSpec",
    "load_spec",
    "make_emulator_server",
    "region_code",
    "start_emulator",
    "system_clock",
]
