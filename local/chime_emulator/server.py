"""Serving the emulator on loopback, in a background thread or in the foreground."""

from __future__ import annotations

import ipaddress
import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from local.chime_emulator.app import ChimeEmulatorApp
from local.chime_emulator.backend import ChimeBackend, Clock, system_clock


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Tests make thousands of calls; the access log would drown their output."""


def ensure_loopback(host: str) -> None:
    """The emulator has no auth worth the name: it must never listen beyond this machine."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the Chime emulator binds loopback only, not {host!r}")


def make_emulator_server(host: str, port: int, backend: ChimeBackend, *, quiet: bool = True) -> BaseWSGIServer:
    ensure_loopback(host)
    handler = _QuietHandler if quiet else WSGIRequestHandler
    return make_server(host, port, ChimeEmulatorApp(backend), threaded=True, request_handler=handler)


class EmulatorServer:
    """A running emulator: `backend` is the in-process API (faults, hooks, reset, clock)."""

    def __init__(self, httpd: BaseWSGIServer, backend: ChimeBackend) -> None:
        self.httpd = httpd
        self.backend = backend
        host, port = httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        # A short poll interval keeps stop() fast; tests start and stop one server each.
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="chime-emulator", daemon=True
        )

    def start(self) -> EmulatorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_emulator(
    host: str = "127.0.0.1", port: int = 0, *, clock: Clock | None = None, backend: ChimeBackend | None = None
) -> tuple[EmulatorServer, str]:
    """Starts the emulator in a daemon thread; port 0 picks a free port. Returns (server, base_url)."""
    backend = backend or ChimeBackend(clock or system_clock)
    server = EmulatorServer(make_emulator_server(host, port, backend), backend).start()
    return server, server.base_url
