"""Walk a tenant's audit chain: python -m chalicelib.audit_verify --tenant demo

Reads DynamoDB as configured by the environment (HCO_TABLE_PREFIX, HCO_DYNAMODB_ENDPOINT for the
local stack). Exit code 0 when the chain is whole, 1 when an entry was edited, removed or cut off.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.audit_verify", description=__doc__)
    parser.add_argument("--tenant", required=True)
    args = parser.parse_args(argv)
    from .bootstrap import get_services

    trail = get_services().audit_log.trail
    drained = trail.drain_parked(args.tenant)
    report = trail.verify(args.tenant)
    print(json.dumps({"tenant": args.tenant, "ok": report.ok, "entries": report.entries,
                      "first_bad_seq": report.first_bad_seq, "problem": report.problem,
                      "parked_entries_chained": drained}))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
