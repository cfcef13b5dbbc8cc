"""`make run`: the embedded local stack on loopback, in the foreground.

moto (DynamoDB and the rest, behind one lock, in a child process) -> tables -> demo tenant -> the Chalice API on
http://127.0.0.1:$PORT. Ctrl-C (or SIGTERM) stops everything this started.

The Chime emulator's meeting events reach the same Chalice handler EventBridge invokes in AWS
(`chime_meeting_events`), so attendance shows up locally too.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# Requests that run the app at once (HCO_LOCAL_ACTIVE_REQUESTS); more connections wait their turn. 4 on
# a 2-core machine: 64 booking clients kept 1-client throughput (8.1-8.7 vs 6.2-7.7 ok/s) where an
# ungated server fell to 2.9-3.0 ok/s with timeouts (see _admit_at_most).
ACTIVE_REQUESTS = 4


def local_environment(dynamodb_endpoint: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {**config.get("environment_variables", {}), **config["stages"]["local"]["environment_variables"]}
    env.update({
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"), "HCO_DYNAMODB_ENDPOINT": dynamodb_endpoint,
        "HCO_SNS_ENDPOINT": dynamodb_endpoint,  # the moto server answers every service on one port
    })
    env.pop("AWS_SESSION_TOKEN", None)
    return env


class LocalStack:
    """Everything `make run` starts, so tests can start and stop the same thing."""

    def __init__(self, port: int = 8000, seed: bool = True, quiet: bool = False) -> None:
        self.port = port
        self.seed = seed
        self.quiet = quiet
        self._stops: list[Callable[[], None]] = []
        self.api_url = ""
        self.endpoints: dict[str, str] = {}

    def start(self) -> LocalStack:
        from local.moto_server import start_moto

        # moto runs in a process of its own (two cores, two GILs); HCO_LOCAL_MOTO_SETUP: bench/local_server.py
        moto, moto_url = start_moto(HOST, int(os.environ.get("MOTO_PORT", "0")),
                                    os.environ.get("HCO_LOCAL_MOTO_SETUP") or None)
        self._stops.append(moto.shutdown)
        self.endpoints["dynamodb"] = moto_url
        os.environ.update(local_environment(moto_url))
        self._start_emulators()
        server = self._bind_api()  # before the settings are read: the API's own URL is never a payer's

        from chalicelib import bootstrap
        from chalicelib.adapters.dynamo.binding import create_tables
        from chalicelib.settings import Settings

        settings = Settings.from_env()
        create_tables(settings)
        bootstrap.install(None)
        if self.seed:
            from local.seed import seed_demo
            from local.seed_payers import seed_payers

            bootstrap.get_services()  # binds the models to the moto endpoint
            seed_demo()
            seed_payers()  # acme: x12_http to the payer simulator, roster members = the demo coverages
        self._serve_api(server)
        self._deliver_meeting_events()
        from local.background import start_background

        stop = threading.Event()
        self._stops.append(stop.set)
        start_background(moto_url, settings.region, stop, say=(lambda _: None) if self.quiet else _say)
        return self

    def _start_emulators(self) -> None:
        """What moto lacks: Chime SDK Meetings, and a payer clearinghouse that answers 270s."""
        from local.chime_emulator import start_emulator
        from local.payer_sim import start_payer_sim

        chime, chime_url = start_emulator(HOST, int(os.environ.get("CHIME_PORT", "0")))
        self._stops.append(chime.stop)
        self.chime = chime
        payer, payer_url = start_payer_sim(HOST, int(os.environ.get("PAYER_SIM_PORT", "0")))
        self._stops.append(payer.stop)
        self.endpoints.update({"chime": chime_url, "payer-sim": payer_url})
        os.environ.update({"HCO_CHIME_ENDPOINT": chime_url, "HCO_PAYER_SIM_URL": payer_url})

    def _bind_api(self) -> Any:
        from chalice.config import Config
        from chalice.local import create_local_server

        from app import app
        from local.http_errors import problem_handler

        config = Config(chalice_stage="local",
                        config_from_disk=json.loads((ROOT / ".chalice" / "config.json").read_text()))
        server = create_local_server(app, config, HOST, self.port)
        # Unknown routes, unsupported methods and the dev server's own errors answer problem+json.
        server.server.RequestHandlerClass = problem_handler(server.server.RequestHandlerClass, quiet=self.quiet)
        # http.server listens with a backlog of 5: a burst of concurrent clients would be reset.
        server.server.socket.listen(512)
        _hold_many_clients(server.server)
        self.port = server.server.server_address[1]
        self.api_url = f"http://{HOST}:{self.port}"
        os.environ["HCO_API_URL"] = self.api_url
        return server

    def _serve_api(self, server: Any) -> None:
        thread = threading.Thread(target=server.serve_forever, name="api", daemon=True)
        thread.start()
        self._stops.append(server.server.shutdown)

    def _deliver_meeting_events(self) -> None:
        """EventBridge's part: each emulator event to the app's on_cw_event handler. Delivered as the emulator
        lets go of its lock, so the admin call that connected an attendee returns once attendance shows it."""
        from app import app

        handler = app.handler_map["chime_meeting_events"]

        def deliver(event: dict[str, Any]) -> None:
            try:
                handler(event, None)
            except Exception as exc:  # a lost event must not break the emulator (EventBridge would retry)
                print(f"meeting event not delivered: {exc!r}", file=sys.stderr)

        self.chime.backend.subscribe(deliver)

    def stop(self) -> None:
        while self._stops:
            try:
                self._stops.pop()()
            except Exception as exc:  # keep stopping the rest
                print(f"stop failed: {exc!r}", file=sys.stderr)


def _hold_many_clients(httpd: Any) -> None:
    """Chalice's dev server already runs a thread per connection; two things it lacks under load.

    It sends a response's headers and body in two small writes, so on a kept-alive connection the
    body waits for the client's delayed ACK (Nagle): ~40 ms per request. TCP_NODELAY sends at once.
    A client that gave up (its timeout) before the answer left a BrokenPipeError traceback per
    request in the log: one line says it without the request (its path may carry ids).
    """
    handler = getattr(httpd.RequestHandlerClass, "func", httpd.RequestHandlerClass)
    handler.disable_nagle_algorithm = True
    _admit_at_most(handler, int(os.environ.get("HCO_LOCAL_ACTIVE_REQUESTS", str(ACTIVE_REQUESTS))))
    default = httpd.handle_error

    def handle_error(request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            print("client closed the connection before the answer", file=sys.stderr, flush=True)
            return
        default(request, client_address)

    httpd.handle_error = handle_error


def _admit_at_most(handler: type, active: int) -> None:
    """At most `active` requests run the app at once; the other connections wait, accepted, without work.

    Every request's thread shares one GIL with the others (moto has its own process), and each
    DynamoDB call is a loopback round trip to moto, which serves one call at a time: dozens of runnable
    request threads would only queue on the GIL and on moto. Admitting a few at a time keeps the
    server's throughput at many clients at least what it is at one (as Lambda gives each request its
    own sandbox). 0 admits every request at once. The price: at most this many requests reach DynamoDB
    together, so contention on one item (the audit chain head) shows less here than in AWS.
    """
    if active <= 0:
        return
    gate = threading.BoundedSemaphore(active)
    run = handler._generic_handle  # type: ignore[attr-defined]

    def admitted(self: Any) -> None:
        with gate:
            run(self)

    for method in ("GET", "PUT", "POST", "HEAD", "DELETE", "PATCH", "OPTIONS"):
        setattr(handler, f"do_{method}", admitted)


def _say(line: str) -> None:
    print(line, flush=True)


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    os.environ.setdefault("CHIME_PORT", "4010")  # a fixed port the README tour can reach (_emulator routes)
    stack = LocalStack(port=port).start()
    stopped = threading.Event()

    def _stop(*_: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"Hybrid Care Orchestrator (local stage) on {stack.api_url}")
    for name, url in stack.endpoints.items():
        print(f"  {name:<10} {url}")
    print("  tenant     demo (sites site_manhattan, site_los_angeles; patients pat_ny, pat_nj, pat_pa, pat_ca;")
    print("             clin_hale and clin_sato see video visits around the clock)")
    print("  token      .venv/bin/python -m local.token --role scheduler --tenant demo")
    print("Ctrl-C stops everything.", flush=True)
    stopped.wait()
    stack.stop()
    print("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
