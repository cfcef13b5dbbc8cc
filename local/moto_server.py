"""moto's server on loopback behind one lock.

A plain moto server has no lock around its DynamoDB backend: racing conditional writes or
TransactWriteItems can both succeed (checked on this machine: 2-3 winners in a few of 50 rounds
of 20 threads). Real DynamoDB guarantees the atomicity; locally, serializing requests restores it.
Because every request holds that lock, a transaction must not cost O(table): see
local/moto_transactions.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class SerializedApp:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            # Drain the body inside the lock: moto may stream it lazily.
            return list(self.app(environ, start_response))


def start_moto(host: str = "127.0.0.1", port: int = 0) -> tuple[BaseWSGIServer, str]:
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from local.moto_transactions import journal_transactions

    journal_transactions()  # also keeps the stream as it was when a transaction is cancelled

    class QuietHandler(MotoRequestHandler):  # type: ignore[misc, valid-type]
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """Every DynamoDB call would print a line; the API's own log is the one to read."""

    app = SerializedApp(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
    thread.start()
    return server, f"http://{host}:{server.server_port}"
