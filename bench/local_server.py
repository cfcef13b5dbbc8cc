"""The local stack for the benchmark: `LocalStack(port=0, quiet=True)` in this process until SIGTERM.

    python -m bench.local_server [--moto-as-is]

Prints `listening on http://127.0.0.1:PORT` once the API serves. Unless --moto-as-is, the two moto
fixes of bench/moto_query.py apply, in the moto process (local/moto_server.py): queries read only the
queried partition (moto 5 sorts the whole table on every Query, and the table grows with every audited
request of the load run, so figures would drift with the order of the runs) and read responses are
plain JSON (moto's generic serializer costs more than the app's whole search). The moto server is
behind one lock, so the fixes never run concurrently.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.local_server", description=__doc__)
    parser.add_argument("--moto-as-is", action="store_true", help="do not apply the partition-query fix")
    args = parser.parse_args(argv)
    from local.run import LocalStack

    stopped = threading.Event()

    def stop(*_: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if not args.moto_as_is:
        os.environ["HCO_LOCAL_MOTO_SETUP"] = "bench.moto_query:local_server_fixes"
    stack = LocalStack(port=0, quiet=True).start()
    print(f"listening on {stack.api_url} (moto fixes: {not args.moto_as_is})", flush=True)
    try:
        stopped.wait()
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
