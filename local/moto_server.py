"""moto's server on loopback behind one lock, in a process of its own.

A plain moto server has no lock around its DynamoDB backend: racing conditional writes or
TransactWriteItems can both succeed (checked on this machine: 2-3 winners in a few of 50 rounds
of 20 threads). Real DynamoDB guarantees the atomicity; locally, serializing requests restores it.
Because every request holds that lock, a transaction must not cost O(table): see
local/moto_transactions.py.

Its own process, because moto's work and the app's are both Python: in one process they share one
GIL, so the local server could never do more at many clients than at one. Apart, the app and moto run
on two cores, as the Lambda sandboxes and DynamoDB do. The process ends with its parent (it reads its
stdin until the parent's end of the pipe closes).

    python -m local.moto_server [--host H] [--port P] [--setup module:function]

`--setup` names a function returning a context manager entered before serving (the benchmark's moto
fixes, bench/moto_query.py).
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
READY = "moto listening on "


class SerializedApp:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            # Drain the body inside the lock: moto may stream it lazily.
            return list(self.app(environ, start_response))


class MotoProcess:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    def shutdown(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # the child's watchdog sees the end of its stdin and exits
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_moto(host: str = "127.0.0.1", port: int = 0, setup: str | None = None) -> tuple[MotoProcess, str]:
    """Start the moto process and wait until it serves; (its handle, its URL)."""
    command = [sys.executable, "-m", "local.moto_server", "--host", host, "--port", str(port)]
    if setup:
        command += ["--setup", setup]
    process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith(READY):
        process.kill()
        raise RuntimeError(f"the moto process did not start: {line!r}")
    threading.Thread(target=_drain, args=(process.stdout,), name="moto-stdout", daemon=True).start()
    return MotoProcess(process), line[len(READY):].strip()


def _drain(stream: Any) -> None:
    for _ in stream:  # keep the pipe from filling if moto ever prints
        pass


def serve(host: str, port: int, setup: str | None) -> None:
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from local.moto_transactions import journal_transactions

    journal_transactions()  # also keeps the stream as it was when a transaction is cancelled

    class QuietHandler(MotoRequestHandler):  # type: ignore[misc, valid-type]
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """Every DynamoDB call would print a line; the API's own log is the one to read."""

    with ExitStack() as fixes:
        if setup:
            module, _, function = setup.partition(":")
            fixes.enter_context(getattr(importlib.import_module(module), function)())
        server = make_server(host, port, SerializedApp(DomainDispatcherApplication(create_backend_app)),
                             threaded=True, request_handler=QuietHandler)
        threading.Thread(target=_exit_with_parent, name="parent-watch", daemon=True).start()
        print(f"{READY}http://{host}:{server.server_port}", flush=True)
        server.serve_forever()


def _exit_with_parent() -> None:
    sys.stdin.read()  # returns when the parent closes the pipe or dies
    os._exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.moto_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--setup", default=None)
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.setup)
    return 0


if __name__ == "__main__":
    sys.exit(main())
