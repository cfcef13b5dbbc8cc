"""``python -m local.chime_emulator --port 4010``: serve the emulator in the foreground."""

from __future__ import annotations

import argparse
import sys

from local.chime_emulator.backend import DEFAULT_ACCOUNT_ID, ChimeBackend, ManualClock, system_clock
from local.chime_emulator.server import make_emulator_server


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.chime_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4010, help="port (0 = any free port; default 4010)")
    parser.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID, help="account id used in MeetingArn")
    parser.add_argument(
        "--manual-clock",
        action="store_true",
        help='freeze time; move it with POST /_emulator/clock {"advance_seconds": n}',
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backend = ChimeBackend(ManualClock() if args.manual_clock else system_clock, account_id=args.account_id)
    httpd = make_emulator_server(args.host, args.port, backend, quiet=not args.access_log)
    host, port = httpd.server_address[:2]
    print(f"Chime SDK Meetings emulator on http://{host}:{port}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
